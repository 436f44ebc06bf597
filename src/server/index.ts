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
 *
 * Modules: `auth.ts` (token, Host/Origin), `invoke.ts` (the invoke channel and body limits),
 * `static-files.ts` (the renderer), `events.ts` (WebSocket pushes); this file wires them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PushChannel, Pushes } from '../shared/contract'
import { CONTENT_SECURITY_POLICY } from '../shared/csp'
import type { Envelope } from '../shared/errors'
import { createAuth } from './auth'
import { attachEvents } from './events'
import { formatHost, HttpError, sendError } from './http'
import { answerAndLinger, createInvokeHandler, INVOKE_PREFIX } from './invoke'
import { createStaticHandler, staticRoot } from './static-files'
import { createUploadRoute, UPLOAD_PATH, type UploadOptions } from './upload'

export { TOKEN_COOKIE, TOKEN_HEADER } from './auth'
export { MAX_BODY_BYTES } from './invoke'

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
  /** Dataset archive uploads (POST /api/upload, upload.ts); off when absent. */
  upload?: UploadOptions
}

export interface WebServer {
  /** The URL to open, token included. */
  url: string
  port: number
  token: string
  close(): Promise<void>
}

/** The app's one CSP (src/shared/csp.ts), as a header (so frame-ancestors applies too). */
export { CONTENT_SECURITY_POLICY }

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1'])

function setSecurityHeaders(res: ServerResponse): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v)
}

/** An error a route threw: its HTTP answer, or 500; a half-sent answer is cut off. */
function answerRouteError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (err instanceof HttpError) {
    // Refused mid-body (too large, no room to store it): the client sees the answer, not a reset.
    if (err.status === 413 || err.status === 507) answerAndLinger(req, res, err)
    else sendError(res, err.status, err.code, err.message)
    return
  }
  sendError(res, 500, 'internal', String(err))
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const host = opts.host ?? '127.0.0.1'
  const allowRemote = opts.allowRemote ?? false
  if (!LOOPBACK_HOSTS.has(host) && !allowRemote) {
    throw new Error(
      `refusing to listen on ${host}: only loopback addresses are allowed without allowRemote ` +
        `(got host "${host}", expected 127.0.0.1, localhost or ::1)`,
    )
  }
  const auth = createAuth({ token: opts.token, host, allowRemote })
  const handleInvoke = createInvokeHandler(opts.core, auth)
  const handleStatic = createStaticHandler(await staticRoot(opts.staticDir), auth)
  const handleUpload = createUploadRoute(opts.upload, auth)

  const server = createServer((req, res) => {
    setSecurityHeaders(res)
    const reason = auth.forbiddenReason(req)
    if (reason) {
      res.setHeader('Connection', 'close')
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
    route.catch((err: unknown) => answerRouteError(req, res, err))
  })
  const closeEvents = attachEvents(server, opts.core, auth)

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      resolvePromise()
    })
  })
  const port = (server.address() as AddressInfo).port
  auth.setPort(port)
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : formatHost(host)

  let closing: Promise<void> | null = null
  return {
    url: `http://${urlHost}:${port}/?token=${auth.token}`,
    port,
    token: auth.token,
    close() {
      closing ??= new Promise<void>((resolvePromise) => {
        closeEvents()
        server.close(() => resolvePromise())
        server.closeAllConnections()
      })
      return closing
    },
  }
}
