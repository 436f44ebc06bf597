/**
 * The app's one Content-Security-Policy, from which the Electron session header, the app://
 * protocol's header, the renderer's <meta> tag (injected at build by electron.vite.config.ts) and
 * the web host's header are all built, so they cannot drift apart.
 *
 * - scripts only from the app itself: no inline script, no eval;
 * - inline styles allowed (Vue's style bindings and ECharts set element styles);
 * - images from the app, data: (sample grids, chart exports) and blob: (export downloads);
 * - connect-src 'self' only: under CSP Level 3 'self' also admits ws:/wss: to the page's own host
 *   and port, which is all the web UI's push socket needs; a bare `ws:` would admit any host;
 * - no plugins, no <base> rewriting, no form posts, no framing.
 */
export const CSP_DIRECTIVES = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  // Only honoured in a header; a <meta> policy ignores it (and browsers warn), so meta leaves it out.
  'frame-ancestors': ["'none'"],
} as const satisfies Record<string, readonly string[]>

/** Directives a <meta http-equiv> policy cannot carry. */
const HEADER_ONLY: readonly string[] = ['frame-ancestors']

/** The policy as a header value (`header`) or as a <meta> tag's content (`meta`). */
export function contentSecurityPolicy(delivery: 'header' | 'meta' = 'header'): string {
  return Object.entries(CSP_DIRECTIVES)
    .filter(([name]) => delivery === 'header' || !HEADER_ONLY.includes(name))
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ')
}

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy('header')
