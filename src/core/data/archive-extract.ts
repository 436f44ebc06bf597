/**
 * Safe extraction of an uploaded dataset archive (zip, tar, tar.gz) into a fresh folder, for the web
 * host's upload path. Everything an archive can do to the machine it lands on is refused:
 * - entry paths that are absolute, contain `..`, a backslash, a drive letter or NUL (path
 *   traversal, "zip slip"); every target is also checked to resolve inside the folder;
 * - symlinks, hard links, devices and FIFOs (only regular files and folders are written);
 * - bombs: a cap on the number of entries, on the total bytes unpacked (counted as they are
 *   written, not trusted from headers), and on the compression ratio, for every kind alike: each
 *   zip entry's from its (validated) header before anything is written, and the whole archive's as
 *   it unpacks (bytes unpacked / compressed bytes read so far), so a tar.gz bomb stops early;
 * - xz, bzip2, zstd, 7z and rar archives are recognised and refused by name (Node has no decoder
 *   for them), naming the formats that are supported.
 * An AbortSignal (the client went away) stops extraction at the next chunk. On any refusal or abort
 * the half-written folder is removed and the error names the entry and the limit.
 */
import {
  closeSync,
  createReadStream,
  createWriteStream,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
} from 'node:fs'
import { dirname, isAbsolute, join, relative, sep } from 'node:path'
import { Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import tar from 'tar-stream'
import { storageTrouble } from '../storage-errors'
import yauzl from 'yauzl'

export interface ExtractLimits {
  /** Most entries (files + folders). */
  maxEntries: number
  /** Most bytes written in all. */
  maxTotalBytes: number
  /**
   * Most unpacked/compressed ratio: of one zip entry (from its header), and of the whole archive as
   * it unpacks (bytes unpacked / compressed bytes read so far), once past RATIO_GRACE_BYTES.
   */
  maxRatio: number
}

/** The whole-archive ratio applies once this much is unpacked (a tiny archive of blanks is fine). */
export const RATIO_GRACE_BYTES = 1024 * 1024

export const SUPPORTED_ARCHIVES = '.zip, .tar, .tar.gz (.tgz)'

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxEntries: 500_000,
  maxTotalBytes: 16 * 1024 ** 3,
  maxRatio: 200,
}

export type ArchiveKind = 'zip' | 'tar' | 'tar.gz'

export class ArchiveError extends Error {}

export interface ExtractOptions {
  /** Aborting stops the extraction at the next chunk; the folder is removed and ArchiveError thrown. */
  signal?: AbortSignal
}

export interface ExtractResult {
  kind: ArchiveKind
  /** The folder to import: the archive's single top-level folder, else the extraction root. */
  path: string
  files: number
  bytes: number
  /** Entries left out on purpose (macOS resource forks), with why. */
  skipped: { entry: string; reason: string }[]
}

/** Archives recognised by their first bytes but not supported (no decoder in Node). */
const UNSUPPORTED: { name: string; magic: number[] }[] = [
  { name: 'an xz-compressed archive (.tar.xz, .txz)', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'a bzip2-compressed archive (.tar.bz2)', magic: [0x42, 0x5a, 0x68] },
  { name: 'a zstd-compressed archive (.tar.zst)', magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'a 7z archive', magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { name: 'a rar archive', magic: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07] },
]

function readHead(file: string): Buffer {
  const fd = openSync(file, 'r')
  const head = Buffer.alloc(512)
  try {
    readSync(fd, head, 0, 512, 0)
  } finally {
    closeSync(fd)
  }
  return head
}

/** Why an archive of a known but unsupported kind is refused; null for anything else. */
export function unsupportedArchive(file: string): string | null {
  const head = readHead(file)
  const hit = UNSUPPORTED.find((u) => u.magic.every((b, i) => head[i] === b))
  if (!hit) return null
  return `${hit.name} is not supported (no decoder is built in); repack it as one of ${SUPPORTED_ARCHIVES}`
}

/** zip, tar or gzip (assumed tar.gz) from the first bytes; null for anything else. */
export function sniffArchive(file: string): ArchiveKind | null {
  const head = readHead(file)
  if (
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    (head[2] === 3 || head[2] === 5) &&
    (head[3] === 4 || head[3] === 6)
  )
    return 'zip'
  if (head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz'
  if (head.toString('latin1', 257, 262) === 'ustar') return 'tar'
  return null
}

/** Why an entry name is refused, or null when it is a safe relative path. */
export function unsafeEntryName(name: string): string | null {
  if (name.includes('\0')) return 'contains a NUL byte'
  if (name.includes('\\')) return 'contains a backslash'
  if (name.startsWith('/') || isAbsolute(name) || /^[a-zA-Z]:/.test(name)) return 'is an absolute path'
  if (name.split('/').some((part) => part === '..')) return 'leaves the folder (..)'
  return null
}

/** macOS zips carry __MACOSX/ resource forks and .DS_Store files: not data, and not a class folder. */
function isJunk(name: string): boolean {
  const parts = name.split('/')
  return parts[0] === '__MACOSX' || parts.at(-1) === '.DS_Store'
}

class Budget {
  entries = 0
  /** File bytes unpacked (written, or read and dropped for skipped entries). */
  bytes = 0
  /** Compressed bytes read so far (the archive's bytes for tar, tar.gz; entries opened for zip). */
  compressed = 0
  files = 0
  constructor(
    private readonly limits: ExtractLimits,
    private readonly signal: AbortSignal | undefined,
  ) {}
  /** Throws once the signal is aborted. */
  live(): void {
    if (this.signal?.aborted) throw new ArchiveError('extraction stopped: the upload was abandoned')
  }
  entry(name: string): void {
    this.live()
    if (++this.entries > this.limits.maxEntries) {
      throw new ArchiveError(`${name}: the archive has more than ${this.limits.maxEntries} entries`)
    }
  }
  /** The error for `n` more unpacked bytes, or null while within every limit. */
  add(name: string, n: number): ArchiveError | null {
    this.bytes += n
    const { maxTotalBytes, maxRatio } = this.limits
    if (this.signal?.aborted) return new ArchiveError('extraction stopped: the upload was abandoned')
    if (this.bytes > maxTotalBytes) {
      return new ArchiveError(`${name}: the archive unpacks to more than ${maxTotalBytes} bytes`)
    }
    if (this.bytes > RATIO_GRACE_BYTES && this.bytes > maxRatio * this.compressed) {
      const ratio = Math.round(this.bytes / Math.max(1, this.compressed))
      return new ArchiveError(
        `${name}: compression ratio ${ratio}:1 so far (${this.bytes} bytes unpacked from ${this.compressed} ` +
          `compressed bytes read) is over ${maxRatio}:1 (an archive bomb?)`,
      )
    }
    return null
  }
  /** A stream that counts the bytes going through it against the limits. */
  meter(name: string): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        const err = this.add(name, chunk.length)
        if (err) cb(err)
        else cb(null, chunk)
      },
    })
  }
}

function target(dest: string, name: string): string {
  const p = join(dest, name)
  const rel = relative(dest, p)
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new ArchiveError(`${name}: leaves the folder`)
  }
  return p
}

async function writeEntry(
  dest: string,
  name: string,
  stream: NodeJS.ReadableStream,
  budget: Budget,
): Promise<void> {
  const p = target(dest, name)
  mkdirSync(dirname(p), { recursive: true })
  budget.files++
  // 'wx': never write through something already there (a second entry of the same name).
  await pipeline(stream, budget.meter(name), createWriteStream(p, { flags: 'wx' }))
}

/** Reads an entry that is left out through the meter (its bytes count too) into nothing. */
async function dropEntry(name: string, stream: NodeJS.ReadableStream, budget: Budget): Promise<void> {
  await pipeline(stream, budget.meter(name), new Writable({ write: (_c, _e, cb) => cb() }))
}

function checkName(name: string): void {
  const why = unsafeEntryName(name)
  if (why) throw new ArchiveError(`${JSON.stringify(name)} ${why}: refused`)
}

/** One tar entry: a folder is made, a file written, macOS metadata dropped, anything else refused. */
async function tarEntry(
  header: tar.Header,
  stream: NodeJS.ReadableStream,
  dest: string,
  budget: Budget,
  skipped: ExtractResult['skipped'],
): Promise<void> {
  const name = header.name.replace(/^\.\//, '')
  budget.entry(name)
  checkName(name)
  if (header.type === 'directory') {
    mkdirSync(target(dest, name), { recursive: true })
    stream.resume()
    return
  }
  if (header.type !== 'file' && header.type !== 'contiguous-file') {
    throw new ArchiveError(
      `${name}: a ${header.type ?? 'special'} entry; only files and folders are extracted`,
    )
  }
  if (isJunk(name)) {
    skipped.push({ entry: name, reason: 'macOS metadata' })
    await dropEntry(name, stream, budget)
    return
  }
  await writeEntry(dest, name, stream, budget)
}

async function extractTar(
  file: string,
  gz: boolean,
  dest: string,
  budget: Budget,
  skipped: ExtractResult['skipped'],
  signal: AbortSignal | undefined,
): Promise<void> {
  const extract = tar.extract()
  const input = createReadStream(file)
  // Compressed bytes read so far: the denominator of the archive's ratio.
  input.on('data', (chunk: Buffer | string) => void (budget.compressed += chunk.length))
  const source = gz ? input.pipe(createGunzip()) : input
  const done = new Promise<void>((resolve, reject) => {
    const stop = (err: Error): void => {
      input.destroy()
      extract.destroy(err)
      reject(err)
    }
    extract.on('entry', (header, stream, next) => {
      // tar-stream types its entry stream loosely; it is a Readable (a PassThrough).
      tarEntry(header, stream as unknown as NodeJS.ReadableStream, dest, budget, skipped).then(
        () => next(),
        (err: unknown) => {
          stream.resume()
          stop(err as Error)
        },
      )
    })
    extract.on('finish', resolve)
    extract.on('error', reject)
    source.on('error', (e: Error) =>
      stop(new ArchiveError(`not a valid ${gz ? 'tar.gz' : 'tar'} archive (${e.message})`)),
    )
    signal?.addEventListener('abort', () => stop(new ArchiveError('extraction stopped')), { once: true })
  })
  source.pipe(extract)
  await done
}

const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFDIR = 0o040000

async function openZip(file: string): Promise<yauzl.ZipFile> {
  try {
    // strictFileNames: backslashes are an error, not silently turned into separators.
    return await yauzl.openPromise(file, {
      lazyEntries: true,
      strictFileNames: true,
      validateEntrySizes: true,
    })
  } catch (err) {
    throw new ArchiveError(`not a valid zip archive (${(err as Error).message})`)
  }
}

/** One zip entry, checked (name, kind, ratio from its validated header) before anything is written. */
async function zipEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  dest: string,
  budget: Budget,
  limits: ExtractLimits,
  skipped: ExtractResult['skipped'],
): Promise<void> {
  const name = entry.fileName
  budget.entry(name)
  checkName(name)
  // Unix mode in the high 16 bits (when made on Unix): anything but a file or folder, e.g. a symlink.
  const mode = (entry.externalFileAttributes >>> 16) & S_IFMT
  if (mode !== 0 && mode !== S_IFREG && mode !== S_IFDIR) {
    throw new ArchiveError(`${name}: a symlink or special file; only files and folders are extracted`)
  }
  if (name.endsWith('/')) {
    mkdirSync(target(dest, name), { recursive: true })
    return
  }
  if (isJunk(name)) {
    skipped.push({ entry: name, reason: 'macOS metadata' })
    return
  }
  if (entry.isEncrypted()) throw new ArchiveError(`${name}: encrypted entries are not supported`)
  if (entry.compressedSize > 0 && entry.uncompressedSize / entry.compressedSize > limits.maxRatio) {
    throw new ArchiveError(
      `${name}: compression ratio ${Math.round(entry.uncompressedSize / entry.compressedSize)}:1 is over ${limits.maxRatio}:1 (a zip bomb?)`,
    )
  }
  budget.compressed += entry.compressedSize
  await writeEntry(dest, name, await zip.openReadStreamPromise(entry), budget)
}

async function extractZip(
  file: string,
  dest: string,
  budget: Budget,
  limits: ExtractLimits,
  skipped: ExtractResult['skipped'],
  signal: AbortSignal | undefined,
): Promise<void> {
  const zip = await openZip(file)
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown): void => {
        const keep = err instanceof ArchiveError || storageTrouble(err)
        reject(keep ? err : new ArchiveError(`zip: ${(err as Error).message}`))
      }
      zip.on('error', fail)
      zip.on('end', resolve)
      zip.on('entry', (entry: yauzl.Entry) => {
        zipEntry(zip, entry, dest, budget, limits, skipped).then(() => zip.readEntry(), fail)
      })
      signal?.addEventListener('abort', () => fail(new ArchiveError('extraction stopped')), { once: true })
      zip.readEntry()
    })
  } finally {
    zip.close()
  }
}

/**
 * Extracts `file` into `dest` (created; must not exist). Throws ArchiveError (and removes `dest`)
 * on an unsupported or unsafe archive, or once `opts.signal` is aborted.
 */
export async function extractArchive(
  file: string,
  dest: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
  opts: ExtractOptions = {},
): Promise<ExtractResult> {
  const kind = sniffArchive(file)
  if (!kind) {
    throw new ArchiveError(
      unsupportedArchive(file) ??
        `not a zip, tar or tar.gz archive (checked by its first bytes); supported: ${SUPPORTED_ARCHIVES}`,
    )
  }
  const { signal } = opts
  mkdirSync(dest, { recursive: false })
  const budget = new Budget(limits, signal)
  const skipped: ExtractResult['skipped'] = []
  try {
    budget.live()
    if (kind === 'zip') await extractZip(file, dest, budget, limits, skipped, signal)
    else await extractTar(file, kind === 'tar.gz', dest, budget, skipped, signal)
    budget.live()
  } catch (err) {
    rmSync(dest, { recursive: true, force: true })
    if (signal?.aborted) throw new ArchiveError('extraction stopped: the upload was abandoned')
    // A full or read-only disk is not the archive's fault: the caller explains it as storage.
    if (storageTrouble(err)) throw err
    throw err instanceof ArchiveError ? err : new ArchiveError((err as Error).message)
  }
  if (budget.files === 0) {
    rmSync(dest, { recursive: true, force: true })
    throw new ArchiveError('the archive holds no files')
  }
  return { kind, path: singleTopFolder(dest), files: budget.files, bytes: budget.bytes, skipped }
}

/** An archive of one folder ("mnist/train/...") imports as that folder, named after it. */
function singleTopFolder(dest: string): string {
  const top = readdirSync(dest, { withFileTypes: true })
  return top.length === 1 && top[0]!.isDirectory() ? join(dest, top[0]!.name) : dest
}
