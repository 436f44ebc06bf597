/**
 * Web host: the same invoke/push contract as Electron's IPC, over HTTP + WebSocket, serving the
 * built renderer so the full UI runs in any browser (headless GPU boxes, end-to-end tests).
 *
 * Security model (the server can start training processes and read the data folder, so any page
 * the user happens to have open in the same browser must not be able to drive it):
 * - Binds 127.0.0.1 by default. Any other address needs `allowRemote: true`, and even then every
 *   request still needs the token.
 * - A random token per launch (24 bytes, base64url), printed as `http://127.0.0.1:PORT/?token=...`
 *   as Jupyter does. Opening that URL sets an HttpOnly, SameSite=Strict cookie and redirects to strip
 *   the token from the address bar (and so from history and screenshots). The API also takes the
 *   token in the `x-tfkd-token` header, which other origins cannot set without a CORS preflight we
 *   never answer. Tokens are compared in constant time (on their SHA-256, so lengths never leak).
 * - Cookies are not port-scoped: a page on another 127.0.0.1 port is "same-site" and its requests
 *   carry our cookie. So every request with an `Origin` header must come from our own origin, HTTP
 *   and WebSocket upgrade alike (cross-site WebSocket hijacking), or it gets 403.
 * - DNS rebinding: a hostile name re-pointed at 127.0.0.1 is same-origin with itself, so the `Host`
 *   header must name a loopback address (or the bound host) with our port. With `allowRemote` the
 *   Host check is off (the box may be reached by any of its names or through a proxy, as Jupyter's
 *   allow_remote_access does) and the token alone gates access.
 * - No CORS headers are ever sent. Static files are confined to `staticDir` (traversal and symlinks
 *   out of it refused), bodies are limited to 1 MB, and every response carries the renderer's CSP,
 *   nosniff and no-referrer.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, isAbsolute, relative, resolve, sep } from 'node:path'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { PUSH_CHANNELS, type PushChannel, type Pushes } from '../shared/contract'
import type { Envelope, ErrorCode } from '../shared/errors'
import { createUploadHandler, UPLOAD_PATH, UploadError, type UploadOptions } from './upload'

/** What the server needs from the core (`createAppCore`'s result satisfies it). */
export interface WebCore {
  dispatch(channel: string, input: unknown): Promise<Envelope<unknown>>
  on<K extends PushChannel>(channel: K, listener: (payload: Pushes[K]) => void): () => void
}

export interface WebServerOptions {
  core: WebCore
  /** Address to bind; anything but a loopback address needs `allowRemote`. */
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** Fixed access token (at least 16 characters); random per launch when omitted. */
  token?: string
  /** The built renderer (out/renderer). */
  staticDir: string
  allowRemote?: boolean
  /** Dataset archive uploads (POST /api/upload); off when absent. */
  upload?: UploadOptions
}

export interface WebServer {
  /** The URL to open, token included. */
  url: string
  port: number
  token: string
  close(): Promise<void>
}

export const TOKEN_HEADER = 'x-tfkd-token'
export const TOKEN_COOKIE = 'tfkd_token'
export const MAX_BODY_BYTES = 1024 * 1024
/** Same policy as the renderer's <meta>, plus frame-ancestors, which only works as a header. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'"

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1'])
const WS_PATH = '/api/events'
const INVOKE_PREFIX = '/api/invoke/'
/** A client this far behind gets no more progress ticks until it catches up. */
const WS_SLOW_CLIENT_BYTES = 1024 * 1024
const WS_HEARTBEAT_MS = 30_000

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest()
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i <= 0) continue
    const name = part.slice(0, i).trim()
    const value = part.slice(i + 1).trim()
    try {
      out.set(name, decodeURIComponent(value))
    } catch {
      out.set(name, value)
    }
  }
  return out
}

function setSecurityHeaders(res: ServerResponse): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v)
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  })
  res.end(text)
}

function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  sendJson(res, status, { ok: false, error: { code, message } } satisfies Envelope<never>)
}

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

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const { core, staticDir } = opts
  const host = opts.host ?? '127.0.0.1'
  const allowRemote = opts.allowRemote ?? false
  if (!LOOPBACK_HOSTS.has(host) && !allowRemote) {
    throw new Error(
      `refusing to listen on ${host}: only loopback addresses are allowed without allowRemote ` +
        `(got host "${host}", expected 127.0.0.1, localhost or ::1)`,
    )
  }
  if (opts.token !== undefined && opts.token.length < 16) {
    throw new Error(`token too short: expected at least 16 characters, got ${opts.token.length}`)
  }
  const token = opts.token ?? randomBytes(24).toString('base64url')
  const tokenDigest = digest(token)
  const root = await realpath(resolve(staticDir)).catch(() => resolve(staticDir))
  let port = 0

  const tokenMatches = (candidate: string | null | undefined): boolean =>
    typeof candidate === 'string' && candidate.length > 0 && timingSafeEqual(digest(candidate), tokenDigest)

  /** Host names a browser may legitimately use to reach us (checked against the Host header). */
  function hostAllowed(hostHeader: string | undefined): boolean {
    if (!hostHeader) return false
    if (allowRemote) return true
    const allowed = new Set(
      [host, '127.0.0.1', 'localhost', '::1'].map((h) => `${formatHost(h)}:${port}`.toLowerCase()),
    )
    return allowed.has(hostHeader.toLowerCase())
  }

  /** No Origin (same-origin GET navigations, non-browser clients) or exactly our own. */
  function originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin
    if (origin === undefined) return true
    const hostHeader = req.headers.host ?? ''
    return origin === `http://${hostHeader}` || origin === `https://${hostHeader}`
  }

  /** Common gate for HTTP and upgrade requests: a 403 reason, or null when the request may go on. */
  function forbiddenReason(req: IncomingMessage): string | null {
    if (!hostAllowed(req.headers.host)) return 'Host header not allowed'
    if (!originAllowed(req)) return 'cross-origin request refused'
    return null
  }

  function cookieToken(req: IncomingMessage): string | undefined {
    return parseCookies(req.headers.cookie).get(TOKEN_COOKIE)
  }

  async function handleInvoke(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST')
      sendError(res, 405, 'invalid_input', `expected POST, got ${req.method}`)
      return
    }
    const headerToken = req.headers[TOKEN_HEADER]
    if (
      !tokenMatches(typeof headerToken === 'string' ? headerToken : undefined) &&
      !tokenMatches(cookieToken(req))
    ) {
      sendError(res, 401, 'unauthorized', 'missing or wrong access token')
      return
    }
    const contentType = req.headers['content-type']
    if (contentType !== undefined && !/^application\/json\s*(;|$)/i.test(contentType)) {
      sendError(res, 415, 'invalid_input', `expected Content-Type application/json, got ${contentType}`)
      return
    }
    let channel: string
    try {
      channel = decodeURIComponent(pathname.slice(INVOKE_PREFIX.length))
    } catch {
      sendError(res, 400, 'invalid_input', 'malformed channel name')
      return
    }
    const body = await readBody(req, MAX_BODY_BYTES)
    let input: unknown = {}
    if (body.length > 0) {
      try {
        input = JSON.parse(body.toString('utf8'))
      } catch (err) {
        sendError(res, 400, 'invalid_input', `request body is not JSON: ${(err as Error).message}`)
        return
      }
    }
    const envelope = await core.dispatch(channel, input)
    sendJson(res, 200, envelope)
  }

  const upload = opts.upload ? createUploadHandler(opts.upload) : null

  async function handleUpload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST')
      sendError(res, 405, 'invalid_input', `expected POST, got ${req.method}`)
      return
    }
    const headerToken = req.headers[TOKEN_HEADER]
    if (
      !tokenMatches(typeof headerToken === 'string' ? headerToken : undefined) &&
      !tokenMatches(cookieToken(req))
    ) {
      sendError(res, 401, 'unauthorized', 'missing or wrong access token')
      return
    }
    if (!upload) {
      sendError(res, 404, 'not_found', 'uploads are not enabled on this server')
      return
    }
    try {
      sendJson(res, 200, { ok: true, value: await upload(req, url) })
    } catch (err) {
      if (!(err instanceof UploadError)) throw err
      throw new HttpError(err.status, 'invalid_input', err.message)
    }
  }

  async function handleStatic(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      sendError(res, 405, 'invalid_input', `expected GET, got ${req.method}`)
      return
    }
    const queryToken = url.searchParams.get('token')
    if (queryToken !== null) {
      if (!tokenMatches(queryToken)) {
        sendError(res, 401, 'unauthorized', 'wrong access token')
        return
      }
      url.searchParams.delete('token')
      res.writeHead(302, {
        'Set-Cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: url.pathname + url.search,
        'Cache-Control': 'no-store',
      })
      res.end()
      return
    }
    if (!tokenMatches(cookieToken(req))) {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' })
      res.end('tfkd: open the URL printed by `tfkd serve` (it ends in ?token=...).\n')
      return
    }

    let pathname: string
    try {
      pathname = decodeURIComponent(url.pathname)
    } catch {
      sendError(res, 400, 'invalid_input', 'malformed path')
      return
    }
    if (pathname.includes('\0') || pathname.includes('\\')) {
      sendError(res, 400, 'invalid_input', 'malformed path')
      return
    }
    const rel = pathname.endsWith('/') ? `${pathname}index.html` : pathname
    const candidate = resolve(root, `.${rel}`)
    const inside = (p: string): boolean => {
      const r = relative(root, p)
      return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r))
    }
    if (!inside(candidate)) {
      sendError(res, 403, 'forbidden', 'path outside the app folder')
      return
    }
    let file: string
    try {
      file = await realpath(candidate)
      if (!inside(file)) {
        sendError(res, 403, 'forbidden', 'path outside the app folder')
        return
      }
      const st = await stat(file)
      if (st.isDirectory()) {
        file = await realpath(resolve(file, 'index.html'))
        if (!inside(file)) throw new Error('outside')
      }
    } catch {
      sendError(res, 404, 'not_found', `no such file: ${pathname}`)
      return
    }
    const st = await stat(file)
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': st.size,
      // Vite fingerprints assets; index.html must always be re-read so a rebuild takes effect.
      'Cache-Control': file.includes(`${sep}assets${sep}`)
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
    })
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res)
  }

  const server = createServer((req, res) => {
    setSecurityHeaders(res)
    const reason = forbiddenReason(req)
    if (reason) {
      sendError(res, 403, 'forbidden', reason)
      return
    }
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      sendError(res, 400, 'invalid_input', 'malformed URL')
      return
    }
    const route = url.pathname.startsWith(INVOKE_PREFIX)
      ? handleInvoke(req, res, url.pathname)
      : url.pathname === UPLOAD_PATH
        ? handleUpload(req, res, url)
        : url.pathname.startsWith('/api/')
          ? Promise.resolve(sendError(res, 404, 'not_found', `no API route ${url.pathname}`))
          : handleStatic(req, res, url)
    route.catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy()
        return
      }
      if (err instanceof HttpError) {
        res.setHeader('Connection', 'close')
        sendError(res, err.status, err.code, err.message)
        // Stop reading an oversized upload once the answer is out.
        res.on('finish', () => req.destroy())
        return
      }
      sendError(res, 500, 'internal', String(err))
    })
  })

  // --- WebSocket pushes --------------------------------------------------------------------
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 })
  const alive = new WeakSet<WebSocket>()

  function refuseUpgrade(socket: Duplex, status: number, text: string): void {
    // Destroy only once the answer is flushed, as ws's own abortHandshake does.
    socket.once('finish', () => socket.destroy())
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  }

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy())
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      refuseUpgrade(socket, 400, 'Bad Request')
      return
    }
    if (url.pathname !== WS_PATH) {
      refuseUpgrade(socket, 404, 'Not Found')
      return
    }
    if (forbiddenReason(req)) {
      refuseUpgrade(socket, 403, 'Forbidden')
      return
    }
    if (!tokenMatches(url.searchParams.get('token')) && !tokenMatches(cookieToken(req))) {
      refuseUpgrade(socket, 401, 'Unauthorized')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  wss.on('connection', (ws) => {
    alive.add(ws)
    ws.on('pong', () => alive.add(ws))
    // The socket is push-only; anything a client sends is ignored.
    ws.on('message', () => undefined)
    ws.on('error', () => ws.terminate())
  })

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate()
        continue
      }
      alive.delete(ws)
      ws.ping()
    }
  }, WS_HEARTBEAT_MS)
  heartbeat.unref()

  const unsubscribe = PUSH_CHANNELS.map((channel) =>
    core.on(channel, (payload) => {
      const text = JSON.stringify({ channel, payload })
      for (const ws of wss.clients) {
        if (ws.readyState !== ws.OPEN) continue
        // Progress ticks are superseded by the next one; a slow client may skip some.
        if (channel === 'runs:progress' && ws.bufferedAmount > WS_SLOW_CLIENT_BYTES) continue
        ws.send(text)
      }
    }),
  )

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      resolvePromise()
    })
  })
  port = (server.address() as AddressInfo).port
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : formatHost(host)

  let closing: Promise<void> | null = null
  return {
    url: `http://${urlHost}:${port}/?token=${token}`,
    port,
    token,
    close() {
      closing ??= new Promise<void>((resolvePromise) => {
        clearInterval(heartbeat)
        for (const off of unsubscribe) off()
        for (const ws of wss.clients) ws.terminate()
        wss.close()
        server.close(() => resolvePromise())
        server.closeAllConnections()
      })
      return closing
    },
  }
}
