/**
 * The comparison table of an experiment: per variant (and student / teacher), mean +- std over seeds,
 * the paired difference to the baseline over matched seeds with a paired t-test, a Wilcoxon
 * signed-rank test, Holm's correction across the variants compared, a t-based 95% CI of the mean
 * difference and Cohen's d_z; formatted as CSV, Markdown, LaTeX or JSON. Pure TS (CLI and UI use it).
 *
 * Verdict rule: "better" / "worse" when the Holm-adjusted paired-t p is below alpha (sign of the mean
 * difference), else "no evidence". The t-test decides because Wilcoxon's exact two-sided p cannot go
 * below 2 / 2^n: with 3 seeds it is never under 0.25, with 5 never under 0.0625; it is shown as a
 * distribution-free check, not used for the verdict.
 */
import {
  holmAdjust,
  mean,
  pairedTTest,
  sampleStd,
  wilcoxonSignedRank,
  type PairedTTest,
  type WilcoxonTest,
} from './stats'

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
  /** Fewer matched seeds than this get a warning (default 3). */
  minSeeds?: number
}

export type Verdict = 'better' | 'worse' | 'no evidence' | 'reference'

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
  ci: [number, number]
  t: number
  pT: number
  pTHolm: number
  wilcoxonStatistic: number
  pWilcoxon: number
  pWilcoxonHolm: number
  wilcoxonMethod: WilcoxonTest['method'] | null
  dz: number
  verdict: Verdict
  warnings: string[]
}

export interface ComparisonTable {
  metric: 'best' | 'last'
  baseline: string
  alpha: number
  rows: ComparisonRow[]
  /** Table-level warnings (no baseline, duplicate runs, missing accuracies, mixed devices). */
  warnings: string[]
  /** The backends/devices the compared runs trained on, with their run counts. */
  devices?: { device: string; runs: number }[]
  /** How the numbers were computed, for footnotes. */
  method: string
}

function countDevices(runs: readonly ComparedRun[]): { device: string; runs: number }[] {
  const counts = new Map<string, number>()
  for (const r of runs) if (r.device) counts.set(r.device, (counts.get(r.device) ?? 0) + 1)
  return [...counts].map(([device, n]) => ({ device, runs: n }))
}

const keyOf = (r: { variant: string; model?: string | null; teacher?: string | null }) =>
  JSON.stringify([r.variant, r.model ?? null, r.teacher ?? null])

/** Builds the comparison table; rows keep the order variants first appear, the baseline first. */
export function compareRuns(runs: readonly ComparedRun[], options: CompareOptions = {}): ComparisonTable {
  const metric = options.metric ?? 'best'
  const baseline = options.baseline ?? 'baseline'
  const alpha = options.alpha ?? 0.05
  const minSeeds = options.minSeeds ?? 3
  const warnings: string[] = []

  // group -> seed -> accuracies (duplicates averaged, with a warning)
  const groups = new Map<
    string,
    { variant: string; model: string | null; teacher: string | null; bySeed: Map<number, number[]> }
  >()
  let missing = 0
  for (const r of runs) {
    const acc = metric === 'best' ? r.bestTestAccuracy : r.lastTestAccuracy
    if (acc === null || acc === undefined || !Number.isFinite(acc)) {
      missing++
      continue
    }
    const k = keyOf(r)
    let g = groups.get(k)
    if (!g) {
      g = { variant: r.variant, model: r.model ?? null, teacher: r.teacher ?? null, bySeed: new Map() }
      groups.set(k, g)
    }
    const list = g.bySeed.get(r.seed) ?? []
    list.push(acc)
    g.bySeed.set(r.seed, list)
  }
  if (missing > 0) warnings.push(`${missing} run(s) without a ${metric}-epoch test accuracy were left out`)
  const devices = countDevices(runs)
  if (devices.length > 1) {
    warnings.push(
      `the runs trained on ${devices.length} different backends/devices (${devices
        .map((d) => `${d.device}: ${d.runs}`)
        .join(
          '; ',
        )}): floating-point results differ between backends, so small deltas may come from the device; timings are not comparable`,
    )
  }

  const perSeed = (g: { variant: string; teacher: string | null; bySeed: Map<number, number[]> }) => {
    const m = new Map<number, number>()
    for (const [seed, accs] of g.bySeed) {
      if (accs.length > 1) {
        warnings.push(
          `${g.variant}${g.teacher ? ` (${g.teacher})` : ''}: ${accs.length} runs with seed ${seed}; their mean is used`,
        )
      }
      m.set(seed, mean(accs))
    }
    return m
  }

  const ordered = [...groups.values()].sort(
    (a, b) => Number(b.variant === baseline) - Number(a.variant === baseline),
  )
  // Baseline per student model: ignore its teacher label.
  const baselineByModel = new Map<string | null, Map<number, number>>()
  const resolved = ordered.map((g) => ({ g, values: perSeed(g) }))
  for (const { g, values } of resolved) {
    if (g.variant !== baseline) continue
    const prev = baselineByModel.get(g.model) ?? new Map<number, number>()
    for (const [s, v] of values) prev.set(s, v)
    baselineByModel.set(g.model, prev)
  }
  if (baselineByModel.size === 0 && resolved.length > 0) {
    warnings.push(`no ${baseline} runs: deltas and tests need them`)
  }

  const rows: ComparisonRow[] = resolved.map(({ g, values }) => {
    const seeds = [...values.keys()].sort((a, b) => a - b)
    const accs = seeds.map((s) => values.get(s)!)
    const row: ComparisonRow = {
      variant: g.variant,
      model: g.model,
      teacher: g.teacher,
      n: seeds.length,
      seeds,
      mean: mean(accs),
      std: sampleStd(accs),
      matched: 0,
      delta: NaN,
      ci: [NaN, NaN],
      t: NaN,
      pT: NaN,
      pTHolm: NaN,
      wilcoxonStatistic: NaN,
      pWilcoxon: NaN,
      pWilcoxonHolm: NaN,
      wilcoxonMethod: null,
      dz: NaN,
      verdict: g.variant === baseline ? 'reference' : 'no evidence',
      warnings: [],
    }
    if (g.variant === baseline) {
      if (seeds.length < minSeeds)
        row.warnings.push(`only ${seeds.length} seed(s); at least ${minSeeds} are needed`)
      return row
    }
    const ref = baselineByModel.get(g.model)
    const common = seeds.filter((s) => ref?.has(s))
    row.matched = common.length
    if (common.length < minSeeds) {
      row.warnings.push(
        `only ${common.length} seed(s) matched with ${baseline}; at least ${minSeeds} are needed`,
      )
    }
    if (common.length === 0) return row
    const a = common.map((s) => values.get(s)!)
    const b = common.map((s) => ref!.get(s)!)
    const t: PairedTTest = pairedTTest(a, b)
    const w = wilcoxonSignedRank(a, b)
    Object.assign(row, {
      delta: t.meanDiff,
      ci: t.ci,
      t: t.t,
      pT: t.p,
      dz: t.dz,
      wilcoxonStatistic: w.statistic,
      pWilcoxon: common.length >= 1 ? w.p : NaN,
      wilcoxonMethod: w.method,
    })
    return row
  })

  const compared = rows.filter((r) => r.variant !== baseline)
  const holmT = holmAdjust(compared.map((r) => r.pT))
  const holmW = holmAdjust(compared.map((r) => r.pWilcoxon))
  compared.forEach((r, i) => {
    r.pTHolm = holmT[i]!
    r.pWilcoxonHolm = holmW[i]!
    if (r.matched >= 2 && r.pTHolm < alpha) r.verdict = r.delta > 0 ? 'better' : 'worse'
  })

  return {
    metric,
    baseline,
    alpha,
    rows,
    warnings,
    devices,
    method:
      `${metric}-epoch test accuracy; delta = variant - ${baseline} over matched seeds; paired t-test and ` +
      `Wilcoxon signed-rank (zeros dropped, exact for n <= 25), two-sided, Holm-adjusted across the ` +
      `${compared.length} variant(s); 95% t-interval of the delta; d_z = mean / sd of the differences; ` +
      `verdict from Holm-adjusted t at alpha ${alpha}`,
  }
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

const CSV_HEADER = [
  'variant',
  'model',
  'teacher',
  'n',
  'mean',
  'std',
  'matched',
  'delta',
  'ci_low',
  'ci_high',
  't',
  'p_t',
  'p_t_holm',
  'wilcoxon_w',
  'p_wilcoxon',
  'p_wilcoxon_holm',
  'd_z',
  'verdict',
  'warnings',
]

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

/** CSV with raw numbers (accuracies as fractions, full precision), one row per variant. */
export function formatCsv(table: ComparisonTable): string {
  const lines = [CSV_HEADER.join(',')]
  for (const r of table.rows) {
    lines.push(
      [
        r.variant,
        r.model,
        r.teacher,
        r.n,
        r.mean,
        r.std,
        r.matched,
        r.delta,
        r.ci[0],
        r.ci[1],
        r.t,
        r.pT,
        r.pTHolm,
        r.wilcoxonStatistic,
        r.pWilcoxon,
        r.pWilcoxonHolm,
        r.dz,
        r.verdict,
        r.warnings.join('; '),
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
    '95% CI (pp)',
    'p (t)',
    'p (t, Holm)',
    'p (Wilcoxon)',
    'p (W, Holm)',
    'd_z',
    'verdict',
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
      ].join(' | ')} |`,
    )
  }
  const notes = [
    ...table.warnings.map((w) => `- ⚠ ${esc(w)}`),
    ...table.rows.flatMap((r) => r.warnings.map((w) => `- ⚠ ${esc(label(r).join(', '))}: ${esc(w)}`)),
  ]
  return [lines.join('\n'), '', ...(notes.length ? [...notes, ''] : []), `_${table.method}._`, ''].join('\n')
}

/** A booktabs LaTeX tabular (accuracies in %); warnings become a daggered footnote line. */
export function formatLatex(table: ComparisonTable): string {
  const tex = (s: string) =>
    s.replace(/[\\&%$#_{}~^]/g, (c) =>
      c === '\\'
        ? '\\textbackslash{}'
        : c === '~'
          ? '\\textasciitilde{}'
          : c === '^'
            ? '\\textasciicircum{}'
            : `\\${c}`,
    )
  const lines = [
    '\\begin{tabular}{lrrrrrrrl}',
    '\\toprule',
    `Variant & $n$ & Acc.\\ (\\%) & $\\Delta$ (pp) & 95\\% CI & $p_t$ (Holm) & $p_W$ (Holm) & $d_z$ & Verdict \\\\`,
    '\\midrule',
  ]
  for (const r of table.rows) {
    lines.push(
      [
        tex(label(r).join(', ')) + (r.warnings.length ? '$^\\dagger$' : ''),
        String(r.n),
        `${pct(r.mean)} $\\pm$ ${pct(r.std)}`,
        signedPct(r.delta),
        Number.isFinite(r.ci[0]) ? `[${signedPct(r.ci[0])}, ${signedPct(r.ci[1])}]` : '--',
        pval(r.pTHolm),
        pval(r.pWilcoxonHolm),
        num(r.dz),
        tex(r.verdict),
      ].join(' & ') + ' \\\\',
    )
  }
  lines.push('\\bottomrule', '\\end{tabular}')
  const daggers = table.rows.filter((r) => r.warnings.length)
  if (daggers.length || table.warnings.length) {
    lines.push(
      `% $^\\dagger$ ${tex([...table.warnings, ...daggers.map((r) => `${label(r).join(', ')}: ${r.warnings.join('; ')}`)].join(' | '))}`,
    )
  }
  return lines.join('\n') + '\n'
}

/** JSON of the whole table; NaN and infinities become null (JSON has neither). */
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
