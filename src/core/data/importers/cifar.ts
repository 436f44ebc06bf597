/**
 * CIFAR-10 / CIFAR-100 in the official binary distribution: `cifar-10-binary.tar.gz` /
 * `cifar-100-binary.tar.gz` (read as a stream, never extracted to disk) or the extracted folders.
 * Records are `<label byte(s)><1024 R><1024 G><1024 B>`; class names come from the meta files.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, realpath } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import tar from 'tar-stream'
import { ByteReader } from './byte-stream'
import { hashFile, readdirNames, readRegularFile, statRegularFile } from './fs-safe'
import { createTestSplitter } from './split'
import {
  DETECT,
  ImportError,
  throwIfAborted,
  type ImportContext,
  type Importer,
  type ImportOptions,
  type SplitId,
  type SourceProbe,
  fieldName,
} from './types'

export type CifarKind = 'cifar10' | 'cifar100'
const SIDE = 32
const PLANE = SIDE * SIDE

interface Layout {
  /** Data files by base name, with their split. */
  data: Record<string, SplitId>
  /** Meta file holding the class names, by label mode. */
  meta: { fine: string; coarse: string }
  labelBytes: number
  numClasses: { fine: number; coarse: number }
}

const LAYOUTS: Record<CifarKind, Layout> = {
  cifar10: {
    data: {
      'data_batch_1.bin': 'train',
      'data_batch_2.bin': 'train',
      'data_batch_3.bin': 'train',
      'data_batch_4.bin': 'train',
      'data_batch_5.bin': 'train',
      'test_batch.bin': 'test',
    },
    meta: { fine: 'batches.meta.txt', coarse: 'batches.meta.txt' },
    labelBytes: 1,
    numClasses: { fine: 10, coarse: 10 },
  },
  cifar100: {
    data: { 'train.bin': 'train', 'test.bin': 'test' },
    meta: { fine: 'fine_label_names.txt', coarse: 'coarse_label_names.txt' },
    labelBytes: 2,
    numClasses: { fine: 100, coarse: 20 },
  },
}

export function cifarRecordBytes(kind: CifarKind): number {
  return LAYOUTS[kind].labelBytes + 3 * PLANE
}

/** CHW planes to HWC (or grey by BT.601 luma). `out` has 32*32*channels bytes. */
export function cifarPixels(
  rec: Uint8Array,
  labelBytes: number,
  channels: 1 | 3,
  out: Uint8Array,
): Uint8Array {
  for (let i = 0; i < PLANE; i++) {
    const r = rec[labelBytes + i]!
    const g = rec[labelBytes + PLANE + i]!
    const b = rec[labelBytes + 2 * PLANE + i]!
    if (channels === 3) {
      out[i * 3] = r
      out[i * 3 + 1] = g
      out[i * 3 + 2] = b
    } else out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b)
  }
  return out
}

function parseNames(text: string, file: string, expected: number): string[] {
  const names = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  if (names.length !== expected) {
    throw new ImportError(`${file}: ${names.length} class names, expected ${expected} (one per line)`)
  }
  return names
}

/** Reads CIFAR records from one data file's stream into the sink. */
async function readRecords(
  r: ByteReader,
  declaredBytes: number,
  kind: CifarKind,
  split: SplitId | null,
  options: ImportOptions,
  ctx: ImportContext,
  channels: 1 | 3,
): Promise<number> {
  const l = LAYOUTS[kind]
  const size = cifarRecordBytes(kind)
  if (declaredBytes === 0 || declaredBytes % size !== 0) {
    throw new ImportError(
      `${r.name}: ${declaredBytes} bytes is not a whole number of ${size}-byte ${kind === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100'} records`,
    )
  }
  const n = declaredBytes / size
  const mode = options.labelMode ?? 'fine'
  const numClasses = l.numClasses[mode]
  const carve = createTestSplitter(n, options.testFraction, options.seed)
  const px = new Uint8Array(PLANE * channels)
  for (let i = 0; i < n; i++) {
    if ((i & 1023) === 0) {
      throwIfAborted(ctx.signal)
      ctx.onProgress({ phase: 'importing', done: i, total: n, unit: 'samples' })
    }
    const rec = await r.read(size, `record ${i}`)
    // CIFAR-100 records are <coarse><fine>
    const label = kind === 'cifar10' ? rec[0]! : mode === 'coarse' ? rec[0]! : rec[1]!
    if (label >= numClasses) {
      throw new ImportError(
        `${r.name}: record ${i} (byte ${i * size}) has ${mode} label ${label}, expected 0..${numClasses - 1}`,
      )
    }
    await ctx.sink.add(split ?? carve(), cifarPixels(rec, l.labelBytes, channels, px), label)
  }
  if (await r.hasMore()) throw new ImportError(`${r.name}: data continues after ${n} records`)
  return n
}

/** Caps the bytes a decompressor may produce. */
function capBytes(max: number, name: string): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length
      if (seen > max) cb(new ImportError(`${name}: decompresses to more than ${max} bytes; refusing`))
      else cb(null, chunk)
    },
  })
}

async function folderFiles(source: string, kind: CifarKind): Promise<{ dir: string; files: Set<string> }> {
  const root = await realpath(source)
  const known = new Set([...Object.keys(LAYOUTS[kind].data)])
  const candidates = [root, ...(await readdirNames(root, () => undefined)).map((n) => join(root, n))]
  for (const dir of candidates) {
    if (!(await lstat(dir)).isDirectory()) continue
    const files = new Set(await readdirNames(dir, () => undefined))
    if ([...known].some((f) => files.has(f))) return { dir, files }
  }
  throw new ImportError(`${source}: no ${[...known].join(', ')} found (in the folder or one level down)`)
}

function isFile(p: string): Promise<boolean> {
  return lstat(p).then(
    (s) => s.isFile(),
    () => false,
  )
}

/** Which CIFAR layout a folder's file names are, if any. */
function cifarFromNames(names: readonly string[]): CifarKind | null {
  if (names.includes('data_batch_1.bin') || names.includes('test_batch.bin')) return 'cifar10'
  if (names.includes('train.bin') && (names.includes('fine_label_names.txt') || names.includes('test.bin')))
    return 'cifar100'
  return null
}

/**
 * A cifar-10 / cifar-100 .tar.gz by name (cifar-100 is checked first: its name contains cifar-10),
 * the extracted folder by its files, or a folder holding it (a cifar-* sub-folder).
 */
async function detectCifar(kind: CifarKind, p: SourceProbe): Promise<number> {
  if (p.kind === 'file') {
    if (!/\.(tar\.gz|tgz)$/.test(p.name)) return DETECT.no
    const is100 = p.name.includes('cifar-100') || p.name.includes('cifar100')
    const is10 = !is100 && (p.name.includes('cifar-10') || p.name.includes('cifar10'))
    return (kind === 'cifar100' ? is100 : is10) ? DETECT.certain : DETECT.no
  }
  if (p.kind !== 'directory') return DETECT.no
  if (cifarFromNames(p.entries) === kind) return DETECT.certain
  for (const n of p.entries) {
    const inner = join(p.source, n)
    if (!/cifar/i.test(n) || !(await lstat(inner)).isDirectory()) continue
    // The first cifar-* sub-folder with a CIFAR layout decides, whichever kind it is.
    const found = cifarFromNames(await readdirNames(inner, () => undefined))
    if (found) return found === kind ? DETECT.nested : DETECT.no
  }
  return DETECT.no
}

const titleOf = (kind: CifarKind) => (kind === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100')

/** What reading a CIFAR source found: records read, data files seen, the class-names text. */
interface CifarRead {
  total: number
  seen: Set<string>
  namesText: string | null
  /** Where the names came from (or were looked for), for error messages. */
  namesFile: string
}

/** The digest of a CIFAR import: kind, label mode and the bytes of every file it reads. */
async function cifarFingerprint(
  kind: CifarKind,
  source: string,
  options: ImportOptions,
  ctx: Pick<ImportContext, 'signal'>,
): Promise<string> {
  const l = LAYOUTS[kind]
  const hash = createHash('sha256')
  hash.update(`${kind}\0${options.labelMode ?? 'fine'}\0`)
  if ((await lstat(source)).isDirectory()) {
    const { dir, files } = await folderFiles(source, kind)
    for (const f of [...Object.keys(l.data), l.meta.fine, l.meta.coarse].sort()) {
      if (!files.has(f)) continue
      hash.update(`${f}\0`)
      await hashFile(join(dir, f), hash, ctx.signal)
    }
  } else await hashFile(source, hash, ctx.signal)
  return hash.digest('hex')
}

/** Options CIFAR cannot honour: resizing, and coarse labels of CIFAR-10. */
function checkCifarOptions(kind: CifarKind, source: string, options: ImportOptions): void {
  const title = titleOf(kind)
  if (options.size && (options.size[0] !== SIDE || options.size[1] !== SIDE)) {
    throw new ImportError(
      `${source}: ${title} images are 32x32; leave the ${fieldName(options, 'size')} unset (resizing ${title} is not supported)`,
    )
  }
  if (kind === 'cifar10' && options.labelMode === 'coarse') {
    throw new ImportError(
      `${source}: CIFAR-10 has no coarse labels (the ${fieldName(options, 'labelMode')} are for CIFAR-100)`,
    )
  }
}

/** Reads the data files and the names file of an extracted CIFAR folder. */
async function readCifarFolder(
  kind: CifarKind,
  source: string,
  options: ImportOptions,
  ctx: ImportContext,
  channels: 1 | 3,
): Promise<CifarRead> {
  const l = LAYOUTS[kind]
  const mode = options.labelMode ?? 'fine'
  const seen = new Set<string>()
  let total = 0
  const { dir, files } = await folderFiles(source, kind)
  for (const f of Object.keys(l.data)) {
    if (!files.has(f)) continue
    const p = join(dir, f)
    if (!(await isFile(p))) throw new ImportError(`${p}: not a regular file`)
    const bytes = await statRegularFile(p, options.limits.maxFileBytes).catch((e: Error) => {
      throw new ImportError(`${p}: ${e.message}`)
    })
    const r = new ByteReader(createReadStream(p, { highWaterMark: 1 << 20, signal: ctx.signal }), p, bytes)
    try {
      total += await readRecords(r, bytes, kind, l.data[f]!, options, ctx, channels)
    } finally {
      r.close()
    }
    seen.add(f)
  }
  const namesFile = join(dir, l.meta[mode])
  const namesText = files.has(l.meta[mode])
    ? (await readRegularFile(namesFile, 1 << 20)).toString('utf8')
    : null
  return { total, seen, namesText, namesFile }
}

/** Streams a CIFAR .tar.gz (never extracted to disk): data files and the names file, in any order. */
async function readCifarTarball(
  kind: CifarKind,
  source: string,
  options: ImportOptions,
  ctx: ImportContext,
  channels: 1 | 3,
): Promise<CifarRead> {
  const l = LAYOUTS[kind]
  const { limits } = options
  const mode = options.labelMode ?? 'fine'
  const out: CifarRead = { total: 0, seen: new Set(), namesText: null, namesFile: l.meta[mode] }
  const file = createReadStream(source, { highWaterMark: 1 << 20, signal: ctx.signal })
  const extract = tar.extract()
  const gunzip = createGunzip()
  const cap = capBytes(limits.maxFileBytes * 8, source)
  const fail = (e: Error) => extract.destroy(e)
  file.on('error', fail)
  gunzip.on('error', (e) => fail(new ImportError(`${source}: not a valid .tar.gz (${e.message})`)))
  cap.on('error', fail)
  file.pipe(gunzip).pipe(cap).pipe(extract)
  try {
    for await (const entry of extract) {
      throwIfAborted(ctx.signal)
      const name = basename(entry.header.name)
      const where = `${source}:${entry.header.name}`
      const size = entry.header.size ?? 0
      if (entry.header.type === 'file' && l.data[name] && !out.seen.has(name)) {
        if (size > limits.maxFileBytes)
          throw new ImportError(`${where}: ${size} bytes, over the limit of ${limits.maxFileBytes}`)
        const r = new ByteReader(entry as unknown as Readable, where, size)
        out.total += await readRecords(r, size, kind, l.data[name], options, ctx, channels)
        out.seen.add(name)
      } else if (entry.header.type === 'file' && name === l.meta[mode] && size <= 1 << 20) {
        const parts: Buffer[] = []
        for await (const c of entry) parts.push(c as Buffer)
        out.namesText = Buffer.concat(parts).toString('utf8')
        out.namesFile = where
      } else {
        entry.resume()
      }
    }
  } catch (err) {
    if (err instanceof ImportError || (err as Error)?.name === 'AbortError') throw err
    throw new ImportError(
      `${source}: not a readable ${titleOf(kind)} .tar.gz (${(err as Error)?.message ?? String(err)})`,
    )
  } finally {
    file.destroy()
    gunzip.destroy()
  }
  return out
}

function cifarImporter(kind: CifarKind) {
  const l = LAYOUTS[kind]
  const title = titleOf(kind)
  return {
    id: kind,
    title,
    description: `${title} binary version (${kind === 'cifar10' ? 'cifar-10-binary.tar.gz' : 'cifar-100-binary.tar.gz'} or the extracted folder)`,
    detect: (probe) => detectCifar(kind, probe),
    fingerprint: (source, options, ctx) => cifarFingerprint(kind, source, options, ctx),
    async run(source, options: ImportOptions, ctx: ImportContext) {
      checkCifarOptions(kind, source, options)
      const channels = options.color === 'grayscale' ? 1 : 3
      const mode = options.labelMode ?? 'fine'
      await ctx.sink.begin({ shape: [SIDE, SIDE, channels] })
      const read = (await lstat(source)).isDirectory()
        ? await readCifarFolder(kind, source, options, ctx, channels)
        : await readCifarTarball(kind, source, options, ctx, channels)
      if (read.total === 0) {
        throw new ImportError(`${source}: no ${title} data files (${Object.keys(l.data).join(', ')}) found`)
      }
      const notes: string[] = []
      const missing = Object.keys(l.data).filter((f) => !read.seen.has(f))
      if (missing.length > 0) notes.push(`${title}: ${missing.join(', ')} not found; imported the rest`)
      const num = l.numClasses[mode]
      let classNames: string[]
      if (read.namesText === null) {
        notes.push(`${l.meta[mode]} not found; classes are named by their index`)
        classNames = Array.from({ length: num }, (_, i) => String(i))
      } else classNames = parseNames(read.namesText, read.namesFile, num)
      return { classNames, notes }
    },
  } satisfies Importer
}

export const cifar10Importer = cifarImporter('cifar10')
export const cifar100Importer = cifarImporter('cifar100')
