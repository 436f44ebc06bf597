/**
 * Option builders for the dataset and comparison charts, pure functions of plain data so the UI,
 * the CLI's `tfkd export` (server-side SVG) and the unit tests all build the same chart.
 */
import type { EpochMetrics, EvalReport, RunDetail } from '../types'
import type { ChartOption } from './echarts'
import { learnsFromSnapshots } from '../variants'
import { SELECTION_LABELS, type SelectionRule } from '../selection'

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

const title = (text: string) => ({ text, left: 'center', top: 2, textStyle: { fontSize: 13 } })

/** Bar chart of samples per class, train and test side by side. */
export function buildClassBalanceOption(input: {
  classNames: readonly string[]
  train: readonly number[]
  test: readonly number[]
}): ChartOption {
  return {
    animation: false,
    title: title('Class balance'),
    legend: { top: 22, textStyle: { fontSize: 11 } },
    tooltip: { trigger: 'axis' },
    grid: { left: 48, right: 16, top: 52, bottom: 40 },
    xAxis: { type: 'category', data: [...input.classNames], axisLabel: { interval: 0, fontSize: 10 } },
    yAxis: { type: 'value', name: 'samples' },
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

/**
 * Overlaid curves, one line per group (mean over seeds) with a mean +- std band drawn as two
 * stacked areas (lower edge invisible, band = 2 std on top of it).
 */
export function buildOverlaidCurvesOption(groups: readonly CurveGroup[], metric: CurveMetric): ChartOption {
  const isAcc = metric === 'valAccuracy' || metric === 'trainAccuracy'
  const scale = isAcc ? 100 : 1
  const series: NonNullable<ChartOption['series']> = []
  groups.forEach((g, i) => {
    const color = PALETTE[i % PALETTE.length]!
    const stats = meanStdByEpoch(g.runs, metric)
    const stack = `band-${i}`
    series.push(
      {
        id: `${g.label}-lower`,
        name: g.label,
        type: 'line',
        stack,
        data: stats.map((s) => [s.epoch, round((s.mean - s.std) * scale)]),
        lineStyle: { opacity: 0 },
        showSymbol: false,
        silent: true,
        tooltip: { show: false },
        color,
      },
      {
        id: `${g.label}-band`,
        name: g.label,
        type: 'line',
        stack,
        data: stats.map((s) => [s.epoch, round(2 * s.std * scale)]),
        lineStyle: { opacity: 0 },
        areaStyle: { color, opacity: 0.18 },
        showSymbol: false,
        silent: true,
        tooltip: { show: false },
        color,
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
    )
  })
  const names: Record<CurveMetric, string> = {
    valAccuracy: 'validation accuracy %',
    trainAccuracy: 'train accuracy %',
    valLoss: 'validation loss',
    trainLoss: 'train loss',
  }
  return {
    animation: false,
    title: title(`${names[metric]} (mean ± std over seeds)`),
    legend: { top: 22, data: groups.map((g) => g.label), textStyle: { fontSize: 11 } },
    tooltip: { trigger: 'axis' },
    grid: { left: 52, right: 20, top: 56, bottom: 36 },
    xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 22, minInterval: 1 },
    yAxis: { type: 'value', name: names[metric], scale: true },
    series,
  }
}

/** Reliability diagram: accuracy per confidence bin against the diagonal, ECE in the legend. */
export function buildReliabilityOption(
  reports: readonly { label: string; report: Pick<EvalReport, 'reliability' | 'ece'> }[],
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
  return {
    animation: false,
    title: title('Reliability diagram'),
    legend: { top: 22, textStyle: { fontSize: 11 } },
    tooltip: { trigger: 'item' },
    grid: { left: 52, right: 20, top: 60, bottom: 40 },
    xAxis: { type: 'value', name: 'confidence', nameLocation: 'middle', nameGap: 24, min: 0, max: 1 },
    yAxis: { type: 'value', name: 'accuracy', min: 0, max: 1 },
    series,
  }
}

/** Row-normalised confusion matrix (rows: true class), or the difference of two (a - b) when given two. */
export function confusionCells(a: readonly number[][], b?: readonly number[][]): [number, number, number][] {
  const norm = (m: readonly number[][]) =>
    m.map((row) => {
      const s = row.reduce((x, y) => x + y, 0)
      return row.map((v) => (s > 0 ? v / s : 0))
    })
  const na = norm(a)
  const nb = b ? norm(b) : null
  const cells: [number, number, number][] = []
  na.forEach((row, t) => row.forEach((v, p) => cells.push([p, t, round(nb ? v - (nb[t]?.[p] ?? 0) : v, 3)])))
  return cells
}

export function buildConfusionOption(input: {
  classNames: readonly string[]
  label: string
  confusion: readonly number[][]
  /** When given, the chart shows confusion(label) - confusion(against), row-normalised. */
  against?: { label: string; confusion: readonly number[][] }
}): ChartOption {
  const cells = confusionCells(input.confusion, input.against?.confusion)
  const isDiff = input.against !== undefined
  const maxAbs = Math.max(0.01, ...cells.map((c) => Math.abs(c[2])))
  return {
    animation: false,
    title: title(
      isDiff ? `Confusion: ${input.label} − ${input.against!.label}` : `Confusion matrix: ${input.label}`,
    ),
    tooltip: { trigger: 'item' },
    grid: { left: 56, right: 70, top: 40, bottom: 44 },
    xAxis: {
      type: 'category',
      data: [...input.classNames],
      name: 'predicted',
      nameLocation: 'middle',
      nameGap: 26,
      axisLabel: { fontSize: 10 },
    },
    yAxis: {
      type: 'category',
      data: [...input.classNames],
      name: 'true',
      inverse: true,
      axisLabel: { fontSize: 10 },
    },
    visualMap: {
      type: 'continuous',
      min: isDiff ? -maxAbs : 0,
      max: isDiff ? maxAbs : 1,
      calculable: false,
      orient: 'vertical',
      right: 4,
      top: 'middle',
      itemHeight: 120,
      inRange: { color: isDiff ? ['#c8412b', '#ffffff', '#2f6fdf'] : ['#ffffff', '#2f6fdf'] },
      textStyle: { fontSize: 10 },
    },
    series: [{ id: 'confusion', name: 'rate', type: 'heatmap', data: cells, progressive: 0 }],
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
  /** How the students' accuracies were chosen: named in the title (best-on-test flagged). */
  selection: SelectionRule = 'best-on-validation',
): ChartOption {
  const onTest = selection === 'best-on-test' || selection === 'mixed'
  return {
    animation: false,
    title: {
      ...title('Defective KD: poor teacher vs student'),
      subtext: `${onTest ? '⚠ ' : ''}student: ${SELECTION_LABELS[selection]}`,
      subtextStyle: { fontSize: 10, color: onTest ? '#b3261e' : '#666' },
    },
    tooltip: { trigger: 'item' },
    legend: { top: 36, textStyle: { fontSize: 11 } },
    grid: { left: 56, right: 24, top: 66, bottom: 44 },
    xAxis: { type: 'value', name: 'teacher accuracy %', nameLocation: 'middle', nameGap: 26, scale: true },
    yAxis: { type: 'value', name: 'student test accuracy %', scale: true },
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
                label: { formatter: `baseline ${(baselineAccuracy * 100).toFixed(2)}%` },
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
