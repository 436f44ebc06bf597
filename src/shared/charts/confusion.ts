/**
 * Confusion matrices: one run's (cells labelled with image counts, coloured by the share of the true
 * class) or the difference of two (cells labelled with the signed difference in percentage points,
 * blue where the first predicts the cell more often, red where less). Both colour bars carry their
 * numbers and every label's colour is picked for contrast with its own cell.
 */
import type { HeatmapSeriesOption } from 'echarts/charts'
import type { VisualMapComponentOption } from 'echarts/components'
import type { ChartOption } from './echarts'
import {
  bottomName,
  chartFrame,
  gridFor,
  labelColorOn,
  rampColor,
  sideName,
  textWidth,
  type HeaderLine,
} from './layout'

export const CONFUSION_COLORS = ['#ffffff', '#2f6fdf'] as const
/** Negative (red) through zero (white) to positive (blue). */
export const DIFF_COLORS = ['#c8412b', '#ffffff', '#2f6fdf'] as const

const round = (x: number, digits: number): number => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

const normalise = (m: readonly number[][]): number[][] =>
  m.map((row) => {
    const s = row.reduce((x, y) => x + y, 0)
    return row.map((v) => (s > 0 ? v / s : 0))
  })

/** Row-normalised confusion matrix (rows: true class), or the difference of two (a - b) when given two. */
export function confusionCells(a: readonly number[][], b?: readonly number[][]): [number, number, number][] {
  const na = normalise(a)
  const nb = b ? normalise(b) : null
  const cells: [number, number, number][] = []
  na.forEach((row, t) => row.forEach((v, p) => cells.push([p, t, round(nb ? v - (nb[t]?.[p] ?? 0) : v, 3)])))
  return cells
}

/** Signed percentage points with a real minus sign; '' for a zero difference. */
export function signedPp(x: number): string {
  const pp = x * 100
  if (Math.abs(pp) < 0.05) return ''
  const digits = Math.abs(pp) >= 10 ? 0 : 1
  return `${pp > 0 ? '+' : '−'}${Math.abs(pp).toFixed(digits)}`
}

export interface ConfusionInput {
  classNames: readonly string[]
  label: string
  confusion: readonly number[][]
  /** When given, the chart shows confusion(label) - confusion(against), row-normalised. */
  against?: { label: string; confusion: readonly number[][] }
  /** Lines under the title: how the matrices were chosen (selection rule, run, seed). */
  lines?: readonly HeaderLine[]
}

/** Cell labels up to 20 classes (smaller from 11); beyond that the tooltip carries the numbers. */
const labelSize = (k: number): number | null => (k <= 10 ? 11 : k <= 20 ? 9 : null)

function cellData(input: ConfusionInput, maxAbs: number): NonNullable<HeatmapSeriesOption['data']> {
  const diff = input.against !== undefined
  const cells = confusionCells(input.confusion, input.against?.confusion)
  return cells.map(([p, t, v]) => {
    const text = diff ? signedPp(v) : String(input.confusion[t]?.[p] ?? 0)
    const background = diff
      ? rampColor(DIFF_COLORS, (v + maxAbs) / (2 * maxAbs))
      : rampColor(CONFUSION_COLORS, v)
    return { value: [p, t, v], label: { formatter: text, color: labelColorOn(background) } }
  })
}

function colourBar(
  diff: boolean,
  maxAbs: number,
  top: number,
): { visualMap: VisualMapComponentOption; width: number } {
  const m = (maxAbs * 100).toFixed(maxAbs * 100 >= 10 ? 0 : 1)
  const text = diff ? [`+${m} pp more`, `−${m} pp less`] : ['100% of row', '0%']
  return {
    visualMap: {
      type: 'continuous',
      dimension: 2,
      min: diff ? -maxAbs : 0,
      max: diff ? maxAbs : 1,
      calculable: false,
      orient: 'vertical',
      right: 8,
      top,
      itemWidth: 12,
      itemHeight: 110,
      text,
      textGap: 6,
      padding: 0,
      inRange: { color: [...(diff ? DIFF_COLORS : CONFUSION_COLORS)] },
      textStyle: { fontSize: 10, color: '#3b4452' },
    },
    width: Math.max(12, ...text.map((t) => textWidth(t, 10))),
  }
}

function headerLines(input: ConfusionInput): HeaderLine[] {
  const b = input.against?.label
  const what: HeaderLine[] = b
    ? [
        { text: `blue: ${input.label} predicts the cell more often than ${b}` },
        { text: 'red: less often · cells: difference in pp of the true class' },
      ]
    : [
        {
          text:
            labelSize(input.classNames.length) !== null
              ? 'cells: image counts · colour: share of the true class (row %)'
              : 'colour: share of the true class (row %) · counts in the tooltip',
        },
      ]
  return [...(input.lines ?? []), ...what]
}

export function buildConfusionOption(input: ConfusionInput): ChartOption {
  const isDiff = input.against !== undefined
  const cells = confusionCells(input.confusion, input.against?.confusion)
  const maxAbs = Math.max(0.01, ...cells.map((c) => Math.abs(c[2])))
  const frame = chartFrame(
    isDiff
      ? `Confusion difference: ${input.label} − ${input.against!.label}`
      : `Confusion matrix: ${input.label}`,
    headerLines(input),
  )
  const bar = colourBar(isDiff, maxAbs, frame.top + 8)
  const yLabelWidth = Math.min(90, Math.max(...input.classNames.map((n) => textWidth(n, 10)), 10))
  const yName = sideName('true class', yLabelWidth)
  const size = labelSize(input.classNames.length)
  const classes = [...input.classNames]
  return {
    animation: false,
    title: frame.title,
    tooltip: {
      trigger: 'item',
      formatter: (p) => {
        const one = Array.isArray(p) ? p[0] : p
        const [x = 0, y = 0, v = 0] = (one?.value ?? []) as number[]
        const n = input.confusion[y]?.[x] ?? 0
        const share = isDiff ? `${signedPp(v) || '0'} pp` : `${n} images, ${(v * 100).toFixed(1)}% of the row`
        return `true ${classes[y] ?? y} → predicted ${classes[x] ?? x}: ${share}`
      },
    },
    grid: gridFor(frame, { left: yName.margin, right: bar.width + 24 }),
    xAxis: { type: 'category', data: classes, ...bottomName('predicted class'), axisLabel: { fontSize: 10 } },
    yAxis: {
      type: 'category',
      data: classes,
      inverse: true,
      ...yName.axis,
      axisLabel: { fontSize: 10, width: 90, overflow: 'truncate' },
    },
    visualMap: bar.visualMap,
    series: [
      {
        id: 'confusion',
        name: isDiff ? 'difference' : 'share of row',
        type: 'heatmap',
        data: cellData(input, maxAbs),
        label: size === null ? { show: false } : { show: true, fontSize: size },
        progressive: 0,
      },
    ],
  }
}
