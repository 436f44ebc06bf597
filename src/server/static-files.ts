/**
 * The built renderer, served only to a browser holding the token cookie. `?token=` sets the cookie
 * and redirects without it. Files are confined to the static folder: traversal and symlinks out
 * of it are refused.
 */
import { createReadStream } from 'node:fs'
import { access, realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, isAbsolute, relative, resolve, sep } from 'node:path'
import { TOKEN_COOKIE, type Auth } from './auth'
import { HttpError, sendError } from './http'

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

/** The static folder's real path (symlinks resolved), so containment checks compare like with like. */
export async function staticRoot(staticDir: string): Promise<string> {
  return realpath(resolve(staticDir)).catch(() => resolve(staticDir))
}

/** Maps a request path to a file inside `root`, or throws the HTTP error to answer. */
async function resolveStaticFile(root: string, urlPath: string): Promise<string> {
  let pathname: string
  try {
    pathname = decodeURIComponent(urlPath)
  } catch {
    throw new HttpError(400, 'invalid_input', 'malformed path')
  }
  if (pathname.includes('\0') || pathname.includes('\\'))
    throw new HttpError(400, 'invalid_input', 'malformed path')
  const rel = pathname.endsWith('/') ? `${pathname}index.html` : pathname
  const candidate = resolve(root, `.${rel}`)
  const inside = (p: string): boolean => {
    const r = relative(root, p)
    return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r))
  }
  if (!inside(candidate)) throw new HttpError(403, 'forbidden', 'path outside the app folder')
  let file: string
  try {
    file = await realpath(candidate)
  } catch {
    throw new HttpError(404, 'not_found', `no such file: ${pathname}`)
  }
  if (!inside(file)) throw new HttpError(403, 'forbidden', 'path outside the app folder')
  try {
    if ((await stat(file)).isDirectory()) {
      file = await realpath(resolve(file, 'index.html'))
      if (!inside(file)) throw new Error('outside')
    }
  } catch {
    throw new HttpError(404, 'not_found', `no such file: ${pathname}`)
  }
  return file
}

/** `?token=...`: set the cookie and redirect to the same URL without the token. */
function tokenRedirect(res: ServerResponse, url: URL, auth: Auth, queryToken: string): void {
  if (!auth.tokenMatches(queryToken)) {
    sendError(res, 401, 'unauthorized', 'wrong access token')
    return
  }
  url.searchParams.delete('token')
  res.writeHead(302, {
    'Set-Cookie': `${TOKEN_COOKIE}=${auth.token}; HttpOnly; SameSite=Strict; Path=/`,
    Location: url.pathname + url.search,
    'Cache-Control': 'no-store',
  })
  res.end()
}

/** How to build the UI when the host was started without it (a checkout where only out/node exists). */
export function rendererMissingPage(root: string): string {
  const esc = (t: string): string =>
    t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>tfkd-studio: the UI is not built</title></head>',
    '<body><h1>The tfkd-studio UI is not built</h1>',
    `<p>This host serves the UI from <code>${esc(root)}</code>, which has no <code>index.html</code>.</p>`,
    '<p>Build it in the repository folder, then reload this page:</p>',
    '<pre>npm run build:renderer</pre>',
    '<p>(<code>npm ci</code> builds it too; the API under <code>/api/</code> works without it.)</p>',
    '</body></html>',
    '',
  ].join('\n')
}

/** Answers 503 with {@link rendererMissingPage} when the static folder has no index.html. */
async function answeredRendererMissing(root: string, res: ServerResponse): Promise<boolean> {
  try {
    await access(resolve(root, 'index.html'))
    return false
  } catch {
    const body = rendererMissingPage(root)
    res.writeHead(503, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
    })
    res.end(body)
    return true
  }
}

export function createStaticHandler(root: string, auth: Auth) {
  return async function handleStatic(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      sendError(res, 405, 'invalid_input', `expected GET, got ${req.method}`)
      return
    }
    const queryToken = url.searchParams.get('token')
    if (queryToken !== null) {
      tokenRedirect(res, url, auth, queryToken)
      return
    }
    if (!auth.tokenMatches(auth.cookieToken(req))) {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' })
      res.end('tfkd: open the URL printed by `tfkd serve` (it ends in ?token=...).\n')
      return
    }
    let file: string
    try {
      file = await resolveStaticFile(root, url.pathname)
    } catch (err) {
      if (!(err instanceof HttpError)) throw err
      if (err.status === 404 && (await answeredRendererMissing(root, res))) return
      sendError(res, err.status, err.code, err.message)
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
}
