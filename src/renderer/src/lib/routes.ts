/**
 * The app's addresses: the view (and what it shows) after the `#`, so that a reload, a bookmark and
 * the browser's Back and Forward work in `tfkd serve` and in Electron alike. The query (`?token=`)
 * is never touched: the server trades it for a cookie at first load.
 *
 *   #/datasets  #/new  #/runs  #/history  #/history/run/12  #/exports  #/report  #/settings
 *   #/compare  #/compare/experiment/3  #/compare/runs/4,5,9
 */
export type ViewId =
  'datasets' | 'new' | 'runs' | 'history' | 'compare' | 'report' | 'exports' | 'diagnostics'

export type CompareRoute = { experimentId: number } | { runIds: number[] }

const PATHS: Record<ViewId, string> = {
  datasets: 'datasets',
  new: 'new',
  runs: 'runs',
  history: 'history',
  compare: 'compare',
  exports: 'exports',
  report: 'report',
  diagnostics: 'settings',
}

/** Where a reconnect (a reload under a new token) returns to: the address before it. */
export const RETURN_VIEW_KEY = 'tfkd_return_view'

/**
 * The address to start from: the page's own, or the one saved before a reconnect's reload when the
 * server's redirect dropped it.
 */
export function startHash(): string {
  const saved = sessionStorage.getItem(RETURN_VIEW_KEY)
  sessionStorage.removeItem(RETURN_VIEW_KEY)
  return window.location.hash || saved || ''
}

export const viewHash = (v: ViewId): string => `#/${PATHS[v]}`

export const compareHash = (sel: CompareRoute): string =>
  'experimentId' in sel
    ? `#/compare/experiment/${sel.experimentId}`
    : `#/compare/runs/${sel.runIds.join(',')}`

/** The view an address names (and Compare's selection), or null for an address that is not ours. */
export function parseHash(hash: string): { view: ViewId; compare?: CompareRoute } | null {
  const m = /^#\/([a-z]+)(?:\/(.*))?$/.exec(hash)
  if (!m) return null
  const view = (Object.keys(PATHS) as ViewId[]).find((v) => PATHS[v] === m[1])
  if (!view) return null
  if (view !== 'compare' || !m[2]) return { view }
  const exp = /^experiment\/(\d+)$/.exec(m[2])
  if (exp) return { view, compare: { experimentId: Number(exp[1]) } }
  const picked = /^runs\/(\d+(?:,\d+)*)$/.exec(m[2])
  if (picked) return { view, compare: { runIds: picked[1]!.split(',').map(Number) } }
  return { view }
}
