/**
 * Decompression bombs: tiny files declaring huge images (or counts) are refused from their headers,
 * before any decoder runs, each in under 5 ms.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { deflateSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeImage } from '../../../src/core/data/importers/image-decode'
import {
  IMPORTERS,
  DEFAULT_LIMITS,
  ImportError,
  type ImportContext,
  type ImportOptions,
} from '../../../src/core/data/importers/index'
import { tempHome } from '../../helpers'
import { bmpHeader, gifHeader, jpegSof, png, webpVp8x } from './bytes'

const LIMIT = DEFAULT_LIMITS.maxPixelsPerImage
const options: ImportOptions = { testFraction: 0.2, seed: 0, limits: DEFAULT_LIMITS }
let tmp: ReturnType<typeof tempHome>
beforeAll(() => {
  tmp = tempHome('tfkd-bombs-')
})
afterAll(() => tmp.cleanup())

function ctx(): ImportContext & { added: number } {
  const c = {
    added: 0,
    signal: new AbortController().signal,
    onProgress() {},
    skip() {},
    sink: {
      async begin() {},
      async add() {
        c.added++
      },
    },
  }
  return c
}

async function timed(f: () => Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  const t = performance.now()
  let err: unknown = null
  try {
    await f()
  } catch (e) {
    err = e
  }
  return { ms: performance.now() - t, err }
}

describe('decompression-bomb corpus', () => {
  it('image bombs are refused from the header in < 5 ms each', async () => {
    // 20000x20000 1-bit PNG whose IDAT really inflates to 50 MB (about 50 KB on disk)
    const rows = Buffer.alloc(20000 * (1 + 2500))
    const realBomb = png(20000, 20000, deflateSync(rows, { level: 9 }))
    const corpus: Record<string, Uint8Array> = {
      'png-20000x20000-deflate-bomb': realBomb,
      'png-8x16777224-90-bytes': png(8, 16777224, deflateSync(Buffer.alloc(16))),
      'png-2^31-1-square': png(0x7fffffff, 0x7fffffff, new Uint8Array(0)),
      'jpeg-65000x65000': jpegSof(65000, 65000),
      'jpeg-12000x12000-over-100MP': jpegSof(12000, 12000),
      'gif-65535x65535': gifHeader(65535, 65535),
      'webp-vp8x-16Mx16M': webpVp8x(16_777_216, 16_777_216),
      'bmp-100000x100000': bmpHeader(100000, 100000),
      'bmp-negative-height-top-down': bmpHeader(100000, -100000),
    }
    const results: string[] = []
    for (const [name, bytes] of Object.entries(corpus)) {
      const { ms, err } = await timed(() => decodeImage(bytes, { height: 28, width: 28, channels: 1 }, LIMIT))
      results.push(`${name} (${bytes.length} B): ${ms.toFixed(3)} ms`)
      expect(err, name).toBeInstanceOf(ImportError)
      expect((err as Error).message, name).toContain('refused before decoding')
      expect(ms, name).toBeLessThan(5)
    }
    console.log(`bombs refused:\n  ${results.join('\n  ')}`)
  })

  it('malformed tiny files are refused with what was expected', async () => {
    const cases: Record<string, Uint8Array> = {
      empty: new Uint8Array(0),
      'truncated-png': png(10, 10, new Uint8Array(0)).subarray(0, 20),
      'text-as-jpeg': Buffer.from('hello, not an image'),
      'zero-size-png': png(0, 10, new Uint8Array(0)),
      'jpeg-without-sof': Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
    }
    for (const [name, bytes] of Object.entries(cases)) {
      const { ms, err } = await timed(() => decodeImage(bytes, { height: 28, width: 28, channels: 1 }, LIMIT))
      expect(err, name).toBeInstanceOf(ImportError)
      expect(ms, name).toBeLessThan(5)
    }
  })

  it('IDX and CIFAR files declaring huge counts are refused before allocation', async () => {
    const header = (magic: number, dims: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length)
      b.writeUInt32BE(magic, 0)
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i))
      return b
    }
    const cases: Record<string, Record<string, Buffer>> = {
      'idx-2^31-images': {
        'train-images-idx3-ubyte': header(0x803, [0x7fffffff, 28, 28]),
        'train-labels-idx1-ubyte': Buffer.concat([header(0x801, [0x7fffffff]), Buffer.alloc(16)]),
      },
      'idx-gz-65535x65535-images': {
        'train-images-idx3-ubyte.gz': gzipSync(header(0x803, [1, 65535, 65535])),
        'train-labels-idx1-ubyte.gz': gzipSync(Buffer.concat([header(0x801, [1]), Buffer.alloc(1)])),
      },
      'idx-count-mismatch': {
        'train-images-idx3-ubyte': header(0x803, [1000, 28, 28]),
        'train-labels-idx1-ubyte': Buffer.concat([header(0x801, [2]), Buffer.alloc(2)]),
      },
    }
    for (const [name, files] of Object.entries(cases)) {
      const dir = join(tmp.dir, name)
      mkdirSync(dir, { recursive: true })
      for (const [f, b] of Object.entries(files)) writeFileSync(join(dir, f), b)
      await IMPORTERS.idx.run(dir, options, ctx()).catch(() => {}) // warm the code path
      const c = ctx()
      const { ms, err } = await timed(() => IMPORTERS.idx.run(dir, options, c))
      expect(err, name).toBeInstanceOf(ImportError)
      expect(c.added, name).toBe(0)
      expect(ms, name).toBeLessThan(5)
      console.log(`${name}: ${ms.toFixed(3)} ms: ${(err as Error).message}`)
    }
  })

  it('a folder of bombs is skipped file by file, with reasons, without decoding', async () => {
    const dir = join(tmp.dir, 'bomb-folder', 'cls')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'a.png'), png(8, 16777224, deflateSync(Buffer.alloc(16))))
    writeFileSync(join(dir, 'b.jpg'), jpegSof(65000, 65000))
    const skipped: string[] = []
    const c = { ...ctx(), skip: (f: string, r: string) => skipped.push(`${f}: ${r}`) }
    const { ms, err } = await timed(() =>
      IMPORTERS['image-folder'].run(join(tmp.dir, 'bomb-folder'), options, c),
    )
    expect((err as Error).message).toContain('none of the first 2 image files')
    expect(ms).toBeLessThan(50)
  })
})
