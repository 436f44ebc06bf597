/**
 * The renderer is served over a privileged custom scheme, `app://bundle/...`, never from file://
 * (Electron security checklist #18). This is what lets scripts/fuses.cjs turn the
 * GrantFileProtocolExtraPrivileges fuse off: nothing the app shows comes from file://.
 *
 * Each function takes the Electron object it configures as an argument, so the tests drive it with
 * fakes and a real folder.
 */
import { readFile, realpath, stat } from 'node:fs/promises'
import { extname, isAbsolute, join, relative, sep } from 'node:path'

export const APP_SCHEME = 'app'
/** The one host the scheme serves; any other host is refused. */
export const APP_HOST = 'bundle'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`

/**
 * The privileges the scheme gets (registerSchemesAsPrivileged, before app 'ready'): `standard` so
 * relative URLs and origins work like http; `secure` so the page is a secure context; fetch for
 * the ES-module script loads. No `bypassCSP`, no `corsEnabled`, no `stream` (nothing is streamed).
 */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  codeCache: true,
} as const

export interface ProtocolLike {
  registerSchemesAsPrivileged(schemes: { scheme: string; privileges: typeof APP_SCHEME_PRIVILEGES }[]): void
}

export function registerAppScheme(protocol: ProtocolLike): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }])
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
}

/**
 * The file a URL names inside `root`, or null when it is not ours: another scheme or host, a NUL
 * byte, bad escapes, or a path that leaves the root once decoded (`..`, `%2e%2e`, an encoded
 * backslash on Windows, an absolute path). The check is Electron's `protocol.handle` doc recipe:
 * `path.relative(root, target)` must not start with `..` nor be absolute.
 */
export function resolveAppPath(root: string, url: string): string | null {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return null
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null
  let pathname: string
  try {
    pathname = decodeURIComponent(u.pathname)
  } catch {
    return null
  }
  if (pathname.includes('\0')) return null
  if (pathname === '/' || pathname === '') pathname = '/index.html'
  const target = join(root, pathname)
  const rel = relative(root, target)
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null
  return target
}

export interface AppProtocolOptions {
  /** The built renderer folder (out/renderer). */
  root: string
  /** The Content-Security-Policy sent with every page. */
  csp: string
  readFile?: (path: string) => Promise<Uint8Array>
  /** True for a regular file inside root once symlinks are resolved. */
  isFile?: (path: string, root: string) => Promise<boolean>
}

/** A regular file whose real path (symlinks resolved) is still inside `root`. */
const defaultIsFile = async (p: string, root: string): Promise<boolean> => {
  try {
    if (!(await stat(p)).isFile()) return false
    const rel = relative(await realpath(root), await realpath(p))
    return !(rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel))
  } catch {
    return false
  }
}

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
}

/** The `protocol.handle(APP_SCHEME, ...)` handler: GET/HEAD of files under `root`, nothing else. */
export function createAppProtocolHandler(opts: AppProtocolOptions): (request: Request) => Promise<Response> {
  const read = opts.readFile ?? ((p: string) => readFile(p))
  const isFile = opts.isFile ?? defaultIsFile
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, 'method not allowed')
    const file = resolveAppPath(opts.root, request.url)
    if (file === null) return plain(400, 'bad app URL')
    if (!(await isFile(file, opts.root))) return plain(404, 'not found')
    const headers: Record<string, string> = {
      'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    }
    if (extname(file).toLowerCase() === '.html') headers['Content-Security-Policy'] = opts.csp
    const body = request.method === 'HEAD' ? null : await read(file)
    return new Response(body === null ? null : Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
      status: 200,
      headers,
    })
  }
}

export interface ProtocolHandleLike {
  handle(scheme: string, handler: (request: Request) => Promise<Response>): void
}

/** Installs the handler on a session's protocol (after app 'ready'). */
export function handleAppProtocol(protocol: ProtocolHandleLike, opts: AppProtocolOptions): void {
  protocol.handle(APP_SCHEME, createAppProtocolHandler(opts))
}
