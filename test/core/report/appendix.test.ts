/**
 * The report's appendix, from a study on a real SQLite file (the plan through the real plan builder,
 * per-seed numbers chosen): per-variant mean ± sd with hyperparameters and K-form, effects with their
 * intervals, per-class effects, the paper's numbers labelled, and a booktabs LaTeX table.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { createAppCore } from '../../../src/core/app/app-core'
import { buildReport } from '../../../src/core/report/report'
import { renderReport } from '../../../src/core/report/render'
import { PAPER_LABEL } from '../../../src/shared/appendix'
import { reproducePlan } from '../../../src/shared/reproduce'
import { tempHome } from '../../helpers'
import { writeSyntheticStudy } from '../../support/synthetic-study'

const home = tempHome('tfkd-appendix-')
afterAll(() => home.cleanup())
const core = createAppCore({
  dataHome: home.dir,
  host: 'cli',
  spawnTrainer: () => {
    throw new Error('nothing may train')
  },
})
afterAll(() => core.close())

describe('the report appendix', () => {
  const id = writeSyntheticStudy(
    core,
    reproducePlan({ dataset: 'mnist-10k', scale: 'small', seeds: 3 }),
    (r) => {
      const base = 0.9 + 0.001 * r.seed
      // kd: +0.8, +1.0, +1.2 pp over the baseline of its seed; +5 pp more on class 0.
      const acc = r.role === 'teacher' ? 0.95 : r.variant === 'kd' ? base + 0.01 + (r.seed - 2) * 0.002 : base
      const perClass = Array.from({ length: 10 }, (_, c) => acc + (r.variant === 'kd' && c === 0 ? 0.05 : 0))
      return { accuracy: acc, perClass }
    },
  )
  const r = buildReport(core.store, id, { appVersion: 't', now: 0 })

  it('per-variant mean ± sd with hyperparameters and K-form; effects with t and d_z intervals; per-class effects', () => {
    const a = r.appendix!
    expect(a.variants.map((v) => v.variant)).toEqual([
      'baseline',
      'lsr',
      'kd',
      're-kd',
      'de-kd',
      'tfkd-self',
      'tfkd-reg',
    ])
    const kd = a.variants.find((v) => v.variant === 'kd')!
    expect(kd).toMatchObject({ n: 3, hyperparameters: 'alpha 0.95, T 20, m 0.1', form: 'k-matched' })
    expect(kd.mean).toBeCloseTo(0.912, 10)
    expect(kd.sd).toBeCloseTo(0.003, 10) // 0.909, 0.912, 0.915
    expect(a.variants.find((v) => v.variant === 'lsr')).toMatchObject({
      hyperparameters: 'eps 0.1',
      form: null,
    })
    const e = a.effects.find((x) => x.variant === 'kd')!
    expect(e.n).toBe(3)
    expect(e.delta).toBeCloseTo(0.01, 10)
    // 95% t-interval: 1.0 pp ± t(0.975, 2) * 0.2 / sqrt(3) pp = ± 0.4968 pp
    expect(e.ci[0]).toBeCloseTo(0.01 - 0.004968, 5)
    expect(e.ci[1]).toBeCloseTo(0.01 + 0.004968, 5)
    expect(e.dz).toBeCloseTo(5, 6)
    expect(e.dzCi[0]).toBeGreaterThan(0)
    expect(e.dzCi[0]).toBeLessThan(5)
    expect(e.dzCi[1]).toBeGreaterThan(5)
    const pc = a.perClass!
    expect(pc.classes).toHaveLength(10)
    const kdRow = pc.rows.find((x) => x.variant === 'kd')!
    expect(kdRow.deltas[0]).toBeCloseTo(0.06, 10)
    expect(kdRow.deltas[1]).toBeCloseTo(0.01, 10)
    expect(pc.rows.find((x) => x.variant === 'lsr')!.deltas.every((d) => Math.abs(d) < 1e-12)).toBe(true)
  })

  it('Markdown and HTML carry the tables; the paper is labelled CIFAR-100, other architectures, selected on test', () => {
    const md = renderReport(r, 'md')
    expect(md).toContain('## Appendix: per-variant results')
    expect(md).toContain(
      '| kd | alpha 0.95, T 20, m 0.1 | k-matched | 3 | 91.20 ± 0.30 | +1.00 [+0.50, +1.50] | 5.00 [',
    )
    expect(md).toMatch(/^\| class \| lsr \| kd \| re-kd \| de-kd \| tfkd-self \| tfkd-reg \|$/m)
    expect(md).toMatch(/^\| 0 \| 0\.00 \| \+6\.00 \|/m)
    expect(md).toContain(PAPER_LABEL)
    expect(md).toContain("The paper's numbers (CIFAR-100 top-1 %, other architectures, selected on test):")
    const html = renderReport(r, 'html')
    expect(html).toContain('<table id="appendix">')
    expect(html).toContain('<table id="appendix-per-class">')
  })

  it('LaTeX: a booktabs table of six columns at \\small that fits a page, every row complete', () => {
    const tex = renderReport(r, 'latex')
    const start = tex.indexOf('\\begin{table}[t]')
    expect(start).toBeGreaterThan(0)
    const table = tex.slice(start)
    expect(table).toContain('\\small')
    expect(table).toContain('\\begin{tabular}{@{}llrrrr@{}}')
    for (const rule of ['\\toprule', '\\midrule', '\\bottomrule']) expect(table).toContain(rule)
    const body = table.slice(table.indexOf('\\midrule') + 8, table.indexOf('\\bottomrule'))
    const rows = body.split('\n').filter((l) => l.trim())
    expect(rows).toHaveLength(7)
    for (const row of rows) {
      expect(row.split(/(?<!\\)&/)).toHaveLength(6) // six cells, no stray &
      expect(row).toMatch(/\\\\$/)
      expect(row).not.toMatch(/(?<!\\)[%_#]/) // escaped
    }
    expect(rows.find((x) => x.startsWith('kd '))).toBe(
      'kd & alpha 0.95, T 20, m 0.1 (k-matched) & 3 & 91.20 $\\pm$ 0.30 & +1.00 [+0.50, +1.50] & ' +
        rows.find((x) => x.startsWith('kd '))!.split(' & ')[5],
    )
    // Longest cell text under ~40 characters: six columns at \small fit a 6.5 in text width.
    expect(
      Math.max(...rows.flatMap((x) => x.split(' & ').map((c) => c.replace(/\$\\pm\$/g, '±').length))),
    ).toBeLessThan(50)
    expect(table).toContain('selected on test')
    expect(table.trim().endsWith('\\end{table}')).toBe(true)
  })

  it('identical differences (float noise only) floor the sd at the resolution instead of hanging on t ~ 1e15', () => {
    const same = writeSyntheticStudy(
      core,
      reproducePlan({ dataset: 'mnist-10k', scale: 'small', seeds: 3 }),
      (x) => {
        const base = 0.9 + 0.001 * x.seed
        return { accuracy: x.role === 'teacher' ? 0.95 : x.variant === 'tfkd-reg' ? base + 0.01 : base }
      },
    )
    const t0 = Date.now()
    const report = buildReport(core.store, same, { appVersion: 't', now: 0 })
    expect(Date.now() - t0).toBeLessThan(20_000)
    const e = report.appendix!.effects.find((x) => x.variant === 'tfkd-reg')!
    const resolution = report.resolution
    expect(e.delta).toBeCloseTo(0.01, 10)
    expect(e.dz).toBeCloseTo(0.01 / resolution, 6) // sd floored at 1 / test-set size
    expect(Number.isFinite(e.dzCi[0]) || Number.isNaN(e.dzCi[0])).toBe(true)
  })
})
