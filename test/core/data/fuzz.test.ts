/**
 * Mutation fuzzing of every import path: PNG and JPEG decoding, CSV, IDX and CIFAR records (folder
 * and .tar.gz). Each input either imports or is rejected with an Error; never a crash, a non-Error
 * throw, an input over 5 s, or memory over 512 MB. CI runs FUZZ_N (default 300) inputs per format;
 * run `FUZZ_N=10000 npx vitest run test/core/data/fuzz.test.ts` for the long local run.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import sharp from 'sharp'
import { createRng, type Rng } from '../../../src/core/random'
import { decodeImage } from '../../../src/core/data/importers/image-decode'
import {
  IMPORTERS,
  DEFAULT_LIMITS,
  type ImportContext,
  type ImportOptions,
} from '../../../src/core/data/importers/index'
import { tempHome } from '../../helpers'
import { repairPngCrcs } from './bytes'
import { cifarRecords, cifarTarGz, digit, digits, idxImages, idxLabels, mnistCsv } from './fixtures'

const N = Number(process.env.FUZZ_N ?? 300)
const SEED = Number(process.env.FUZZ_SEED ?? 1)
const HANG_MS = 5000
const options: ImportOptions = {
  testFraction: 0.2,
  seed: 0,
  limits: { ...DEFAULT_LIMITS, maxPixelsPerImage: 4_000_000 },
}

let tmp: ReturnType<typeof tempHome>
beforeAll(() => {
  tmp = tempHome('tfkd-fuzz-')
})
afterAll(() => tmp.cleanup())

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe]
const BIG = [0xffffffff, 0x7fffffff, 0x80000000, 0x00010000, 0]

function mutate(src: Uint8Array, rng: Rng): Uint8Array {
  let b = Uint8Array.from(src)
  const n = 1 + Math.floor(rng() * 4)
  const at = (len: number) => Math.floor(rng() * Math.max(1, len))
  for (let k = 0; k < n; k++) {
    switch (Math.floor(rng() * 6)) {
      case 0: // bit flip
        if (b.length) b[at(b.length)]! ^= 1 << Math.floor(rng() * 8)
        break
      case 1: // interesting byte
        if (b.length) b[at(b.length)] = INTERESTING[Math.floor(rng() * INTERESTING.length)]!
        break
      case 2: // truncation
        b = b.subarray(0, at(b.length))
        break
      case 3: {
        // duplicate a chunk elsewhere
        const s = at(b.length)
        const len = Math.min(b.length - s, 1 + at(64))
        const d = at(b.length)
        const out = new Uint8Array(b.length + len)
        out.set(b.subarray(0, d))
        out.set(b.subarray(s, s + len), d)
        out.set(b.subarray(d), d + len)
        b = out
        break
      }
      case 4: {
        // big-int overwrite (big-endian: IDX and PNG headers)
        if (b.length >= 4) {
          const p = at(b.length - 3)
          new DataView(b.buffer, b.byteOffset).setUint32(p, BIG[Math.floor(rng() * BIG.length)]!)
        }
        break
      }
      default: {
        // insert random bytes
        const d = at(b.length)
        const ins = Uint8Array.from({ length: 1 + at(16) }, () => Math.floor(rng() * 256))
        const out = new Uint8Array(b.length + ins.length)
        out.set(b.subarray(0, d))
        out.set(ins, d)
        out.set(b.subarray(d), d + ins.length)
        b = out
      }
    }
  }
  return b
}

function sink(): ImportContext {
  return {
    signal: new AbortController().signal,
    onProgress() {},
    skip() {},
    sink: { async begin() {}, async add() {} },
  }
}

interface Tally {
  ok: number
  rejected: number
  nonError: number
  hangs: number
  maxMs: number
}

async function fuzz(
  name: string,
  seeds: Uint8Array[],
  run: (input: Uint8Array, i: number) => Promise<unknown>,
  rng: Rng,
) {
  const t: Tally = { ok: 0, rejected: 0, nonError: 0, hangs: 0, maxMs: 0 }
  const failures: string[] = []
  for (let i = 0; i < N; i++) {
    const input = mutate(seeds[i % seeds.length]!, rng)
    const start = performance.now()
    let timer: NodeJS.Timeout | undefined
    const hang = new Promise<'hang'>((res) => {
      timer = setTimeout(() => res('hang'), HANG_MS)
    })
    try {
      const r = await Promise.race([run(input, i).then(() => 'ok' as const), hang])
      if (r === 'hang') {
        t.hangs++
        failures.push(`#${i} hang: ${Buffer.from(input.subarray(0, 64)).toString('hex')}`)
      } else t.ok++
    } catch (err) {
      if (err instanceof Error) t.rejected++
      else {
        t.nonError++
        failures.push(`#${i} non-Error throw: ${String(err)}`)
      }
    } finally {
      clearTimeout(timer)
    }
    t.maxMs = Math.max(t.maxMs, performance.now() - start)
  }
  const rssMb = process.resourceUsage().maxRSS / 1024
  console.log(
    `fuzz ${name}: ${N} inputs, ${t.ok} imported, ${t.rejected} rejected, ${t.nonError} non-Error throws, ${t.hangs} hangs, max ${t.maxMs.toFixed(1)} ms/input, peak RSS ${rssMb.toFixed(0)} MB`,
  )
  expect(failures).toEqual([])
  expect(t.maxMs).toBeLessThan(HANG_MS)
  expect(rssMb).toBeLessThan(512)
}

const set = digits(1)

describe('mutation fuzz', () => {
  it('PNG (with CRCs repaired half the time)', async () => {
    const seeds = await Promise.all(
      [0, 1, 2].map((i) =>
        sharp(Buffer.from(digit(set, i)), { raw: { width: 28, height: 28, channels: 1 } })
          .png()
          .toBuffer(),
      ),
    )
    seeds.push(
      await sharp(Buffer.alloc(8 * 8 * 4, 90), { raw: { width: 8, height: 8, channels: 4 } })
        .png()
        .toBuffer(),
    )
    const rng = createRng(SEED)
    await fuzz(
      'png',
      seeds,
      (input) =>
        decodeImage(
          rng() < 0.5 ? repairPngCrcs(input) : input,
          { height: 28, width: 28, channels: 1 },
          options.limits.maxPixelsPerImage,
        ),
      rng,
    )
  })

  it('JPEG', async () => {
    const seeds = await Promise.all([
      sharp(Buffer.from(digit(set, 3)), { raw: { width: 28, height: 28, channels: 1 } })
        .jpeg()
        .toBuffer(),
      sharp(Buffer.alloc(16 * 16 * 3, 120), { raw: { width: 16, height: 16, channels: 3 } })
        .jpeg({ progressive: true })
        .toBuffer(),
    ])
    const rng = createRng(SEED + 1)
    await fuzz(
      'jpeg',
      seeds,
      (input) => decodeImage(input, { height: 28, width: 28, channels: 3 }, options.limits.maxPixelsPerImage),
      rng,
    )
  })

  it('CSV (tabular and manifest)', async () => {
    const dir = join(tmp.dir, 'csv')
    mkdirSync(join(dir, 'img'), { recursive: true })
    writeFileSync(
      join(dir, 'img', 'a.png'),
      await sharp(Buffer.from(digit(set, 0)), { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toBuffer(),
    )
    const small = digits(1)
    const seeds = [
      Buffer.from(mnistCsv({ ...small, n: 3 }, { bom: true })),
      Buffer.from('a,"b c",label\n1.5,-2e3,x\n\n"3",4,"y,z"\n5,6,x\r\n'),
      Buffer.from('path,label\nimg/a.png,zero\nimg/a.png,one\n'),
    ]
    const rng = createRng(SEED + 2)
    await fuzz(
      'csv',
      seeds,
      async (input) => {
        const f = join(dir, 'in.csv')
        writeFileSync(f, input)
        await IMPORTERS.csv.run(f, options, sink())
      },
      rng,
    )
  })

  it('IDX (plain and gzipped, images or labels mutated)', async () => {
    const dir = join(tmp.dir, 'idx')
    const two = { ...set, n: 2, images: set.images.subarray(0, 2 * 784), labels: set.labels.subarray(0, 2) }
    const images = idxImages(two)
    const labels = idxLabels(two)
    const rng = createRng(SEED + 3)
    await fuzz(
      'idx',
      [images, labels],
      async (input, i) => {
        rmSync(dir, { recursive: true, force: true })
        mkdirSync(dir, { recursive: true })
        const gz = i % 4 === 3
        const isImages = i % 2 === 0
        const w = (n: string, b: Uint8Array) =>
          writeFileSync(join(dir, gz ? `${n}.gz` : n), gz ? gzipSync(b) : b)
        w('train-images-idx3-ubyte', isImages ? input : images)
        w('train-labels-idx1-ubyte', isImages ? labels : input)
        await IMPORTERS.idx.run(dir, options, sink())
      },
      rng,
    )
  })

  it('CIFAR records (folder) and tar (.tar.gz)', async () => {
    const dir = join(tmp.dir, 'cifar')
    const two = { ...set, n: 2, images: set.images.subarray(0, 2 * 784), labels: set.labels.subarray(0, 2) }
    const recs = cifarRecords(two, 'cifar10')
    const tgz = await cifarTarGz('cifar-10-batches-bin', {
      'data_batch_1.bin': recs,
      'batches.meta.txt': Buffer.from('a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n'),
    })
    const { gunzipSync } = await import('node:zlib')
    const tarBytes = gunzipSync(tgz)
    const rng = createRng(SEED + 4)
    await fuzz(
      'cifar',
      [recs, tarBytes],
      async (input, i) => {
        rmSync(dir, { recursive: true, force: true })
        mkdirSync(dir, { recursive: true })
        if (i % 2 === 0) {
          writeFileSync(join(dir, 'data_batch_1.bin'), input)
          await IMPORTERS.cifar10.run(dir, options, sink())
        } else {
          const f = join(dir, 'cifar-10-binary.tar.gz')
          writeFileSync(f, gzipSync(input))
          await IMPORTERS.cifar10.run(f, options, sink())
        }
      },
      rng,
    )
  })
})
