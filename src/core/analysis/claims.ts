/**
 * The paper's four claims, tested on a study's runs. Each claim has a primary paired comparison (its
 * p enters Holm's correction over the four claims) and maybe secondary ones, premise checks measured
 * on the teachers, and a verdict:
 * - "invalid premise" when a measured premise fails (a "weaker" teacher that is not weaker, a "poor"
 *   teacher that is not poor, a KD teacher that is not stronger): the test would not mean what it says;
 * - "contradicted" when a comparison significantly goes the other way;
 * - "supported" when every comparison holds;
 * - "inconclusive" otherwise (too few seeds, or no significant difference).
 *
 * "Improves" is a two-sided paired t-test (as in the comparison table); "comparable" / "at least as
 * good" is a one-sided non-inferiority t-test against a stated margin (H0: delta <= -margin). The
 * differences are rounded to the metric's resolution first (accuracies are k/N).
 */
import type {
  ClaimComparison,
  ClaimId,
  ClaimResult,
  ClaimVerdict,
  PremiseCheck,
} from '../../shared/reproduce'
import { CLAIM_TITLES, PAPER_FIGURES } from '../../shared/reproduce'
import type { VariantId } from '../../shared/types'
import { roundTo } from './compare'
import { holmAdjust, mean, meanConfidenceInterval, pairedTTest, studentTCdf, studentTQuantile } from './stats'

/** One student run of the study: its selected accuracy and the teacher that taught it. */
export interface StudyStudent {
  variant: VariantId
  seed: number
  accuracy: number
  /** Measured accuracy of the teacher snapshot that taught it. */
  teacherAccuracy: number | null
  teacherEpoch: number | null
  teacherFellBack: boolean
}

export interface ClaimOptions {
  alpha?: number
  /** Non-inferiority margin (accuracy fraction), default 0.005 (0.5 pp). */
  margin?: number
  /** Metric resolution (1 / test-set size). */
  resolution?: number
  /** Fewest matched seeds for a decision (default 3). */
  minSeeds?: number
}

interface Spec {
  variant: VariantId
  reference: VariantId
  kind: ClaimComparison['kind']
}

const PLAN: Record<ClaimId, Spec[]> = {
  're-kd': [{ variant: 're-kd', reference: 'baseline', kind: 'improves' }],
  'de-kd': [{ variant: 'de-kd', reference: 'baseline', kind: 'improves' }],
  'tfkd-self': [
    { variant: 'tfkd-self', reference: 'baseline', kind: 'improves' },
    { variant: 'tfkd-self', reference: 'kd', kind: 'not-worse' },
  ],
  'tfkd-reg': [
    { variant: 'tfkd-reg', reference: 'lsr', kind: 'not-worse' },
    { variant: 'tfkd-reg', reference: 'kd', kind: 'not-worse' },
  ],
}

const pp = (x: number) => `${(100 * x).toFixed(2)}%`

/** Paired statistics of variant - reference over matched seeds (no outcome yet). */
function pair(
  students: readonly StudyStudent[],
  spec: Spec,
  margin: number,
  resolution: number,
): Omit<ClaimComparison, 'outcome' | 'pHolm' | 'ciAdjusted'> & { sd: number } {
  const bySeed = (v: VariantId) => {
    const m = new Map<number, number[]>()
    for (const s of students) if (s.variant === v) m.set(s.seed, [...(m.get(s.seed) ?? []), s.accuracy])
    return new Map([...m].map(([seed, accs]) => [seed, mean(accs)]))
  }
  const a = bySeed(spec.variant)
  const b = bySeed(spec.reference)
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y)
  const pairs = seeds.map((s): [number, number, number] => [s, a.get(s)!, b.get(s)!])
  const refs = pairs.map((p) => p[2])
  const vars = pairs.map((p, i) => refs[i]! + roundTo(p[1] - p[2], resolution))
  const t = pairedTTest(vars, refs)
  let p = t.p
  if (spec.kind === 'not-worse' && t.n >= 2) {
    // H0: delta <= -margin; one-sided.
    const se = t.stdDiff / Math.sqrt(t.n)
    const tNi = se === 0 ? (t.meanDiff + margin > 0 ? Infinity : -Infinity) : (t.meanDiff + margin) / se
    p = 1 - studentTCdf(tNi, t.n - 1)
  }
  return {
    variant: spec.variant,
    reference: spec.reference,
    kind: spec.kind,
    n: t.n,
    pairs,
    delta: t.meanDiff,
    ci: t.ci,
    p,
    dz: t.dz,
    sd: t.stdDiff,
  }
}

function interval(m: number, sd: number, n: number, level: number): [number, number] {
  if (n < 2 || !Number.isFinite(sd)) return [NaN, NaN]
  const half = (studentTQuantile(0.5 + level / 2, n - 1) * sd) / Math.sqrt(n)
  return [m - half, m + half]
}

/** The premises of a claim, measured on the teachers and the baseline. */
function premises(id: ClaimId, students: readonly StudyStudent[], resolution: number): PremiseCheck[] {
  const of = (v: VariantId) => students.filter((s) => s.variant === v)
  const base = of('baseline').map((s) => s.accuracy)
  const [lo, hi] = base.length >= 2 ? meanConfidenceInterval(base) : [mean(base), mean(base)]
  const baseText = base.length
    ? `baseline student ${pp(mean(base))} (95% CI ${pp(lo)}..${pp(hi)}, ${base.length} seeds)`
    : 'no baseline runs'
  const teachers = (v: VariantId) =>
    of(v)
      .map((s) => s.teacherAccuracy)
      .filter((x): x is number => x !== null && Number.isFinite(x))
  const kdStronger = (): PremiseCheck => {
    const t = teachers('kd')
    return {
      premise: 'the normal-KD teacher is measurably stronger than the baseline student',
      measured: t.length ? `KD teacher ${pp(mean(t))} vs ${baseText}` : 'no measured KD teacher',
      ok: t.length && base.length ? mean(t) > hi + resolution : null,
    }
  }
  switch (id) {
    case 're-kd': {
      const t = teachers('re-kd')
      return [
        {
          premise: 'the Re-KD teacher is measurably weaker than the baseline student',
          measured: t.length ? `weaker teacher ${pp(mean(t))} vs ${baseText}` : 'no measured Re-KD teacher',
          ok: t.length && base.length ? mean(t) < lo - resolution : null,
        },
      ]
    }
    case 'de-kd': {
      const runs = of('de-kd')
      const t = teachers('de-kd')
      const epochs = [...new Set(runs.map((s) => s.teacherEpoch).filter((e) => e !== null))]
      const fell = runs.filter((s) => s.teacherFellBack).length
      return [
        {
          premise: 'the De-KD teacher snapshot is poor: measurably below the baseline student',
          measured: t.length
            ? `snapshot (epoch ${epochs.join('/')}) ${pp(mean(t))} vs ${baseText}${fell ? `; ${fell} run(s) fell back to the teacher's best epoch (no snapshot reached the target)` : ''}`
            : 'no measured De-KD teacher',
          ok: t.length && base.length ? mean(t) < lo - resolution && fell === 0 : null,
        },
      ]
    }
    case 'tfkd-self': {
      const t = teachers('tfkd-self')
      return [
        {
          premise: 'the self-teacher is the student architecture trained normally',
          measured: t.length ? `self-teacher ${pp(mean(t))} vs ${baseText}` : 'no measured self-teacher',
          ok: t.length ? true : null,
        },
        kdStronger(),
      ]
    }
    case 'tfkd-reg':
      return [kdStronger()]
  }
}

function outcomeOf(
  c: Omit<ClaimComparison, 'outcome'>,
  p: number,
  ci: [number, number],
  alpha: number,
  margin: number,
  minSeeds: number,
): ClaimComparison['outcome'] {
  if (c.n < minSeeds || Number.isNaN(p)) return 'undecided'
  if (c.kind === 'improves') {
    if (p < alpha) return c.delta > 0 ? 'holds' : 'fails'
    return 'undecided'
  }
  if (p < alpha) return 'holds'
  return ci[1] < -margin ? 'fails' : 'undecided'
}

/** Tests the four claims; Holm over their primary comparisons. */
export function evaluateClaims(students: readonly StudyStudent[], options: ClaimOptions = {}): ClaimResult[] {
  const alpha = options.alpha ?? 0.05
  const margin = options.margin ?? 0.005
  const resolution = options.resolution ?? 1e-12
  const minSeeds = options.minSeeds ?? 3
  // Every claim is reported; one whose variants did not run (or complete) is inconclusive.
  const ids = Object.keys(PLAN) as ClaimId[]
  const raw = ids.map((id) => PLAN[id].map((spec) => pair(students, spec, margin, resolution)))
  const holm = holmAdjust(raw.map((cs) => cs[0]!.p))
  const family = holm.filter((p) => !Number.isNaN(p)).length
  return ids.map((id, k) => {
    const comparisons: ClaimComparison[] = raw[k]!.map((c, j) => {
      const { sd, ...rest } = c
      const primary = j === 0
      const pHolm = primary ? holm[k]! : NaN
      const ciAdjusted = primary
        ? interval(c.delta, sd, c.n, 1 - alpha / Math.max(1, family))
        : interval(c.delta, sd, c.n, 1 - alpha)
      const base = { ...rest, pHolm, ciAdjusted }
      return { ...base, outcome: outcomeOf(base, primary ? pHolm : c.p, ciAdjusted, alpha, margin, minSeeds) }
    })
    const checks = premises(id, students, resolution)
    const { verdict, reason } = decide(comparisons, checks, minSeeds)
    return {
      id,
      title: CLAIM_TITLES[id],
      comparisons,
      premises: checks,
      verdict,
      reason,
      paper: PAPER_FIGURES[id],
    }
  })
}

function decide(
  cs: readonly ClaimComparison[],
  checks: readonly PremiseCheck[],
  minSeeds: number,
): { verdict: ClaimVerdict; reason: string } {
  const failedPremise = checks.find((c) => c.ok === false)
  if (failedPremise)
    return {
      verdict: 'invalid premise',
      reason: `premise not met (needed: ${failedPremise.premise}; measured: ${failedPremise.measured})`,
    }
  const fails = cs.filter((c) => c.outcome === 'fails')
  const name = (c: ClaimComparison) => `${c.variant} vs ${c.reference}`
  if (fails.length)
    return {
      verdict: 'contradicted',
      reason: `${fails.map(name).join(', ')} went significantly the other way`,
    }
  if (cs.every((c) => c.outcome === 'holds'))
    return { verdict: 'supported', reason: 'every comparison holds at the stated level' }
  const absent = cs.find((c) => c.n === 0)
  if (absent) return { verdict: 'inconclusive', reason: `no completed, seed-matched runs of ${name(absent)}` }
  const few = cs.find((c) => c.n < minSeeds)
  if (few)
    return {
      verdict: 'inconclusive',
      reason: `insufficient seeds: ${name(few)} has ${few.n} matched seed(s), ${minSeeds} needed`,
    }
  const open = cs.filter((c) => c.outcome === 'undecided').map(name)
  return { verdict: 'inconclusive', reason: `no significant result for ${open.join(', ')}` }
}
