/**
 * The comparison table of an experiment: per variant (and student / teacher), mean +- std over seeds,
 * the paired difference to the baseline over matched seeds with a paired t-test, a Wilcoxon
 * signed-rank test, Holm's correction across the variants compared, a t-based 95% CI of the mean
 * difference and Cohen's d_z; formatted as CSV, Markdown, LaTeX or JSON. Pure TS (CLI and UI use it).
 *
 * Verdict rule: "better" / "worse" when the Holm-adjusted paired-t p is below alpha (sign of the mean
 * difference), else "no evidence"; "insufficient seeds" (no verdict at all) below `minSeeds` (3) matched
 * seeds. Differences are rounded to the metric's resolution (1 / test-set size: accuracies are k/N)
 * before they are tested, so float noise cannot break a genuine tie in Wilcoxon's ranks. Two intervals
 * are given and labelled: the unadjusted 95% t-interval (goes with the raw p) and a Bonferroni
 * simultaneous interval at 1 - alpha/m (goes with the Holm-adjusted p: it excludes 0 whenever
 * Bonferroni, and so Holm, rejects). The t-test decides because Wilcoxon's exact two-sided p cannot go
 * below 2 / 2^n: with 3 seeds it is never under 0.25, with 5 never under 0.0625; it is shown as a
 * distribution-free check, not used for the verdict.
 */
import {
  holmAdjust,
  mean,
  meanConfidenceInterval,
  pairedTTest,
  sampleStd,
  studentTQuantile,
  wilcoxonSignedRank,
  type PairedTTest,
} from './stats'
import { VARIANT_IDS } from '../../shared/types'
import { teacherKindOf } from '../../shared/variants'
import {
  SELECTION_LABELS,
  type ComparedRun,
  type CompareOptions,
  type ComparisonRow,
  type ComparisonTable,
  type SelectionRule,
} from '../../shared/comparison'

export * from '../../shared/comparison'

/** A row's name in the Holm family: variant, and its teacher / student where they tell rows apart. */
const label = (r: ComparisonRow) =>
  [r.variant, r.teacher ? `teacher ${r.teacher}` : '', r.model ? `student ${r.model}` : '']
    .filter(Boolean)
    .join(', ')

function countDevices(runs: readonly ComparedRun[]): { device: string; runs: number }[] {
  const counts = new Map<string, number>()
  for (const r of runs) if (r.device) counts.set(r.device, (counts.get(r.device) ?? 0) + 1)
  return [...counts].map(([device, n]) => ({ device, runs: n }))
}

const keyOf = (r: { variant: string; model?: string | null; teacher?: string | null }) =>
  JSON.stringify([r.variant, r.model ?? null, r.teacher ?? null])

/** One row's runs: seed -> accuracies (duplicates are averaged later, with a warning). */
interface Group {
  variant: string
  model: string | null
  teacher: string | null
  bySeed: Map<number, number[]>
}

/** What the runs of a row measured of their teacher. */
interface TeacherTally {
  accs: number[]
  epochs: Set<number>
  fellBack: number
}

/** The options with their defaults filled in. */
interface Settings {
  metric: 'best' | 'last'
  baseline: string
  alpha: number
  minSeeds: number
  resolution: number
}

/** Builds the comparison table; rows in the variant registry's order, the baseline first. */
export function compareRuns(runs: readonly ComparedRun[], options: CompareOptions = {}): ComparisonTable {
  const settings: Settings = {
    metric: options.metric ?? 'best',
    baseline: options.baseline ?? 'baseline',
    alpha: options.alpha ?? 0.05,
    minSeeds: options.minSeeds ?? 3,
    resolution: options.resolution ?? 1e-12,
  }
  const { metric, baseline, alpha, minSeeds, resolution } = settings
  const warnings: string[] = []
  const selection = selectionOf(runs, metric)
  if (selection === 'best-on-test' || selection === 'mixed') {
    warnings.push(
      'best epoch chosen ON THE TEST SET for some runs (no validation split): their accuracies are optimistic; rerun with a validation fraction > 0',
    )
  }
  const { groups, teacherOf, missing } = groupRuns(runs, metric)
  if (missing > 0) warnings.push(`${missing} run(s) without a ${metric}-epoch test accuracy were left out`)
  const devices = countDevices(runs)
  if (devices.length > 1) warnings.push(devicesWarning(devices))

  const ordered = [...groups.values()].sort(
    (a, b) => variantRank(a.variant, baseline) - variantRank(b.variant, baseline),
  )
  const resolved = ordered.map((g) => ({ g, values: seedMeans(g, warnings) }))
  const baselineByModel = baselinesByModel(resolved, baseline)
  if (baselineByModel.size === 0 && resolved.length > 0) {
    warnings.push(`no ${baseline} runs: deltas and tests need them`)
  }

  const sdOf = new Map<ComparisonRow, number>()
  const rows = resolved.map(({ g, values }) => {
    const row = describeRow(g, values, teacherOf.get(keyOf(g)), settings)
    if (g.variant !== baseline) {
      const sd = pairWithBaseline(row, values, baselineByModel.get(g.model), settings)
      if (sd !== null) sdOf.set(row, sd)
    }
    return row
  })

  for (const r of rows) checkTeacherPremise(r, baselineByModel.get(r.model), resolution)
  const compared = rows.filter((r) => r.variant !== baseline)
  const family = decideVerdicts(compared, sdOf, settings)
  const holmFamily = compared.filter((r) => Number.isFinite(r.pT)).map((r) => `${label(r)} vs ${baseline}`)

  return {
    metric,
    baseline,
    alpha,
    selection,
    resolution,
    rows,
    warnings,
    devices,
    holmFamily,
    method:
      `${SELECTION_LABELS[selection]}; delta = variant - ${baseline} over matched seeds, rounded to ` +
      `${resolution.toPrecision(3)}; paired t-test and ` +
      `Wilcoxon signed-rank (zeros dropped, exact for n <= 25), two-sided; Holm family: the ` +
      `${holmFamily.length} comparison(s) of this table with ${baseline} (${holmFamily.join('; ') || 'none'}), ` +
      `not the reproduction report's family of claim comparisons; sd of the differences floored at the ` +
      `resolution; "95% CI" is the unadjusted t-interval (pairs with the raw p), ` +
      `"adj. CI" the Bonferroni simultaneous interval at ${pctLevel(1 - alpha / Math.max(1, family))} ` +
      `(pairs with the Holm p); d_z = mean / sd of the differences; ` +
      `verdict from Holm-adjusted t at alpha ${alpha}, none below ${minSeeds} matched seeds`,
  }
}

/** Groups the runs by (variant, model, teacher) and tallies what each group measured of its teacher. */
function groupRuns(
  runs: readonly ComparedRun[],
  metric: 'best' | 'last',
): { groups: Map<string, Group>; teacherOf: Map<string, TeacherTally>; missing: number } {
  const groups = new Map<string, Group>()
  const teacherOf = new Map<string, TeacherTally>()
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
    if (r.teacher) {
      const tm = teacherOf.get(k) ?? { accs: [], epochs: new Set<number>(), fellBack: 0 }
      if (r.teacherAccuracy !== null && r.teacherAccuracy !== undefined) tm.accs.push(r.teacherAccuracy)
      if (r.teacherEpoch !== null && r.teacherEpoch !== undefined) tm.epochs.add(r.teacherEpoch)
      if (r.teacherFellBack) tm.fellBack++
      teacherOf.set(k, tm)
    }
  }
  return { groups, teacherOf, missing }
}

/**
 * The baseline first, then the variant registry's order (lsr, kd, re-kd, de-kd, tfkd-self,
 * tfkd-reg): the same order in every table and chart however the runs were listed (newest first
 * from the store). Unknown variants follow, in first-seen order (sort is stable).
 */
function variantRank(v: string, baseline: string): number {
  const i = (VARIANT_IDS as readonly string[]).indexOf(v)
  return v === baseline ? -1 : i < 0 ? VARIANT_IDS.length : i
}

function devicesWarning(devices: readonly { device: string; runs: number }[]): string {
  return `the runs trained on ${devices.length} different backends/devices (${devices
    .map((d) => `${d.device}: ${d.runs}`)
    .join(
      '; ',
    )}): floating-point results differ between backends, so small deltas may come from the device; timings are not comparable`
}

/** Seed -> accuracy of a group; several runs of one seed are averaged (and warned about). */
function seedMeans(g: Group, warnings: string[]): Map<number, number> {
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

/** The baseline's seed -> accuracy per student model (its teacher label is ignored). */
function baselinesByModel(
  resolved: readonly { g: Group; values: Map<number, number> }[],
  baseline: string,
): Map<string | null, Map<number, number>> {
  const byModel = new Map<string | null, Map<number, number>>()
  for (const { g, values } of resolved) {
    if (g.variant !== baseline) continue
    const prev = byModel.get(g.model) ?? new Map<number, number>()
    for (const [s, v] of values) prev.set(s, v)
    byModel.set(g.model, prev)
  }
  return byModel
}

/** A row's own numbers (mean, std over seeds, teacher measure); the paired fields start as NaN. */
function describeRow(
  g: Group,
  values: Map<number, number>,
  tm: TeacherTally | undefined,
  { baseline, minSeeds }: Settings,
): ComparisonRow {
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
    ciAdjusted: [NaN, NaN],
    t: NaN,
    pT: NaN,
    pTHolm: NaN,
    wilcoxonStatistic: NaN,
    pWilcoxon: NaN,
    pWilcoxonHolm: NaN,
    wilcoxonMethod: null,
    dz: NaN,
    verdict: g.variant === baseline ? 'reference' : 'no evidence',
    teacherMeasure: tm
      ? {
          accuracy: tm.accs.length ? mean(tm.accs) : NaN,
          epochs: [...tm.epochs].sort((a, b) => a - b),
          fellBack: tm.fellBack,
        }
      : null,
    warnings: [],
  }
  if (tm?.fellBack) {
    row.warnings.push(
      `${tm.fellBack} run(s): no teacher snapshot reached the target accuracy; the teacher's best epoch taught instead`,
    )
  }
  if (g.variant === baseline && seeds.length < minSeeds)
    row.warnings.push(`only ${seeds.length} seed(s); at least ${minSeeds} are needed`)
  return row
}

/**
 * Fills a variant row's paired fields against the baseline over matched seeds (t-test, Wilcoxon).
 * Returns the std of the differences (for the adjusted interval), or null when no seed matched.
 */
function pairWithBaseline(
  row: ComparisonRow,
  values: Map<number, number>,
  ref: Map<number, number> | undefined,
  { baseline, minSeeds, resolution }: Settings,
): number | null {
  const common = row.seeds.filter((s) => ref?.has(s))
  row.matched = common.length
  if (common.length < minSeeds) {
    row.verdict = 'insufficient seeds'
    row.warnings.push(
      `only ${common.length} seed(s) matched with ${baseline}; at least ${minSeeds} are needed for a verdict`,
    )
  }
  if (common.length === 0) return null
  // Differences rounded to the metric's resolution (accuracies are k/N): genuine ties stay ties.
  const b = common.map((s) => ref!.get(s)!)
  const a = common.map((s, i) => b[i]! + roundTo(values.get(s)! - b[i]!, resolution))
  // The sd is floored at one test image (when the test-set size is known): identical differences
  // then give a finite t, p and d_z instead of p = 0 and d_z = +-Infinity.
  const floor = resolution >= MIN_KNOWN_RESOLUTION ? resolution : 0
  const t: PairedTTest = pairedTTest(a, b, 0.95, floor)
  const w = wilcoxonSignedRank(a, b, resolution)
  if (common.length >= 2 && t.stdDiff === 0 && floor === 0 && t.meanDiff !== 0) {
    row.warnings.push(
      'the paired differences are all equal and the test-set size is unknown: no t-test (its p would be 0 and d_z infinite)',
    )
    Object.assign(t, { t: NaN, p: NaN, dz: NaN, ci: [NaN, NaN] })
  }
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
  return Math.max(t.stdDiff, floor)
}

/** Resolutions below this are the "unknown test-set size" placeholder (1e-12), not a real step. */
const MIN_KNOWN_RESOLUTION = 1e-9

/**
 * Holm-adjusts the compared rows' p-values, sets their Bonferroni intervals and verdicts.
 * Returns the family size (rows with a finite t p-value).
 */
function decideVerdicts(
  compared: readonly ComparisonRow[],
  sdOf: Map<ComparisonRow, number>,
  { alpha, minSeeds }: Settings,
): number {
  const holmT = holmAdjust(compared.map((r) => r.pT))
  const holmW = holmAdjust(compared.map((r) => r.pWilcoxon))
  const family = compared.filter((r) => Number.isFinite(r.pT)).length
  compared.forEach((r, i) => {
    r.pTHolm = holmT[i]!
    r.pWilcoxonHolm = holmW[i]!
    if (r.matched >= 2 && Number.isFinite(r.pT))
      r.ciAdjusted = adjustedInterval(r.delta, sdOf.get(r) ?? NaN, r.matched, alpha, family)
    if (
      r.verdict !== 'insufficient seeds' &&
      r.verdict !== 'invalid premise' &&
      r.matched >= minSeeds &&
      r.pTHolm < alpha
    )
      r.verdict = r.delta > 0 ? 'better' : 'worse'
  })
  return family
}

/**
 * The measured teacher premise of a row against the baseline student of the same model: a kd teacher
 * must be measurably stronger, a re-kd teacher measurably weaker, a de-kd snapshot measurably poorer
 * ("measurably": beyond the baseline's 95% interval and one metric step). A failed premise makes the
 * verdict "invalid premise": the row does not test what its name says.
 */
function checkTeacherPremise(
  r: ComparisonRow,
  base: Map<number, number> | undefined,
  resolution: number,
): void {
  const t = r.teacherMeasure
  if (!t || !Number.isFinite(t.accuracy) || !base || base.size === 0) return
  const accs = [...base.values()]
  const m = mean(accs)
  const [lo, hi] = accs.length >= 2 ? meanConfidenceInterval(accs) : [m, m]
  const tAcc = (100 * t.accuracy).toFixed(2)
  const bAcc = (100 * m).toFixed(2)
  const fail = (why: string) => {
    r.verdict = 'invalid premise'
    r.warnings.push(`premise failed: ${why} (teacher ${tAcc}% vs baseline student ${bAcc}%)`)
  }
  // The premise follows the variant's declared teacher kind (src/shared/variants.ts), not its id.
  const kind = teacherKindOf(r.variant)
  if (kind === 'stronger' && !(t.accuracy > hi + resolution))
    fail('the "stronger" teacher is not measurably stronger than the baseline student')
  if (kind === 'weaker' && !(t.accuracy < lo - resolution))
    fail('the "weaker" teacher is not measurably weaker than the baseline student')
  if (kind === 'poor-snapshot' && !(t.accuracy < lo - resolution))
    fail('the "poor" teacher snapshot is not measurably poorer than the baseline student')
}

const pctLevel = (x: number) => `${(100 * x).toPrecision(4)}%`

/** x rounded to the nearest multiple of step (step <= 0: x). */
export function roundTo(x: number, step: number): number {
  if (!(step > 0)) return x
  return Math.round(x / step) * step
}

/** Two-sided t-interval of the mean difference at level 1 - alpha / family (Bonferroni). */
function adjustedInterval(m: number, sd: number, n: number, alpha: number, family: number): [number, number] {
  if (!Number.isFinite(sd) || n < 2) return [NaN, NaN]
  const q = studentTQuantile(1 - alpha / (2 * Math.max(1, family)), n - 1)
  const half = (q * sd) / Math.sqrt(n)
  return [m - half, m + half]
}

/** The selection rule of the compared numbers (see SELECTION_LABELS). */
function selectionOf(runs: readonly ComparedRun[], metric: 'best' | 'last'): SelectionRule {
  if (metric === 'last') return 'last-epoch'
  const onTest = runs.filter((r) => r.selection === 'test (no validation split)').length
  if (onTest === 0) return 'best-on-validation'
  return onTest === runs.length ? 'best-on-test' : 'mixed'
}
