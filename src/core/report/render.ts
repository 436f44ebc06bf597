/**
 * The reproduction report rendered to Markdown, LaTeX and a self-contained HTML page (inline SVG
 * figures, inline style, no script, no external resource: it opens from disk in any browser).
 */
import { escapeLatex } from '../../shared/comparison'
import {
  shownVerdict,
  type ClaimComparison,
  type ClaimResult,
  type ReproReport,
} from '../../shared/reproduce'
import { isSelectedOnTest, selectionTitle } from '../../shared/selection'
import { extraArmsHtml, extraArmsLatex, extraArmsMarkdown } from './extra-arms'
import { regimeSentences } from '../../shared/regime'
import { regimeHtml, regimeMarkdown } from './regime'
import { appendixHtml, appendixLatex, appendixMarkdown } from './appendix'

export const REPORT_FORMATS = ['md', 'latex', 'html'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

const pct = (x: number, d = 2) => (Number.isFinite(x) ? (100 * x).toFixed(d) : '-')
const spp = (x: number) => (Number.isFinite(x) ? `${x > 0 ? '+' : ''}${(100 * x).toFixed(2)}` : '-')
const pval = (p: number) => (Number.isNaN(p) ? '-' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4))
const ci = (c: [number, number]) => (Number.isFinite(c[0]) ? `[${spp(c[0])}, ${spp(c[1])}]` : '-')
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-')
const dzCi = (c: ClaimComparison) =>
  Number.isFinite(c.dzCi[0]) ? `[${c.dzCi[0].toFixed(2)}, ${c.dzCi[1].toFixed(2)}]` : ''

const KIND_LABELS: Record<ClaimComparison['kind'], string> = {
  improves: 'improves',
  'not-worse': 'not worse (non-inferiority)',
  comparable: 'comparable (TOST)',
}

const compLabel = (c: ClaimComparison) =>
  `${c.variant}${c.snapshot ? ` (${c.snapshot})` : ''} vs ${c.reference} (${c.role === 'reference' ? 'reference check: ' : ''}${KIND_LABELS[c.kind]})`

/** The deciding interval with its level, e.g. "[+0.10, +0.90] at 98.9%". */
const decisive = (c: ClaimComparison) =>
  Number.isFinite(c.ciAdjusted[0]) ? `${ci(c.ciAdjusted)} at ${(100 * c.ciLevel).toPrecision(3)}%` : '-'

/** What the primary comparison could detect at 80% power (pp), and the seeds the paper's effect needs. */
const mdeText = (c: ClaimComparison) =>
  Number.isFinite(c.power.minDetectable)
    ? c.kind === 'comparable'
      ? `±${pct(c.power.minDetectable)}`
      : c.kind === 'not-worse'
        ? `≥ ${spp(c.power.minDetectable)}`
        : pct(c.power.minDetectable)
    : '-'
const seedsText = (c: ClaimComparison) =>
  c.power.paperEffect === null || c.power.powerAtPaper === null
    ? '-'
    : c.power.seedsForPaper === null
      ? '> 100'
      : String(c.power.seedsForPaper)

/** A premise as a plain sentence that says first whether it is met. */
const premiseText = (pc: ClaimResult['premises'][number]) =>
  `${pc.ok === null ? 'Unverified' : pc.ok ? 'Met' : 'NOT met'}: ${pc.premise}. ${pc.measured}`

const paperText = (r: ClaimResult) =>
  r.paper.map(
    (f) =>
      `${f.setting}: ${f.variant.toFixed(2)} vs ${f.reference.toFixed(2)} (${spp((f.variant - f.reference) / 100)} pp)`,
  )

const MARGIN_SOURCES: Record<ReproReport['marginSource'], string> = {
  plan: 'fixed in the plan before the study ran',
  report: 'given at report time, NOT fixed before the study ran',
  default: 'the default; this plan stored none',
}

function methodText(r: ReproReport): string {
  return (
    `${selectionTitle(r)}; differences rounded to ${r.resolution.toPrecision(3)} (1 / test-set size), and ` +
    `the sd of the seed differences floored there, so one test image never decides; "improves" = two-sided ` +
    `paired t-test at alpha ${r.alpha} (and more than one test image on average); "not worse" = one-sided ` +
    `non-inferiority t-test at alpha/2 against -${pct(r.margin)} pp; "comparable" = TOST, each side at alpha/2, ` +
    `within ±${pct(r.margin)} pp (margin ${MARGIN_SOURCES[r.marginSource]}); p is on the two-sided scale ` +
    `(one-sided p doubled); one Holm family over the ${r.family.length} comparisons that can decide a verdict; ` +
    `"decisive CI" is the t-interval at 1 - alpha p / p(Holm), the one that decides (it excludes 0, lies ` +
    `above -margin or inside ±margin exactly when p(Holm) < alpha); "95% CI" is unadjusted; d_z = Δ / sd ` +
    `with its exact 95% interval; power: 80%, at alpha / ${Math.max(1, r.family.length)}, with the observed ` +
    `(floored) sd; "comparable to X" and "at least as good as X" count only when X beats the baseline; every ` +
    `premise must be measured on the test split; no decision below 3 matched seeds`
  )
}

/** Markdown: one claim's comparisons, premise checks, per-seed pairs and the paper's numbers. */
function claimSection(r: ReproReport, c: ReproReport['claims'][number]): string[] {
  const L: string[] = []
  L.push(
    `### ${c.title}`,
    '',
    `**Verdict: ${shownVerdict(r, c)}** (${c.reason}).`,
    '',
    `Power: ${c.power}`,
    '',
  )
  L.push(
    "| comparison | n | Δ (pp) | 95% CI | decisive CI | p | p (Holm) | d_z [95% CI] | detectable at 80% (pp) | seeds for the paper's effect | outcome |",
  )
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const x of c.comparisons) {
    L.push(
      `| ${compLabel(x)} | ${x.n} | ${spp(x.delta)} | ${ci(x.ci)} | ${decisive(x)} | ${pval(x.p)} | ${pval(x.pHolm)} | ${num(x.dz)} ${dzCi(x)} | ${mdeText(x)} | ${seedsText(x)} | ${x.outcome} |`,
    )
  }
  L.push('', 'Premises (measured on the test split):', '')
  for (const pc of c.premises) L.push(`- ${premiseText(pc)}`)
  L.push('', 'Per seed (variant / reference, %):', '')
  for (const x of c.comparisons)
    L.push(`- ${compLabel(x)}: ${x.pairs.map(([s, a, b]) => `seed ${s} ${pct(a)} / ${pct(b)}`).join('; ')}`)
  L.push('', "The paper's numbers (CIFAR-100 top-1 %, other architectures, selected on test):", '')
  for (const t of paperText(c)) L.push(`- ${t}`)
  L.push('')
  return L
}

/** Markdown: the claims table, per-claim details, teachers, environment, configuration, rerun command. */
export function renderMarkdown(r: ReproReport): string {
  const L: string[] = []
  L.push(`# Reproduction report: ${r.name}`, '')
  L.push(
    `Experiment ${r.experimentId} on **${r.datasetName}**${r.study ? `, scale **${r.study.scale}**, ${r.study.seeds} seeds` : ''}.`,
  )
  L.push(`Numbers: **${selectionTitle(r)}**.`, '')
  for (const w of r.warnings) L.push(`> ⚠ ${w}`, '')
  L.push(...regimeMarkdown(r.regime))
  L.push('## Claims', '')
  L.push(
    "| claim | verdict | compared | n | Δ (pp) | 95% CI (unadj.) | decisive CI | p | p (Holm) | d_z | d_z 95% CI | detectable at 80% (pp) | seeds for the paper's effect | paper (CIFAR-100, other architectures, selected on test) |",
  )
  L.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const c of r.claims) {
    const p = c.comparisons[0]!
    L.push(
      `| ${c.title} | **${shownVerdict(r, c)}** | ${compLabel(p)} | ${p.n} | ${spp(p.delta)} | ${ci(p.ci)} | ${decisive(p)} | ${pval(p.p)} | ${pval(p.pHolm)} | ${num(p.dz)} | ${dzCi(p) || '-'} | ${mdeText(p)} | ${seedsText(p)} | ${paperText(c)[0] ?? '-'} |`,
    )
  }
  L.push('', `_${methodText(r)}._`, '')
  L.push(`Holm family (${r.family.length} comparisons): ${r.family.join('; ') || 'none'}.`, '')
  for (const c of r.claims) L.push(...claimSection(r, c))
  L.push(...extraArmsMarkdown(r))
  L.push(...appendixMarkdown(r))
  L.push(
    '## Teachers',
    '',
    '| run | model | seed | test acc (%) | epochs |',
    '| ---: | --- | ---: | ---: | ---: |',
  )
  for (const t of r.teachers)
    L.push(`| ${t.runId} | ${t.model} | ${t.seed} | ${pct(t.accuracy ?? NaN)} | ${t.epochs} |`)
  if (r.deKd.length) {
    L.push('', 'De-KD snapshots (teacher accuracy at the snapshot → student):', '')
    for (const d of r.deKd)
      L.push(
        `- seed ${d.seed}: teacher epoch ${d.teacherEpoch} ${pct(d.teacherAccuracy)}% (${d.teacherAccuracySplit ?? 'validation'}) → student ${pct(d.studentAccuracy)}%${d.fellBack ? ' (fell back to the best epoch)' : ''}`,
      )
  }
  L.push('', '## Environment', '')
  const env = r.environment
  L.push(
    `- tfkd-studio ${env.appVersion}, Node ${env.node}, ${env.platform}`,
    `- ${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB`,
    `- backends: ${env.backends.join(', ') || '-'}; devices: ${env.devices.join(', ') || '-'}`,
    `- runs: ${JSON.stringify(r.runCounts)}`,
  )
  L.push(
    '',
    '## Rerun',
    '',
    '```sh',
    r.command,
    '```',
    '',
    '## Configuration',
    '',
    '```json',
    JSON.stringify(r.config, null, 2),
    '```',
    '',
  )
  return L.join('\n')
}

const tex = escapeLatex

/** LaTeX: a booktabs table of the claims with the paper's numbers beside ours. */
export function renderLatex(r: ReproReport): string {
  const L = [
    `% ${tex(`Reproduction report: ${r.name} (experiment ${r.experimentId}, ${r.datasetName})`)}`,
    `% ${tex(selectionTitle(r))}`,
    '\\begin{tabular}{llrrrrrl}',
    '\\toprule',
    'Claim & Compared & $n$ & $\\Delta$ (pp) & decisive CI (pp) & $p$ (Holm) & $d_z$ & Verdict \\\\',
    '\\midrule',
  ]
  for (const c of r.claims) {
    const p = c.comparisons[0]!
    L.push(
      [
        tex(c.title),
        tex(compLabel(p)),
        String(p.n),
        spp(p.delta),
        decisive(p),
        pval(p.pHolm),
        num(p.dz),
        tex(shownVerdict(r, c)),
      ].join(' & ') + ' \\\\',
    )
  }
  L.push(
    '\\midrule',
    '\\multicolumn{8}{l}{Paper (CIFAR-100 top-1 \\%, other architectures, selected on test):} \\\\',
  )
  for (const c of r.claims) for (const t of paperText(c)) L.push(`\\multicolumn{8}{l}{${tex(t)}} \\\\`)
  L.push('\\bottomrule', '\\end{tabular}', `% ${tex(methodText(r))}`, `% rerun: ${tex(r.command)}`)
  // Printed under the table (a % comment would be dropped): each verdict's reason, power and premises.
  L.push('\\par\\smallskip', '{\\footnotesize')
  for (const c of r.claims) {
    const premises = c.premises.map((pc) => tex(premiseText(pc))).join(' ')
    L.push(
      `\\textbf{${tex(c.title)}}: ${tex(shownVerdict(r, c))} (${tex(c.reason)}). ${tex(c.power)} ${premises}\\par`,
    )
  }
  L.push('}')
  if (r.regime) for (const line of regimeSentences(r.regime)) L.push(`% ${tex(line)}`)
  L.push(...extraArmsLatex(r))
  L.push(...appendixLatex(r))
  return L.join('\n') + '\n'
}

// ---------------------------------------------------------------------------------------------
// HTML with inline SVG figures

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

const COLORS = ['#2f6fdf', '#c8412b', '#2e9e5b', '#9a5bd0', '#d08a1e', '#1f9bb0', '#6b6b6b']

interface Frame {
  w: number
  h: number
  x: (v: number) => number
  y: (v: number) => number
  axes: string
}

/** A plot frame with linear scales, y gridlines and axis titles. */
function frame(o: {
  w: number
  h: number
  x: [number, number]
  y: [number, number]
  xLabel: string
  yLabel: string
  xTicks?: number[]
}): Frame {
  const m = { l: 48, r: 12, t: 10, b: 34 }
  const pad = (a: [number, number]): [number, number] => (a[0] === a[1] ? [a[0] - 0.01, a[1] + 0.01] : a)
  const [x0, x1] = pad(o.x)
  const [y0, y1] = pad(o.y)
  const x = (v: number) => m.l + ((v - x0) / (x1 - x0)) * (o.w - m.l - m.r)
  const y = (v: number) => o.h - m.b - ((v - y0) / (y1 - y0)) * (o.h - m.t - m.b)
  const parts: string[] = []
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4
    parts.push(`<line x1="${m.l}" x2="${o.w - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e3e3"/>`)
    parts.push(
      `<text x="${m.l - 4}" y="${y(v) + 4}" text-anchor="end" font-size="10">${(100 * v).toFixed(1)}</text>`,
    )
  }
  for (const t of o.xTicks ?? [])
    parts.push(
      `<text x="${x(t)}" y="${o.h - m.b + 13}" text-anchor="middle" font-size="10">${esc(String(t))}</text>`,
    )
  parts.push(
    `<text x="${(m.l + o.w - m.r) / 2}" y="${o.h - 4}" text-anchor="middle" font-size="11">${esc(o.xLabel)}</text>`,
  )
  parts.push(
    `<text transform="translate(11 ${(o.h - m.b) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(o.yLabel)}</text>`,
  )
  return { w: o.w, h: o.h, x, y, axes: parts.join('') }
}

const svg = (f: Frame, body: string, title: string) =>
  `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${f.w}" height="${f.h}" viewBox="0 0 ${f.w} ${f.h}" role="img" aria-label="${esc(title)}">${f.axes}${body}</svg><figcaption>${esc(title)}</figcaption></figure>`

/** Per-seed dot plot of one comparison: reference and variant side by side, pairs joined. */
function dotPlot(c: ClaimComparison, title: string): string {
  const vals = c.pairs.flatMap((p) => [p[1], p[2]])
  if (!vals.length) return ''
  const f = frame({
    w: 300,
    h: 220,
    x: [0, 3],
    y: [Math.min(...vals), Math.max(...vals)],
    xLabel: `${c.reference} → ${c.variant}`,
    yLabel: 'accuracy %',
  })
  const body = c.pairs
    .map(([seed, a, b], i) => {
      const col = COLORS[i % COLORS.length]!
      return `<line x1="${f.x(1)}" y1="${f.y(b)}" x2="${f.x(2)}" y2="${f.y(a)}" stroke="${col}" stroke-width="1.5"/><circle cx="${f.x(1)}" cy="${f.y(b)}" r="4" fill="${col}"><title>seed ${seed}: ${c.reference} ${pct(b)}</title></circle><circle cx="${f.x(2)}" cy="${f.y(a)}" r="4" fill="${col}"><title>seed ${seed}: ${c.variant} ${pct(a)}</title></circle>`
    })
    .join('')
  const labels = `<text x="${f.x(1)}" y="${f.h - 21}" text-anchor="middle" font-size="10">${esc(c.reference)}</text><text x="${f.x(2)}" y="${f.h - 21}" text-anchor="middle" font-size="10">${esc(c.variant)}</text>`
  return svg(f, body + labels, title)
}

function curvesPlot(r: ReproReport): string {
  const pts = r.curves.flatMap((c) => c.points)
  if (!pts.length) return ''
  const xs = pts.map((p) => p[0])
  const ys = pts.map((p) => p[1])
  const f = frame({
    w: 620,
    h: 260,
    x: [Math.min(...xs), Math.max(...xs)],
    y: [Math.min(...ys), Math.max(...ys)],
    xLabel: 'epoch',
    yLabel: 'validation accuracy %',
    xTicks: [...new Set(xs)],
  })
  const body = r.curves
    .map((c, i) => {
      const col = COLORS[i % COLORS.length]!
      const d = c.points
        .map((p, j) => `${j ? 'L' : 'M'}${f.x(p[0]).toFixed(1)} ${f.y(p[1]).toFixed(1)}`)
        .join(' ')
      const last = c.points.at(-1)!
      return `<path d="${d}" fill="none" stroke="${col}" stroke-width="2"/>${c.points.map((p) => `<circle cx="${f.x(p[0])}" cy="${f.y(p[1])}" r="2.5" fill="${col}"/>`).join('')}<text x="${f.x(last[0]) - 4}" y="${f.y(last[1]) - 5 - 9 * (i % 3)}" text-anchor="end" font-size="10" fill="${col}">${esc(c.variant)}</text>`
    })
    .join('')
  return svg(f, body, 'Validation accuracy per epoch, mean over seeds (students)')
}

function deKdPlot(r: ReproReport): string {
  if (!r.deKd.length) return ''
  const base = r.perSeed.filter((p) => p.variant === 'baseline').map((p) => p.accuracy)
  const baseMean = base.length ? base.reduce((a, b) => a + b, 0) / base.length : NaN
  const xs = r.deKd.map((d) => d.teacherAccuracy)
  const ys = [...r.deKd.map((d) => d.studentAccuracy), ...(Number.isFinite(baseMean) ? [baseMean] : [])]
  const f = frame({
    w: 360,
    h: 240,
    x: [Math.min(...xs) - 0.02, Math.max(...xs) + 0.02],
    y: [Math.min(...ys), Math.max(...ys)],
    xLabel: 'poor teacher accuracy at its snapshot',
    yLabel: 'student test accuracy %',
  })
  const body =
    (Number.isFinite(baseMean)
      ? `<line x1="48" x2="${f.w - 12}" y1="${f.y(baseMean)}" y2="${f.y(baseMean)}" stroke="#6b6b6b" stroke-dasharray="4 3"/><text x="${f.w - 14}" y="${f.y(baseMean) - 4}" text-anchor="end" font-size="10">baseline mean ${pct(baseMean)}</text>`
      : '') +
    r.deKd
      .map(
        (d) =>
          `<circle cx="${f.x(d.teacherAccuracy)}" cy="${f.y(d.studentAccuracy)}" r="4.5" fill="${d.fellBack ? '#c8412b' : '#2f6fdf'}"><title>seed ${d.seed}: teacher epoch ${d.teacherEpoch} ${pct(d.teacherAccuracy)}%, student ${pct(d.studentAccuracy)}%</title></circle>`,
      )
      .join('') +
    r.deKd
      .map(
        (d) =>
          `<text x="${f.x(d.teacherAccuracy) + 6}" y="${f.y(d.studentAccuracy) + 3}" font-size="9">${pct(d.teacherAccuracy, 1)}</text>`,
      )
      .join('')
  return svg(f, body, 'De-KD: the poor teacher snapshot accuracy (x, labelled) vs its student (y)')
}

/** CSS class per verdict word (a smoke study's "pipeline check" falls back to 'meh'). */
const VERDICT_CLASS: Partial<Record<string, string>> & Record<ClaimResult['verdict'], string> = {
  supported: 'ok',
  'not reproduced in this regime': 'bad',
  inconclusive: 'meh',
  'reference failed': 'bad',
  'invalid premise': 'bad',
  'unverified premise': 'meh',
  'insufficient seeds': 'meh',
  'not run': 'meh',
}

/** A self-contained HTML page (no script) with the claims, figures, environment and configuration. */
export function renderHtml(r: ReproReport): string {
  const onTest = isSelectedOnTest(r.selection)
  const rows = r.claims
    .map((c) => {
      const p = c.comparisons[0]!
      const v = shownVerdict(r, c)
      return `<tr><td>${esc(c.title)}</td><td class="v ${VERDICT_CLASS[v] ?? 'meh'}">${esc(v)}</td><td>${esc(compLabel(p))}</td><td>${p.n}</td><td>${spp(p.delta)}</td><td>${ci(p.ci)}</td><td>${esc(decisive(p))}</td><td>${pval(p.p)}</td><td>${pval(p.pHolm)}</td><td>${num(p.dz)} ${dzCi(p)}</td><td>${esc(mdeText(p))}</td><td>${seedsText(p)}</td><td class="paper">${paperText(c).map(esc).join('<br>')}</td></tr>`
    })
    .join('')
  const details = r.claims
    .map((c) => {
      const comps = c.comparisons
        .map(
          (x) =>
            `<tr><td>${esc(compLabel(x))}</td><td>${x.n}</td><td>${spp(x.delta)}</td><td>${ci(x.ci)}</td><td>${esc(decisive(x))}</td><td>${pval(x.p)}</td><td>${pval(x.pHolm)}</td><td>${num(x.dz)} ${dzCi(x)}</td><td>${esc(mdeText(x))}</td><td>${seedsText(x)}</td><td>${x.outcome}</td></tr>`,
        )
        .join('')
      const prem = c.premises
        .map(
          (pc) =>
            `<li class="${pc.ok === false ? 'bad' : pc.ok ? 'ok' : 'meh'}">${esc(premiseText(pc))}</li>`,
        )
        .join('')
      const plots = c.comparisons
        .map((x) => dotPlot(x, `${compLabel(x)}, per seed (${selectionTitle(r)})`))
        .join('')
      const v = shownVerdict(r, c)
      return `<section class="claim"><h3>${esc(c.title)}</h3><p><b class="v ${VERDICT_CLASS[v] ?? 'meh'}">${esc(v)}</b>: ${esc(c.reason)}</p><p class="power">Power: ${esc(c.power)}</p><table><tr><th>comparison</th><th>n</th><th>Δ pp</th><th>95% CI (unadj.)</th><th>decisive CI</th><th>p</th><th>p (Holm)</th><th>d_z [95% CI]</th><th>detectable at 80% (pp)</th><th>seeds for the paper's effect</th><th>outcome</th></tr>${comps}</table><p>Premises (measured on the test split):</p><ul>${prem}</ul><div class="figs">${plots}</div></section>`
    })
    .join('')
  const teachers = r.teachers
    .map(
      (t) =>
        `<tr><td>${t.runId}</td><td>${esc(t.model)}</td><td>${t.seed}</td><td>${pct(t.accuracy ?? NaN)}</td><td>${t.epochs}</td></tr>`,
    )
    .join('')
  const env = r.environment
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reproduction report: ${esc(r.name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#1d1d1f;padding:0 16px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 7px;text-align:left;vertical-align:top}
th{background:#f4f5f7}.v{font-weight:600}.ok{color:#1e7d46}.bad{color:#b3261e}.meh{color:#8a6d00}
.warn{color:#b3261e;font-weight:600}.paper{font-size:12px;color:#555}.figs{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:4px 0}figcaption{font-size:12px;color:#555;max-width:620px}pre{background:#f6f8fa;padding:10px;overflow:auto;font-size:12px}
.claim{border-top:1px solid #ddd;margin-top:18px}
</style></head><body>
<h1>Reproduction report: ${esc(r.name)}</h1>
<p>Experiment ${r.experimentId} on <b>${esc(r.datasetName)}</b>${r.study ? `, scale <b>${r.study.scale}</b>, ${r.study.seeds} seeds` : ''}.</p>
<p class="${onTest ? 'warn' : ''}" id="selection">Numbers: ${esc(selectionTitle(r))}</p>
${r.warnings.map((w) => `<p class="warn">⚠ ${esc(w)}</p>`).join('')}
${regimeHtml(r.regime)}
<h2>Claims</h2>
<table id="claims"><tr><th>claim</th><th>verdict</th><th>compared</th><th>n</th><th>Δ pp</th><th>95% CI (unadj.)</th><th>decisive CI</th><th>p</th><th>p (Holm)</th><th>d_z [95% CI]</th><th>detectable at 80% (pp)</th><th>seeds for the paper's effect</th><th>paper (CIFAR-100 top-1 %, other architectures, selected on test)</th></tr>${rows}</table>
<p class="paper">${esc(methodText(r))}</p>
<p class="paper" id="family">Holm family (${r.family.length} comparisons): ${esc(r.family.join('; ') || 'none')}.</p>
<h2>Figures</h2><div class="figs">${curvesPlot(r)}${deKdPlot(r)}</div>
${details}
${extraArmsHtml(r)}
${appendixHtml(r)}
<h2>Teachers</h2><table><tr><th>run</th><th>model</th><th>seed</th><th>test acc %</th><th>epochs</th></tr>${teachers}</table>
<h2>Environment</h2><ul><li>tfkd-studio ${esc(env.appVersion)}, Node ${esc(env.node)}, ${esc(env.platform)}</li><li>${esc(env.cpu)}, ${env.cores} cores, ${env.memoryGiB} GiB</li><li>backends: ${esc(env.backends.join(', ') || '-')}; devices: ${esc(env.devices.join(', ') || '-')}</li><li>runs: ${esc(JSON.stringify(r.runCounts))}</li></ul>
<h2>Rerun</h2><pre>${esc(r.command)}</pre>
<h2>Configuration</h2><pre>${esc(JSON.stringify(r.config, null, 2))}</pre>
</body></html>
`
}

export function renderReport(r: ReproReport, format: ReportFormat): string {
  switch (format) {
    case 'md':
      return renderMarkdown(r)
    case 'latex':
      return renderLatex(r)
    case 'html':
      return renderHtml(r)
  }
}
