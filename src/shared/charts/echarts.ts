/**
 * The ECharts components every chart of the app is built from, listed once: the renderer registers
 * them with its canvas and SVG renderers (renderer/src/charts/register.ts), `tfkd export` with the
 * SVG renderer for server-side rendering (core/export/render-chart.ts). Importing only what we use
 * keeps the UI bundle small (echarts/core + four chart types + a few components).
 */
import {
  BarChart,
  HeatmapChart,
  LineChart,
  ScatterChart,
  type BarSeriesOption,
  type HeatmapSeriesOption,
  type LineSeriesOption,
  type ScatterSeriesOption,
} from 'echarts/charts'
import {
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  type GridComponentOption,
  type LegendComponentOption,
  type MarkLineComponentOption,
  type TitleComponentOption,
  type TooltipComponentOption,
  type VisualMapComponentOption,
} from 'echarts/components'
import type { ComposeOption } from 'echarts/core'

export const CHART_COMPONENTS = [
  LineChart,
  BarChart,
  ScatterChart,
  HeatmapChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  VisualMapComponent,
  MarkLineComponent,
]

/** Options built from the registered components only: using anything else is a type error. */
export type ChartOption = ComposeOption<
  | LineSeriesOption
  | BarSeriesOption
  | ScatterSeriesOption
  | HeatmapSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | LegendComponentOption
  | TitleComponentOption
  | VisualMapComponentOption
  | MarkLineComponentOption
>
