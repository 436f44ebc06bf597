/**
 * Security-sensitive: file access for imports. Paths are resolved with realpath and must stay under
 * the chosen root (a symlink leaving it is not followed); only regular files are read (FIFOs and
 * devices are skipped: reading a FIFO blocks forever), opened with O_NONBLOCK and checked with fstat
 * on the open descriptor, and read up to a byte cap. Symlinked folders are never descended into, so
 * a link loop cannot trap the walk.
 */
import { constants, createReadStream } from 'node:fs'
import { lstat, open, readdir, realpath } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join, relative, sep, isAbsolute } from 'node:path'
import { ImportError, throwIfAborted } from './types'

export function isInside(root: string, p: string): boolean {
  const rel = relative(root, p)
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

/**
 * Resolves `p` (maybe a symlink) to a real path under `root`; throws an ImportError otherwise.
 * `root` must itself be a realpath.
 */
export async function resolveInside(root: string, p: string): Promise<string> {
  let real: string
  try {
    real = await realpath(p)
  } catch (err) {
    throw new ImportError(`cannot resolve: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  if (!isInside(root, real))
    throw new ImportError(`links outside the import folder (to ${real}); not followed`)
  return real
}

/** Reads a regular file, refusing non-regular files and anything larger than `maxBytes`. */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  let fh
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new ImportError(
      code === 'ELOOP' ? 'is a symlink; not followed' : `cannot open (${code ?? String(err)})`,
    )
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new ImportError('not a regular file')
    if (st.size > maxBytes) throw new ImportError(`is ${st.size} bytes, over the limit of ${maxBytes}`)
    const buf = Buffer.alloc(st.size)
    let off = 0
    while (off < st.size) {
      const { bytesRead } = await fh.read(buf, off, st.size - off, off)
      if (bytesRead === 0) break
      off += bytesRead
    }
    return off === st.size ? buf : buf.subarray(0, off)
  } finally {
    await fh.close()
  }
}

/** Opens a path as a regular file (no FIFO, no device) and checks its size; returns the size. */
export async function statRegularFile(path: string, maxBytes: number): Promise<number> {
  let fh
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw new ImportError(`cannot open (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new ImportError('not a regular file')
    if (st.size > maxBytes) throw new ImportError(`is ${st.size} bytes, over the limit of ${maxBytes}`)
    return st.size
  } finally {
    await fh.close()
  }
}

/** A file name's bytes with everything but printable ASCII shown as `\xNN`. */
export function escapeNameBytes(name: Buffer): string {
  let out = ''
  for (const b of name)
    out +=
      b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`
  return out
}

/**
 * The names in a folder, sorted. A name that is not valid UTF-8 cannot be passed back to the file
 * system as a JS string (it would come back with U+FFFD in place of its bytes and name no file), so
 * it is reported through `onInvalid` with its bytes escaped, and left out.
 */
export async function readdirNames(dir: string, onInvalid: (escaped: string) => void): Promise<string[]> {
  const out: string[] = []
  for (const raw of await readdir(dir, { encoding: 'buffer' })) {
    const name = raw.toString('utf8')
    if (Buffer.from(name, 'utf8').equals(raw)) out.push(name)
    else onInvalid(escapeNameBytes(raw))
  }
  return out.sort()
}

export const INVALID_NAME_REASON = 'file name is not valid UTF-8; skipped (rename it to import it)'

export interface WalkEntry {
  /** Real path (under the root). */
  path: string
  /** Path relative to the walked folder, `/`-separated, as the user sees it. */
  rel: string
}

/**
 * Lists the regular files under `dir` (recursively, sorted, at most `maxDepth` levels), reporting
 * skipped entries through `skip`. Symlinks to files are followed only when they stay under `root`.
 */
export async function walkFiles(
  root: string,
  dir: string,
  opts: {
    maxFiles: number
    maxDepth?: number
    signal: AbortSignal
    skip: (file: string, reason: string) => void
    relBase?: string
  },
): Promise<WalkEntry[]> {
  const out: WalkEntry[] = []
  const maxDepth = opts.maxDepth ?? 8
  const base = opts.relBase ?? root
  async function visit(d: string, depth: number): Promise<void> {
    throwIfAborted(opts.signal)
    const names = await readdirNames(d, (escaped) =>
      opts.skip(relative(base, join(d, escaped)).split(sep).join('/'), INVALID_NAME_REASON),
    )
    for (const name of names) {
      const p = join(d, name)
      const rel = relative(base, p).split(sep).join('/')
      const st = await lstat(p)
      if (st.isDirectory()) {
        if (depth >= maxDepth) opts.skip(rel, `folder nested deeper than ${maxDepth} levels`)
        else await visit(p, depth + 1)
      } else if (st.isFile()) {
        out.push({ path: p, rel })
      } else if (st.isSymbolicLink()) {
        try {
          const real = await resolveInside(root, p)
          const rst = await lstat(real)
          if (rst.isFile()) out.push({ path: real, rel })
          else
            opts.skip(
              rel,
              rst.isDirectory() ? 'symlinked folder; not followed' : 'symlink to a non-regular file',
            )
        } catch (err) {
          opts.skip(rel, err instanceof Error ? err.message : String(err))
        }
      } else {
        opts.skip(rel, 'not a regular file (FIFO, socket or device)')
      }
      if (out.length > opts.maxFiles) {
        throw new ImportError(`${d}: more than ${opts.maxFiles} files; refusing to import (limit maxFiles)`)
      }
    }
  }
  await visit(dir, 0)
  return out
}

/** sha256 of a file's bytes, streamed, reporting progress in bytes. */
export async function hashFile(
  path: string,
  hash: ReturnType<typeof createHash>,
  signal: AbortSignal,
  onBytes?: (n: number) => void,
): Promise<void> {
  // a FIFO would block the read forever
  await statRegularFile(path, Number.MAX_SAFE_INTEGER).catch((e: Error) => {
    throw new ImportError(`${path}: ${e.message}`)
  })
  const stream = createReadStream(path, { highWaterMark: 1 << 20, signal })
  for await (const chunk of stream) {
    hash.update(chunk as Buffer)
    onBytes?.((chunk as Buffer).length)
  }
}
