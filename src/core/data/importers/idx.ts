/**
 * MNIST-style IDX files (`*-images-idx3-ubyte` + `*-labels-idx1-ubyte`, gzipped or not): MNIST,
 * Fashion-MNIST, KMNIST, EMNIST. A folder may hold train and test pairs (`train-*`, `t10k-*`/`test`);
 * a single images file is paired with its labels file. Header counts and sizes are checked against
 * the limits before any allocation, and the data length must match the header exactly.
 */
import { createHash } from 'node:crypto'
import { lstat, readdir, realpath } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { openMaybeGzip, type ByteReader } from './byte-stream'
import { hashFile, statRegularFile } from './fs-safe'
import { createTestSplitter } from './split'
import {
  DETECT,
  ImportError,
  throwIfAborted,
  type ImportContext,
  type Importer,
  type ImportOptions,
  type SplitId,
  fieldName,
} from './types'

/** Any IDX image file, for detection (the import itself then looks for the labels beside it). */
const DETECT_RE = /idx3[-._]ubyte(\.gz)?$/i
const IMAGES_RE = /images[-._]?idx3[-._]ubyte(\.gz)?$/i

interface Pair {
  images: string
  labels: string
  split: SplitId | null
}

function labelsNameFor(images: string): string[] {
  const base = images.replace(/\.gz$/i, '')
  const l = base.replace(/images([-._]?)idx3/i, 'labels$1idx1')
  return [l, `${l}.gz`]
}

function splitOf(name: string): SplitId | null {
  const n = name.toLowerCase()
  if (n.includes('t10k') || n.includes('test')) return 'test'
  if (n.includes('train')) return 'train'
  return null
}

async function findPairs(source: string): Promise<Pair[]> {
  let real: string
  try {
    real = await realpath(source)
  } catch {
    throw new ImportError(`${source}: not found`)
  }
  const st = await lstat(real)
  const dir = st.isDirectory() ? real : dirname(real)
  const names = st.isDirectory()
    ? (await readdir(dir)).filter((n) => IMAGES_RE.test(n)).sort()
    : [basename(real)]
  if (names.length === 0) throw new ImportError(`${source}: no "*-images-idx3-ubyte[.gz]" file found`)
  const all = new Set(await readdir(dir))
  const pairs: Pair[] = []
  for (const images of names) {
    if (!IMAGES_RE.test(images))
      throw new ImportError(`${source}: expected an "*-images-idx3-ubyte[.gz]" file name`)
    const labels = labelsNameFor(images).find((l) => all.has(l))
    if (!labels) {
      throw new ImportError(
        `${join(dir, images)}: no labels file beside it (expected ${labelsNameFor(images).join(' or ')})`,
      )
    }
    pairs.push({ images: join(dir, images), labels: join(dir, labels), split: splitOf(images) })
  }
  const splits = pairs.map((p) => p.split)
  if (pairs.length > 1 && new Set(splits).size !== splits.length) {
    throw new ImportError(
      `${source}: several IDX image files map to the same split (${names.join(', ')}); import one file`,
    )
  }
  // a lone file is one split whatever its name says; test is then carved at import
  if (pairs.length === 1) pairs[0]!.split = null
  if (pairs.length > 1 && !splits.includes('train')) {
    throw new ImportError(`${source}: none of ${names.join(', ')} is a train file ("train" in its name)`)
  }
  return pairs
}

async function readHeader(r: ByteReader, expectDims: number, what: string): Promise<number[]> {
  const magic = await r.read(4, 'the magic number')
  if (magic[0] !== 0 || magic[1] !== 0) {
    throw new ImportError(
      `${r.name}: not an IDX file (magic 0x${magic.toString('hex')}, expected 0x0000080${expectDims})`,
    )
  }
  if (magic[2] !== 0x08)
    throw new ImportError(
      `${r.name}: IDX type 0x${magic[2]!.toString(16)} unsupported (expected 0x08, unsigned byte)`,
    )
  if (magic[3] !== expectDims) {
    throw new ImportError(`${r.name}: ${magic[3]} dimensions, expected ${expectDims} for ${what}`)
  }
  const dims = await r.read(4 * expectDims, 'the dimensions')
  return Array.from({ length: expectDims }, (_, i) => dims.readUInt32BE(i * 4))
}

export const idxImporter = {
  id: 'idx',
  description: 'MNIST-style IDX files (*-images-idx3-ubyte + *-labels-idx1-ubyte, gzipped or not)',
  title: 'IDX (MNIST layout)',
  detect: ({ kind, name, entries }) =>
    kind === 'file' && DETECT_RE.test(name)
      ? DETECT.certain
      : kind === 'directory' && entries.some((n) => DETECT_RE.test(n))
        ? DETECT.entries
        : DETECT.no,
  async fingerprint(source, _options, ctx) {
    const pairs = await findPairs(source)
    const hash = createHash('sha256')
    for (const p of pairs) {
      for (const f of [p.images, p.labels]) {
        hash.update(`${basename(f)}\0`)
        await hashFile(f, hash, ctx.signal)
      }
    }
    return hash.digest('hex')
  },
  async run(source, options: ImportOptions, ctx: ImportContext) {
    const pairs = await findPairs(source)
    const { limits } = options
    const notes: string[] = []
    let shape: [number, number] | null = null
    let numClasses = 0
    for (const p of pairs) {
      throwIfAborted(ctx.signal)
      await statRegularFile(p.labels, limits.maxFileBytes).catch((e: Error) => {
        throw new ImportError(`${p.labels}: ${e.message}`)
      })
      await statRegularFile(p.images, limits.maxFileBytes).catch((e: Error) => {
        throw new ImportError(`${p.images}: ${e.message}`)
      })
      const lr = await openMaybeGzip(p.labels, p.labels, limits.maxFileBytes, ctx.signal)
      let labels: Uint8Array
      try {
        const [n] = (await readHeader(lr, 1, 'labels')) as [number]
        if (n > limits.maxFileBytes)
          throw new ImportError(`${p.labels}: declares ${n} labels, over the limit`)
        labels = new Uint8Array(await lr.read(n, `${n} labels`))
        if (await lr.hasMore())
          throw new ImportError(`${p.labels}: data continues after the ${n} labels the header declares`)
      } finally {
        lr.close()
      }
      const ir = await openMaybeGzip(p.images, p.images, limits.maxDatasetBytes + 64, ctx.signal)
      try {
        const [n, h, w] = (await readHeader(ir, 3, 'images')) as [number, number, number]
        if (n !== labels.length) {
          throw new ImportError(`${p.images}: ${n} images but ${p.labels} has ${labels.length} labels`)
        }
        if (h === 0 || w === 0 || h * w > limits.maxPixelsPerImage) {
          throw new ImportError(
            `${p.images}: image size ${h}x${w} is empty or over the limit of ${limits.maxPixelsPerImage} pixels`,
          )
        }
        if (n * h * w > limits.maxDatasetBytes) {
          throw new ImportError(
            `${p.images}: declares ${n} images of ${h}x${w} = ${n * h * w} bytes, over the limit of ${limits.maxDatasetBytes}`,
          )
        }
        if (!shape) {
          shape = [h, w]
          if (options.size && (options.size[0] !== h || options.size[1] !== w)) {
            throw new ImportError(
              `${p.images}: IDX images are ${h}x${w}; leave the ${fieldName(options, 'size')} unset (resizing IDX is not supported)`,
            )
          }
          if (options.color === 'rgb')
            notes.push(`IDX images are grayscale; the ${fieldName(options, 'color')} RGB was ignored`)
          await ctx.sink.begin({ shape: [h, w, 1] })
        } else if (shape[0] !== h || shape[1] !== w) {
          throw new ImportError(
            `${p.images}: images are ${h}x${w}, but the first file's are ${shape[0]}x${shape[1]}`,
          )
        }
        const carve = createTestSplitter(n, options.testFraction, options.seed)
        for (let i = 0; i < n; i++) {
          if ((i & 1023) === 0) {
            throwIfAborted(ctx.signal)
            ctx.onProgress({ phase: 'importing', done: i, total: n, unit: 'samples' })
          }
          const px = await ir.read(h * w, `image ${i}`)
          const label = labels[i]!
          if (label + 1 > limits.maxClasses)
            throw new ImportError(`${p.labels}: label ${label} at ${i} is over the class limit`)
          numClasses = Math.max(numClasses, label + 1)
          await ctx.sink.add(p.split ?? carve(), px, label)
        }
        if (await ir.hasMore())
          throw new ImportError(`${p.images}: data continues after the ${n} images the header declares`)
      } finally {
        ir.close()
      }
    }
    return { classNames: Array.from({ length: numClasses }, (_, i) => String(i)), notes }
  },
} satisfies Importer
