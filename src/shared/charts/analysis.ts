/**
 * Option builders for the dataset and comparison charts, pure functions of plain data so the UI,
 * the CLI's `tfkd export` (server-side SVG) and the unit tests all build the same chart.
 */
import type { EpochMetrics, EvalReport, RunDetail } from '../types'
import type { ChartOption } from './echarts'
import { learnsFromSnapshots } from '../variants'
import { selectionLine, type SelectionRule } from '../selection'
import { bottomName, chartFrame, gridFor, sideName, textWidth, type HeaderLine } from './layout'

export { buildConfusionOption, confusionCells, type ConfusionInput } from './confusion'

export const PALETTE = [
  '#2f6fdf',
  '#e0663a',
  '#2f9e6f',
  '#9b59b6',
  '#c98a12',
  '#16a2b8',
  '#d6336c',
  '#6b7686',
]

const round = (x: number, digits = 4): number => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** Bar chart of samples per class, train and test side by side. */
export function buildClassBalanceOption(input: {
  classNames: readonly string[]
  train: readonly number[]
  test: readonly number[]
}): ChartOption {
  const frame = chartFrame('Class balance', [], {})
  const most = Math.max(0, ...input.train, ...input.test)
  const y = sideName('samples', textWidth(String(most), 11))
  // Names side by side ran into each other in a narrow card ("twothree"): turned upright once they
  // would need more than ~2.4 characters a class, and a class every few when there are very many.
  const longest = Math.max(0, ...input.classNames.map((n) => n.length))
  const upright = input.classNames.length * longest > 24
  const labelRoom = upright ? textWidth('x'.repeat(Math.min(longest, 16)), 10) : 0
  return {
    animation: false,
    title: frame.title,
    legend: frame.legend,
    tooltip: { trigger: 'axis' },
    grid: gridFor(frame, { left: y.margin, right: 16, xName: false, bottomExtra: labelRoom }),
    xAxis: {
      type: 'category',
      data: [...input.classNames],
      axisLabel: {
        interval: input.classNames.length <= 20 ? 0 : 'auto',
        fontSize: 10,
        rotate: upright ? 90 : 0,
        width: upright ? labelRoom : undefined,
        overflow: upright ? 'truncate' : 'none',
      },
    },
    yAxis: { type: 'value', ...y.axis },
    series: [
      { id: 'train', name: 'train', type: 'bar', data: [...input.train], color: PALETTE[0] },
      { id: 'test', name: 'test', type: 'bar', data: [...input.test], color: PALETTE[1] },
    ],
  }
}

export interface CurveGroup {
  /** Legend label, e.g. the variant id. */
  label: string
  runs: readonly { metrics: readonly EpochMetrics[] }[]
}

export type CurveMetric = 'valAccuracy' | 'trainAccuracy' | 'valLoss' | 'trainLoss'

/** Per epoch: mean and sample std over the runs that reached it. */
export function meanStdByEpoch(
  runs: readonly { metrics: readonly EpochMetrics[] }[],
  metric: CurveMetric,
): { epoch: number; mean: number; std: number; n: number }[] {
  const byEpoch = new Map<number, number[]>()
  for (const r of runs) {
    for (const m of r.metrics) {
      const v = m[metric]
      if (!Number.isFinite(v)) continue
      const list = byEpoch.get(m.epoch) ?? []
      list.push(v)
      byEpoch.set(m.epoch, list)
    }
  }
  return [...byEpoch]
    .sort((a, b) => a[0] - b[0])
    .map(([epoch, xs]) => {
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length
      const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0
      return { epoch, mean, std, n: xs.length }
    })
}

function bandSeries(g: CurveGroup, i: number, metric: CurveMetric): NonNullable<ChartOption['series']> {
  const scale = metric === 'valAccuracy' || metric === 'trainAccuracy' ? 100 : 1
  const color = PALETTE[i % PALETTE.length]!
  const stats = meanStdByEpoch(g.runs, metric)
  const stack = `band-${i}`
  const hidden = { showSymbol: false, silent: true, tooltip: { show: false }, color }
  return [
    {
      id: `${g.label}-lower`,
      name: g.label,
      type: 'line',
      stack,
      data: stats.map((s) => [s.epoch, round((s.mean - s.std) * scale)]),
      lineStyle: { opacity: 0 },
      ...hidden,
    },
    {
      id: `${g.label}-band`,
      name: g.label,
      type: 'line',
      stack,
      data: stats.map((s) => [s.epoch, round(2 * s.std * scale)]),
      lineStyle: { opacity: 0 },
      areaStyle: { color, opacity: 0.18 },
      ...hidden,
    },
    {
      id: `${g.label}-mean`,
      name: g.label,
      type: 'line',
      data: stats.map((s) => [s.epoch, round(s.mean * scale)]),
      showSymbol: stats.length <= 30,
      symbolSize: 5,
      lineStyle: { width: 2 },
      color,
    },
  ]
}

export const CURVE_METRIC_NAMES: Record<CurveMetric, string> = {
  valAccuracy: 'validation accuracy %',
  trainAccuracy: 'train accuracy %',
  valLoss: 'validation loss',
  trainLoss: 'train loss',
}

/**
 * Overlaid curves, one line per group (mean over seeds) with a mean +- std band drawn as two
 * stacked areas (lower edge invisible, band = 2 std on top of it). `selection` names how the
 * comparison picks its number from these curves (the curves themselves show every epoch).
 */
export function buildOverlaidCurvesOption(
  groups: readonly CurveGroup[],
  metric: CurveMetric,
  selection?: SelectionRule,
): ChartOption {
  const lines: HeaderLine[] = [{ text: 'every epoch, mean ± std over seeds' }]
  if (selection) lines.push(selectionLine(selection, 'compared'))
  const frame = chartFrame(CURVE_METRIC_NAMES[metric], lines, { data: groups.map((g) => g.label) })
  const y = sideName(CURVE_METRIC_NAMES[metric], textWidth('100.0', 11))
  return {
    animation: false,
    title: frame.title,
    legend: frame.legend,
    tooltip: { trigger: 'axis' },
    grid: gridFor(frame, { left: y.margin, right: 20 }),
    xAxis: { type: 'value', ...bottomName('epoch'), minInterval: 1 },
    yAxis: { type: 'value', scale: true, ...y.axis },
    series: groups.flatMap((g, i) => bandSeries(g, i, metric)),
  }
}

/**
 * Reliability diagram: accuracy per confidence bin against the diagonal, ECE in the legend.
 * `lines` say which run and epoch each report comes from.
 */
export function buildReliabilityOption(
  reports: readonly { label: string; report: Pick<EvalReport, 'reliability' | 'ece'> }[],
  lines: readonly HeaderLine[] = [],
): ChartOption {
  const series: NonNullable<ChartOption['series']> = [
    {
      id: 'diagonal',
      name: 'perfect calibration',
      type: 'line',
      data: [
        [0, 0],
        [1, 1],
      ],
      lineStyle: { type: 'dashed', color: '#9aa5b4', width: 1 },
      showSymbol: false,
      color: '#9aa5b4',
      silent: true,
    },
  ]
  reports.forEach(({ label, report }, i) => {
    const r = report.reliability
    series.push({
      id: `rel-${label}`,
      name: `${label} (ECE ${(report.ece * 100).toFixed(2)}%)`,
      type: 'line',
      data: r.confidence
        .map((c, b) => [round(c), round(r.accuracy[b] ?? 0), r.counts[b] ?? 0] as const)
        .filter(([, , n]) => n > 0)
        .map(([c, a]) => [c, a]),
      symbolSize: 6,
      color: PALETTE[i % PALETTE.length],
    })
  })
  const frame = chartFrame('Reliability diagram', lines, {})
  const y = sideName('accuracy', textWidth('0.8', 11))
  return {
    animation: false,
    title: frame.title,
    legend: frame.legend,
    tooltip: { trigger: 'item' },
    grid: gridFor(frame, { left: y.margin, right: 24 }),
    xAxis: { type: 'value', ...bottomName('confidence'), min: 0, max: 1 },
    yAxis: { type: 'value', min: 0, max: 1, ...y.axis },
    series,
  }
}

/**
 * Every seed's accuracy per variant, as dots in the variant's column, with the mean as a bar across
 * it: how far the seeds spread, next to the means the comparison table tests.
 */
export function buildSeedSpreadOption(
  groups: readonly { label: string; seeds: readonly { seed: number; accuracy: number }[] }[],
  lines: readonly HeaderLine[] = [],
): ChartOption {
  const frame = chartFrame('Test accuracy per seed', lines, { data: ['seed', 'mean'] })
  const y = sideName('test accuracy %', textWidth('100.0', 11))
  const labels = groups.map((g) => g.label)
  const mean = (g: (typeof groups)[number]) =>
    g.seeds.length ? g.seeds.reduce((a, s) => a + s.accuracy, 0) / g.seeds.length : Number.NaN
  return {
    animation: false,
    title: frame.title,
    legend: frame.legend,
    tooltip: { trigger: 'item' },
    grid: gridFor(frame, { left: y.margin, right: 20, xName: false }),
    xAxis: { type: 'category', data: labels, axisLabel: { interval: 0, fontSize: 10 } },
    yAxis: { type: 'value', scale: true, ...y.axis },
    series: [
      {
        id: 'seed',
        name: 'seed',
        type: 'scatter',
        symbolSize: 8,
        color: PALETTE[0],
        data: groups.flatMap((g, i) => g.seeds.map((s) => [i, round(s.accuracy * 100, 2)])),
      },
      {
        id: 'mean',
        name: 'mean',
        type: 'scatter',
        symbol: 'rect',
        symbolSize: [26, 3],
        color: PALETTE[1],
        data: groups.map((g, i) => [i, round(mean(g) * 100, 2)]),
      },
    ],
  }
}

export interface DeKdPoint {
  /** Snapshot epoch of the poor teacher. */
  teacherEpoch: number
  /** The teacher run's validation accuracy at that epoch (0..1). */
  teacherAccuracy: number
  /** The student's test accuracy (0..1). */
  studentAccuracy: number
  seed: number
}

/** The De-KD plot: poor-teacher accuracy vs student accuracy, baseline mean as a horizontal line. */
export function buildDeKdOption(
  points: readonly DeKdPoint[],
  baselineAccuracy: number | null,
  /** How the students' accuracies were chosen: named in the header (best-on-test in red). */
  selection: SelectionRule = 'best-on-validation',
): ChartOption {
  const frame = chartFrame(
    'Defective KD: poor teacher vs student',
    [selectionLine(selection, 'student'), { text: "teacher: its snapshot's validation accuracy" }],
    {},
  )
  const y = sideName('student test accuracy %', textWidth('100.0', 11))
  return {
    animation: false,
    title: frame.title,
    tooltip: { trigger: 'item' },
    legend: frame.legend,
    grid: gridFor(frame, { left: y.margin, right: 24 }),
    xAxis: { type: 'value', ...bottomName('teacher accuracy %'), scale: true },
    yAxis: { type: 'value', scale: true, ...y.axis },
    series: [
      {
        id: 'de-kd',
        name: 'de-kd student',
        type: 'scatter',
        symbolSize: 9,
        color: PALETTE[1],
        data: points.map((p) => [round(p.teacherAccuracy * 100, 2), round(p.studentAccuracy * 100, 2)]),
        ...(baselineAccuracy !== null
          ? {
              markLine: {
                symbol: 'none',
                silent: true,
                lineStyle: { color: PALETTE[0], type: 'dashed' },
                label: {
                  formatter: `baseline ${(baselineAccuracy * 100).toFixed(2)}%`,
                  position: 'insideEndTop',
                },
                data: [{ yAxis: round(baselineAccuracy * 100, 2) }],
              },
            }
          : {}),
      },
    ],
  }
}

/** De-KD points from run details: students of variant de-kd, their teacher's epoch metrics. */
export function deKdPoints(runs: readonly RunDetail[]): DeKdPoint[] {
  const byId = new Map(runs.map((r) => [r.id, r]))
  const out: DeKdPoint[] = []
  for (const r of runs) {
    if (!learnsFromSnapshots(r.variant) || r.status !== 'completed' || r.testAccuracy === null) continue
    const teacher = r.teacherRunId !== null ? byId.get(r.teacherRunId) : undefined
    const epoch = r.teacherEpoch ?? r.config.teacher?.epoch ?? null
    if (!teacher || epoch === null) continue
    const m = teacher.metrics.find((x) => x.epoch === epoch)
    if (!m || !Number.isFinite(m.valAccuracy)) continue
    out.push({
      teacherEpoch: epoch,
      teacherAccuracy: m.valAccuracy,
      studentAccuracy: r.testAccuracy,
      seed: r.seed,
    })
  }
  return out
}
