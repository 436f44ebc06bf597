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
 *
 * Which of these a variant is, and which of its hyperparameters are the weight, temperature,
 * multiplier and reduction, is declared in the variant registry (`kDependence` in variants.ts); the
 * functions here read that declaration (or a table a test passes), never a variant id.
 */
import {
  VARIANT_K_DEPENDENCE,
  VARIANTS,
  isVariantId,
  type KDependence,
  type KDependenceTable,
} from './variants'

/** The K at which the repository's (Tf-KD) values were tuned: CIFAR-100. */
export const REFERENCE_CLASSES = 100

/** A variant's hyperparameters as K-matching reads them: keys are the variant's own (see KDependence). */
export type KParams = Readonly<Record<string, unknown>>

const NONE: KDependence = { kind: 'none', why: 'not a registered variant' }

/** The declared K-dependence of `variant` in `table` (the registry's by default; `none` for an unknown id). */
export function kDependenceOf(variant: string, table: KDependenceTable = VARIANT_K_DEPENDENCE): KDependence {
  return Object.hasOwn(table, variant) ? table[variant]! : NONE
}

const num = (p: KParams, key: string | null, fallback: number): number => {
  const x = key === null ? undefined : p[key]
  return typeof x === 'number' ? x : fallback
}
const str = (p: KParams, key: string): string | undefined => (typeof p[key] === 'string' ? p[key] : undefined)
const perClass = (reduction: string | undefined, k: number) => (reduction === 'batchmean' ? 1 : 1 / k)

/** The per-sample weight of the distillation (KL) term, or null for variants without a K-dependent one. */
export function effectiveDistillWeight(
  variant: string,
  p: KParams,
  k: number,
  table: KDependenceTable = VARIANT_K_DEPENDENCE,
): number | null {
  const d = kDependenceOf(variant, table)
  if (d.kind !== 'kd-weight') return null
  const t = num(p, d.temperature, 1)
  const t2 = d.temperature === null ? 1 : t * t
  return num(p, d.weight, 0) * t2 * num(p, d.multiplier, 1) * perClass(str(p, d.reduction), k)
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
 * not a smoothing (kd-like variants, a virtual teacher with a softened student) or has none (0: no
 * distillation term and no smoothing, e.g. the baseline).
 */
export function effectiveSmoothing(
  variant: string,
  p: KParams,
  k: number,
  table: KDependenceTable = VARIANT_K_DEPENDENCE,
): number | null {
  const d = kDependenceOf(variant, table)
  if (d.kind === 'smoothing') return num(p, d.epsilon, 0.1)
  // No K-dependent term: a variant without a teacher is plain CE (no smoothing); one with a teacher
  // (dkd, dist) is not a smoothing.
  if (d.kind === 'none') return isVariantId(variant) && VARIANTS[variant].teacher === 'none' ? 0 : null
  const vt = d.virtualTeacher
  if (!vt || str(p, vt.studentSoftening) === 'tau') return null
  const alpha = num(p, d.weight, 0)
  const w = effectiveDistillWeight(variant, p, k, table)!
  const vTrue = virtualTeacherTrueProb(num(p, vt.correctProb, 0.99), num(p, vt.temperature, 1), k)
  const denom = 1 - alpha + w
  return denom > 0 ? (w * (1 - vTrue)) / denom : null
}

/** Whether a variant has a multiplier that K-matching rescales. */
export function hasKWeight(variant: string, table: KDependenceTable = VARIANT_K_DEPENDENCE): boolean {
  return kDependenceOf(variant, table).kind === 'kd-weight'
}

/** The K at which a variant's defaults were tuned (REFERENCE_CLASSES unless it declares another). */
export function tunedAtK(variant: string, table: KDependenceTable = VARIANT_K_DEPENDENCE): number {
  const d = kDependenceOf(variant, table)
  return d.kind === 'kd-weight' ? d.tunedAtK : REFERENCE_CLASSES
}

/**
 * K-matched hyperparameters (the defaults per K): the declared multiplier scaled by K / tunedAtK, so
 * the per-sample weights equal those at the K the values were tuned for. Repository-form params
 * (batchmean, or variants without a K-dependent term) are returned unchanged.
 */
export function kMatchedParams<P extends KParams>(
  variant: string,
  p: P,
  k: number,
  table: KDependenceTable = VARIANT_K_DEPENDENCE,
): P {
  const d = kDependenceOf(variant, table)
  if (d.kind !== 'kd-weight' || str(p, d.reduction) === 'batchmean') return p
  return { ...p, [d.multiplier]: num(p, d.multiplier, 1) * (k / d.tunedAtK) }
}

/** Effective weight and smoothing at K and at the K the defaults were tuned for, for the picker. */
export function describeK(
  variant: string,
  p: KParams,
  k: number,
  table: KDependenceTable = VARIANT_K_DEPENDENCE,
) {
  const ref = tunedAtK(variant, table)
  return {
    weight: effectiveDistillWeight(variant, p, k, table),
    weightAt100: effectiveDistillWeight(variant, p, ref, table),
    smoothing: effectiveSmoothing(variant, p, k, table),
    smoothingAt100: effectiveSmoothing(variant, p, ref, table),
    tunedAtK: ref,
  }
}

const shortName = (v: string) => (isVariantId(v) ? VARIANTS[v].short : v)

/**
 * Warnings for a comparison whose runs use very different effective strengths: a virtual teacher vs
 * label smoothing more than 2x apart, or repository-form and K-matched weights mixed among the
 * KD-style variants.
 */
export function kDependenceWarnings(
  runs: readonly { variant: string; variantParams: KParams }[],
  k: number,
  table: KDependenceTable = VARIANT_K_DEPENDENCE,
): string[] {
  const out: string[] = []
  const dep = (v: string) => kDependenceOf(v, table)
  const reg = runs.find((r) => {
    const d = dep(r.variant)
    return d.kind === 'kd-weight' && d.virtualTeacher !== undefined
  })
  const lsr = runs.find((r) => dep(r.variant).kind === 'smoothing')
  if (reg && lsr) {
    const a = effectiveSmoothing(reg.variant, reg.variantParams, k, table)
    const b = effectiveSmoothing(lsr.variant, lsr.variantParams, k, table)
    const [ra, rb] = [shortName(reg.variant), shortName(lsr.variant)]
    if (a !== null && b !== null && b > 0 && (a / b > 2 || b / a > 2)) {
      out.push(
        `at K = ${k}, ${ra} acts as label smoothing with eps = ${a.toFixed(2)} while ${rb} uses eps = ${b.toFixed(2)}: ` +
          `"${ra} vs ${rb}" compares very different smoothing strengths (the repository's values were tuned at K = 100; K-matched values keep its weights)`,
      )
    }
  }
  const scaled = new Set(
    runs.flatMap((r) => {
      const d = dep(r.variant)
      if (d.kind !== 'kd-weight' || str(r.variantParams, d.reduction) === 'batchmean') return []
      return [num(r.variantParams, d.multiplier, 1) === 1 ? 'repository' : 'scaled']
    }),
  )
  if (scaled.size > 1 && k !== REFERENCE_CLASSES) {
    out.push(
      `the compared variants mix the repository's multipliers with rescaled (K-matched) ones: their distillation weights differ by about K / 100 = ${(k / REFERENCE_CLASSES).toFixed(2)}x`,
    )
  }
  return out
}

/** Which values a variant's form holds: the repository's, the K-matched ones, or the user's own. */
export type KMode = 'repository' | 'k-matched' | 'custom'

export function kMode(
  variant: string,
  p: KParams,
  defaults: KParams,
  k: number,
  table: KDependenceTable = VARIANT_K_DEPENDENCE,
): KMode {
  const d = kDependenceOf(variant, table)
  const multiplier = d.kind === 'kd-weight' ? d.multiplier : null
  const keys = new Set([...Object.keys(defaults), ...Object.keys(p)])
  if ([...keys].some((key) => key !== multiplier && p[key] !== undefined && p[key] !== defaults[key]))
    return 'custom'
  if (multiplier === null) return 'repository'
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b))
  const m = num(p, multiplier, 1)
  if (same(m, num(defaults, multiplier, 1))) return 'repository'
  if (same(m, num(kMatchedParams(variant, defaults, k, table), multiplier, 1))) return 'k-matched'
  return 'custom'
}

/**
 * The effective weight (or smoothing) at K against the repository's own values at K = 100 (what the
 * paper's numbers were tuned as), in words: "the same as", "10x stronger than", "3.2x weaker than".
 */
export function versusRepository(value: number | null, reference: number | null): string {
  if (value === null || reference === null || !(reference > 0)) return ''
  const r = value / reference
  if (Math.abs(r - 1) < 0.02) return 'the same as'
  const x = r > 1 ? r : 1 / r
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}× ${r > 1 ? 'stronger' : 'weaker'} than`
}

/**
 * A plan's variant params with K-matched multipliers (m = K / 100) for every variant with a KL weight
 * that sets no multiplier of its own; a multiplier given explicitly, and `batchmean`, are left as
 * they are. Used by the planner for studies that ask for K-matched values.
 */
export function kMatchedVariantParams<V extends string>(
  variants: readonly V[],
  params: Partial<Record<V, Record<string, unknown>>>,
  k: number,
  table: KDependenceTable = VARIANT_K_DEPENDENCE,
): Partial<Record<V, Record<string, unknown>>> {
  const out = { ...params }
  for (const v of variants) {
    const d = kDependenceOf(v, table)
    const p = params[v] ?? {}
    if (d.kind !== 'kd-weight' || p[d.multiplier] !== undefined) continue
    out[v] = kMatchedParams(v, p, k, table)
  }
  return out
}

/**
 * Tf-KD reg's gradient scale: its loss has the gradient of (1 - alpha + w) times cross-entropy
 * against the smoothed target (w = alpha * m / K), against 1 for plain cross-entropy.
 */
export function regGradientScale(
  p: KParams,
  k: number,
  variant = 'tfkd-reg',
  table: KDependenceTable = VARIANT_K_DEPENDENCE,
): number {
  const d = kDependenceOf(variant, table)
  const alpha = d.kind === 'kd-weight' ? num(p, d.weight, 0) : 0
  return 1 - alpha + (effectiveDistillWeight(variant, p, k, table) ?? 0)
}
