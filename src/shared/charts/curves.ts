/**
 * Loss/accuracy curves of one run, as a pure function of its metrics, so the UI, the CLI's chart
 * export and the unit tests all build the same option.
 */
import type { EpochMetrics } from '../types'
import type { ChartOption } from './echarts'

export interface CurvesInput {
  /** Finished epochs (EpochMetrics.epoch is the x value), any order. */
  metrics: readonly EpochMetrics[]
  /** Live per-batch loss as [fractional epoch, loss], drawn under the epoch curves. */
  trail?: readonly (readonly [number, number])[]
  /** Planned epochs: fixes the x axis so a live curve grows into it instead of rescaling. */
  epochs?: number
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

export function buildCurvesOption(input: CurvesInput): ChartOption {
  const metrics = [...input.metrics].sort((a, b) => a.epoch - b.epoch)
  const trail = (input.trail ?? []).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  const lastEpoch = metrics.at(-1)?.epoch ?? 0
  const xMax = Math.max(1, input.epochs ?? 0, lastEpoch, Math.ceil(trail.at(-1)?.[0] ?? 0))
  const line = (id: string, name: string, color: string, yAxisIndex: number, data: [number, number][]) => ({
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
  })
  return {
    animation: false,
    grid: { left: 56, right: 56, top: 40, bottom: 36 },
    legend: { top: 4, itemWidth: 14, itemHeight: 8, textStyle: { fontSize: 11 } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'line' }, valueFormatter: (v) => String(v) },
    xAxis: {
      type: 'value',
      name: 'epoch',
      nameLocation: 'middle',
      nameGap: 22,
      min: 0,
      max: xMax,
      minInterval: 1,
    },
    yAxis: [
      { type: 'value', name: 'loss', min: 0, scale: false, splitLine: { lineStyle: { color: '#eef1f5' } } },
      {
        type: 'value',
        name: 'accuracy %',
        min: 0,
        max: 100,
        splitLine: { show: false },
      },
    ],
    series: [
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
      line(
        CURVE_SERIES.valAccuracy,
        'val acc',
        COLORS.valAccuracy,
        1,
        points(metrics, (m) => m.valAccuracy, 100),
      ),
    ],
  }
}
