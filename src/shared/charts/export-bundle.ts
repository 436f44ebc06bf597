/**
 * Every file an export of a comparison produces, as data: charts as ECharts options with a fixed
 * size (the UI renders them with getDataURL / SVG, `tfkd export` with server-side SVG), tables as
 * text. One builder, so the UI and the CLI write the same files.
 */
import { formatComparison, type ComparisonTable } from '../comparison'
import { metricsCsv, runsCsv } from '../export/csv'
import type { RunDetail } from '../types'
import type { ChartOption } from './echarts'
import { learnsFromSnapshots } from '../variants'
import {
  buildConfusionOption,
  buildDeKdOption,
  buildOverlaidCurvesOption,
  buildReliabilityOption,
  deKdPoints,
} from './analysis'

export const EXPORT_CHART_SIZE = { width: 800, height: 480 } as const

export interface ChartFile {
  /** File name without extension: `<name>.png` and `<name>.svg`. */
  name: string
  title: string
  option: ChartOption
  width: number
  height: number
}

export interface TextFile {
  name: string
  title: string
  mime: string
  content: string
}

export interface ExportBundle {
  charts: ChartFile[]
  tables: TextFile[]
}

/** Completed student runs grouped by variant (de-kd split by snapshot epoch), in first-seen order. */
export function groupStudents(runs: readonly RunDetail[]): { label: string; runs: RunDetail[] }[] {
  const groups = new Map<string, RunDetail[]>()
  for (const r of runs) {
    if (r.role !== 'student') continue
    const epoch = learnsFromSnapshots(r.variant) ? (r.teacherEpoch ?? r.config.teacher?.epoch ?? null) : null
    const label = epoch !== null ? `${r.variant}@e${epoch}` : r.variant
    groups.set(label, [...(groups.get(label) ?? []), r])
  }
  const list = [...groups].map(([label, rs]) => ({ label, runs: rs }))
  // The baseline first: it is the reference every other curve is read against.
  return list.sort((a, b) => Number(b.label === 'baseline') - Number(a.label === 'baseline'))
}

/** The best-epoch test report of the first completed run of a group that has one. */
function reportOf(runs: readonly RunDetail[]) {
  return runs.find((r) => r.result)?.result?.best ?? null
}

export function buildExportBundle(input: {
  table: ComparisonTable | null
  runs: readonly RunDetail[]
  classNames: readonly string[]
  /** Variants whose confusion matrices are shown and differenced (default: the first two with results). */
  confusionPair?: [string, string]
  /** User tags by run id, for runs.csv. */
  tags?: Readonly<Record<number, readonly string[]>>
}): ExportBundle {
  const size = EXPORT_CHART_SIZE
  const groups = groupStudents(input.runs)
  const charts: ChartFile[] = []
  if (groups.length > 0) {
    charts.push(
      {
        name: 'curves-val-accuracy',
        title: 'Validation accuracy (mean ± std)',
        option: buildOverlaidCurvesOption(groups, 'valAccuracy'),
        ...size,
      },
      {
        name: 'curves-val-loss',
        title: 'Validation loss (mean ± std)',
        option: buildOverlaidCurvesOption(groups, 'valLoss'),
        ...size,
      },
    )
  }
  const withReports = groups
    .map((g) => ({ label: g.label, report: reportOf(g.runs) }))
    .filter(
      (g): g is { label: string; report: NonNullable<ReturnType<typeof reportOf>> } => g.report !== null,
    )
  if (withReports.length > 0) {
    charts.push({
      name: 'reliability',
      title: 'Reliability diagram and ECE',
      option: buildReliabilityOption(withReports),
      ...size,
    })
    const pair = input.confusionPair
      ? input.confusionPair.map((l) => withReports.find((g) => g.label === l)).filter((g) => g !== undefined)
      : withReports.slice(0, 2)
    const classNames =
      input.classNames.length > 0
        ? input.classNames
        : (pair[0]?.report.confusion.map((_, i) => String(i)) ?? [])
    for (const g of pair) {
      charts.push({
        name: `confusion-${g.label}`,
        title: `Confusion matrix: ${g.label}`,
        option: buildConfusionOption({ classNames, label: g.label, confusion: g.report.confusion }),
        ...size,
      })
    }
    if (pair.length === 2) {
      const [a, b] = pair as [(typeof pair)[0], (typeof pair)[0]]
      charts.push({
        name: `confusion-diff-${a.label}-vs-${b.label}`,
        title: `Confusion difference: ${a.label} − ${b.label}`,
        option: buildConfusionOption({
          classNames,
          label: a.label,
          confusion: a.report.confusion,
          against: { label: b.label, confusion: b.report.confusion },
        }),
        ...size,
      })
    }
  }
  const points = deKdPoints(input.runs)
  if (points.length > 0) {
    const base = input.runs.filter(
      (r) => r.role === 'student' && r.variant === 'baseline' && r.testAccuracy !== null,
    )
    const baseline = base.length ? base.reduce((s, r) => s + r.testAccuracy!, 0) / base.length : null
    charts.push({
      name: 'de-kd',
      title: 'De-KD plot',
      option: buildDeKdOption(points, baseline, input.table?.selection),
      ...size,
    })
  }

  const tables: TextFile[] = []
  if (input.table) {
    tables.push(
      {
        name: 'comparison.csv',
        title: 'Comparison (CSV)',
        mime: 'text/csv',
        content: formatComparison(input.table, 'csv'),
      },
      {
        name: 'comparison.md',
        title: 'Comparison (Markdown)',
        mime: 'text/markdown',
        content: formatComparison(input.table, 'md'),
      },
      {
        name: 'comparison.tex',
        title: 'Comparison (LaTeX)',
        mime: 'application/x-tex',
        content: formatComparison(input.table, 'latex'),
      },
    )
  }
  if (input.runs.length > 0) {
    tables.push(
      { name: 'runs.csv', title: 'Runs (CSV)', mime: 'text/csv', content: runsCsv(input.runs, input.tags) },
      {
        name: 'metrics.csv',
        title: 'Per-epoch metrics (CSV)',
        mime: 'text/csv',
        content: metricsCsv(input.runs),
      },
    )
  }
  return { charts, tables }
}
