/**
 * The app-managed dataset cache: one binary file per imported dataset holding the decoded uint8
 * NHWC images and int32 labels of each split, so training never decodes a source again.
 *
 * Layout (little-endian):
 *   0   8 bytes  magic "TFKDDS01"
 *   8   u32      header length L
 *   12  L bytes  header JSON (CacheHeader), then zero padding to a multiple of 8
 *   ... blocks at the offsets the header gives: train images, train labels, test images, test labels
 *
 * Writing streams samples into per-split part files inside a private temp folder, then assembles the
 * final file there, fsyncs it and renames it into place: a failed or cancelled import removes the
 * temp folder and leaves no file behind, and a reader never sees a half-written cache.
 */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs'
import { mkdir, mkdtemp, open, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { endianness } from 'node:os'
import { join } from 'node:path'
import type { ImageSet } from './arrays'
import type { SampleSink, SplitId } from './importers/types'

const MAGIC = 'TFKDDS01'
const FLUSH_BYTES = 1 << 20

export interface SplitBlock {
  n: number
  imagesOffset: number
  labelsOffset: number
  /** Samples per class index. */
  classCounts: number[]
}

export interface CacheHeader {
  version: 1
  shape: [number, number, number]
  classNames: string[]
  splits: Record<SplitId, SplitBlock>
  /** Per-channel mean/std of the train split, in [0, 1] units. */
  mean: number[]
  std: number[]
}

class PartFile {
  private buf: Buffer
  private used = 0
  bytes = 0
  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {
    this.buf = Buffer.allocUnsafe(FLUSH_BYTES)
  }
  static async create(path: string): Promise<PartFile> {
    return new PartFile(path, await open(path, 'w'))
  }
  async write(data: Uint8Array): Promise<void> {
    if (this.used + data.length > this.buf.length) await this.flush()
    if (data.length > this.buf.length) {
      await this.fh.write(data)
    } else {
      this.buf.set(data, this.used)
      this.used += data.length
    }
    this.bytes += data.length
  }
  async flush(): Promise<void> {
    if (this.used === 0) return
    await this.fh.write(this.buf, 0, this.used)
    this.used = 0
  }
  async close(): Promise<void> {
    await this.flush()
    await this.fh.close()
  }
}

export interface CacheWriter extends SampleSink {
  /** Samples written so far per split. */
  counts(): Record<SplitId, number>
  /** Assembles the cache as `<dir>/<fileName>` and returns its header and path. */
  finish(meta: {
    classNames: string[]
    fileName: string
  }): Promise<{ path: string; header: CacheHeader; bytes: number }>
  /** Removes every temp file; safe to call more than once and after finish. */
  abort(): Promise<void>
}

type Part = { images: PartFile; labels: PartFile; n: number; classCounts: number[] }

/**
 * Fills `splits` with each split's offsets when the data starts at `start` (train, then test; images,
 * then labels, each split 8-byte aligned) and returns where the file ends.
 */
function layoutSplits(
  parts: ReadonlyMap<SplitId, Part>,
  classCount: number,
  sampleBytes: number,
  start: number,
  splits: Record<SplitId, SplitBlock>,
): number {
  let off = start
  for (const id of ['train', 'test'] as const) {
    const p = parts.get(id)
    const n = p?.n ?? 0
    const counts = Array.from({ length: classCount }, (_, i) => p?.classCounts[i] ?? 0)
    splits[id] = { n, imagesOffset: off, labelsOffset: off + n * sampleBytes, classCounts: counts }
    off += n * sampleBytes + n * 4
    off = Math.ceil(off / 8) * 8
  }
  return off
}

/** Copies the whole of `file` into `fh` at offset `at`, in 4 MiB chunks. */
async function copyInto(fh: FileHandle, file: string, at: number, chunk: Buffer): Promise<void> {
  const src = await open(file, 'r')
  try {
    let pos = 0
    for (;;) {
      const { bytesRead } = await src.read(chunk, 0, chunk.length, pos)
      if (bytesRead === 0) break
      await fh.write(chunk, 0, bytesRead, at + pos)
      pos += bytesRead
    }
  } finally {
    await src.close()
  }
}

/**
 * Writes the cache file `out`: magic, header length and JSON header in the first `start` bytes, then
 * every part file at its offset (each removed once copied), truncated to `end` and synced.
 */
async function writeCacheFile(
  out: string,
  { start, json, end }: { start: number; json: Buffer; end: number },
  parts: ReadonlyMap<SplitId, Part>,
  splits: Record<SplitId, SplitBlock>,
): Promise<void> {
  const fh = await open(out, 'w')
  try {
    const head = Buffer.alloc(start)
    head.write(MAGIC, 0, 'latin1')
    head.writeUInt32LE(json.length, 8)
    json.copy(head, 12)
    await fh.write(head, 0, head.length, 0)
    const chunk = Buffer.allocUnsafe(4 << 20)
    for (const id of ['train', 'test'] as const) {
      const p = parts.get(id)
      if (!p) continue
      for (const [file, at] of [
        [p.images.path, splits[id].imagesOffset],
        [p.labels.path, splits[id].labelsOffset],
      ] as const) {
        await copyInto(fh, file, at, chunk)
        await rm(file, { force: true })
      }
    }
    await fh.truncate(end)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

export async function createCacheWriter(dir: string, opts: { maxBytes?: number } = {}): Promise<CacheWriter> {
  await mkdir(dir, { recursive: true })
  // The pid names the writer: a host sweeping the folder removes it only once this process is gone.
  const tmp = await mkdtemp(join(dir, `.import-${process.pid}-`))
  return new FileCacheWriter(dir, tmp, opts.maxBytes ?? Number.MAX_SAFE_INTEGER)
}

/** Streams samples into per-split temp files under `tmp`, then assembles the cache in `dir`. */
class FileCacheWriter implements CacheWriter {
  private shape: [number, number, number] | null = null
  private sampleBytes = 0
  private readonly parts = new Map<SplitId, Part>()
  /** Per-channel sums of the training pixels (in [0, 1]) and of their squares: mean and std. */
  private sum = new Float64Array(0)
  private sq = new Float64Array(0)
  private total = 0
  private readonly label4 = new Int32Array(1)
  private readonly label4Bytes = new Uint8Array(this.label4.buffer)

  constructor(
    private readonly dir: string,
    private readonly tmp: string,
    private readonly maxBytes: number,
  ) {}

  private async part(split: SplitId): Promise<Part> {
    let p = this.parts.get(split)
    if (!p) {
      p = {
        images: await PartFile.create(join(this.tmp, `${split}.images`)),
        labels: await PartFile.create(join(this.tmp, `${split}.labels`)),
        n: 0,
        classCounts: [],
      }
      this.parts.set(split, p)
    }
    return p
  }

  async begin(meta: { shape: [number, number, number] }): Promise<void> {
    if (this.shape) throw new Error('cache writer: begin() called twice')
    const [h, w, c] = meta.shape
    if (![h, w, c].every((x) => Number.isInteger(x) && x > 0))
      throw new Error(`cache writer: bad shape ${meta.shape}`)
    this.shape = [h, w, c]
    this.sampleBytes = h * w * c
    this.sum = new Float64Array(c)
    this.sq = new Float64Array(c)
  }

  async add(split: SplitId, pixels: Uint8Array, label: number): Promise<void> {
    const { shape, sampleBytes } = this
    if (!shape) throw new Error('cache writer: add() before begin()')
    if (pixels.length !== sampleBytes) {
      throw new Error(
        `cache writer: sample has ${pixels.length} bytes, expected ${sampleBytes} (${shape.join('x')})`,
      )
    }
    if (!Number.isInteger(label) || label < 0) throw new Error(`cache writer: bad label ${label}`)
    this.total += sampleBytes
    if (this.total > this.maxBytes)
      throw new Error(`dataset is larger than the limit of ${this.maxBytes} bytes`)
    const p = await this.part(split)
    await p.images.write(pixels)
    this.label4[0] = label
    await p.labels.write(this.label4Bytes)
    p.n++
    while (p.classCounts.length <= label) p.classCounts.push(0)
    p.classCounts[label]!++
    if (split === 'train') {
      const c = shape[2]
      const { sum, sq } = this
      for (let i = 0; i < pixels.length; i++) {
        const v = pixels[i]! / 255
        const k = i % c
        sum[k]! += v
        sq[k]! += v * v
      }
    }
  }

  counts(): { train: number; test: number } {
    return { train: this.parts.get('train')?.n ?? 0, test: this.parts.get('test')?.n ?? 0 }
  }

  async finish({
    classNames,
    fileName,
  }: {
    classNames: string[]
    fileName: string
  }): Promise<{ path: string; header: CacheHeader; bytes: number }> {
    const { shape, parts, sampleBytes } = this
    if (!shape) throw new Error('no samples were imported')
    for (const p of parts.values()) {
      await p.images.close()
      await p.labels.close()
    }
    const trainN = parts.get('train')?.n ?? 0
    const px = trainN * (sampleBytes / shape[2])
    const mean = Array.from(this.sum, (s) => (px ? s / px : 0))
    const std = Array.from(this.sq, (s, k) => (px ? Math.sqrt(Math.max(s / px - mean[k]! ** 2, 0)) : 0))
    const splits = {} as Record<SplitId, SplitBlock>
    const layout = (start: number) => layoutSplits(parts, classNames.length, sampleBytes, start, splits)
    const maxLabel = Math.max(0, ...[...parts.values()].map((p) => p.classCounts.length - 1))
    if (maxLabel >= classNames.length)
      throw new Error(`label ${maxLabel} has no class name (${classNames.length} names)`)
    const header: CacheHeader = { version: 1, shape, classNames, splits, mean, std }
    // Offsets depend on where the data starts, which depends on the header's length: lay out from
    // 0 to size the header, then leave slack for the offsets' extra digits.
    layout(0)
    const start = Math.ceil((12 + Buffer.byteLength(JSON.stringify(header)) + 256) / 8) * 8
    layout(start)
    const json = Buffer.from(JSON.stringify(header))
    if (12 + json.length > start) throw new Error('cache header does not fit its reserved space')
    const out = join(this.tmp, fileName)
    await writeCacheFile(out, { start, json, end: layout(start) }, parts, splits)
    const finalPath = join(this.dir, fileName)
    const bytes = (await stat(out)).size
    await rename(out, finalPath)
    await rm(this.tmp, { recursive: true, force: true })
    return { path: finalPath, header, bytes }
  }

  async abort(): Promise<void> {
    for (const p of this.parts.values()) {
      await p.images.close().catch(() => {})
      await p.labels.close().catch(() => {})
    }
    await rm(this.tmp, { recursive: true, force: true })
  }
}

function readExact(fd: number, bytes: Uint8Array, position: number, path: string): void {
  let off = 0
  while (off < bytes.length) {
    const n = readSync(fd, bytes, off, bytes.length - off, position + off)
    if (n === 0) throw new Error(`${path}: cache file is truncated at byte ${position + off}`)
    off += n
  }
}

function readHeaderFd(fd: number, path: string): CacheHeader {
  const head = new Uint8Array(12)
  readExact(fd, head, 0, path)
  const magic = Buffer.from(head.subarray(0, 8)).toString('latin1')
  if (magic !== MAGIC)
    throw new Error(`${path}: not a tfkd dataset cache (magic "${magic}", expected "${MAGIC}")`)
  const len = Buffer.from(head.buffer).readUInt32LE(8)
  if (len > 64 * 1024 * 1024) throw new Error(`${path}: cache header of ${len} bytes is implausible`)
  const json = new Uint8Array(len)
  readExact(fd, json, 12, path)
  const header = JSON.parse(Buffer.from(json).toString('utf8')) as CacheHeader
  if (header.version !== 1) throw new Error(`${path}: cache version ${header.version} is not supported`)
  return header
}

/** The header of a cache file (class counts, shape, stats) without reading its data. */
export function readCacheHeader(path: string): CacheHeader {
  const fd = openSync(path, 'r')
  try {
    return readHeaderFd(fd, path)
  } finally {
    closeSync(fd)
  }
}

/**
 * Loads a dataset cache written by an import: the train and test splits as in-memory ImageSets
 * (validation is carved from train by each run's seed) and the class names.
 */
export function loadDatasetCache(path: string): { train: ImageSet; test: ImageSet; classNames: string[] } {
  const fd = openSync(path, 'r')
  try {
    const header = readHeaderFd(fd, path)
    const [h, w, c] = header.shape
    const size = h * w * c
    const fileBytes = fstatSync(fd).size
    const load = (id: SplitId): ImageSet => {
      const s = header.splits[id]
      if (s.labelsOffset + s.n * 4 > fileBytes) {
        throw new Error(
          `${path}: ${id} split needs ${s.labelsOffset + s.n * 4} bytes, the file has ${fileBytes}`,
        )
      }
      const images = new Uint8Array(s.n * size)
      readExact(fd, images, s.imagesOffset, path)
      const labels = new Int32Array(s.n)
      readExact(fd, new Uint8Array(labels.buffer), s.labelsOffset, path)
      if (endianness() === 'BE') {
        const dv = new DataView(labels.buffer)
        for (let i = 0; i < s.n; i++) labels[i] = dv.getInt32(i * 4, true)
      }
      for (let i = 0; i < s.n; i++) {
        const l = labels[i]!
        if (l < 0 || l >= header.classNames.length)
          throw new Error(`${path}: ${id} label ${l} at ${i} out of range`)
      }
      return { images, labels, n: s.n, shape: [h, w, c] }
    }
    return { train: load('train'), test: load('test'), classNames: header.classNames }
  } finally {
    closeSync(fd)
  }
}
