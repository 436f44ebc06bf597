/**
 * The paper's four claims, tested on a study's runs. Each claim has parts (paired comparisons of a
 * variant with a reference over matched seeds), reference checks, premises measured on the test split,
 * and one verdict (the words are CLAIM_VERDICTS in src/shared/reproduce.ts), decided in this order:
 * not run (variants not planned) > insufficient seeds > invalid premise > unverified premise >
 * reference failed > not reproduced in this regime > supported > inconclusive (with the power stated).
 *
 * Rules a reviewer would ask for:
 * - "improves" is a two-sided paired t-test at alpha; "at least as good as X" is non-inferiority,
 *   one-sided at alpha / 2 against the margin; "comparable to X" is TOST with each one-sided test at
 *   alpha / 2. Every p is on the two-sided scale (one-sided p doubled) so one alpha serves all.
 * - One Holm family per report: every comparison that can decide a verdict (each counted once).
 * - The interval printed beside a decision is the one that decides it (level 1 - alpha p / pHolm).
 * - The sd of the paired differences is floored at the metric's resolution (1 / test-set size), and an
 *   "improves" needs a mean difference of more than one test image.
 * - "Comparable to X" / "at least as good as X" counts only when X measurably beats the baseline.
 * - De-KD: one comparison and one premise per teacher snapshot, never pooled.
 * - Premises count only when measured on the test split; the Tf-KD self-teacher must not be measurably
 *   different from the baseline student (else the "self" gain is KD from a stronger teacher).
 */
import type {
  ClaimComparison,
  ClaimId,
  ClaimResult,
  ClaimVerdict,
  ComparisonKind,
  ComparisonPower,
  PremiseCheck,
} from '../../shared/reproduce'
import { CLAIM_IDS, CLAIM_TITLES, PAPER_EFFECTS_PP, PAPER_FIGURES } from '../../shared/reproduce'
import {
  effectSizeInterval,
  equivalencePower,
  minDetectableEffect,
  noncentralTCdf,
  pairedPower,
} from '../../shared/power'
import type { VariantId } from '../../shared/types'
import { roundTo } from './compare'
import { holmAdjust, mean, sampleStd, studentTCdf, studentTQuantile, studentTTwoSidedP } from './stats'

/** One student run of the study: its selected accuracy and the teacher that taught it. */
export interface StudyStudent {
  variant: VariantId
  seed: number
  accuracy: number
  /** Measured accuracy of the teacher (snapshot) that taught it. */
  teacherAccuracy: number | null
  /** The split teacherAccuracy was measured on; only 'test' verifies a premise (absent: unknown). */
  teacherSplit?: 'test' | 'validation' | null
  teacherEpoch: number | null
  /** Which teacher taught it (run id, or "onnx:<id>"): a teacher of several seeds counts once. */
  teacherId?: number | string | null
  /** De-KD: the snapshot rule ("epoch 1", "first epoch >= 30%"); default "epoch <teacherEpoch>". */
  teacherSnapshot?: string | null
  teacherFellBack: boolean
}

export interface ClaimOptions {
  alpha?: number
  /** Margin of "comparable" and "at least as good" (accuracy fraction), default 0.005 (0.5 pp). */
  margin?: number
  /** Metric resolution (1 / test-set size). */
  resolution?: number
  /** Fewest matched seeds for a decision (default 3). */
  minSeeds?: number
  /** The variants the plan ran; a claim that needs others is "not run" (default: those with runs). */
  planned?: readonly VariantId[]
}

export interface StudyEvaluation {
  claims: ClaimResult[]
  /** The Holm family: every comparison that can decide a verdict, as "variant vs reference (kind)". */
  family: string[]
}

interface Part {
  variant: VariantId
  reference: VariantId
  kind: ComparisonKind
  role: 'claim' | 'reference'
  snapshot: string | null
}

const PARTS: Record<ClaimId, Omit<Part, 'snapshot'>[]> = {
  're-kd': [{ variant: 're-kd', reference: 'baseline', kind: 'improves', role: 'claim' }],
  'de-kd': [{ variant: 'de-kd', reference: 'baseline', kind: 'improves', role: 'claim' }],
  'tfkd-self': [
    { variant: 'tfkd-self', reference: 'baseline', kind: 'improves', role: 'claim' },
    { variant: 'tfkd-self', reference: 'kd', kind: 'comparable', role: 'claim' },
    { variant: 'kd', reference: 'baseline', kind: 'improves', role: 'reference' },
  ],
  'tfkd-reg': [
    { variant: 'tfkd-reg', reference: 'kd', kind: 'comparable', role: 'claim' },
    { variant: 'tfkd-reg', reference: 'lsr', kind: 'not-worse', role: 'claim' },
    { variant: 'tfkd-reg', reference: 'baseline', kind: 'improves', role: 'claim' },
    { variant: 'kd', reference: 'baseline', kind: 'improves', role: 'reference' },
    { variant: 'lsr', reference: 'baseline', kind: 'improves', role: 'reference' },
  ],
}

const NAMES: Partial<Record<VariantId, string>> = { kd: 'KD', lsr: 'LSR', baseline: 'the baseline' }
const pct = (x: number) => `${(100 * x).toFixed(2)}%`
const ppText = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)} pp`
const snapshotOf = (s: StudyStudent) =>
  s.teacherSnapshot ?? (s.teacherEpoch !== null ? `epoch ${s.teacherEpoch}` : null)
const partName = (c: { variant: string; reference: string; snapshot: string | null }) =>
  `${c.variant}${c.snapshot ? ` (${c.snapshot})` : ''} vs ${c.reference}`
/** A premise's sentence inside a reason (the renderer closes the reason with its own full stop). */
const sentence = (measured: string) => measured.replace(/\.$/, '')
const keyOf = (c: Part) => `${partName(c)} (${c.kind})`

interface PairStats {
  n: number
  pairs: [number, number, number][]
  delta: number
  sdObserved: number
  sd: number
  se: number
}

/** Seed -> mean accuracy of a variant (for de-kd, of one snapshot). */
function bySeed(students: readonly StudyStudent[], v: VariantId, snapshot: string | null) {
  const m = new Map<number, number[]>()
  for (const s of students) {
    if (s.variant !== v || (v === 'de-kd' && snapshotOf(s) !== snapshot)) continue
    m.set(s.seed, [...(m.get(s.seed) ?? []), s.accuracy])
  }
  return new Map([...m].map(([seed, accs]) => [seed, mean(accs)]))
}

/** Paired statistics of variant - reference over matched seeds; sd floored at the resolution. */
function pairStats(students: readonly StudyStudent[], part: Part, resolution: number): PairStats {
  const a = bySeed(students, part.variant, part.snapshot)
  const b = bySeed(students, part.reference, null)
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y)
  const pairs = seeds.map((s): [number, number, number] => [s, a.get(s)!, b.get(s)!])
  const diffs = pairs.map((p) => roundTo(p[1] - p[2], resolution))
  const n = diffs.length
  const sdObserved = sampleStd(diffs)
  const sd = n >= 2 ? Math.max(sdObserved, resolution) : NaN
  return { n, pairs, delta: mean(diffs), sdObserved, sd, se: sd / Math.sqrt(n) }
}

/** p on the two-sided scale (see the file comment). */
function pValue(kind: ComparisonKind, s: PairStats, margin: number): number {
  if (s.n < 2) return NaN
  const df = s.n - 1
  if (kind === 'improves') return studentTTwoSidedP(s.delta / s.se, df)
  const lower = 1 - studentTCdf((s.delta + margin) / s.se, df) // H0: delta <= -margin
  if (kind === 'not-worse') return Math.min(1, 2 * lower)
  const upper = studentTCdf((s.delta - margin) / s.se, df) // H0: delta >= +margin
  return Math.min(1, 2 * Math.max(lower, upper))
}

function interval(s: PairStats, level: number): [number, number] {
  if (s.n < 2 || !(level > 0 && level < 1)) return [NaN, NaN]
  const half = studentTQuantile(0.5 + level / 2, s.n - 1) * s.se
  return [s.delta - half, s.delta + half]
}

interface Settings {
  alpha: number
  margin: number
  resolution: number
  minSeeds: number
}

function outcomeOf(
  kind: ComparisonKind,
  s: PairStats,
  ci: [number, number],
  pHolm: number,
  { alpha, margin, resolution, minSeeds }: Settings,
): ClaimComparison['outcome'] {
  if (s.n < minSeeds || Number.isNaN(pHolm)) return 'undecided'
  const significant = pHolm < alpha
  if (kind === 'improves') {
    if (!significant) return 'undecided'
    // One test image (or less) on average never supports a claim, however many seeds agree.
    return s.delta > resolution * (1 + 1e-9) ? 'holds' : s.delta < 0 ? 'fails' : 'undecided'
  }
  if (significant) return 'holds'
  if (kind === 'not-worse') return ci[1] < -margin ? 'fails' : 'undecided'
  return ci[0] >= margin || ci[1] <= -margin ? 'fails' : 'undecided'
}

/** 1 - P(T' <= t_{1-a}) with T' ~ noncentral t: one-sided power for a signed true effect. */
function oneSidedPower(n: number, sd: number, effect: number, a: number): number {
  const df = n - 1
  return 1 - noncentralTCdf(studentTQuantile(1 - a, df), df, (effect / sd) * Math.sqrt(n))
}

/** The smallest n in 2..100 with power(n) >= 0.8, or null (upward: large effects stop early and cheap). */
function smallestN(power: (n: number) => number): number | null {
  for (let n = 2; n <= 100; n++) if (power(n) >= 0.8) return n
  return null
}

/** What this comparison could see at the per-test level `level` (see ComparisonPower). */
function powerOf(part: Part, s: PairStats, margin: number, level: number): ComparisonPower {
  const paper = PAPER_EFFECTS_PP[`${part.variant} vs ${part.reference}`]
  const paperEffect = paper ? paper.pp / 100 : null
  const none = { level, minDetectable: NaN, paperEffect, powerAtPaper: null, seedsForPaper: null }
  if (s.n < 2 || !(s.sd > 0)) return none
  const sd = s.sd
  let at: (n: number, effect: number) => number
  let minDetectable: number
  if (part.kind === 'improves') {
    at = (n, effect) => pairedPower({ n, sd, effect, alpha: level })
    minDetectable = minDetectableEffect({ n: s.n, sd, alpha: level })
  } else if (part.kind === 'not-worse') {
    at = (n, effect) => oneSidedPower(n, sd, effect + margin, level / 2)
    minDetectable = minDetectableEffect({ n: s.n, sd, alpha: level / 2, sided: 'one' }) - margin
  } else {
    at = (n, effect) => equivalencePower({ n, sd, margin, effect, alpha: level })
    minDetectable = smallestMargin(s.n, sd, level)
  }
  if (paperEffect === null) return { ...none, minDetectable }
  return {
    level,
    minDetectable,
    paperEffect,
    powerAtPaper: at(s.n, paperEffect),
    seedsForPaper: smallestN((n) => at(n, paperEffect)),
  }
}

/** The smallest margin TOST shows with 80% power at a true difference of 0 (bisection). */
function smallestMargin(n: number, sd: number, level: number): number {
  const at = (m: number) => equivalencePower({ n, sd, margin: m, alpha: level })
  let lo = 0
  let hi = sd
  while (at(hi) < 0.8) {
    lo = hi
    hi *= 2
  }
  for (let i = 0; i < 40 && hi - lo > 1e-6 * hi; i++) {
    const mid = (lo + hi) / 2
    if (at(mid) < 0.8) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/** The claim's parts, with De-KD expanded to one part per teacher snapshot. */
function partsOf(id: ClaimId, students: readonly StudyStudent[]): Part[] {
  const snapshots = [...new Set(students.filter((s) => s.variant === 'de-kd').map(snapshotOf))].sort((a, b) =>
    (a ?? '').localeCompare(b ?? '', undefined, { numeric: true }),
  )
  return PARTS[id].flatMap((p) =>
    p.variant === 'de-kd'
      ? (snapshots.length ? snapshots : [null]).map((snapshot) => ({ ...p, snapshot }))
      : [{ ...p, snapshot: null }],
  )
}

/** Tests the four claims; one Holm family over every comparison that can decide a verdict. */
export function evaluateStudy(
  students: readonly StudyStudent[],
  options: ClaimOptions = {},
): StudyEvaluation {
  const settings: Settings = {
    alpha: options.alpha ?? 0.05,
    margin: options.margin ?? 0.005,
    resolution: options.resolution ?? 1e-12,
    minSeeds: options.minSeeds ?? 3,
  }
  const planned = new Set(options.planned ?? students.map((s) => s.variant))
  const claimParts = CLAIM_IDS.map((id) => ({ id, parts: partsOf(id, students) }))
  const stats = new Map<string, { part: Part; s: PairStats; p: number }>()
  for (const { parts } of claimParts) {
    for (const part of parts) {
      const s = pairStats(students, part, settings.resolution)
      stats.set(keyOf(part), { part, s, p: pValue(part.kind, s, settings.margin) })
    }
  }
  const runnable = (parts: Part[]) => parts.every((p) => planned.has(p.variant) && planned.has(p.reference))
  const familyKeys = [
    ...new Set(claimParts.flatMap(({ parts }) => (runnable(parts) ? parts : []).map(keyOf))),
  ].filter((k) => {
    const e = stats.get(k)!
    return e.s.n >= settings.minSeeds && Number.isFinite(e.p)
  })
  const adjusted = holmAdjust(familyKeys.map((k) => stats.get(k)!.p))
  const pHolmOf = new Map(familyKeys.map((k, i) => [k, adjusted[i]!]))
  const level = settings.alpha / Math.max(1, familyKeys.length)
  const claims = claimParts.map(({ id, parts }) => {
    const comparisons = parts.map((part) => {
      const { s, p } = stats.get(keyOf(part))!
      return comparisonOf(part, s, p, pHolmOf.get(keyOf(part)) ?? NaN, level, settings)
    })
    const notPlanned = [...new Set(parts.flatMap((p) => [p.variant, p.reference]))].filter(
      (v) => !planned.has(v),
    )
    return claimResult(id, comparisons, premisesOf(id, students, settings.resolution), notPlanned, settings)
  })
  return { claims, family: familyKeys }
}

/** The four claims (see evaluateStudy). */
export function evaluateClaims(students: readonly StudyStudent[], options: ClaimOptions = {}): ClaimResult[] {
  return evaluateStudy(students, options).claims
}

function comparisonOf(
  part: Part,
  s: PairStats,
  p: number,
  pHolm: number,
  level: number,
  settings: Settings,
): ClaimComparison {
  const { alpha, margin } = settings
  // The deciding interval: its level makes "excludes / inside" equivalent to pHolm < alpha.
  const ciLevel = Number.isNaN(pHolm) ? 1 - alpha : pHolm > 0 && p > 0 ? 1 - (alpha * p) / pHolm : 1 - level
  const ciAdjusted = interval(s, ciLevel)
  const t = s.delta / s.se
  return {
    variant: part.variant,
    reference: part.reference,
    kind: part.kind,
    role: part.role,
    snapshot: part.snapshot,
    n: s.n,
    pairs: s.pairs,
    delta: s.delta,
    sdObserved: s.sdObserved,
    sd: s.sd,
    ci: interval(s, 0.95),
    ciAdjusted,
    ciLevel,
    p,
    pHolm,
    dz: s.delta / s.sd,
    dzCi: effectSizeInterval({ t, n: s.n }),
    outcome: outcomeOf(part.kind, s, ciAdjusted, pHolm, settings),
    power: powerOf(part, s, margin, level),
  }
}

/** The baseline students' accuracies: mean, sd (floored) and seed count. */
interface BaseStats {
  n: number
  mean: number
  sd: number
}

/** A teacher premise measured on the test split against the baseline student. */
interface TeacherCheck {
  premise: string
  who: string
  /** 'above': measurably stronger; 'below': measurably weaker; 'same': not measurably different. */
  want: 'above' | 'below' | 'same'
  runs: readonly StudyStudent[]
  snapshot?: string | null
}

function teacherPremise(c: TeacherCheck, base: BaseStats, resolution: number): PremiseCheck {
  const out = (measured: string, ok: boolean | null): PremiseCheck => ({
    premise: c.premise,
    measured,
    ok,
    ...(c.snapshot !== undefined ? { snapshot: c.snapshot } : {}),
  })
  const distinct = new Map<string, StudyStudent>()
  for (const s of c.runs) distinct.set(String(s.teacherId ?? `seed ${s.seed}`), s)
  const all = [...distinct.values()].filter(
    (s) => s.teacherAccuracy !== null && Number.isFinite(s.teacherAccuracy),
  )
  const onTest = all.filter((s) => s.teacherSplit === 'test').map((s) => s.teacherAccuracy!)
  if (onTest.length === 0) {
    const other = all.map((s) => s.teacherAccuracy!)
    const note = other.length ? ` (measured only on validation: ${pct(mean(other))})` : ''
    return out(
      `${c.who}'s accuracy was not measured on the test split${note}, so this premise is unverified.`,
      null,
    )
  }
  if (base.n < 2)
    return out(
      `${c.who} scored ${pct(mean(onTest))} on the test split, but fewer than two baseline seeds ran, so this premise is unverified.`,
      null,
    )
  // "Measurably": beyond the 95% bound of a difference between k teachers and n baseline seeds, plus
  // one test image.
  const k = onTest.length
  const bound = studentTQuantile(0.975, base.n - 1) * base.sd * Math.sqrt(1 / k + 1 / base.n) + resolution
  const t = mean(onTest)
  const above = t > base.mean + bound
  const below = t < base.mean - bound
  const ok = c.want === 'above' ? above : c.want === 'below' ? below : !above && !below
  const relation = above ? 'measurably above' : below ? 'measurably below' : 'not measurably different from'
  const teachers = k > 1 ? ` (mean of ${k} teachers)` : ''
  return out(
    `${c.who} scored ${pct(t)} on the test split${teachers}, ${relation} the baseline student's ${pct(base.mean)} ` +
      `(${base.n} seeds; measurable means beyond ±${(100 * bound).toFixed(2)} pp), so this premise ${ok ? 'is met' : 'is NOT met'}.`,
    ok,
  )
}

function premisesOf(id: ClaimId, students: readonly StudyStudent[], resolution: number): PremiseCheck[] {
  const of = (v: VariantId) => students.filter((s) => s.variant === v)
  const accs = [...bySeed(students, 'baseline', null).values()]
  const base = { n: accs.length, mean: mean(accs), sd: Math.max(sampleStd(accs), resolution) }
  const check = (c: TeacherCheck) => teacherPremise(c, base, resolution)
  const kdStronger = check({
    premise: 'the normal-KD teacher is measurably stronger than the baseline student',
    who: 'The KD teacher',
    want: 'above',
    runs: of('kd'),
  })
  switch (id) {
    case 're-kd':
      return [
        check({
          premise: 'the Re-KD teacher is measurably weaker than the baseline student',
          who: 'The Re-KD (weaker) teacher',
          want: 'below',
          runs: of('re-kd'),
        }),
      ]
    case 'de-kd':
      return deKdPremises(of('de-kd'), check)
    case 'tfkd-self':
      return [
        check({
          premise:
            'the self-teacher is the student trained normally: not measurably different from the baseline student',
          who: 'The Tf-KD self-teacher',
          want: 'same',
          runs: of('tfkd-self'),
        }),
        kdStronger,
      ]
    case 'tfkd-reg':
      return [kdStronger]
  }
}

/** One premise per De-KD snapshot: the snapshot is measurably poorer than the baseline student. */
function deKdPremises(
  runs: readonly StudyStudent[],
  check: (c: TeacherCheck) => PremiseCheck,
): PremiseCheck[] {
  const snapshots = [...new Set(runs.map(snapshotOf))]
  if (snapshots.length === 0) snapshots.push(null)
  return snapshots.map((snapshot) => {
    const mine = runs.filter((s) => snapshotOf(s) === snapshot)
    const premise = `the De-KD teacher snapshot${snapshot ? ` (${snapshot})` : ''} is poor: measurably below the baseline student`
    const fell = mine.filter((s) => s.teacherFellBack).length
    if (fell > 0)
      return {
        premise,
        measured: `${fell} De-KD run(s) fell back to the teacher's best epoch because no snapshot reached the target, so this premise is NOT met.`,
        ok: false,
        snapshot,
      }
    const who = `The De-KD teacher snapshot${snapshot ? ` (${snapshot})` : ''}`
    return check({ premise, who, want: 'below', runs: mine, snapshot })
  })
}

const VERDICT_ORDER: readonly ClaimVerdict[] = [
  'not run',
  'insufficient seeds',
  'invalid premise',
  'unverified premise',
  'reference failed',
  'not reproduced in this regime',
  'inconclusive',
  'supported',
]

function claimResult(
  id: ClaimId,
  comparisons: ClaimComparison[],
  premises: PremiseCheck[],
  notPlanned: VariantId[],
  settings: Settings,
): ClaimResult {
  const base = { id, title: CLAIM_TITLES[id], comparisons, premises, paper: PAPER_FIGURES[id] }
  const power = powerSentence(comparisons[0]!, settings)
  if (id !== 'de-kd' || notPlanned.length)
    return { ...base, ...decide(comparisons, premises, notPlanned, settings), power }
  // De-KD: a sub-verdict per snapshot; never pooled.
  const snapshots = [...new Set(comparisons.map((c) => c.snapshot))]
  const subs = snapshots.map((snap) => ({
    snap,
    ...decide(
      comparisons.filter((c) => c.snapshot === snap),
      premises.filter((p) => (p.snapshot ?? null) === snap),
      [],
      settings,
    ),
  }))
  if (subs.length === 1) return { ...base, verdict: subs[0]!.verdict, reason: subs[0]!.reason, power }
  const valid = subs.filter((s) => s.verdict !== 'invalid premise')
  const pool = valid.length ? valid : subs
  const verdict = VERDICT_ORDER.find((v) => pool.some((s) => s.verdict === v))!
  const reason = subs.map((s) => `${s.snap ?? 'unknown snapshot'}: ${s.verdict} (${s.reason})`).join('; ')
  return { ...base, verdict, reason, power: comparisons.map((c) => powerSentence(c, settings)).join(' ') }
}

function decide(
  cs: readonly ClaimComparison[],
  checks: readonly PremiseCheck[],
  notPlanned: readonly VariantId[],
  { minSeeds }: Settings,
): { verdict: ClaimVerdict; reason: string } {
  if (notPlanned.length)
    return { verdict: 'not run', reason: `the plan did not include ${notPlanned.join(', ')}` }
  const few = cs.find((c) => c.n < minSeeds)
  if (few)
    return {
      verdict: 'insufficient seeds',
      reason:
        few.n === 0
          ? `no completed, seed-matched runs of ${partName(few)}`
          : `${partName(few)} has ${few.n} matched seed(s), ${minSeeds} needed`,
    }
  const failed = checks.find((c) => c.ok === false)
  if (failed) return { verdict: 'invalid premise', reason: `${failed.premise}: ${sentence(failed.measured)}` }
  const unmeasured = checks.find((c) => c.ok === null)
  if (unmeasured)
    return {
      verdict: 'unverified premise',
      reason: `${unmeasured.premise}: ${sentence(unmeasured.measured)}`,
    }
  const detail = (c: ClaimComparison) =>
    `${partName(c)}: Δ ${ppText(c.delta)}, ${(100 * c.ciLevel).toPrecision(3)}% CI ${ppText(c.ciAdjusted[0])}..${ppText(c.ciAdjusted[1])}, p (Holm) ${c.pHolm.toPrecision(2)}`
  const claimFails = cs.filter((c) => c.role === 'claim' && c.outcome === 'fails')
  const refFailed = cs.find((c) => c.role === 'reference' && c.outcome !== 'holds')
  if (refFailed) {
    const also = claimFails.length
      ? `; also ${claimFails.map(partName).join(', ')} went significantly the other way`
      : ''
    return {
      verdict: 'reference failed',
      reason: `${NAMES[refFailed.variant] ?? refFailed.variant} does not beat the baseline here (${detail(refFailed)}), so "comparable to" / "at least as good as" it cannot count${also}`,
    }
  }
  if (claimFails.length)
    return {
      verdict: 'not reproduced in this regime',
      reason: `${claimFails.map(detail).join('; ')}: significantly the other way`,
    }
  const open = cs.filter((c) => c.outcome !== 'holds')
  if (open.length === 0)
    return {
      verdict: 'supported',
      reason: "every part holds after Holm's correction, every premise measured and met",
    }
  const power = (c: ClaimComparison) =>
    c.kind === 'improves' && Number.isFinite(c.power.minDetectable)
      ? ` (80% power only for differences of ${(100 * c.power.minDetectable).toFixed(2)} pp or more)`
      : ''
  return {
    verdict: 'inconclusive',
    reason: `no decision for ${open.map((c) => detail(c) + power(c)).join('; ')}`,
  }
}

/** What the primary comparison could see, in one sentence. */
function powerSentence(c: ClaimComparison, { margin }: Settings): string {
  const w = c.power
  if (c.n < 2 || Number.isNaN(w.minDetectable))
    return `${partName(c)}: power cannot be stated with ${c.n} matched seed(s).`
  const spread = `With ${c.n} seeds and a seed-difference sd of ${(100 * c.sd).toFixed(2)} pp${c.sd > c.sdObserved ? ' (floored at one test image)' : ''}`
  const lvl = `at the per-test level ${w.level.toPrecision(2)}`
  const what =
    c.kind === 'improves'
      ? `${partName(c)} detects a difference of ${(100 * w.minDetectable).toFixed(2)} pp with 80% power ${lvl}`
      : c.kind === 'not-worse'
        ? `${partName(c)} shows "not worse than −${(100 * margin).toFixed(2)} pp" with 80% power only when the true difference is at least ${ppText(w.minDetectable)} ${lvl}`
        : `${partName(c)} shows equivalence with 80% power at a true difference of 0 only within ±${(100 * w.minDetectable).toFixed(2)} pp ${lvl} (the plan's margin: ±${(100 * margin).toFixed(2)} pp)`
  if (w.paperEffect === null || w.powerAtPaper === null) return `${spread}, ${what}.`
  const seeds = w.seedsForPaper === null ? 'more than 100 seeds' : `${w.seedsForPaper} seeds`
  return `${spread}, ${what}; at the paper's ${ppText(w.paperEffect)} (CIFAR-100) its power was ${w.powerAtPaper.toFixed(2)}, and 80% would need ${seeds}.`
}
