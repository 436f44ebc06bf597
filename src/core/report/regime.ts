/**
 * The study's regime, measured from its runs (see shared/regime.ts): K, the hyperparameters each
 * variant's students ran with and what they amount to at K, the epochs of students and teachers, and
 * whether the baseline had converged; rendered as a report section (Markdown, HTML, LaTeX comments).
 */
import {
  effectiveDistillWeight,
  effectiveSmoothing,
  hasKWeight,
  REFERENCE_CLASSES,
  regGradientScale,
  type KParams,
} from '../../shared/k-dependence'
import {
  CONVERGENCE_TOLERANCE,
  REGIME_HEAD,
  hyperparameterSentence,
  regimeRows,
  regimeSentences,
  regSentence,
  weightSentence,
  type Convergence,
  type HyperparameterForm,
  type RegimeVariant,
  type StudyRegime,
} from '../../shared/regime'
import { verdictsAllowed, type ReproduceScale } from '../../shared/reproduce'
import type { RunDetail, VariantId } from '../../shared/types'
import { VARIANTS } from '../../shared/variants'
import type { Store } from '../store/store'

/** The form of a KL multiplier at K: K-matched (m = K / 100), the repository's (m = 1), or other. */
export function hyperparameterForm(p: KParams, k: number): HyperparameterForm {
  if (p.reduction === 'batchmean') return 'custom'
  const m = typeof p.multiplier === 'number' ? p.multiplier : 1
  if (Math.abs(m - 1) < 1e-9) return 'repository'
  return Math.abs(m - k / REFERENCE_CLASSES) < 1e-9 ? 'k-matched' : 'custom'
}

/** The repository's values of a variant (its defaults, m = 1) at K = 100: what K-matching keeps. */
function repositoryWeightAt100(variant: VariantId, p: KParams): number | null {
  return effectiveDistillWeight(variant, { ...p, multiplier: 1 }, REFERENCE_CLASSES)
}

function regimeVariant(variant: VariantId, params: Record<string, unknown>, k: number): RegimeVariant {
  const p = params as KParams
  return {
    variant,
    params,
    form: hasKWeight(variant) ? hyperparameterForm(p, k) : null,
    weight: effectiveDistillWeight(variant, p, k),
    weightAt100: repositoryWeightAt100(variant, p),
    smoothing: effectiveSmoothing(variant, p, k),
    gradientScale: variant === 'tfkd-reg' && p.studentTemperature !== 'tau' ? regGradientScale(p, k) : null,
  }
}

/**
 * Whether the baseline's validation accuracy was still rising: over the last 10% of its epochs (at
 * least the last step), the mean over seeds rose by more than CONVERGENCE_TOLERANCE.
 */
export function baselineConvergence(baselines: readonly RunDetail[]): Convergence {
  const curves = baselines
    .map((d) => d.metrics.filter((m) => Number.isFinite(m.valAccuracy)))
    .filter((ms) => ms.length > 0)
  const epochs = Math.min(...curves.map((ms) => ms.at(-1)!.epoch))
  const window = Math.max(1, Math.ceil(epochs / 10))
  const from = epochs - window
  const unknown: Convergence = {
    status: 'unknown',
    epochs: Number.isFinite(epochs) ? epochs : 0,
    from: Math.max(from, 0),
    rise: NaN,
    rising: 0,
    seeds: curves.length,
    tolerance: CONVERGENCE_TOLERANCE,
  }
  if (!curves.length || from < 1) return unknown
  const rises = curves.flatMap((ms) => {
    const a = ms.find((m) => m.epoch === from)
    const b = ms.find((m) => m.epoch === epochs)
    return a && b ? [b.valAccuracy - a.valAccuracy] : []
  })
  if (!rises.length) return unknown
  const rise = rises.reduce((s, x) => s + x, 0) / rises.length
  return {
    ...unknown,
    status: rise > CONVERGENCE_TOLERANCE ? 'unconverged' : 'converged',
    rise,
    rising: rises.filter((x) => x > 0).length,
    seeds: rises.length,
  }
}

/** The regime of an experiment's completed runs at K classes. */
export function studyRegime(
  store: Store,
  runs: readonly { id: number; role: string; status: string; variant: VariantId }[],
  k: number,
  study: { scale: ReproduceScale; hyperparameters?: 'k-matched' | 'repository' } | null,
): StudyRegime {
  const done = runs.filter((r) => r.status === 'completed')
  const details = done.flatMap((r) => {
    const d = store.runs.detail(r.id)
    return d ? [{ role: r.role, d }] : []
  })
  const students = details.filter((x) => x.role === 'student').map((x) => x.d)
  const variants: RegimeVariant[] = []
  const forms = new Set<string>()
  for (const v of Object.keys(VARIANTS) as VariantId[]) {
    const of = students.filter((d) => d.variant === v)
    if (!of.length) continue
    for (const d of of) {
      if (hasKWeight(v)) forms.add(hyperparameterForm(d.config.variantParams as KParams, k))
    }
    variants.push(regimeVariant(v, of[0]!.config.variantParams as Record<string, unknown>, k))
  }
  const teachers = new Map<string, number>()
  for (const x of details.filter((y) => y.role === 'teacher'))
    teachers.set(`${x.d.model}:${x.d.config.epochs}`, x.d.config.epochs)
  return {
    classes: k,
    // Studies planned before the choice was recorded ran the repository's values.
    requested: study ? (study.hyperparameters ?? 'repository') : null,
    hyperparameters:
      forms.size > 1 ? 'mixed' : ((forms.values().next().value as HyperparameterForm) ?? 'repository'),
    variants,
    epochs: {
      students: [...new Set(students.map((d) => d.config.epochs))].sort((a, b) => a - b),
      teachers: [...teachers].map(([key, epochs]) => ({ model: key.split(':')[0]!, epochs })),
    },
    convergence: baselineConvergence(students.filter((d) => d.variant === 'baseline')),
    verdicts: verdictsAllowed(study?.scale),
  }
}

export function regimeMarkdown(r: StudyRegime | null): string[] {
  if (!r) return []
  const L = ['## Regime', '']
  for (const s of regimeSentences(r)) L.push(`- ${s}`)
  L.push('', `| ${REGIME_HEAD.join(' | ')} |`, `| ${REGIME_HEAD.map(() => '---').join(' | ')} |`)
  for (const row of regimeRows(r)) L.push(`| ${row.join(' | ')} |`)
  L.push('')
  return L
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

export function regimeHtml(r: StudyRegime | null): string {
  if (!r) return ''
  const items = regimeSentences(r)
    .map((s) => `<li${/UNCONVERGED|MIXED/.test(s) ? ' class="warn"' : ''}>${esc(s)}</li>`)
    .join('')
  const body = regimeRows(r)
    .map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')
  return `<h2>Regime</h2><ul id="regime">${items}</ul><table id="regime-table"><tr>${REGIME_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${body}</table>`
}

/**
 * Before a study runs: what its planned hyperparameters amount to at K (the first planned student of
 * each variant), in the words the report will use, with a warning for the repository's values at
 * K != 100.
 */
export function plannedRegimeLines(
  k: number,
  requested: 'k-matched' | 'repository',
  configs: readonly { variant: VariantId; variantParams: Record<string, unknown> }[],
): string[] {
  const variants = (Object.keys(VARIANTS) as VariantId[]).flatMap((v) => {
    const c = configs.find((x) => x.variant === v)
    return c ? [regimeVariant(v, c.variantParams, k)] : []
  })
  const forms = new Set(variants.map((v) => v.form).filter((f) => f !== null))
  const r: StudyRegime = {
    classes: k,
    requested,
    hyperparameters: forms.size > 1 ? 'mixed' : ([...forms][0] ?? 'repository'),
    variants,
    epochs: { students: [], teachers: [] },
    convergence: baselineConvergence([]),
    verdicts: true,
  }
  const warn =
    requested === 'repository' && k !== REFERENCE_CLASSES
      ? [
          `warning: the repository's values were tuned at K = 100; at K = ${k} they are a different loss (drop --hyperparameters repository for K-matched values)`,
        ]
      : []
  return [
    hyperparameterSentence(r),
    ...[weightSentence(r), regSentence(r)].filter((x): x is string => x !== null),
    ...warn,
  ]
}
