/**
 * The one place the UI registers ECharts: the app's components (listed in shared/charts/echarts.ts,
 * which `tfkd export` renders from too) with the canvas and SVG renderers.
 */
import { use } from 'echarts/core'
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers'
import { CHART_COMPONENTS } from '../../../shared/charts/echarts'

use([...CHART_COMPONENTS, SVGRenderer, CanvasRenderer])

export type { ChartOption } from '../../../shared/charts/echarts'
export { init, type ECharts } from 'echarts/core'
