/**
 * Every file an export of a comparison produces, as data: charts as ECharts options with a fixed
 * size (the UI renders them with getDataURL / SVG, `tfkd export` with server-side SVG), tables as
 * text. One builder, so the UI and the CLI write the same files.
 */
import { formatComparison, type ComparisonTable } from '../comparison'
import { metricsCsv, runsCsv } from '../export/csv'
import { VARIANT_IDS, type EvalReport, type RunDetail } from '../types'
import { ruleOfRuns, SELECTION_NAMES, selectionLine, type SelectionRule } from '../selection'
import type { ChartOption } from './echarts'
import { learnsFromSnapshots } from '../variants'
import {
  buildConfusionOption,
  buildDeKdOption,
  buildOverlaidCurvesOption,
  buildReliabilityOption,
  buildSeedSpreadOption,
  deKdPoints,
  type CurveGroup,
} from './analysis'
import { forFile, type HeaderLine } from './layout'

export const EXPORT_CHART_SIZE = { width: 800, height: 480 } as const

export interface ChartFile {
  /** File name without extension: `<name>.png` and `<name>.svg`. */
  name: string
  title: string
  option: ChartOption
  width: number
  height: number
}

/**
 * The option a chart's file is rendered from (PNG and SVG, UI and `tfkd export`): the screen's
 * option with every legend entry visible (a file cannot page a legend) and the plot moved below it.
 */
export const fileOption = (chart: Pick<ChartFile, 'option' | 'width'>): ChartOption =>
  forFile(chart.option, chart.width)

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

/** Registry order of the variants (baseline first); unknown ids after them, in first-seen order. */
const variantRank = (variant: string): number => {
  const i = (VARIANT_IDS as readonly string[]).indexOf(variant)
  return i < 0 ? VARIANT_IDS.length : i
}

/**
 * Student runs grouped by variant (de-kd split by snapshot epoch), in the variant registry's order
 * (baseline, lsr, kd, re-kd, de-kd, tfkd-self, tfkd-reg), de-kd snapshots by epoch: the order of
 * the comparison table, whatever order the runs came in.
 */
export function groupStudents(runs: readonly RunDetail[]): { label: string; runs: RunDetail[] }[] {
  const groups = new Map<string, { variant: string; epoch: number; runs: RunDetail[] }>()
  for (const r of runs) {
    if (r.role !== 'student') continue
    const epoch = learnsFromSnapshots(r.variant) ? (r.teacherEpoch ?? r.config.teacher?.epoch ?? null) : null
    const label = epoch !== null ? `${r.variant}@e${epoch}` : r.variant
    const g = groups.get(label) ?? { variant: r.variant, epoch: epoch ?? 0, runs: [] }
    g.runs.push(r)
    groups.set(label, g)
  }
  return [...groups]
    .map(([label, g], seen) => ({ label, g, seen }))
    .sort(
      (a, b) =>
        variantRank(a.g.variant) - variantRank(b.g.variant) || a.g.epoch - b.g.epoch || a.seen - b.seen,
    )
    .map(({ label, g }) => ({ label, runs: g.runs }))
}

interface Picked {
  label: string
  /** The finished runs the report pools (one per seed). */
  runs: RunDetail[]
  report: EvalReport
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0)

/**
 * Several seeds' test reports as one: confusion matrices added, reliability bins merged (confidence
 * and accuracy weighted by their counts, the same bin edges), ECE recomputed from the merged bins,
 * accuracy from the pooled matrix. One report is returned as it is.
 */
export function poolReports(reports: readonly EvalReport[]): EvalReport {
  if (reports.length === 1) return reports[0]!
  const first = reports[0]!
  const confusion = first.confusion.map((row, t) =>
    row.map((_, p) => sum(reports.map((r) => r.confusion[t]?.[p] ?? 0))),
  )
  const bins = first.reliability.counts.length
  const counts = Array.from({ length: bins }, (_, b) => sum(reports.map((r) => r.reliability.counts[b] ?? 0)))
  const weighted = (key: 'confidence' | 'accuracy') =>
    counts.map((n, b) =>
      n > 0 ? sum(reports.map((r) => (r.reliability[key][b] ?? 0) * (r.reliability.counts[b] ?? 0))) / n : 0,
    )
  const confidence = weighted('confidence')
  const accuracyPerBin = weighted('accuracy')
  const total = sum(counts)
  const n = sum(confusion.flat())
  const sizes = reports.map((r) => sum(r.confusion.flat()))
  const mean = (key: 'loss' | 'top5') =>
    sum(reports.map((r, i) => r[key] * sizes[i]!)) / Math.max(1, sum(sizes))
  return {
    ...first,
    loss: mean('loss'),
    top5: mean('top5'),
    accuracy: n > 0 ? sum(confusion.map((row, i) => row[i] ?? 0)) / n : 0,
    perClassAccuracy: confusion.map((row, i) => (sum(row) > 0 ? (row[i] ?? 0) / sum(row) : 0)),
    confusion,
    reliability: { ...first.reliability, counts, confidence, accuracy: accuracyPerBin },
    ece:
      total > 0 ? sum(counts.map((c, b) => (c / total) * Math.abs(accuracyPerBin[b]! - confidence[b]!))) : 0,
  }
}

/** The test report a group is charted by: its finished runs' (every seed), pooled, at the rule's epoch. */
function pickReport(g: { label: string; runs: readonly RunDetail[] }, rule: SelectionRule): Picked | null {
  const runs = g.runs.filter((r) => r.result)
  if (runs.length === 0) return null
  const reports = runs.map((r) => (rule === 'last-epoch' ? r.result!.last : r.result!.best))
  return { label: g.label, runs, report: poolReports(reports) }
}

const seedsOf = (p: Picked) => p.runs.map((r) => r.seed)
const source = (p: Picked) =>
  p.runs.length === 1
    ? `run #${p.runs[0]!.id} (seed ${p.runs[0]!.seed}, epoch ${p.report.epoch})`
    : `runs ${p.runs.map((r) => `#${r.id}`).join(', ')} (seeds ${seedsOf(p).join(', ')}, pooled)`
const sourceLine = (p: Picked): HeaderLine => ({ text: `${p.label}: test set, ${source(p)}` })
const seedWords = (p: Picked) =>
  p.runs.length === 1 ? `seed ${p.runs[0]!.seed}` : `${p.runs.length} seeds pooled`

const caption = (title: string, rule: SelectionRule) => `${title} · ${SELECTION_NAMES[rule]}`

function curveCharts(groups: readonly CurveGroup[], rule: SelectionRule): ChartFile[] {
  if (groups.length === 0) return []
  return [
    {
      name: 'curves-val-accuracy',
      title: caption('Validation accuracy (mean ± std)', rule),
      option: buildOverlaidCurvesOption(groups, 'valAccuracy', rule),
      ...EXPORT_CHART_SIZE,
    },
    {
      name: 'curves-val-loss',
      title: caption('Validation loss (mean ± std)', rule),
      option: buildOverlaidCurvesOption(groups, 'valLoss', rule),
      ...EXPORT_CHART_SIZE,
    },
  ]
}

function confusionCharts(
  pair: readonly Picked[],
  classNames: readonly string[],
  rule: SelectionRule,
): ChartFile[] {
  const charts: ChartFile[] = pair.map((g) => ({
    name: `confusion-${g.label}`,
    title: caption(`Confusion matrix: ${g.label} (${seedWords(g)})`, rule),
    option: buildConfusionOption({
      classNames,
      label: g.label,
      confusion: g.report.confusion,
      lines: [selectionLine(rule), sourceLine(g)],
    }),
    ...EXPORT_CHART_SIZE,
  }))
  if (pair.length === 2) {
    const [a, b] = pair as [Picked, Picked]
    charts.push({
      name: `confusion-diff-${a.label}-vs-${b.label}`,
      title: caption(`Confusion difference: ${a.label} − ${b.label}`, rule),
      option: buildConfusionOption({
        classNames,
        label: a.label,
        confusion: a.report.confusion,
        against: { label: b.label, confusion: b.report.confusion },
        lines: [selectionLine(rule), { text: `test set: ${source(a)} − ${source(b)}` }],
      }),
      ...EXPORT_CHART_SIZE,
    })
  }
  return charts
}

function reportCharts(
  groups: readonly { label: string; runs: readonly RunDetail[] }[],
  input: Pick<ExportInput, 'classNames' | 'confusionPair'>,
  rule: SelectionRule,
): ChartFile[] {
  const picked = groups.map((g) => pickReport(g, rule)).filter((g): g is Picked => g !== null)
  if (picked.length === 0) return []
  const counts = [...new Set(picked.map((p) => p.runs.length))]
  const reliability: ChartFile = {
    name: 'reliability',
    title: caption('Reliability diagram and ECE', rule),
    option: buildReliabilityOption(picked, [
      selectionLine(rule),
      {
        text:
          counts.length === 1 && counts[0] === 1
            ? `seed ${picked[0]!.runs[0]!.seed} of each variant`
            : 'every finished seed of each variant, pooled',
      },
    ]),
    ...EXPORT_CHART_SIZE,
  }
  const pair = input.confusionPair
    ? input.confusionPair.map((l) => picked.find((g) => g.label === l)).filter((g) => g !== undefined)
    : picked.slice(0, 2)
  const classNames =
    input.classNames.length > 0
      ? input.classNames
      : (pair[0]?.report.confusion.map((_, i) => String(i)) ?? [])
  return [spreadChart(picked, rule), reliability, ...confusionCharts(pair, classNames, rule)]
}

/** Every seed's test accuracy per variant (dots), with the mean: how far seeds spread. */
function spreadChart(picked: readonly Picked[], rule: SelectionRule): ChartFile {
  return {
    name: 'per-seed',
    title: caption('Test accuracy per seed', rule),
    option: buildSeedSpreadOption(
      picked.map((p) => ({
        label: p.label,
        seeds: p.runs.map((r) => ({
          seed: r.seed,
          accuracy: (rule === 'last-epoch' ? r.result!.last : r.result!.best).accuracy,
        })),
      })),
      [selectionLine(rule)],
    ),
    ...EXPORT_CHART_SIZE,
  }
}

function deKdCharts(runs: readonly RunDetail[], rule: SelectionRule): ChartFile[] {
  const points = deKdPoints(runs)
  if (points.length === 0) return []
  const base = runs.filter((r) => r.role === 'student' && r.variant === 'baseline' && r.testAccuracy !== null)
  const baseline = base.length ? base.reduce((s, r) => s + r.testAccuracy!, 0) / base.length : null
  return [
    {
      name: 'de-kd',
      title: caption('De-KD plot', rule),
      option: buildDeKdOption(points, baseline, rule),
      ...EXPORT_CHART_SIZE,
    },
  ]
}

function tableFiles(input: Pick<ExportInput, 'table' | 'runs' | 'tags'>): TextFile[] {
  const tables: TextFile[] = []
  if (input.table) {
    const formats = [
      ['comparison.csv', 'Comparison (CSV)', 'text/csv', 'csv'],
      ['comparison.md', 'Comparison (Markdown)', 'text/markdown', 'md'],
      ['comparison.tex', 'Comparison (LaTeX)', 'application/x-tex', 'latex'],
    ] as const
    for (const [name, title, mime, format] of formats) {
      tables.push({ name, title, mime, content: formatComparison(input.table, format) })
    }
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
  return tables
}

export interface ExportInput {
  table: ComparisonTable | null
  runs: readonly RunDetail[]
  classNames: readonly string[]
  /** Variants whose confusion matrices are shown and differenced (default: the first two with results). */
  confusionPair?: [string, string]
  /** User tags by run id, for runs.csv. */
  tags?: Readonly<Record<number, readonly string[]>>
  /** Which epoch's accuracy is compared when there is no table to say so (default best). */
  metric?: 'best' | 'last'
}

/**
 * Every chart names how its numbers were chosen (the table's rule, else the runs'), in its header
 * and its caption; best-on-test is warned in red and in words.
 */
export function buildExportBundle(input: ExportInput): ExportBundle {
  const groups = groupStudents(input.runs)
  const rule =
    input.table?.selection ??
    ruleOfRuns(
      groups.flatMap((g) => g.runs),
      input.metric,
    )
  return {
    charts: [
      ...curveCharts(groups, rule),
      ...reportCharts(groups, input, rule),
      ...deKdCharts(input.runs, rule),
    ],
    tables: tableFiles(input),
  }
}
