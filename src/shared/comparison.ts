/**
 * The comparison table's shape and its text formats (CSV, Markdown, LaTeX, JSON), shared by the
 * core that computes it (core/analysis/compare.ts), the hosts that print it and the UI that shows
 * and exports it. Pure TS, no statistics here.
 */

import { SELECTION_LABELS, selectionTitle, type SelectionRule } from './selection'

export { SELECTION_LABELS, selectionTitle, type SelectionRule }

/** One finished run, as the store reports it. Accuracies are fractions in [0, 1]. */
export interface ComparedRun {
  variant: string
  seed: number
  /** Student architecture; runs of different students are compared separately. */
  model?: string | null
  /** Teacher label (architecture, run id or snapshot); runs with different teachers get their own row. */
  teacher?: string | null
  /** Test accuracy at the epoch chosen on validation. */
  bestTestAccuracy?: number | null
  /** Test accuracy after the last epoch. */
  lastTestAccuracy?: number | null
  /** How the run's best epoch was chosen (absent: on validation). */
  selection?: 'validation' | 'test (no validation split)'
  /** Measured test accuracy of the teacher (at the snapshot that taught), when the run had one. */
  teacherAccuracy?: number | null
  /** The teacher's epoch (checkpoint) that taught this run. */
  teacherEpoch?: number | null
  /** de-kd by target accuracy: no snapshot reached the target and the teacher's best was used. */
  teacherFellBack?: boolean
  /** Backend and device the run trained on (e.g. "wasm · CPU AMD EPYC, 2 threads"); null if unknown. */
  device?: string | null
}

export interface CompareOptions {
  /** Which accuracy to compare (default 'best'). */
  metric?: 'best' | 'last'
  /** Variant id of the reference (default 'baseline'). */
  baseline?: string
  /** Significance level for the verdict (default 0.05). */
  alpha?: number
  /** Fewer matched seeds than this get no verdict ("insufficient seeds") and a warning (default 3). */
  minSeeds?: number
  /**
   * Smallest step of the metric (1 / test-set size for accuracy); differences are rounded to it before
   * testing. Default 1e-12 (removes float noise only).
   */
  resolution?: number
}

export type Verdict =
  'better' | 'worse' | 'no evidence' | 'insufficient seeds' | 'invalid premise' | 'reference'

/** Teacher premise of one row: the measured accuracy of the teachers that taught it. */
export interface TeacherMeasure {
  /** Mean measured test accuracy of the teacher snapshots (NaN when none recorded). */
  accuracy: number
  /** Distinct teacher epochs (checkpoints) used. */
  epochs: number[]
  /** Runs whose de-kd snapshot fell back to the teacher's best (no epoch reached the target). */
  fellBack: number
}

export interface ComparisonRow {
  variant: string
  model: string | null
  teacher: string | null
  /** Seeds with a finite accuracy. */
  n: number
  seeds: number[]
  mean: number
  std: number
  /** Seeds shared with the baseline of the same student. */
  matched: number
  /** Mean of (variant - baseline) over matched seeds. */
  delta: number
  /** Unadjusted 95% t-interval of delta (pairs with pT). */
  ci: [number, number]
  /** Bonferroni simultaneous interval at 1 - alpha/m over the m compared rows (pairs with pTHolm). */
  ciAdjusted: [number, number]
  t: number
  pT: number
  pTHolm: number
  wilcoxonStatistic: number
  pWilcoxon: number
  pWilcoxonHolm: number
  wilcoxonMethod: 'exact' | 'normal' | null
  dz: number
  verdict: Verdict
  /** The teachers' measured accuracy (null for rows without a teacher). */
  teacherMeasure: TeacherMeasure | null
  warnings: string[]
}

export interface ComparisonTable {
  metric: 'best' | 'last'
  baseline: string
  alpha: number
  /** How the compared accuracy was chosen; SELECTION_LABELS[selection] titles tables and charts. */
  selection: SelectionRule
  /** Metric resolution the differences were rounded to. */
  resolution: number
  rows: ComparisonRow[]
  /** Table-level warnings (no baseline, duplicate runs, missing accuracies, best-on-test, mixed devices). */
  warnings: string[]
  /** The backends/devices the compared runs trained on, with their run counts. */
  devices?: { device: string; runs: number }[]
  /**
   * The comparisons Holm's adjustment is over ("variant vs baseline", one per compared row with a
   * t-test): this table's family, which is not the reproduction report's (that one holds every claim
   * comparison that can decide a verdict).
   */
  holmFamily?: string[]
  /** How the numbers were computed, for footnotes. */
  method: string
}

// ---------------------------------------------------------------------------------------------
// Formatters

const label = (r: ComparisonRow) =>
  [r.variant, r.teacher ? `teacher ${r.teacher}` : '', r.model ? `student ${r.model}` : ''].filter(Boolean)

const pct = (x: number, digits = 2) => (Number.isFinite(x) ? (100 * x).toFixed(digits) : '-')
const signedPct = (x: number, digits = 2) =>
  Number.isFinite(x) ? `${x > 0 ? '+' : ''}${(100 * x).toFixed(digits)}` : '-'
const pval = (p: number) => (Number.isNaN(p) ? '-' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4))
const num = (x: number, digits = 2) =>
  Number.isFinite(x) ? x.toFixed(digits) : Number.isNaN(x) ? '-' : String(x)

/**
 * The CSV's columns, units in the names: accuracies and their spread in percent (`_pct`),
 * differences and intervals in percentage points (`_pp`), each written with fixed decimals so a
 * fraction's float noise (0.7128000000000001) never reaches a paper's table.
 */
const CSV_HEADER = [
  'variant',
  'model',
  'teacher',
  'n',
  'mean_pct',
  'std_pct',
  'matched',
  'delta_pp',
  'ci_low_pp',
  'ci_high_pp',
  't',
  'p_t',
  'p_t_holm',
  'wilcoxon_w',
  'p_wilcoxon',
  'p_wilcoxon_holm',
  'd_z',
  'verdict',
  'warnings',
  'ci_adj_low_pp',
  'ci_adj_high_pp',
  'teacher_accuracy_pct',
  'teacher_epochs',
  'teacher_fell_back',
  'selection',
]

/** A CSV number with fixed decimals; empty when not computed (NaN), `Infinity` spelled out. */
const fixed = (x: number | null | undefined, digits: number): string | null =>
  x === null || x === undefined || Number.isNaN(x) ? null : Number.isFinite(x) ? x.toFixed(digits) : String(x)
/** A fraction as percent (or a difference of fractions as percentage points), 2 decimals. */
const pctCell = (x: number | null | undefined) => (x === null || x === undefined ? null : fixed(100 * x, 2))
/** p-values keep their small magnitudes: 4 decimals, or 2 significant digits below 0.0001. */
const pCell = (p: number) => (Number.isFinite(p) && p > 0 && p < 1e-4 ? p.toExponential(1) : fixed(p, 4))

function csvCell(v: unknown): string {
  const s =
    typeof v === 'number'
      ? Number.isNaN(v)
        ? ''
        : String(v)
      : v === null || v === undefined
        ? ''
        : String(v)
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/** CSV, one row per variant: percentages and percentage points with 2 decimals, p with 4. */
export function formatCsv(table: ComparisonTable): string {
  const lines = [CSV_HEADER.join(',')]
  for (const r of table.rows) {
    lines.push(
      [
        r.variant,
        r.model,
        r.teacher,
        r.n,
        pctCell(r.mean),
        pctCell(r.std),
        r.matched,
        pctCell(r.delta),
        pctCell(r.ci[0]),
        pctCell(r.ci[1]),
        fixed(r.t, 3),
        pCell(r.pT),
        pCell(r.pTHolm),
        fixed(r.wilcoxonStatistic, 1),
        pCell(r.pWilcoxon),
        pCell(r.pWilcoxonHolm),
        fixed(r.dz, 3),
        r.verdict,
        r.warnings.join('; '),
        pctCell(r.ciAdjusted[0]),
        pctCell(r.ciAdjusted[1]),
        pctCell(r.teacherMeasure?.accuracy),
        r.teacherMeasure?.epochs.join(' ') ?? null,
        r.teacherMeasure?.fellBack ?? null,
        table.selection,
      ]
        .map(csvCell)
        .join(','),
    )
  }
  return lines.join('\n') + '\n'
}

/** GitHub-flavoured Markdown table (accuracies in %), then warnings and the method as notes. */
export function formatMarkdown(table: ComparisonTable): string {
  const esc = (s: string) => s.replaceAll('|', '\\|')
  const head = [
    'variant',
    'n',
    'mean ± std (%)',
    `Δ vs ${table.baseline} (pp)`,
    '95% CI (pp, unadj.)',
    'p (t)',
    'p (t, Holm)',
    'p (Wilcoxon)',
    'p (W, Holm)',
    'd_z',
    'verdict',
    'adj. CI (pp, Bonferroni)',
    'teacher acc (%) @ epoch',
  ]
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 || i === head.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`,
  ]
  for (const r of table.rows) {
    const warn = r.warnings.length ? ' ⚠' : ''
    lines.push(
      `| ${[
        esc(label(r).join(', ')),
        r.matched && r.variant !== table.baseline ? `${r.n} (${r.matched} matched)` : String(r.n),
        `${pct(r.mean)} ± ${pct(r.std)}`,
        signedPct(r.delta),
        Number.isFinite(r.ci[0]) ? `[${signedPct(r.ci[0])}, ${signedPct(r.ci[1])}]` : '-',
        pval(r.pT),
        pval(r.pTHolm),
        pval(r.pWilcoxon),
        pval(r.pWilcoxonHolm),
        num(r.dz),
        r.verdict + warn,
        Number.isFinite(r.ciAdjusted[0])
          ? `[${signedPct(r.ciAdjusted[0])}, ${signedPct(r.ciAdjusted[1])}]`
          : '-',
        teacherText(r),
      ].join(' | ')} |`,
    )
  }
  const notes = [
    ...table.warnings.map((w) => `- ⚠ ${esc(w)}`),
    ...table.rows.flatMap((r) => r.warnings.map((w) => `- ⚠ ${esc(label(r).join(', '))}: ${esc(w)}`)),
  ]
  const title = `**${selectionTitle(table)}**`
  return [
    title,
    '',
    lines.join('\n'),
    '',
    ...(notes.length ? [...notes, ''] : []),
    `_${table.method}._`,
    '',
  ].join('\n')
}

/** "91.20 @ e3" (or "… fell back" for de-kd snapshots that never reached their target). */
function teacherText(r: ComparisonRow): string {
  const t = r.teacherMeasure
  if (!t) return '-'
  const acc = Number.isFinite(t.accuracy) ? pct(t.accuracy) : '?'
  const ep = t.epochs.length ? ` @ e${t.epochs.join('/')}` : ''
  return `${acc}${ep}${t.fellBack ? ' (fell back to best)' : ''}`
}

/** Text escaped for LaTeX's text mode. */
export function escapeLatex(s: string): string {
  return s.replace(/[\\&%$#_{}~^]/g, (c) =>
    c === '\\'
      ? '\\textbackslash{}'
      : c === '~'
        ? '\\textasciitilde{}'
        : c === '^'
          ? '\\textasciicircum{}'
          : `\\${c}`,
  )
}

/** A booktabs LaTeX tabular (accuracies in %, true minus signs); warnings become a printed daggered note. */
export function formatLatex(table: ComparisonTable): string {
  const tex = escapeLatex
  // A typographic minus in numbers: a bare "-" in text mode prints as a hyphen.
  const minus = (v: string) => v.replace(/-(?=\d)/g, '$-$')
  const lines = [
    '% Needs \\usepackage{booktabs} (\\toprule, \\midrule, \\bottomrule).',
    '\\begin{tabular}{lrrrrrrrlr}',
    '\\toprule',
    `Variant & $n$ & Acc.\\ (\\%) & $\\Delta$ (pp) & 95\\% CI (unadj.) & $p_t$ (Holm) & $p_W$ (Holm) & $d_z$ & Verdict & Teacher (\\%) \\\\`,
    '\\midrule',
  ]
  for (const r of table.rows) {
    lines.push(
      [
        tex(label(r).join(', ')) + (r.warnings.length ? '$^\\dagger$' : ''),
        String(r.n),
        `${pct(r.mean)} $\\pm$ ${pct(r.std)}`,
        minus(signedPct(r.delta)),
        Number.isFinite(r.ci[0]) ? minus(`[${signedPct(r.ci[0])}, ${signedPct(r.ci[1])}]`) : '--',
        pval(r.pTHolm),
        pval(r.pWilcoxonHolm),
        minus(num(r.dz)),
        tex(r.verdict),
        tex(teacherText(r)),
      ].join(' & ') + ' \\\\',
    )
  }
  lines.push('\\bottomrule', '\\end{tabular}')
  lines.unshift(`% ${tex(selectionTitle(table))}`)
  const daggers = table.rows.filter((r) => r.warnings.length)
  if (daggers.length || table.warnings.length) {
    // Printed under the table (not a % comment, which LaTeX drops).
    const notes = [
      ...table.warnings,
      ...daggers.map((r) => `${label(r).join(', ')}: ${r.warnings.join('; ')}`),
    ]
    lines.push('\\par\\smallskip', `{\\footnotesize $^\\dagger$ ${tex(notes.join('; '))}\\par}`)
  }
  return lines.join('\n') + '\n'
}

/** JSON of the whole table; NaN and infinities become null (JSON has neither). */
/**
 * The comparison as JSON. Its numbers are summaries over finite accuracies only (a run whose
 * accuracy is NaN is left out and named in `warnings`), so a NaN here always means "not computed"
 * (a baseline's own delta, a std or test over fewer than two seeds) and is written as `null`.
 * Measured values that may be non-finite (a run's losses and metrics) go through the wire
 * encoding of src/shared/wire-json.ts instead (`tfkd runs --json`, the web API, runs.csv).
 */
export function formatJson(table: ComparisonTable): string {
  return JSON.stringify(table, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n'
}

export const COMPARE_FORMATS = ['csv', 'md', 'latex', 'json'] as const
export type CompareFormat = (typeof COMPARE_FORMATS)[number]

export function formatComparison(table: ComparisonTable, format: CompareFormat): string {
  switch (format) {
    case 'csv':
      return formatCsv(table)
    case 'md':
      return formatMarkdown(table)
    case 'latex':
      return formatLatex(table)
    case 'json':
      return formatJson(table)
  }
}
