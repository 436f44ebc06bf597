/**
 * The report's extra arms: variants outside the paper's seven (dkd, dist, kd-std, ...) that a plan
 * trained beside them. Each is compared with the baseline and with KD (paired by seed, two-sided
 * paired t-test, unadjusted: these are not among the paper's four claims and enter no correction),
 * and rendered as its own section after the claims.
 */
import { escapeLatex } from '../../shared/comparison'
import type { ExtraArm, ReproReport } from '../../shared/reproduce'
import { PAPER_VARIANT_IDS, VARIANT_IDS, type VariantId } from '../../shared/types'
import { VARIANTS } from '../../shared/variants'
import { roundTo } from '../analysis/compare'
import { mean, pairedTTest } from '../analysis/stats'

/** What to compare each extra arm with, in this order (when the plan has it). */
const REFERENCES: readonly VariantId[] = ['baseline', 'kd']

const isPaperVariant = (v: VariantId) => (PAPER_VARIANT_IDS as readonly string[]).includes(v)

/** The extra arms among `students` (registry order), each with its comparisons to the baseline and KD. */
export function extraArms(
  students: readonly { variant: VariantId; seed: number; accuracy: number }[],
  opts: { resolution: number },
): ExtraArm[] {
  const bySeed = (v: VariantId) =>
    new Map(students.filter((s) => s.variant === v).map((s) => [s.seed, s.accuracy]))
  const present = new Set(students.map((s) => s.variant))
  return VARIANT_IDS.filter((v) => present.has(v) && !isPaperVariant(v)).map((variant) => {
    const arm = bySeed(variant)
    const comparisons = REFERENCES.filter((ref) => present.has(ref)).map((reference) => {
      const ref = bySeed(reference)
      const seeds = [...arm.keys()].filter((s) => ref.has(s)).sort((a, b) => a - b)
      // Differences rounded to the metric's resolution (accuracies are k / N), as the claims do.
      const diffs = seeds.map((s) => roundTo(arm.get(s)! - ref.get(s)!, opts.resolution))
      const t = pairedTTest(
        diffs,
        diffs.map(() => 0),
      )
      return { reference, n: seeds.length, delta: mean(diffs), ci: t.ci, p: t.p, dz: t.dz }
    })
    return {
      variant,
      name: VARIANTS[variant].name,
      paper: VARIANTS[variant].paper,
      n: arm.size,
      accuracy: mean([...arm.values()]),
      comparisons,
    }
  })
}

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(2) : '-')
const spp = (x: number) => (Number.isFinite(x) ? `${x > 0 ? '+' : ''}${(100 * x).toFixed(2)}` : '-')
const pval = (p: number) => (Number.isNaN(p) ? '-' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4))
const ci = (c: [number, number]) => (Number.isFinite(c[0]) ? `[${spp(c[0])}, ${spp(c[1])}]` : '-')
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-')

const NOTE =
  "Later logit baselines trained beside the paper's variants: outside the four claims, each compared with the baseline and with KD over matched seeds (two-sided paired t-test, unadjusted; differences rounded to the resolution)."

/** One row per (arm, reference): the cells every format shows. */
function rows(r: ReproReport): string[][] {
  return (r.extraArms ?? []).flatMap((a) =>
    a.comparisons.length === 0
      ? [[a.variant, a.name, String(a.n), pct(a.accuracy), '-', '-', '-', '-', '-', '-']]
      : a.comparisons.map((c) => [
          a.variant,
          a.name,
          String(a.n),
          pct(a.accuracy),
          c.reference,
          String(c.n),
          spp(c.delta),
          ci(c.ci),
          pval(c.p),
          num(c.dz),
        ]),
  )
}

const HEAD = ['arm', 'method', 'seeds', 'acc (%)', 'vs', 'n', 'Δ (pp)', '95% CI', 'p', 'd_z']

/** Markdown lines of the section (none when the plan had no extra arm). */
export function extraArmsMarkdown(r: ReproReport): string[] {
  if (!r.extraArms?.length) return []
  const L = ['## Extra arms (outside the claims)', '', `_${NOTE}_`, '']
  L.push(
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map((_, i) => (i < 2 || i === 4 ? '---' : '---:')).join(' | ')} |`,
  )
  for (const row of rows(r)) L.push(`| ${row.join(' | ')} |`)
  L.push('', ...r.extraArms.map((a) => `- ${a.variant}: ${a.paper}`), '')
  return L
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** The HTML section ('' when the plan had no extra arm). */
export function extraArmsHtml(r: ReproReport): string {
  if (!r.extraArms?.length) return ''
  const body = rows(r)
    .map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')
  const papers = r.extraArms.map((a) => `<li>${esc(a.variant)}: ${esc(a.paper)}</li>`).join('')
  return `<h2>Extra arms (outside the claims)</h2><p class="paper">${esc(NOTE)}</p><table id="extra-arms"><tr>${HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${body}</table><ul class="paper">${papers}</ul>`
}

/** LaTeX comment lines with the same rows (the claims table stays the paper's four). */
export function extraArmsLatex(r: ReproReport): string[] {
  if (!r.extraArms?.length) return []
  return [
    '% extra arms (outside the claims): ' + HEAD.join(' | '),
    ...rows(r).map((row) => `% ${escapeLatex(row.join(' | '))}`),
  ]
}
