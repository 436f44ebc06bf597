/**
 * Safe extraction of an uploaded dataset archive (zip, tar, tar.gz) into a fresh folder, for the web
 * host's upload path. Everything an archive can do to the machine it lands on is refused:
 * - entry paths that are absolute, contain `..`, a backslash, a drive letter or NUL (path
 *   traversal, "zip slip"); every target is also checked to resolve inside the folder;
 * - symlinks, hard links, devices and FIFOs (only regular files and folders are written);
 * - bombs: a cap on the number of entries, on the total bytes written (counted as they are
 *   written, not trusted from headers), and on the compression ratio of each zip entry.
 * On any refusal the half-written folder is removed and the error names the entry and the limit.
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
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import tar from 'tar-stream'
import yauzl from 'yauzl'

export interface ExtractLimits {
  /** Most entries (files + folders). */
  maxEntries: number
  /** Most bytes written in all. */
  maxTotalBytes: number
  /** Most uncompressed/compressed ratio of one zip entry. */
  maxRatio: number
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxEntries: 500_000,
  maxTotalBytes: 16 * 1024 ** 3,
  maxRatio: 200,
}

export type ArchiveKind = 'zip' | 'tar' | 'tar.gz'

export class ArchiveError extends Error {}

export interface ExtractResult {
  kind: ArchiveKind
  /** The folder to import: the archive's single top-level folder, else the extraction root. */
  path: string
  files: number
  bytes: number
  /** Entries left out on purpose (macOS resource forks), with why. */
  skipped: { entry: string; reason: string }[]
}

/** zip, tar or gzip (assumed tar.gz) from the first bytes; null for anything else. */
export function sniffArchive(file: string): ArchiveKind | null {
  const fd = openSync(file, 'r')
  const head = Buffer.alloc(512)
  try {
    readSync(fd, head, 0, 512, 0)
  } finally {
    closeSync(fd)
  }
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
  bytes = 0
  files = 0
  constructor(private readonly limits: ExtractLimits) {}
  entry(name: string): void {
    if (++this.entries > this.limits.maxEntries) {
      throw new ArchiveError(`${name}: the archive has more than ${this.limits.maxEntries} entries`)
    }
  }
  /** A stream that counts the bytes going through it against the total. */
  meter(name: string): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.bytes += chunk.length
        if (this.bytes > this.limits.maxTotalBytes) {
          cb(new ArchiveError(`${name}: the archive unpacks to more than ${this.limits.maxTotalBytes} bytes`))
          return
        }
        cb(null, chunk)
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

function checkName(name: string): void {
  const why = unsafeEntryName(name)
  if (why) throw new ArchiveError(`${JSON.stringify(name)} ${why}: refused`)
}

async function extractTar(
  file: string,
  gz: boolean,
  dest: string,
  budget: Budget,
  skipped: ExtractResult['skipped'],
): Promise<void> {
  const extract = tar.extract()
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const run = async (): Promise<void> => {
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
          stream.resume()
          return
        }
        // tar-stream types its entry stream loosely; it is a Readable (a PassThrough).
        await writeEntry(dest, name, stream as unknown as NodeJS.ReadableStream, budget)
      }
      run().then(
        () => next(),
        (err: unknown) => {
          stream.resume()
          extract.destroy(err as Error)
          reject(err)
        },
      )
    })
    extract.on('finish', resolve)
    extract.on('error', reject)
  })
  const input = createReadStream(file)
  const source = gz ? input.pipe(createGunzip()) : input
  source.on('error', (e: Error) =>
    extract.destroy(new ArchiveError(`not a valid ${gz ? 'tar.gz' : 'tar'} archive (${e.message})`)),
  )
  source.pipe(extract)
  await done
}

const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFDIR = 0o040000

async function extractZip(
  file: string,
  dest: string,
  budget: Budget,
  limits: ExtractLimits,
  skipped: ExtractResult['skipped'],
): Promise<void> {
  let zip: yauzl.ZipFile
  try {
    // strictFileNames: backslashes are an error, not silently turned into separators.
    zip = await yauzl.openPromise(file, {
      lazyEntries: true,
      strictFileNames: true,
      validateEntrySizes: true,
    })
  } catch (err) {
    throw new ArchiveError(`not a valid zip archive (${(err as Error).message})`)
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown): void => {
        reject(err instanceof ArchiveError ? err : new ArchiveError(`zip: ${(err as Error).message}`))
      }
      zip.on('error', fail)
      zip.on('end', resolve)
      zip.on('entry', (entry: yauzl.Entry) => {
        const run = async (): Promise<void> => {
          const name = entry.fileName
          budget.entry(name)
          checkName(name)
          // Unix mode in the high 16 bits (when made on Unix): anything but a file or folder, e.g. a symlink.
          const mode = (entry.externalFileAttributes >>> 16) & S_IFMT
          const isDir = name.endsWith('/')
          if (mode !== 0 && mode !== S_IFREG && mode !== S_IFDIR) {
            throw new ArchiveError(`${name}: a symlink or special file; only files and folders are extracted`)
          }
          if (isDir) {
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
          await writeEntry(dest, name, await zip.openReadStreamPromise(entry), budget)
        }
        run().then(() => zip.readEntry(), fail)
      })
      zip.readEntry()
    })
  } finally {
    zip.close()
  }
}

/**
 * Extracts `file` into `dest` (created; must not exist). Throws ArchiveError (and removes `dest`)
 * on an unsupported or unsafe archive.
 */
export async function extractArchive(
  file: string,
  dest: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
): Promise<ExtractResult> {
  const kind = sniffArchive(file)
  if (!kind) throw new ArchiveError('not a zip, tar or tar.gz archive (checked by its first bytes)')
  mkdirSync(dest, { recursive: false })
  const budget = new Budget(limits)
  const skipped: ExtractResult['skipped'] = []
  try {
    if (kind === 'zip') await extractZip(file, dest, budget, limits, skipped)
    else await extractTar(file, kind === 'tar.gz', dest, budget, skipped)
  } catch (err) {
    rmSync(dest, { recursive: true, force: true })
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
