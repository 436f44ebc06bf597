/**
 * The one place ECharts components are registered. Importing only what we use keeps the bundle
 * small (echarts/core + line + four components instead of the full build).
 */
import { LineChart, type LineSeriesOption } from 'echarts/charts'
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
  type GridComponentOption,
  type LegendComponentOption,
  type TooltipComponentOption,
} from 'echarts/components'
import { use, type ComposeOption } from 'echarts/core'
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers'

use([LineChart, GridComponent, TooltipComponent, LegendComponent, SVGRenderer, CanvasRenderer])

/** Options built from the registered components only: using anything else is a type error. */
export type ChartOption = ComposeOption<
  LineSeriesOption | GridComponentOption | TooltipComponentOption | LegendComponentOption
>

export { init, type ECharts } from 'echarts/core'
