/**
 * Who may talk to the web host: the per-launch token (header, cookie or `?token=`), compared in
 * constant time on its SHA-256, and the Host / Origin checks against DNS rebinding and cross-site
 * requests. See the security model atop `index.ts`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { formatHost } from './http'

export const TOKEN_HEADER = 'x-tfkd-token'
export const TOKEN_COOKIE = 'tfkd_token'

export interface Auth {
  token: string
  /** Called once the server listens: the Host check needs the port. */
  setPort(port: number): void
  tokenMatches(candidate: string | null | undefined): boolean
  cookieToken(req: IncomingMessage): string | undefined
  /** The header or cookie token is valid. */
  hasToken(req: IncomingMessage): boolean
  /** Common gate for HTTP and upgrade requests: a 403 reason, or null when the request may go on. */
  forbiddenReason(req: IncomingMessage): string | null
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest()
}

export function parseCookies(header: string | undefined): Map<string, string> {
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

export function createAuth(opts: { token?: string; host: string; allowRemote: boolean }): Auth {
  if (opts.token !== undefined && opts.token.length < 16) {
    throw new Error(`token too short: expected at least 16 characters, got ${opts.token.length}`)
  }
  const token = opts.token ?? randomBytes(24).toString('base64url')
  const tokenDigest = digest(token)
  let port = 0

  const tokenMatches = (candidate: string | null | undefined): boolean =>
    typeof candidate === 'string' && candidate.length > 0 && timingSafeEqual(digest(candidate), tokenDigest)
  const cookieToken = (req: IncomingMessage): string | undefined =>
    parseCookies(req.headers.cookie).get(TOKEN_COOKIE)

  /** Host names a browser may legitimately use to reach us (checked against the Host header). */
  function hostAllowed(hostHeader: string | undefined): boolean {
    if (!hostHeader) return false
    if (opts.allowRemote) return true
    const allowed = new Set(
      [opts.host, '127.0.0.1', 'localhost', '::1'].map((h) => `${formatHost(h)}:${port}`.toLowerCase()),
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

  return {
    token,
    setPort: (p) => void (port = p),
    tokenMatches,
    cookieToken,
    hasToken(req) {
      const headerToken = req.headers[TOKEN_HEADER]
      return (
        tokenMatches(typeof headerToken === 'string' ? headerToken : undefined) ||
        tokenMatches(cookieToken(req))
      )
    },
    forbiddenReason(req) {
      if (!hostAllowed(req.headers.host)) return 'Host header not allowed'
      if (!originAllowed(req)) return 'cross-origin request refused'
      return null
    },
  }
}
