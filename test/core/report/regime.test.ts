/**
 * The report states its regime, read from a study on a real SQLite file (the plan through the real
 * plan builder, the runs' numbers chosen): K, the hyperparameters and what they amount to at K, the
 * epochs, whether the baseline had converged, and at the smoke scale no verdicts at all.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { createAppCore } from '../../../src/core/app/app-core'
import { buildReport } from '../../../src/core/report/report'
import { renderReport } from '../../../src/core/report/render'
import { NO_VERDICTS, reproducePlan, verdictsAllowed } from '../../../src/shared/reproduce'
import { tempHome } from '../../helpers'
import { writeSyntheticStudy, type SyntheticRun } from '../../support/synthetic-study'

const home = tempHome('tfkd-regime-')
afterAll(() => home.cleanup())
const core = createAppCore({
  dataHome: home.dir,
  host: 'cli',
  spawnTrainer: () => {
    throw new Error('nothing may train')
  },
})
afterAll(() => core.close())

/** Every student at 90% + a per-variant offset; baselines rising by `rise` per epoch. */
function outcome(rise: number) {
  return (r: SyntheticRun) => {
    const acc =
      r.role === 'teacher'
        ? r.epochs === 1
          ? 0.3
          : 0.95
        : 0.9 + (r.variant === 'kd' ? 0.01 : 0) + r.seed * 0.001
    const val = Array.from({ length: r.epochs }, (_, i) =>
      r.variant === 'baseline' ? acc - rise * (r.epochs - 1 - i) : acc,
    )
    return { accuracy: acc, val }
  }
}

describe('the report states the regime', () => {
  it('smoke, K-matched at K = 10: weights, Tf-KD reg smoothing and gradient scale, unconverged baseline, no verdicts', () => {
    const id = writeSyntheticStudy(
      core,
      reproducePlan({ dataset: 'mnist-10k', scale: 'smoke', seeds: 3 }),
      outcome(0.02),
    )
    const r = buildReport(core.store, id, { appVersion: 't', now: 0 })
    const g = r.regime!
    expect(g.classes).toBe(10)
    expect([g.requested, g.hyperparameters]).toEqual(['k-matched', 'k-matched'])
    const v = (id: string) => g.variants.find((x) => x.variant === id)!
    expect(v('kd').weight).toBeCloseTo(3.8, 10) // 0.95 * 20^2 * 0.1 / 10, the repository's at K = 100
    expect(v('kd').weightAt100).toBeCloseTo(3.8, 10)
    expect(v('re-kd').weight).toBeCloseTo(2.4, 10)
    expect(v('tfkd-reg').gradientScale).toBeCloseTo(0.0595, 10) // 1 - 0.95 + 0.95 * 0.1 / 10
    expect(v('tfkd-reg').smoothing).toBeCloseTo(0.143, 3)
    expect(v('lsr').smoothing).toBe(0.1)
    expect(g.epochs).toEqual({
      students: [3],
      teachers: [
        { model: 'resnet8', epochs: 6 },
        { model: 'mlp', epochs: 6 },
        { model: 'cnn-small', epochs: 3 },
        { model: 'resnet8', epochs: 1 },
      ],
    })
    // De-KD's poor teacher is its own 1-epoch run: its accuracy is its test accuracy.
    expect(r.deKd).toHaveLength(3)
    for (const d of r.deKd)
      expect(d).toMatchObject({ teacherEpoch: 1, teacherAccuracy: 0.3, teacherAccuracySplit: 'test' })
    expect(renderReport(r, 'md')).toMatch(/teacher epoch 1 30\.00% \(test\) → student/)
    // 2 pp per epoch: from epoch 2 to 3 the baseline rose by 2 pp in every seed.
    expect(g.convergence).toMatchObject({ status: 'unconverged', from: 2, epochs: 3, rising: 3, seeds: 3 })
    expect(g.convergence.rise).toBeCloseTo(0.02, 10)
    expect(g.verdicts).toBe(false)
    const md = renderReport(r, 'md')
    expect(md).toContain('## Regime')
    expect(md).toContain('K = 10 classes; hyperparameters: K-matched (KL multiplier m = K / 100 = 0.100')
    expect(md).toMatch(/Tf-KD reg acts as label smoothing with eps = 0\.14 at 0\.06x the gradient/)
    expect(md).toContain('Epochs: students 3; teachers resnet8 6, mlp 6, cnn-small 3, resnet8 1.')
    expect(md).toContain(
      'Baseline UNCONVERGED: its validation accuracy (mean over 3 seeds) changed by +2.00 pp from epoch 2 to 3',
    )
    // No verdict anywhere: every claim row and section says pipeline check.
    const rows = md.split('\n').filter((l) => /^\| \([abcd]\) /.test(l))
    expect(rows).toHaveLength(4)
    for (const row of rows) expect(row.split(' | ')[1]).toBe(`**${NO_VERDICTS}**`)
    expect(md).not.toMatch(/\*\*Verdict: (supported|contradicted|inconclusive|invalid premise)/)
    const html = renderReport(r, 'html')
    expect(html).toContain('<h2>Regime</h2>')
    expect(html).not.toMatch(/class="v (ok|bad|meh)">(supported|contradicted|inconclusive)/)
    expect(renderReport(r, 'latex')).toContain(`& ${NO_VERDICTS} \\\\`)
  })

  it('small, the repository form at K = 10: weights 10x, a converged baseline, verdicts given', () => {
    const id = writeSyntheticStudy(
      core,
      reproducePlan({ dataset: 'mnist-10k', scale: 'small', seeds: 3, hyperparameters: 'repository' }),
      outcome(0),
    )
    const r = buildReport(core.store, id, { appVersion: 't', now: 0 })
    const g = r.regime!
    expect([g.requested, g.hyperparameters]).toEqual(['repository', 'repository'])
    expect(g.variants.find((x) => x.variant === 'kd')!.weight).toBeCloseTo(38, 10)
    expect(g.variants.find((x) => x.variant === 'tfkd-reg')!.gradientScale).toBeCloseTo(0.145, 10)
    expect(g.convergence).toMatchObject({ status: 'converged', from: 4, epochs: 5, rise: 0 })
    expect(g.verdicts).toBe(true)
    const md = renderReport(r, 'md')
    expect(md).toContain("the repository's values, tuned at K = 100, used as they are at K = 10")
    expect(md).toContain('Baseline converged')
    expect(md).not.toContain(NO_VERDICTS)
    expect(r.command).toBe(
      'tfkd reproduce --dataset mnist-10k --scale small --seeds 3 --hyperparameters repository',
    )
  })

  it('a mixed study (one variant in the repository form, the others K-matched) is named and warned about', () => {
    const plan = reproducePlan({ dataset: 'mnist-10k', scale: 'small', seeds: 3 })
    const id = writeSyntheticStudy(core, { ...plan, variantParams: { kd: { multiplier: 1 } } }, outcome(0))
    const r = buildReport(core.store, id, { appVersion: 't', now: 0 })
    expect(r.regime!.hyperparameters).toBe('mixed')
    expect(r.regime!.variants.find((x) => x.variant === 'kd')!.form).toBe('repository')
    expect(r.regime!.variants.find((x) => x.variant === 'tfkd-self')!.form).toBe('k-matched')
    expect(r.warnings.join('\n')).toMatch(/mix the repository's multipliers with rescaled \(K-matched\) ones/)
    expect(renderReport(r, 'md')).toContain('hyperparameters: MIXED')
  })

  it('verdictsAllowed: only the smoke scale is a pipeline check', () => {
    expect(['smoke', 'small', 'paper', null].map((s) => verdictsAllowed(s as never))).toEqual([
      false,
      true,
      true,
      true,
    ])
  })
})
