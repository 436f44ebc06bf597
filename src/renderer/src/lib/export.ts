/**
 * Browser side of the exports: render a chart file off-screen at its fixed size (PNG at 2x through
 * the canvas renderer, SVG through the SVG renderer) and hand it to the user as a download. In
 * Electron the same anchor download opens the save dialog.
 */
import { init } from '../charts/register'
import { fileOption, type ChartFile } from '../../../shared/charts/export-bundle'

/**
 * SVG through ECharts' server-side mode: the document is built as a string with no DOM node, no
 * off-screen host and no paint, the path `tfkd export` takes in Node (so both write the same file).
 * Drawing the chart into a hidden DOM element first, as the canvas path must, doubled the work for
 * nothing and tied the export to the page's layout.
 */
export function renderChartSvg(chart: ChartFile): string {
  const instance = init(null, null, { renderer: 'svg', ssr: true, width: chart.width, height: chart.height })
  try {
    instance.setOption({ backgroundColor: '#ffffff', ...fileOption(chart) })
    return instance.renderToSVGString()
  } finally {
    instance.dispose()
  }
}

export async function renderChartFile(chart: ChartFile, type: 'png' | 'svg'): Promise<Blob> {
  if (type === 'svg') return new Blob([renderChartSvg(chart)], { type: 'image/svg+xml' })
  const host = document.createElement('div')
  host.style.cssText = `position:fixed;left:-10000px;top:0;width:${chart.width}px;height:${chart.height}px`
  document.body.appendChild(host)
  const instance = init(host, undefined, { renderer: 'canvas', width: chart.width, height: chart.height })
  try {
    instance.setOption({ backgroundColor: '#ffffff', ...fileOption(chart) })
    const url = instance.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: '#ffffff' })
    return dataUrlToBlob(url)
  } finally {
    instance.dispose()
    host.remove()
  }
}

/** Base64 to bytes (atob; no fetch of a data: URL, which the CSP's connect-src refuses). */
export function base64Bytes(data: string): Uint8Array<ArrayBuffer> {
  const bin = atob(data)
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return bytes
}

/** Decoded by hand: the CSP's connect-src does not allow fetch() of data: URLs. */
export function dataUrlToBlob(url: string): Blob {
  const [head, data = ''] = url.split(',', 2)
  const mime = /data:([^;]+)/.exec(head ?? '')?.[1] ?? 'application/octet-stream'
  return new Blob([base64Bytes(data)], { type: mime })
}

export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = fileName
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

export function downloadText(content: string, fileName: string, mime: string): void {
  downloadBlob(new Blob([content], { type: `${mime};charset=utf-8` }), fileName)
}

export async function downloadChart(chart: ChartFile, type: 'png' | 'svg'): Promise<void> {
  downloadBlob(await renderChartFile(chart, type), `${chart.name}.${type}`)
}
