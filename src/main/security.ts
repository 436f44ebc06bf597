/**
 * Electron security defaults (docs/design.md section 4, Electron's security checklist): isolated,
 * sandboxed renderers without Node; a strict CSP; no navigation away from the app and no new
 * windows; every permission request denied. Each function takes the Electron object it hardens as
 * an argument so the tests can drive it with fakes.
 */
import type { Event, Session, WebContents } from 'electron'
import { CONTENT_SECURITY_POLICY } from '../shared/csp'
import { APP_SCHEME } from './app-protocol'

/** The app's one CSP (src/shared/csp.ts), sent as a header with every response. */
export { CONTENT_SECURITY_POLICY }

/**
 * A predicate for "this URL is one of the app's own pages". For the packaged app that is the
 * app:// scheme's one host (its origin is "null" to the URL parser, being a non-special scheme, so
 * scheme and host are compared); for a file:// page exactly that file; for the dev server, its
 * origin. URLs are parsed, never prefix-compared: `startsWith('http://localhost:5173')` also admits
 * `http://localhost:5173.evil.example`.
 */
export function createAppUrlMatcher(appUrl: string): (url: string) => boolean {
  const app = new URL(appUrl)
  if (app.protocol === `${APP_SCHEME}:`) {
    return (url) => {
      const u = tryParse(url)
      return u !== null && u.protocol === app.protocol && u.host === app.host && u.username === ''
    }
  }
  if (app.protocol === 'file:') {
    return (url) => {
      const u = tryParse(url)
      return u !== null && u.protocol === 'file:' && u.host === app.host && u.pathname === app.pathname
    }
  }
  return (url) => {
    const u = tryParse(url)
    return u !== null && u.origin !== 'null' && u.origin === app.origin
  }
}

function tryParse(url: string): URL | null {
  try {
    return new URL(url)
  } catch {
    return null
  }
}

type HeadersListener = Parameters<Session['webRequest']['onHeadersReceived']>[0]
type SessionLike = {
  webRequest: { onHeadersReceived(listener: HeadersListener): void }
  setPermissionRequestHandler: Session['setPermissionRequestHandler']
  setPermissionCheckHandler: Session['setPermissionCheckHandler']
}

/** Adds the CSP header to every response and denies every permission (camera, notifications, ...). */
export function installSessionSecurity(session: SessionLike, csp: string = CONTENT_SECURITY_POLICY): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string | string[]> = {}
    for (const [key, value] of Object.entries(details.responseHeaders ?? {})) {
      // Drop any CSP a response brought along so ours is the one that applies.
      if (key.toLowerCase() !== 'content-security-policy') headers[key] = value
    }
    headers['Content-Security-Policy'] = [csp]
    callback({ responseHeaders: headers })
  })
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
}

type WebContentsLike = Pick<WebContents, 'on' | 'setWindowOpenHandler'>

export interface HardenOptions {
  /** True for the app's own pages (see createAppUrlMatcher). */
  isAppUrl: (url: string) => boolean
  /** Where an http(s) link the page tried to open goes instead (the user's browser). */
  openExternal?: (url: string) => unknown
}

/**
 * Applied to every WebContents (app 'web-contents-created'): navigation only within the app,
 * window.open always denied (an http(s) target goes to the user's browser instead), no <webview>.
 */
export function hardenWebContents(contents: WebContentsLike, opts: HardenOptions): void {
  const guardNavigation = (event: Event, url: string): void => {
    if (!opts.isAppUrl(url)) event.preventDefault()
  }
  contents.on('will-navigate', (event, url) => guardNavigation(event, url))
  contents.on('will-redirect', (event, url) => guardNavigation(event, url))
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    if (opts.openExternal) void Promise.resolve(opts.openExternal(url)).catch(() => undefined)
    return { action: 'deny' }
  })
}
