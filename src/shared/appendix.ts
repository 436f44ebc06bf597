/**
 * The report's appendix, as data: per variant the students' mean ± sd with the hyperparameters they
 * ran (and whether K-matched), each variant's effect against the baseline with its interval and d_z
 * with its interval, and the per-class effects. Built by core/report/appendix.ts; TF-free so the
 * Report view shows the same tables. Accuracies and effects are fractions.
 */
import type { HyperparameterForm } from './regime'
import type { VariantId } from './types'

/** How the paper's numbers must be read beside ours. */
export const PAPER_LABEL =
  "the paper's numbers: CIFAR-100 top-1 %, other architectures (ResNet18, MobileNetV2, ShuffleNetV2, ResNeXt29), best epoch selected on test"

export interface AppendixVariant {
  variant: VariantId
  /** Seeds with a completed student. */
  n: number
  mean: number
  /** Sample sd over seeds (NaN below 2). */
  sd: number
  /** The hyperparameters, short (e.g. "alpha 0.95, T 20, m 0.1"). */
  hyperparameters: string
  form: HyperparameterForm | null
}

export interface AppendixEffect {
  variant: VariantId
  reference: VariantId
  /** Matched seeds. */
  n: number
  /** Mean paired difference. */
  delta: number
  /** Its 95% t-interval (unadjusted). */
  ci: [number, number]
  dz: number
  /** 95% interval of d_z (noncentral t), NaN where undefined. */
  dzCi: [number, number]
}

export interface AppendixPerClass {
  classes: string[]
  /** Per variant: mean over matched seeds of (variant - baseline) per-class accuracy. */
  rows: { variant: VariantId; deltas: number[] }[]
}

export interface ReportAppendix {
  variants: AppendixVariant[]
  effects: AppendixEffect[]
  perClass: AppendixPerClass | null
}

const short: Record<string, string> = {
  alpha: 'alpha',
  temperature: 'T',
  multiplier: 'm',
  epsilon: 'eps',
  correctProb: 'a',
  studentTemperature: 'student T',
  reduction: 'KL',
}

/** A variant's hyperparameters in a few characters (reduction only when not the repository's). */
export function shortParams(p: Record<string, unknown>): string {
  return (
    Object.entries(p)
      .filter(([k, v]) => !(k === 'reduction' && v === 'elementwise_mean'))
      .filter(([k, v]) => !(k === 'studentTemperature' && v === 'one'))
      .map(([k, v]) => `${short[k] ?? k} ${typeof v === 'number' ? Number(v.toPrecision(4)) : String(v)}`)
      .join(', ') || '-'
  )
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(2) : '-')
const spp = (x: number) => (Number.isFinite(x) ? `${x > 0 ? '+' : ''}${(100 * x).toFixed(2)}` : '-')
const n2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-')

/** Rows of the per-variant table: variant, hyperparameters, form, n, mean ± sd (%), Δ [CI] (pp), d_z [CI]. */
export const APPENDIX_HEAD = [
  'variant',
  'hyperparameters',
  'K-form',
  'n',
  'accuracy % (mean ± sd)',
  'Δ vs baseline, pp [95% CI]',
  'd_z [95% CI]',
]

export function appendixRows(a: ReportAppendix): string[][] {
  return a.variants.map((v) => {
    const e = a.effects.find((x) => x.variant === v.variant)
    return [
      v.variant,
      v.hyperparameters,
      v.form ?? '-',
      String(v.n),
      `${pct(v.mean)} ± ${pct(v.sd)}`,
      e ? `${spp(e.delta)} [${spp(e.ci[0])}, ${spp(e.ci[1])}]` : '-',
      e ? `${n2(e.dz)} [${n2(e.dzCi[0])}, ${n2(e.dzCi[1])}]` : '-',
    ]
  })
}

/** The per-class table's head: class, then one column per variant. */
export function perClassHead(p: AppendixPerClass): string[] {
  return ['class', ...p.rows.map((r) => r.variant)]
}

/** The per-class table: one row per class (K can be 100), one column per variant, Δ in pp. */
export function perClassRows(p: AppendixPerClass): string[][] {
  return p.classes.map((c, i) => [c, ...p.rows.map((r) => spp(r.deltas[i] ?? NaN))])
}
