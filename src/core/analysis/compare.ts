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
import { holmAdjust, mean, pairedTTest, sampleStd, wilcoxonSignedRank, type PairedTTest } from './stats'
import type { ComparedRun, CompareOptions, ComparisonRow, ComparisonTable } from '../../shared/comparison'

export * from '../../shared/comparison'

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
