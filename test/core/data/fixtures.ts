/**
 * Test fixtures generated from the bundled MNIST digits: image folders (PNG/JPEG/WebP/BMP/GIF), IDX
 * files (plain and gzipped), CIFAR-10/100 binary records (folder and .tar.gz) and CSVs. Nothing big
 * is committed; each helper writes into a temp dir.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import sharp from 'sharp'
import tar from 'tar-stream'
import { loadMnistAll } from '../../../src/core/data/mnist10k'
import { encodeBmp } from '../../../src/core/data/importers/bmp'
import type { ImageSet } from '../../../src/core/data/arrays'

let cached: ImageSet | null = null
/** `perClass` digits of each class, in class order (deterministic). */
export function digits(perClass: number): ImageSet {
  cached ??= loadMnistAll()
  const all = cached
  const picked: number[] = []
  const seen = new Array<number>(10).fill(0)
  for (let i = 0; i < all.n && picked.length < perClass * 10; i++) {
    const l = all.labels[i]!
    if (seen[l]! < perClass) {
      seen[l]!++
      picked.push(i)
    }
  }
  const images = new Uint8Array(picked.length * 784)
  const labels = new Int32Array(picked.length)
  picked.forEach((src, k) => {
    images.set(all.images.subarray(src * 784, (src + 1) * 784), k * 784)
    labels[k] = all.labels[src]!
  })
  return { images, labels, n: picked.length, shape: [28, 28, 1] }
}

export function digit(set: ImageSet, i: number): Uint8Array {
  return set.images.subarray(i * 784, (i + 1) * 784)
}

export type ImageKind = 'png' | 'jpeg' | 'webp' | 'bmp' | 'gif'

export async function encodeDigit(px: Uint8Array, kind: ImageKind): Promise<Uint8Array> {
  if (kind === 'bmp') {
    const rgb = new Uint8Array(784 * 3)
    for (let i = 0; i < 784; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = px[i]!
    return encodeBmp(rgb, 28, 28)
  }
  const img = sharp(Buffer.from(px), { raw: { width: 28, height: 28, channels: 1 } })
  if (kind === 'png') return img.png().toBuffer()
  if (kind === 'jpeg') return img.jpeg({ quality: 95 }).toBuffer()
  if (kind === 'webp') return img.webp({ lossless: true }).toBuffer()
  return img.toColourspace('srgb').gif().toBuffer()
}

const KINDS: ImageKind[] = ['png', 'jpeg', 'webp', 'bmp', 'gif']

/** root/{train,test}/<digit>/<i>.<ext>, cycling through the image kinds. */
export async function writeImageFolder(
  dir: string,
  set: ImageSet,
  opts: { splits?: boolean; kinds?: ImageKind[] } = {},
): Promise<void> {
  const kinds = opts.kinds ?? KINDS
  for (let i = 0; i < set.n; i++) {
    const split = opts.splits === false ? '' : i % 5 === 0 ? 'test' : 'train'
    const cls = join(dir, split, String(set.labels[i]))
    mkdirSync(cls, { recursive: true })
    const kind = kinds[i % kinds.length]!
    writeFileSync(join(cls, `${i}.${kind === 'jpeg' ? 'jpg' : kind}`), await encodeDigit(digit(set, i), kind))
  }
}

export function idxImages(set: ImageSet): Buffer {
  const b = Buffer.alloc(16 + set.images.length)
  b.writeUInt32BE(0x803, 0)
  b.writeUInt32BE(set.n, 4)
  b.writeUInt32BE(28, 8)
  b.writeUInt32BE(28, 12)
  b.set(set.images, 16)
  return b
}

export function idxLabels(set: ImageSet): Buffer {
  const b = Buffer.alloc(8 + set.n)
  b.writeUInt32BE(0x801, 0)
  b.writeUInt32BE(set.n, 4)
  for (let i = 0; i < set.n; i++) b[8 + i] = set.labels[i]!
  return b
}

/** train-* and t10k-* pairs; gzipped when `gz`. */
export function writeIdx(dir: string, train: ImageSet, test: ImageSet, gz = false): void {
  mkdirSync(dir, { recursive: true })
  const w = (name: string, b: Buffer) =>
    writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(b) : b)
  w('train-images-idx3-ubyte', idxImages(train))
  w('train-labels-idx1-ubyte', idxLabels(train))
  w('t10k-images-idx3-ubyte', idxImages(test))
  w('t10k-labels-idx1-ubyte', idxLabels(test))
}

/** CIFAR records from digits padded to 32x32, tinted per channel. CIFAR-100: coarse = digit % 5. */
export function cifarRecords(set: ImageSet, kind: 'cifar10' | 'cifar100'): Buffer {
  const lb = kind === 'cifar10' ? 1 : 2
  const size = lb + 3072
  const b = Buffer.alloc(set.n * size)
  for (let i = 0; i < set.n; i++) {
    const o = i * size
    const l = set.labels[i]!
    if (kind === 'cifar10') b[o] = l
    else {
      b[o] = l % 5
      b[o + 1] = l
    }
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const v = set.images[i * 784 + y * 28 + x]!
        const p = (y + 2) * 32 + x + 2
        b[o + lb + p] = v
        b[o + lb + 1024 + p] = v >> 1
        b[o + lb + 2048 + p] = 255 - v
      }
    }
  }
  return b
}

export const CIFAR10_NAMES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
]
export const CIFAR100_FINE = Array.from({ length: 100 }, (_, i) => `fine_${i}`)
export const CIFAR100_COARSE = Array.from({ length: 20 }, (_, i) => `coarse_${i}`)

/** Files of the official layout: name -> bytes. */
export function cifarFiles(
  train: ImageSet,
  test: ImageSet,
  kind: 'cifar10' | 'cifar100',
): Record<string, Buffer> {
  if (kind === 'cifar100') {
    return {
      'train.bin': cifarRecords(train, kind),
      'test.bin': cifarRecords(test, kind),
      'fine_label_names.txt': Buffer.from(`${CIFAR100_FINE.join('\n')}\n`),
      'coarse_label_names.txt': Buffer.from(`${CIFAR100_COARSE.join('\n')}\n`),
    }
  }
  // spread train over 5 batches
  const recs = cifarRecords(train, kind)
  const per = Math.ceil(train.n / 5) * 3073
  const files: Record<string, Buffer> = { 'batches.meta.txt': Buffer.from(`${CIFAR10_NAMES.join('\n')}\n\n`) }
  for (let k = 0; k < 5; k++)
    files[`data_batch_${k + 1}.bin`] = recs.subarray(k * per, Math.min((k + 1) * per, recs.length))
  files['test_batch.bin'] = cifarRecords(test, kind)
  return files
}

export function writeCifarFolder(dir: string, files: Record<string, Buffer>): void {
  mkdirSync(dir, { recursive: true })
  for (const [n, b] of Object.entries(files)) writeFileSync(join(dir, n), b)
}

export async function cifarTarGz(folder: string, files: Record<string, Buffer>): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = new Promise<void>((res, rej) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer)
    })
    pack.on('end', () => res())
    pack.on('error', rej)
  })
  pack.entry({ name: `${folder}/`, type: 'directory' })
  pack.entry({ name: `${folder}/readme.html` }, Buffer.from('<p>readme</p>'))
  for (const [n, b] of Object.entries(files)) pack.entry({ name: `${folder}/${n}`, size: b.length }, b)
  pack.finalize()
  await done
  return gzipSync(Buffer.concat(chunks))
}

/** MNIST-as-CSV: `label,p0..p783` with a header, label first. */
export function mnistCsv(set: ImageSet, opts: { bom?: boolean; crlf?: boolean } = {}): string {
  const nl = opts.crlf ? '\r\n' : '\n'
  const header = ['label', ...Array.from({ length: 784 }, (_, i) => `p${i}`)].join(',')
  const lines = [header]
  for (let i = 0; i < set.n; i++) lines.push([set.labels[i], ...digit(set, i)].join(','))
  return `${opts.bom ? '\uFEFF' : ''}${lines.join(nl)}${nl}`
}
