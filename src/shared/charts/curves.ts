/**
 * Loss/accuracy curves of one run, as a pure function of its metrics, so the UI, the CLI's chart
 * export and the unit tests all build the same option.
 */
import type { EpochMetrics } from '../types'
import { isSelectedOnTest, type SelectionRule } from '../selection'
import type { ChartOption } from './echarts'
import { bottomName, chartFrame, gridFor, sideName, textWidth, WARN_TEXT, type HeaderLine } from './layout'

/** The epoch whose test accuracy is the run's number, and the rule that chose it. */
export interface ChosenEpoch {
  epoch: number
  rule: SelectionRule
  testAccuracy?: number | null
}

export interface CurvesInput {
  /** Finished epochs (EpochMetrics.epoch is the x value), any order. */
  metrics: readonly EpochMetrics[]
  /** Live per-batch loss as [fractional epoch, loss], drawn under the epoch curves. */
  trail?: readonly (readonly [number, number])[]
  /** Planned epochs: fixes the x axis so a live curve grows into it instead of rescaling. */
  epochs?: number
  /** A finished run: the chosen epoch, marked on the chart and named (with its rule) in the header. */
  chosen?: ChosenEpoch
  /** Optional title (the live panel names the run above the chart instead). */
  title?: string
}

export const CURVE_SERIES = {
  batchLoss: 'batch-loss',
  trainLoss: 'train-loss',
  valLoss: 'val-loss',
  trainAccuracy: 'train-accuracy',
  valAccuracy: 'val-accuracy',
} as const

const COLORS = {
  batchLoss: '#c7cfdb',
  trainLoss: '#2f6fdf',
  valLoss: '#e0663a',
  trainAccuracy: '#2f9e6f',
  valAccuracy: '#9b59b6',
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** [x, y] pairs with non-finite values dropped (a diverged run must not break the chart). */
function points(
  metrics: readonly EpochMetrics[],
  pick: (m: EpochMetrics) => number,
  scale = 1,
): [number, number][] {
  return metrics
    .filter((m) => Number.isFinite(pick(m)))
    .map((m): [number, number] => [m.epoch, round(pick(m) * scale, 4)])
}

/** The x extent: the planned epochs, or further when the run (or its live trail) went past them. */
function xMaxOf(
  metrics: readonly EpochMetrics[],
  trail: readonly (readonly [number, number])[],
  epochs?: number,
) {
  const lastEpoch = metrics.at(-1)?.epoch ?? 0
  return Math.max(1, epochs ?? 0, lastEpoch, Math.ceil(trail.at(-1)?.[0] ?? 0))
}

function line(id: string, name: string, color: string, yAxisIndex: number, data: [number, number][]) {
  return {
    id,
    name,
    type: 'line' as const,
    yAxisIndex,
    data,
    color,
    showSymbol: data.length <= 30,
    symbolSize: 6,
    lineStyle: { width: 2 },
    emphasis: { disabled: true },
  }
}

/** The five series, always all present (stable ids: live updates merge by id). */
function curveSeries(
  metrics: readonly EpochMetrics[],
  trail: readonly (readonly [number, number])[],
  chosen: ChosenEpoch | undefined,
): NonNullable<ChartOption['series']> {
  const valAcc = line(
    CURVE_SERIES.valAccuracy,
    'val acc',
    COLORS.valAccuracy,
    1,
    points(metrics, (m) => m.valAccuracy, 100),
  )
  return [
    {
      ...line(
        CURVE_SERIES.batchLoss,
        'batch loss',
        COLORS.batchLoss,
        0,
        trail.map(([x, y]): [number, number] => [round(x, 4), round(y, 4)]),
      ),
      symbolSize: 4,
      lineStyle: { width: 1 },
    },
    line(
      CURVE_SERIES.trainLoss,
      'train loss',
      COLORS.trainLoss,
      0,
      points(metrics, (m) => m.trainLoss),
    ),
    line(
      CURVE_SERIES.valLoss,
      'val loss',
      COLORS.valLoss,
      0,
      points(metrics, (m) => m.valLoss),
    ),
    line(
      CURVE_SERIES.trainAccuracy,
      'train acc',
      COLORS.trainAccuracy,
      1,
      points(metrics, (m) => m.trainAccuracy, 100),
    ),
    // The chosen epoch as a vertical line, labelled with its rule (red when the test set chose it).
    chosen
      ? {
          ...valAcc,
          markLine: {
            symbol: 'none',
            silent: true,
            lineStyle: { type: 'dashed', color: isSelectedOnTest(chosen.rule) ? WARN_TEXT : '#6b7686' },
            label: { formatter: `e${chosen.epoch}`, position: 'end', fontSize: 10 },
            data: [{ xAxis: chosen.epoch }],
          },
        }
      : // An empty markLine, so a chart merged into (a live update) drops the previous run's mark.
        { ...valAcc, markLine: { data: [] } },
  ]
}

/** The header line: which epoch gives the run's number and how it was chosen. */
export function chosenLine(chosen: ChosenEpoch): HeaderLine {
  const acc =
    chosen.testAccuracy !== undefined && chosen.testAccuracy !== null
      ? `test acc ${(chosen.testAccuracy * 100).toFixed(2)}% at `
      : ''
  const how: Record<SelectionRule, string> = {
    'best-on-validation': `best-on-validation: ${acc}epoch ${chosen.epoch}, chosen on validation`,
    'best-on-test': `⚠ best-on-TEST: ${acc}epoch ${chosen.epoch}, chosen on the test set (optimistic)`,
    mixed: `⚠ ${acc}epoch ${chosen.epoch}, chosen partly on the test set`,
    'last-epoch': `last epoch: ${acc}epoch ${chosen.epoch}`,
  }
  return { text: how[chosen.rule], warn: isSelectedOnTest(chosen.rule) }
}

export function buildCurvesOption(input: CurvesInput): ChartOption {
  const metrics = [...input.metrics].sort((a, b) => a.epoch - b.epoch)
  const trail = (input.trail ?? []).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  const frame = chartFrame(input.title ?? '', input.chosen ? [chosenLine(input.chosen)] : [], {})
  const left = sideName('loss', textWidth('0.000', 11))
  const right = sideName('accuracy %', textWidth('100', 11), 'right')
  return {
    animation: false,
    title: frame.title,
    grid: gridFor(frame, { left: left.margin, right: right.margin }),
    legend: { ...frame.legend, itemWidth: 14, itemHeight: 8 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'line' }, valueFormatter: (v) => String(v) },
    xAxis: {
      type: 'value',
      ...bottomName('epoch'),
      min: 0,
      max: xMaxOf(metrics, trail, input.epochs),
      minInterval: 1,
    },
    yAxis: [
      {
        type: 'value',
        ...left.axis,
        min: 0,
        scale: false,
        splitLine: { lineStyle: { color: '#eef1f5' } },
      },
      { type: 'value', ...right.axis, min: 0, max: 100, splitLine: { show: false } },
    ],
    series: curveSeries(metrics, trail, input.chosen),
  }
}
