import { describe, expect, it } from 'vitest'
import { evaluateClaims, type StudyStudent } from '../../../src/core/analysis/claims'
import { holmAdjust } from '../../../src/core/analysis/stats'
import type { VariantId } from '../../../src/shared/types'

const N = 2000 // test-set size: accuracies are k / N
const acc = (k: number) => k / N

/** Students of one variant over seeds 1..n, with an optional teacher accuracy. */
function students(
  variant: VariantId,
  ks: number[],
  teacher: { accuracy: number; epoch: number; fellBack?: boolean } | null = null,
): StudyStudent[] {
  return ks.map((k, i) => ({
    variant,
    seed: i + 1,
    accuracy: acc(k),
    teacherAccuracy: teacher?.accuracy ?? null,
    teacherEpoch: teacher?.epoch ?? null,
    teacherFellBack: teacher?.fellBack ?? false,
  }))
}

const baseK = [1800, 1810, 1790, 1805, 1795]
const plus = (d: number[]) => baseK.map((k, i) => k + d[i]!)

function study(over: Partial<Record<VariantId, StudyStudent[]>> = {}): StudyStudent[] {
  const all: Partial<Record<VariantId, StudyStudent[]>> = {
    baseline: students('baseline', baseK),
    lsr: students('lsr', plus([4, 6, 5, 3, 5])),
    kd: students('kd', plus([12, 14, 10, 13, 11]), { accuracy: 0.95, epoch: 3 }),
    're-kd': students('re-kd', plus([8, 10, 9, 7, 11]), { accuracy: 0.8, epoch: 3 }),
    'de-kd': students('de-kd', plus([6, 8, 7, 9, 5]), { accuracy: 0.4, epoch: 1 }),
    'tfkd-self': students('tfkd-self', plus([12, 13, 11, 14, 12]), { accuracy: 0.9, epoch: 3 }),
    'tfkd-reg': students('tfkd-reg', plus([12, 12, 10, 14, 11])),
    ...over,
  }
  return Object.values(all).flat()
}

describe('the four claims', () => {
  it('supports every claim when the data say so, with Holm over the primary tests', () => {
    const claims = evaluateClaims(study(), { resolution: 1 / N })
    expect(claims.map((c) => c.id)).toEqual(['re-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'])
    expect(claims.map((c) => c.verdict)).toEqual(['supported', 'supported', 'supported', 'supported'])
    const primaries = claims.map((c) => c.comparisons[0]!)
    expect(primaries.map((p) => p.pHolm)).toEqual(holmAdjust(primaries.map((p) => p.p)))
    const re = primaries[0]!
    expect(re.n).toBe(5)
    expect(re.delta).toBeCloseTo(0.0045, 12)
    expect(re.pairs[0]).toEqual([1, acc(1808), acc(1800)])
    // the Holm-consistent interval is wider than the unadjusted one
    expect(re.ciAdjusted[0]).toBeLessThan(re.ci[0])
    expect(claims[0]!.paper[0]).toMatchObject({ variant: 77.28, reference: 75.87 })
    expect(claims[0]!.premises[0]).toMatchObject({ ok: true })
    expect(claims[0]!.premises[0]!.measured).toMatch(/weaker teacher 80\.00% vs baseline student 90\.00%/)
  })

  it('contradicts a claim whose variant is significantly worse', () => {
    const claims = evaluateClaims(
      study({ 'de-kd': students('de-kd', plus([-9, -8, -10, -7, -9]), { accuracy: 0.3, epoch: 1 }) }),
      {
        resolution: 1 / N,
      },
    )
    const de = claims.find((c) => c.id === 'de-kd')!
    expect(de.verdict).toBe('contradicted')
    expect(de.reason).toMatch(/de-kd vs baseline went significantly the other way/)
  })

  it('marks Re-KD invalid when the "weaker" teacher is not measurably weaker than the baseline', () => {
    const claims = evaluateClaims(
      study({ 're-kd': students('re-kd', plus([8, 10, 9, 7, 11]), { accuracy: 0.91, epoch: 3 }) }),
      {
        resolution: 1 / N,
      },
    )
    const re = claims.find((c) => c.id === 're-kd')!
    expect(re.verdict).toBe('invalid premise')
    expect(re.premises[0]!.ok).toBe(false)
    expect(re.reason).toMatch(/weaker teacher 91\.00% vs baseline student 90\.00%/)
  })

  it('marks De-KD invalid when its snapshot fell back or is not poor, and names the snapshot epoch', () => {
    const fell = evaluateClaims(
      study({
        'de-kd': students('de-kd', plus([6, 8, 7, 9, 5]), { accuracy: 0.5, epoch: 2, fellBack: true }),
      }),
    ).find((c) => c.id === 'de-kd')!
    expect(fell.verdict).toBe('invalid premise')
    expect(fell.premises[0]!.measured).toMatch(/snapshot \(epoch 2\) 50\.00%.*fell back/)
  })

  it('says "insufficient seeds" below 3 matched seeds', () => {
    const two = study().filter((s) => s.seed <= 2)
    const claims = evaluateClaims(two, { resolution: 1 / N })
    for (const c of claims) {
      expect(c.verdict).toBe('inconclusive')
      expect(c.reason).toMatch(/insufficient seeds: .* has 2 matched seed\(s\), 3 needed/)
    }
  })

  it('"at least as good as LSR" is a non-inferiority test with a stated margin', () => {
    // tfkd-reg 0.05 pp below LSR on average: not worse within a 0.5 pp margin, but not within 0.01 pp
    const reg = students('tfkd-reg', plus([3, 6, 4, 3, 5]))
    const wide = evaluateClaims(
      study({ 'tfkd-reg': reg, kd: students('kd', plus([3, 6, 5, 3, 5]), { accuracy: 0.95, epoch: 3 }) }),
      {
        resolution: 1 / N,
        margin: 0.005,
      },
    ).find((c) => c.id === 'tfkd-reg')!
    expect(wide.comparisons[0]).toMatchObject({ variant: 'tfkd-reg', reference: 'lsr', kind: 'not-worse' })
    expect(wide.comparisons[0]!.delta).toBeLessThan(0)
    expect(wide.comparisons[0]!.outcome).toBe('holds')
    const tight = evaluateClaims(study({ 'tfkd-reg': reg }), { resolution: 1 / N, margin: 0.0001 }).find(
      (c) => c.id === 'tfkd-reg',
    )!
    expect(tight.comparisons[0]!.outcome).not.toBe('holds')
  })

  it('still reports a claim whose variants did not run, as inconclusive', () => {
    const claims = evaluateClaims(study().filter((s) => s.variant !== 'lsr'))
    expect(claims.map((c) => c.id)).toEqual(['re-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'])
    const reg = claims.find((c) => c.id === 'tfkd-reg')!
    expect(reg.verdict).toBe('inconclusive')
    expect(reg.reason).toMatch(/no completed, seed-matched runs of tfkd-reg vs lsr/)
    expect(reg.comparisons[0]!.pHolm).toBeNaN()
  })
})
