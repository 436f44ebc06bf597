/**
 * Server-side rendering of the app's charts for `tfkd export`: the same options the UI renders
 * (shared/charts), drawn by ECharts' SVG renderer without a DOM, and rasterised to PNG by sharp.
 */
import { init, use } from 'echarts/core'
import { SVGRenderer } from 'echarts/renderers'
import sharp from 'sharp'
import { CHART_COMPONENTS } from '../../shared/charts/echarts'
import { fileOption, type ChartFile } from '../../shared/charts/export-bundle'

use([...CHART_COMPONENTS, SVGRenderer])

/** The chart as an SVG document, rendered without a DOM. */
export function renderChartSvg(chart: Pick<ChartFile, 'option' | 'width' | 'height'>): string {
  const instance = init(null, null, { renderer: 'svg', ssr: true, width: chart.width, height: chart.height })
  try {
    instance.setOption({ backgroundColor: '#ffffff', ...fileOption(chart) })
    return instance.renderToSVGString()
  } finally {
    instance.dispose()
  }
}

/** PNG at `pixelRatio` x the chart size (2 by default, like the UI's export). */
export async function renderChartPng(
  chart: Pick<ChartFile, 'option' | 'width' | 'height'>,
  pixelRatio = 2,
): Promise<Buffer> {
  const svg = renderChartSvg(chart)
  return sharp(Buffer.from(svg), { density: 72 * pixelRatio })
    .resize(chart.width * pixelRatio, chart.height * pixelRatio)
    .png()
    .toBuffer()
}
