/**
 * The report's extra arms (later logit baselines beside the paper's variants): paired comparisons
 * with the baseline and with KD, rendered after the claims and never inside them; a plan without
 * extra arms renders no section. And the `logit-kd-baselines` preset's plan: shared teachers.
 */
import { describe, expect, it } from 'vitest'
import { extraArms, extraArmsHtml, extraArmsMarkdown } from '../../../src/core/report/extra-arms'
import { expandPlan, resolvePlan } from '../../../src/shared/plan'
import type { ReproReport } from '../../../src/shared/reproduce'
import type { VariantId } from '../../../src/shared/types'

const acc = (variant: VariantId, values: number[]) =>
  values.map((accuracy, i) => ({ variant, seed: i + 1, accuracy }))

describe('extra arms', () => {
  const students = [
    ...acc('baseline', [0.8, 0.81, 0.79]),
    ...acc('kd', [0.82, 0.83, 0.8]),
    ...acc('tfkd-reg', [0.81, 0.82, 0.8]),
    ...acc('dist', [0.84, 0.85, 0.83]),
    ...acc('dkd', [0.83, 0.84]),
  ]

  it('compares each later baseline with the baseline and KD over matched seeds, paper variants left out', () => {
    const arms = extraArms(students, { resolution: 1e-4 })
    expect(arms.map((a) => a.variant)).toEqual(['dkd', 'dist'])
    const dist = arms.find((a) => a.variant === 'dist')!
    expect(dist.n).toBe(3)
    expect(dist.accuracy).toBeCloseTo(0.84, 12)
    expect(dist.paper).toMatch(/NeurIPS 2022/)
    const [vsBase, vsKd] = dist.comparisons
    expect(vsBase).toMatchObject({ reference: 'baseline', n: 3 })
    expect(vsBase!.delta).toBeCloseTo(0.04, 12)
    expect(vsBase!.p).toBe(0) // every seed +4 pp: t = Infinity, as SciPy
    expect(vsKd).toMatchObject({ reference: 'kd', n: 3 })
    expect(vsKd!.delta).toBeCloseTo(0.0233, 4)
    expect(vsKd!.p).toBeGreaterThan(0)
    expect(vsKd!.ci[0]).toBeLessThan(vsKd!.delta)
    // dkd has two seeds: two matched pairs each.
    expect(arms[0]!.comparisons.map((c) => c.n)).toEqual([2, 2])
  })

  it('renders a section after the claims, and none without extra arms', () => {
    const r = { extraArms: extraArms(students, { resolution: 1e-4 }) } as ReproReport
    const md = extraArmsMarkdown(r).join('\n')
    expect(md).toMatch(/^## Extra arms \(outside the claims\)/)
    expect(md).toMatch(/^\| dist \| DIST \| 3 \| 84\.00 \| baseline \| 3 \| \+4\.00 \|/m)
    expect(md).toMatch(/^\| dkd \| Decoupled KD \| 2 \| 83\.50 \| kd \| 2 \| \+1\.00 \|/m)
    expect(extraArmsHtml(r)).toContain('<table id="extra-arms">')
    expect(extraArmsMarkdown({ extraArms: [] } as unknown as ReproReport)).toEqual([])
    expect(extraArmsHtml({} as ReproReport)).toBe('')
  })
})

describe('the logit-kd-baselines preset', () => {
  it('runs on any dataset with one stronger teacher shared by kd, dkd, dist and kd-std', () => {
    const plan = resolvePlan({ preset: 'logit-kd-baselines', dataset: 'fashion-mnist', seeds: [1, 2, 3] })
    expect(plan.dataset).toBe('fashion-mnist')
    expect(plan.variants).toEqual(['baseline', 'kd', 'dkd', 'dist', 'kd-std', 'tfkd-self', 'tfkd-reg'])
    const runs = expandPlan(plan)
    expect(runs.filter((r) => r.role === 'teacher').map((r) => r.key)).toEqual([
      'teacher:stronger',
      'teacher:self',
    ])
    for (const v of ['kd', 'dkd', 'dist', 'kd-std'])
      expect(
        runs.filter((r) => r.config.variant === v && r.role === 'student').map((r) => r.teacher?.key),
        v,
      ).toEqual(['teacher:stronger', 'teacher:stronger', 'teacher:stronger'])
    expect(runs).toHaveLength(2 + 7 * 3)
  })
})
