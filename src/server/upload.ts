/**
 * The web host's upload path: a browser on another machine sends a dataset archive (zip, tar,
 * tar.gz) as the raw body of `POST /api/upload?name=<file name>`; it is streamed to a temp file
 * under the data folder (size-capped as it arrives), extracted safely (core/data/archive-extract:
 * no traversal, no symlinks, bomb limits), and the answer names the folder to import with
 * datasets:import. A client that goes away mid-upload or mid-extraction aborts it: extraction
 * stops at the next chunk, what was written is removed and the upload slot is released. Authentication and the Host/Origin checks are the server's (index.ts); this
 * module also requires Content-Type application/octet-stream, which a cross-site form cannot send
 * without a CORS preflight the server never answers.
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdirSync, rmSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import {
  ArchiveError,
  DEFAULT_EXTRACT_LIMITS,
  extractArchive,
  type ExtractLimits,
  type ExtractResult,
} from '../core/data/archive-extract'
import { storageAppError } from '../core/storage-errors'
import type { Auth } from './auth'
import { HttpError, sendJson } from './http'
import { refuseAndClose } from './invoke'

export const UPLOAD_PATH = '/api/upload'
export const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 ** 3
/** At most this many uploads at once; more get 429 (each can hold a large temp file). */
const MAX_CONCURRENT = 2

export interface UploadOptions {
  /** Where archives are stored and extracted (<data home>/uploads). */
  dir: string
  maxBytes?: number
  limits?: ExtractLimits
}

export class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** A folder name from the browser's file name: letters, digits, `.`, `_`, `-`; no extension. */
export function uploadBaseName(name: string | null): string {
  const base = (name ?? '')
    .split(/[\\/]/)
    .pop()!
    .replace(/\.(zip|tar|tgz|tar\.gz)$/i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 80)
  return base || 'upload'
}

/**
 * Streams the request body to `file`, failing with 413 once it passes `maxBytes`. The request is
 * not destroyed here (that would reset the socket before the 413 is sent): it is unpiped, and the
 * server closes the connection after answering.
 */
function receive(
  req: IncomingMessage,
  file: string,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let size = 0
    let failed = false
    const out = createWriteStream(file, { flags: 'wx' })
    const fail = (err: Error): void => {
      if (failed) return
      failed = true
      req.unpipe(cap)
      cap.unpipe(out)
      out.destroy()
      req.pause()
      reject(err)
    }
    const cap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length
        if (size > maxBytes) {
          fail(new UploadError(413, `the archive is over ${maxBytes} bytes; uploads are limited to that`))
          cb()
        } else cb(null, chunk)
      },
    })
    req.on('error', fail)
    req.on('aborted', () => fail(new UploadError(400, 'the upload was aborted')))
    signal?.addEventListener('abort', () => fail(new UploadError(400, 'the upload was abandoned')), {
      once: true,
    })
    out.on('error', fail)
    out.on('finish', () => {
      if (!failed) resolve(size)
    })
    req.pipe(cap).pipe(out)
  })
}

/** The browser's file name as the user knows it, for messages: its last part, printable, bounded. */
export function uploadDisplayName(name: string | null): string {
  const last = (name ?? '').split(/[\\/]/).pop()!
  const shown = last.replace(/[\u0000-\u001f\u007f]+/g, '').slice(0, 120)
  return shown || 'upload'
}

/**
 * The upload handler. `signal` is aborted when the client goes away: the upload or the
 * extraction stops, its folder is removed, and the slot is free again.
 */
export function createUploadHandler(
  opts: UploadOptions,
): (req: IncomingMessage, url: URL, signal?: AbortSignal) => Promise<ExtractResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_UPLOAD_BYTES
  const limits = opts.limits ?? DEFAULT_EXTRACT_LIMITS
  let inFlight = 0
  return async (req, url, signal) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/octet-stream') {
      throw new UploadError(415, `expected Content-Type application/octet-stream, got ${type || 'none'}`)
    }
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > maxBytes) {
      throw new UploadError(413, `the archive is ${declared} bytes; uploads are limited to ${maxBytes} bytes`)
    }
    if (inFlight >= MAX_CONCURRENT)
      throw new UploadError(429, 'another upload is in progress; try again when it ends')
    inFlight++
    const id = randomBytes(6).toString('hex')
    const work = join(opts.dir, id)
    const part = join(opts.dir, `${id}.part`)
    try {
      mkdirSync(work, { recursive: true })
      const size = await receive(req, part, maxBytes, signal)
      if (size === 0) throw new UploadError(400, 'the upload is empty')
      const name = url.searchParams.get('name')
      let result: ExtractResult
      try {
        result = await extractArchive(part, join(work, uploadBaseName(name)), limits, { signal })
      } catch (err) {
        if (err instanceof ArchiveError)
          throw new UploadError(400, `${uploadDisplayName(name)}: ${err.message}`)
        throw err
      }
      // Gone while the last entry was written: nobody will import it, so it is not kept.
      if (signal?.aborted) throw new UploadError(400, 'the upload was abandoned')
      return result
    } catch (err) {
      rmSync(work, { recursive: true, force: true })
      throw err
    } finally {
      rmSync(part, { force: true })
      inFlight--
    }
  }
}

/**
 * The route: POST only, the access token (header or cookie), then the upload. A refused upload
 * throws HttpError, which the server answers (a 413 with a lingering close, so the browser sees it).
 */
export function createUploadRoute(opts: UploadOptions | undefined, auth: Auth) {
  const upload = opts ? createUploadHandler(opts) : null
  return async function handleUpload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!auth.hasToken(req)) {
      refuseAndClose(res, 401, 'unauthorized', 'missing or wrong access token')
      return
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST')
      refuseAndClose(res, 405, 'invalid_input', `expected POST, got ${req.method}`)
      return
    }
    if (!upload) {
      refuseAndClose(res, 404, 'not_found', 'uploads are not enabled on this server')
      return
    }
    // The client went away before the answer (closed tab, cancelled fetch): stop and clean up.
    const gone = new AbortController()
    const onClose = (): void => {
      if (!res.writableFinished) gone.abort()
    }
    res.on('close', onClose)
    req.socket.on('close', onClose)
    try {
      sendJson(res, 200, { ok: true, value: await upload(req, url, gone.signal) })
    } catch (err) {
      if (err instanceof UploadError) throw new HttpError(err.status, 'invalid_input', err.message)
      // A full, read-only or unwritable uploads folder: 507 with the storage code and the folder.
      const storage = opts ? storageAppError(err, 'cannot store the upload in', opts.dir) : null
      if (storage) throw new HttpError(507, 'storage', storage.message)
      throw err
    } finally {
      req.socket.off('close', onClose)
    }
  }
}
