/**
 * The report's appendix (see shared/appendix.ts), built from an experiment's completed students, and
 * rendered as Markdown, HTML and a LaTeX table that fits a page (booktabs, \small, six columns).
 */
import {
  APPENDIX_HEAD,
  appendixRows,
  PAPER_LABEL,
  perClassHead,
  perClassRows,
  shortParams,
  type AppendixEffect,
  type AppendixVariant,
  type ReportAppendix,
} from '../../shared/appendix'
import { escapeLatex } from '../../shared/comparison'
import type { KParams } from '../../shared/k-dependence'
import { effectSizeInterval } from '../../shared/power'
import type { ReproReport } from '../../shared/reproduce'
import { selectionTitle } from '../../shared/selection'
import type { RunDetail, VariantId } from '../../shared/types'
import { VARIANTS } from '../../shared/variants'
import { roundTo } from '../analysis/compare'
import { mean, pairedTTest, sampleStd } from '../analysis/stats'
import type { Store } from '../store/store'
import { hyperparameterForm } from './regime'

/** Per seed, the mean of a variant's students (several de-kd snapshots of a seed are averaged). */
function bySeed(students: readonly RunDetail[], v: VariantId, pick: (d: RunDetail) => number[]) {
  const m = new Map<number, number[][]>()
  for (const d of students.filter((x) => x.variant === v)) m.set(d.seed, [...(m.get(d.seed) ?? []), pick(d)])
  return new Map(
    [...m].map(([seed, xs]) => [seed, xs[0]!.map((_, i) => mean(xs.map((x) => x[i] ?? NaN)))] as const),
  )
}

function effect(
  students: readonly RunDetail[],
  variant: VariantId,
  resolution: number,
): AppendixEffect | null {
  const acc = (d: RunDetail) => [d.result!.best.accuracy]
  const a = bySeed(students, variant, acc)
  const b = bySeed(students, 'baseline', acc)
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y)
  if (!seeds.length) return null
  const refs = seeds.map((s) => b.get(s)![0]!)
  const vars = seeds.map((s, i) => refs[i]! + roundTo(a.get(s)![0]! - refs[i]!, resolution))
  const t = pairedTTest(vars, refs)
  // The sd of the differences is floored at the metric's resolution (float noise in rounded
  // differences is not a spread); the d_z interval is computed where |t| <= MAX_T_FOR_INTERVAL.
  const sd = Math.max(t.stdDiff, resolution)
  const dz = t.n >= 2 ? t.meanDiff / sd : NaN
  const tStat = dz * Math.sqrt(t.n)
  return {
    variant,
    reference: 'baseline',
    n: t.n,
    delta: t.meanDiff,
    ci: t.ci,
    dz,
    dzCi: Math.abs(tStat) <= MAX_T_FOR_INTERVAL ? effectSizeInterval({ t: tStat, n: t.n }) : [NaN, NaN],
  }
}

/**
 * Beyond this |t| the exact d_z interval is not computed (shown as "-"): inverting the noncentral t
 * there takes seconds to minutes, and the effect is unambiguous anyway.
 */
const MAX_T_FOR_INTERVAL = 60

/** Per-class effects: mean over matched seeds of (variant - baseline) per-class test accuracy. */
function perClass(students: readonly RunDetail[], variants: VariantId[], classes: string[]) {
  const pc = (d: RunDetail) => d.result!.best.perClassAccuracy
  const base = bySeed(students, 'baseline', pc)
  if (!base.size || !classes.length) return null
  const rows = variants
    .filter((v) => v !== 'baseline')
    .flatMap((v) => {
      const of = bySeed(students, v, pc)
      const seeds = [...of.keys()].filter((s) => base.has(s))
      if (!seeds.length) return []
      const deltas = classes.map((_, c) => mean(seeds.map((s) => of.get(s)![c]! - base.get(s)![c]!)))
      return [{ variant: v, deltas }]
    })
  return rows.length ? { classes, rows } : null
}

/** The appendix of an experiment's completed students at K = classNames.length. */
export function buildAppendix(
  store: Store,
  runs: readonly { id: number; role: string; status: string }[],
  classNames: string[],
  resolution: number,
): ReportAppendix {
  const students = runs
    .filter((r) => r.role === 'student' && r.status === 'completed')
    .flatMap((r) => {
      const d = store.runs.detail(r.id)
      return d?.result ? [d] : []
    })
  const k = classNames.length
  const order = (Object.keys(VARIANTS) as VariantId[]).filter((v) => students.some((d) => d.variant === v))
  const variants = order.map((v): AppendixVariant => {
    const accs = [...bySeed(students, v, (d) => [d.result!.best.accuracy]).values()].map((x) => x[0]!)
    const p = students.find((d) => d.variant === v)!.config.variantParams as Record<string, unknown>
    return {
      variant: v,
      n: accs.length,
      mean: mean(accs),
      sd: accs.length >= 2 ? sampleStd(accs) : NaN,
      hyperparameters: shortParams(p),
      form: ['kd', 're-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'].includes(v)
        ? hyperparameterForm(p as KParams, k)
        : null,
    }
  })
  return {
    variants,
    effects: order
      .filter((v) => v !== 'baseline')
      .map((v) => effect(students, v, resolution))
      .filter((e) => e !== null),
    perClass: perClass(students, order, classNames),
  }
}

const NOTE =
  'Δ = paired difference to the baseline over matched seeds (95% t-interval, unadjusted); d_z = mean / sd of the differences with its exact 95% interval (noncentral t).'
/** What the appendix's numbers are, with the report's selection rule. */
const appendixNote = (r: ReproReport) => `${selectionTitle(r)}, over seeds. ${NOTE}`

export function appendixMarkdown(r: ReproReport): string[] {
  const a = r.appendix
  if (!a) return []
  const L = ['## Appendix: per-variant results', '', `_${appendixNote(r)}_`, '']
  L.push(`| ${APPENDIX_HEAD.join(' | ')} |`, `| ${APPENDIX_HEAD.map(() => '---').join(' | ')} |`)
  for (const row of appendixRows(a)) L.push(`| ${row.join(' | ')} |`)
  if (a.perClass) {
    L.push('', 'Per-class effects (Δ vs baseline per class, pp, mean over matched seeds):', '')
    const head = perClassHead(a.perClass)
    L.push(
      `| ${head.join(' | ')} |`,
      `| --- |${head
        .slice(1)
        .map(() => ' ---: |')
        .join('')}`,
    )
    for (const row of perClassRows(a.perClass)) L.push(`| ${row.join(' | ')} |`)
  }
  L.push('', `Beside ours, ${PAPER_LABEL}: not a target these numbers should match.`, '')
  return L
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
const tr = (cells: string[], tag = 'td') =>
  `<tr>${cells.map((c) => `<${tag}>${esc(c)}</${tag}>`).join('')}</tr>`

export function appendixHtml(r: ReproReport): string {
  const a = r.appendix
  if (!a) return ''
  const per = a.perClass
    ? `<p>Per-class effects (Δ vs baseline per class, pp, mean over matched seeds):</p><div class="x"><table id="appendix-per-class">${tr(perClassHead(a.perClass), 'th')}${perClassRows(
        a.perClass,
      )
        .map((x) => tr(x))
        .join('')}</table></div>`
    : ''
  return `<h2>Appendix: per-variant results</h2><p class="paper">${esc(appendixNote(r))}</p><table id="appendix">${tr(APPENDIX_HEAD, 'th')}${appendixRows(
    a,
  )
    .map((x) => tr(x))
    .join('')}</table>${per}<p class="paper">Beside ours, ${esc(PAPER_LABEL)}.</p>`
}

const tex = escapeLatex
/** LaTeX math for "±" and interval cells. */
const texCell = (s: string) => tex(s).replace(/±/g, '$\\pm$').replace(/Δ/g, '$\\Delta$')

/**
 * A booktabs table for a paper's appendix: one row per variant, six columns at \small, so it fits a
 * page's text width; hyperparameters and K-form in the rows, the paper's numbers labelled below.
 */
export function appendixLatex(r: ReproReport): string[] {
  const a = r.appendix
  if (!a) return []
  const head = [
    'Variant',
    'Hyperparameters',
    '$n$',
    'Acc.\\ (\\%)',
    '$\\Delta$ (pp) [95\\% CI]',
    '$d_z$ [95\\% CI]',
  ]
  const L = [
    '',
    '\\begin{table}[t]',
    '\\centering',
    '\\small',
    '\\setlength{\\tabcolsep}{4pt}',
    `\\caption{${tex(`${r.name}: test accuracy per variant on ${r.datasetName}, mean`)} $\\pm$ sd over seeds}`,
    '\\begin{tabular}{@{}llrrrr@{}}',
    '\\toprule',
    `${head.join(' & ')} \\\\`,
    '\\midrule',
  ]
  for (const row of appendixRows(a)) {
    const [variant, hp, form, n, acc, delta, dz] = row
    const params = form && form !== '-' ? `${hp} (${form})` : hp!
    L.push(`${[variant!, params, n!, acc!, delta!, dz!].map(texCell).join(' & ')} \\\\`)
  }
  L.push(
    '\\bottomrule',
    '\\end{tabular}',
    `\\par\\smallskip\\footnotesize ${tex(appendixNote(r))} ${tex(`Beside ours, ${PAPER_LABEL}.`)}`,
    '\\end{table}',
  )
  return L
}
