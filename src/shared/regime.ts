/**
 * The regime a reproduction study ran in, as its report states it: the number of classes K, which
 * hyperparameters (K-matched or the repository's, tuned at K = 100), what they amount to at K (the
 * effective KD weight, Tf-KD reg's smoothing and gradient scale), the epochs, and whether the baseline
 * had converged. Built by core/report/regime.ts; TF-free so the Report view reads the same data.
 */
import { shortParams } from './appendix'
import { REFERENCE_CLASSES } from './k-dependence'
import type { VariantId } from './types'

/** Which form a variant's KL multiplier has at K classes. */
export type HyperparameterForm = 'k-matched' | 'repository' | 'custom'

export interface RegimeVariant {
  variant: VariantId
  /** The hyperparameters its students ran with (the first completed student's). */
  params: Record<string, unknown>
  /** Null for variants without a KL weight (baseline, lsr). */
  form: HyperparameterForm | null
  /** Per-sample weight of the distillation term at K (null: none). */
  weight: number | null
  /** The same weight with the repository's values at K = 100 (what K-matching keeps). */
  weightAt100: number | null
  /** The label-smoothing eps it amounts to (lsr: eps; tfkd-reg: effective eps; else null). */
  smoothing: number | null
  /** Tf-KD reg: the gradient scale 1 - alpha + w (plain cross-entropy: 1). */
  gradientScale: number | null
}

/** Whether the baseline students had converged: validation accuracy over their last epochs. */
export interface Convergence {
  status: 'converged' | 'unconverged' | 'unknown'
  /** Epochs of the baseline students. */
  epochs: number
  /** The window: from this epoch to the last (the last 10% of epochs, at least one step). */
  from: number
  /** Rise of the mean (over seeds) validation accuracy over the window, as a fraction. */
  rise: number
  /** Seeds whose validation accuracy rose over the window, of `seeds`. */
  rising: number
  seeds: number
  /** A rise above this (fraction) is "unconverged". */
  tolerance: number
}

export interface StudyRegime {
  classes: number
  /** What the study asked for (null: not a `tfkd reproduce` study). */
  requested: 'k-matched' | 'repository' | null
  /** What its runs used: one form for every KL variant, or 'mixed'. */
  hyperparameters: HyperparameterForm | 'mixed'
  variants: RegimeVariant[]
  epochs: { students: number[]; teachers: { model: string; epochs: number }[] }
  convergence: Convergence
  /** verdictsAllowed(scale): false at the smoke scale. */
  verdicts: boolean
}

/** A validation rise above 0.2 pp over the last epochs flags the baseline unconverged. */
export const CONVERGENCE_TOLERANCE = 0.002

const n2 = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(2))
const spp = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)} pp`

/** In words: the hyperparameters the study ran. */
export function hyperparameterSentence(r: StudyRegime): string {
  const k = r.classes
  const what: Record<StudyRegime['hyperparameters'], string> = {
    'k-matched': `K-matched (KL multiplier m = K / 100 = ${(k / REFERENCE_CLASSES).toPrecision(3)}, so the distillation weights are the repository's at K = 100)`,
    repository:
      k === REFERENCE_CLASSES
        ? "the repository's values (at K = 100 the K-matched values are the same)"
        : `the repository's values, tuned at K = 100, used as they are at K = ${k} (the distillation weights are ${(REFERENCE_CLASSES / k).toPrecision(3)}x theirs at K = 100)`,
    custom: 'custom multipliers (neither the repository form nor K-matched)',
    mixed:
      'MIXED: some variants ran K-matched values and others the repository form, so their weights differ',
  }
  const asked = r.requested ? `; the study asked for ${r.requested}` : ''
  return `K = ${k} classes; hyperparameters: ${what[r.hyperparameters]}${asked}.`
}

/** In words: the effective KD weight of each distilling variant, and the repository's at K = 100. */
export function weightSentence(r: StudyRegime): string | null {
  const kd = r.variants.filter((v) => v.weight !== null && v.variant !== 'tfkd-reg')
  if (!kd.length) return null
  return (
    `Effective KD weight w = alpha T^2 m / K: ${kd.map((v) => `${v.variant} ${n2(v.weight)}`).join(', ')} ` +
    `(the repository's values at K = 100: ${kd.map((v) => n2(v.weightAt100)).join(', ')}).`
  )
}

/** In words: what Tf-KD reg amounts to. */
export function regSentence(r: StudyRegime): string | null {
  const reg = r.variants.find((v) => v.variant === 'tfkd-reg')
  if (!reg || reg.smoothing === null) return null
  const lsr = r.variants.find((v) => v.variant === 'lsr')
  return (
    `Tf-KD reg acts as label smoothing with eps = ${n2(reg.smoothing)} at ${n2(reg.gradientScale)}x the gradient ` +
    `of cross-entropy (1 - alpha + w, w = ${n2(reg.weight)})${lsr ? `; LSR uses eps = ${n2(lsr.smoothing)}` : ''}.`
  )
}

/** In words: whether the baseline had converged. */
export function convergenceSentence(c: Convergence): string {
  if (c.status === 'unknown')
    return `Baseline convergence: unknown (${c.seeds ? `${c.epochs} epoch(s) with validation accuracy` : 'no baseline validation curve'}).`
  const how =
    `its validation accuracy (mean over ${c.seeds} seeds) changed by ${spp(c.rise)} from epoch ${c.from} to ${c.epochs} ` +
    `(rising in ${c.rising} of ${c.seeds} seeds; a rise above ${spp(c.tolerance)} over the last 10% of epochs counts as still rising)`
  return c.status === 'unconverged'
    ? `Baseline UNCONVERGED: ${how}. Differences may change with longer training: read a negative result as "not reproduced in this regime".`
    : `Baseline converged: ${how}.`
}

/** The regime's statements, one per line. */
export function regimeSentences(r: StudyRegime): string[] {
  const teachers = r.epochs.teachers.map((t) => `${t.model} ${t.epochs}`).join(', ')
  return [
    hyperparameterSentence(r),
    ...[weightSentence(r), regSentence(r)].filter((x): x is string => x !== null),
    `Epochs: students ${r.epochs.students.join('/') || '-'}${teachers ? `; teachers ${teachers}` : ''}.`,
    convergenceSentence(r.convergence),
    ...(r.verdicts
      ? []
      : ['Smoke scale: a pipeline check of minutes on 2,000 images; no verdicts are given.']),
  ]
}

/** One row per variant: form, effective KD weight (and at K = 100), smoothing, gradient scale. */
export function regimeRows(r: StudyRegime): string[][] {
  return r.variants.map((v) => [
    v.variant,
    shortParams(v.params),
    v.form ?? '-',
    v.weight === null ? '-' : `${n2(v.weight)} (K = 100: ${n2(v.weightAt100)})`,
    n2(v.smoothing),
    n2(v.gradientScale),
  ])
}

export const REGIME_HEAD = [
  'variant',
  'hyperparameters',
  'form',
  'KD weight w',
  'smoothing eps',
  'gradient scale',
]
