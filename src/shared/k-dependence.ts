/**
 * How the repository's hyperparameters depend on the number of classes K. Its KL terms use PyTorch's
 * `elementwise_mean` reduction (divided by N*K), and its alpha / T / multiplier were tuned at K = 100,
 * so at another K the same numbers mean a different loss:
 *
 * - KD (kd, re-kd, de-kd, tfkd-self): per-sample weight of the KL term against the CE term
 *   w = alpha * T^2 * m / K (elementwise_mean) or alpha * T^2 * m (batchmean). At K = 10 the repository's
 *   0.95 / 20 / 1 gives 38 instead of 3.8.
 * - Tf-KD reg (studentTemperature 'one'): the loss (1 - alpha) CE + w KL(v || softmax(z)), w = alpha * m / K,
 *   has the gradient of cross-entropy against the target ((1 - alpha) q + w v) / (1 - alpha + w), i.e. it
 *   is label smoothing with eps = w (1 - v_true) / (1 - alpha + w) (the smoothed mass off the label).
 * - LSR: eps itself, at any K.
 *
 * K-matched values keep the weights of K = 100: multiplier m' = m * K / 100 (elementwise_mean only).
 */
import type { VariantId } from './types'

export const REFERENCE_CLASSES = 100

export interface KParams {
  alpha?: number
  temperature?: number
  multiplier?: number
  reduction?: string
  correctProb?: number
  studentTemperature?: string
  epsilon?: number
}

const perClass = (reduction: string | undefined, k: number) => (reduction === 'batchmean' ? 1 : 1 / k)

/** The per-sample weight of the distillation (KL) term, or null for variants without one. */
export function effectiveDistillWeight(variant: VariantId, p: KParams, k: number): number | null {
  const alpha = p.alpha ?? 0
  const m = p.multiplier ?? 1
  switch (variant) {
    case 'kd':
    case 're-kd':
    case 'de-kd':
    case 'tfkd-self': {
      const t = p.temperature ?? 1
      return alpha * t * t * m * perClass(p.reduction, k)
    }
    case 'tfkd-reg':
      return alpha * m * perClass(p.reduction, k)
    default:
      return null
  }
}

/** The virtual teacher's probability on the true class: softmax(p_d / T)[y]. */
export function virtualTeacherTrueProb(correctProb: number, temperature: number, k: number): number {
  const off = (1 - correctProb) / (k - 1)
  const eTrue = Math.exp(correctProb / temperature)
  const eOff = Math.exp(off / temperature)
  return eTrue / (eTrue + (k - 1) * eOff)
}

/**
 * The label-smoothing strength eps (mass off the true class) a variant amounts to, or null when it is
 * not a smoothing (kd-like variants, tfkd-reg with a softened student) or has none (baseline: 0).
 */
export function effectiveSmoothing(variant: VariantId, p: KParams, k: number): number | null {
  if (variant === 'baseline') return 0
  if (variant === 'lsr') return p.epsilon ?? 0.1
  if (variant !== 'tfkd-reg' || p.studentTemperature === 'tau') return null
  const alpha = p.alpha ?? 0
  const w = effectiveDistillWeight('tfkd-reg', p, k)!
  const vTrue = virtualTeacherTrueProb(p.correctProb ?? 0.99, p.temperature ?? 1, k)
  const denom = 1 - alpha + w
  return denom > 0 ? (w * (1 - vTrue)) / denom : null
}

/** Whether a variant has a multiplier that K-matching rescales. */
export function hasKWeight(variant: VariantId): boolean {
  return ['kd', 're-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'].includes(variant)
}

/**
 * K-matched hyperparameters: the multiplier scaled by K / 100, so the per-sample weights equal the
 * repository's at K = 100. Repository-form params (batchmean, or variants without a KL term) are
 * returned unchanged.
 */
export function kMatchedParams<P extends KParams>(variant: VariantId, p: P, k: number): P {
  if (!hasKWeight(variant) || p.reduction === 'batchmean') return p
  return { ...p, multiplier: (p.multiplier ?? 1) * (k / REFERENCE_CLASSES) }
}

/** Effective weight and smoothing at K and at the repository's K = 100, for the picker. */
export function describeK(variant: VariantId, p: KParams, k: number) {
  return {
    weight: effectiveDistillWeight(variant, p, k),
    weightAt100: effectiveDistillWeight(variant, p, REFERENCE_CLASSES),
    smoothing: effectiveSmoothing(variant, p, k),
    smoothingAt100: effectiveSmoothing(variant, p, REFERENCE_CLASSES),
  }
}

/**
 * Warnings for a comparison whose runs use very different effective strengths: Tf-KD reg vs LSR
 * smoothing more than 2x apart, or repository-form and K-matched weights mixed among the KD variants.
 */
export function kDependenceWarnings(
  runs: readonly { variant: VariantId; variantParams: KParams }[],
  k: number,
): string[] {
  const out: string[] = []
  const first = (v: VariantId) => runs.find((r) => r.variant === v)?.variantParams
  const reg = first('tfkd-reg')
  const lsr = first('lsr')
  if (reg && lsr) {
    const a = effectiveSmoothing('tfkd-reg', reg, k)
    const b = effectiveSmoothing('lsr', lsr, k)
    if (a !== null && b !== null && b > 0 && (a / b > 2 || b / a > 2)) {
      out.push(
        `at K = ${k}, Tf-KD reg acts as label smoothing with eps = ${a.toFixed(2)} while LSR uses eps = ${b.toFixed(2)}: ` +
          `"Tf-KD reg vs LSR" compares very different smoothing strengths (the repository's values were tuned at K = 100; K-matched values keep its weights)`,
      )
    }
  }
  const scaled = new Set(
    runs
      .filter((r) => hasKWeight(r.variant) && r.variantParams.reduction !== 'batchmean')
      .map((r) => ((r.variantParams.multiplier ?? 1) === 1 ? 'repository' : 'scaled')),
  )
  if (scaled.size > 1 && k !== REFERENCE_CLASSES) {
    out.push(
      `the compared variants mix the repository's multipliers with rescaled (K-matched) ones: their distillation weights differ by about K / 100 = ${(k / REFERENCE_CLASSES).toFixed(2)}x`,
    )
  }
  return out
}

/**
 * A plan's variant params with K-matched multipliers (m = K / 100) for every variant with a KL weight
 * that sets no multiplier of its own; a multiplier given explicitly, and `batchmean`, are left as
 * they are. Used by the planner for studies that ask for K-matched values.
 */
export function kMatchedVariantParams(
  variants: readonly VariantId[],
  params: Partial<Record<VariantId, Record<string, unknown>>>,
  k: number,
): Partial<Record<VariantId, Record<string, unknown>>> {
  const out = { ...params }
  for (const v of variants) {
    const p = params[v] ?? {}
    if (!hasKWeight(v) || p.multiplier !== undefined) continue
    out[v] = kMatchedParams(v, p as KParams & Record<string, unknown>, k)
  }
  return out
}

/**
 * Tf-KD reg's gradient scale: its loss has the gradient of (1 - alpha + w) times cross-entropy
 * against the smoothed target (w = alpha * m / K), against 1 for plain cross-entropy.
 */
export function regGradientScale(p: KParams, k: number): number {
  return 1 - (p.alpha ?? 0) + effectiveDistillWeight('tfkd-reg', p, k)!
}
