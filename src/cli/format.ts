/** Small text formatting helpers for the CLI. */
import { describeDevice } from '../shared/backends'
import type { RunSummary } from '../shared/types'

/** The device a run trained on, short: "GPU NVIDIA H100" or "CPU Intel Xeon, 2 threads". */
export function deviceText(r: Pick<RunSummary, 'deviceInfo' | 'device'>): string {
  return r.deviceInfo ? describeDevice(r.deviceInfo) : (r.device ?? '-')
}
export function pct(x: number | null | undefined): string {
  return x === null || x === undefined || Number.isNaN(x) ? '-' : `${(x * 100).toFixed(2)}%`
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-'
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}
