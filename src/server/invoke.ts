/**
 * `POST /api/invoke/<channel>`: the invoke half of the contract. The token is checked before a byte
 * of the body is read; a request without it is answered 401 and its connection closed, so an
 * unauthenticated client cannot make us drain a large upload. Bodies are limited to `MAX_BODY_BYTES`
 * whether declared (Content-Length) or streamed (chunked); an oversized one gets 413 and a lingering
 * close, so the client reads the answer instead of a connection reset.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { parseWire } from '../shared/wire-json'
import type { ErrorCode } from '../shared/errors'
import type { Auth } from './auth'
import { HttpError, sendError, sendJson } from './http'
import type { WebCore } from './index'

export const MAX_BODY_BYTES = 1024 * 1024
export const INVOKE_PREFIX = '/api/invoke/'
/** After a 413, how long (and how much more) we keep discarding the upload before closing. */
const LINGER_MS = 2000
const LINGER_BYTES = 16 * 1024 * 1024

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      reject(new HttpError(413, 'invalid_input', `request body over ${limit} bytes`))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    req.on('data', (chunk: Buffer) => {
      if (failed) return
      size += chunk.length
      if (size > limit) {
        failed = true
        reject(new HttpError(413, 'invalid_input', `request body over ${limit} bytes`))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (!failed) resolvePromise(Buffer.concat(chunks))
    })
    req.on('error', (err) => {
      if (!failed) reject(err)
    })
  })
}

/** Answers and closes the connection without reading the rest of the body. */
export function refuseAndClose(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  res.setHeader('Connection', 'close')
  sendError(res, status, code, message)
}

/**
 * Answers (413) and closes the way nginx's lingering_close does: our side is half-closed once the
 * answer is out, and the client's remaining upload is read and discarded for a short while, so the
 * kernel does not reset a connection that still has unread data and the client sees the 413.
 * Node's server ends a `Connection: close` response with `socket.destroySoon()`, which would drop
 * the socket at once; replacing it on this one socket is the only hook Node gives for that step.
 */
export function answerAndLinger(req: IncomingMessage, res: ServerResponse, err: HttpError): void {
  const socket = req.socket as Socket & { destroySoon?: () => void }
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end()
    let discarded = 0
    const timer = setTimeout(() => this.destroy(), LINGER_MS)
    timer.unref()
    const stop = () => {
      clearTimeout(timer)
      this.destroy()
    }
    this.on('data', (c: Buffer) => {
      discarded += c.length
      if (discarded > LINGER_BYTES) stop()
    })
    this.once('end', stop)
    this.resume()
  }
  res.setHeader('Connection', 'close')
  sendError(res, err.status, err.code, err.message)
}

export function createInvokeHandler(core: WebCore, auth: Auth) {
  return async function handleInvoke(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
  ): Promise<void> {
    if (!auth.hasToken(req)) {
      refuseAndClose(res, 401, 'unauthorized', 'missing or wrong access token')
      return
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST')
      refuseAndClose(res, 405, 'invalid_input', `expected POST, got ${req.method}`)
      return
    }
    const contentType = req.headers['content-type']
    if (contentType !== undefined && !/^application\/json\s*(;|$)/i.test(contentType)) {
      refuseAndClose(res, 415, 'invalid_input', `expected Content-Type application/json, got ${contentType}`)
      return
    }
    let channel: string
    try {
      channel = decodeURIComponent(pathname.slice(INVOKE_PREFIX.length))
    } catch {
      refuseAndClose(res, 400, 'invalid_input', 'malformed channel name')
      return
    }
    const body = await readBody(req, MAX_BODY_BYTES)
    let input: unknown = {}
    if (body.length > 0) {
      try {
        input = parseWire(body.toString('utf8'))
      } catch (err) {
        sendError(res, 400, 'invalid_input', `request body is not JSON: ${(err as Error).message}`)
        return
      }
    }
    const envelope = await core.dispatch(channel, input)
    sendJson(res, 200, envelope)
  }
}
