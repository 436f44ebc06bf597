/*
 * Power figures against SciPy: test/fixtures/power-reference.json is written by
 * scripts/power-reference.py (statsmodels' ttest_power formulas on scipy.stats.nct, exact TOST power by
 * quadrature, itself checked against a simulation). CI reads the fixture; it does not run Python.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  effectSizeInterval,
  equivalencePower,
  minDetectableEffect,
  noncentralTCdf,
  pairedPower,
  seedsNeeded,
  type Sided,
} from '../../src/shared/power'

interface Reference {
  scipy: string
  nct_cdf: [number, number, number, number][]
  paired_power: [number, number, number, number, Sided, number][]
  min_detectable_effect: [number, number, number, number, Sided, number][]
  seeds_needed: [number, number, number, number, Sided, number, number | null][]
  equivalence_power: [number, number, number, number, number, number][]
  effect_size_interval: [number, number, number, [number, number]][]
}

const ref = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'power-reference.json'), 'utf8'),
) as Reference

const near = (got: number, want: number, abs: number, rel: number, what: string) =>
  expect(Math.abs(got - want), `${what}: ${got} vs ${want}`).toBeLessThanOrEqual(
    Math.max(abs, rel * Math.abs(want)),
  )

describe('noncentral t CDF', () => {
  it('matches scipy.stats.nct.cdf, including large noncentralities and both tails', () => {
    for (const [t, df, nc, want] of ref.nct_cdf)
      near(noncentralTCdf(t, df, nc), want, 1e-12, 1e-8, `nct.cdf(${t}, ${df}, ${nc})`)
  })

  it('reduces to the central t at nc = 0 and is monotone in t', () => {
    near(noncentralTCdf(0, 7, 0), 0.5, 1e-15, 0, 'median')
    let last = 0
    for (let t = -6; t <= 6; t += 0.5) {
      const f = noncentralTCdf(t, 4, 1.5)
      expect(f).toBeGreaterThanOrEqual(last)
      last = f
    }
  })
})

describe('paired t-test power', () => {
  it('matches statsmodels ttest_power (two- and one-sided)', () => {
    for (const [n, sd, effect, alpha, sided, want] of ref.paired_power)
      near(pairedPower({ n, sd, effect, alpha, sided }), want, 1e-10, 1e-8, `power n=${n} effect=${effect}`)
  })

  it('is alpha at no effect, and the same for an effect of either sign (two-sided)', () => {
    near(pairedPower({ n: 6, sd: 1, effect: 0 }), 0.05, 1e-9, 0, 'size')
    near(
      pairedPower({ n: 6, sd: 1, effect: 0.7 }),
      pairedPower({ n: 6, sd: 1, effect: -0.7 }),
      1e-14,
      0,
      'sign',
    )
  })

  it('minDetectableEffect matches a root of statsmodels power', () => {
    for (const [n, sd, alpha, power, sided, want] of ref.min_detectable_effect)
      near(minDetectableEffect({ n, sd, alpha, power, sided }), want, 1e-12, 1e-8, `mde n=${n} sd=${sd}`)
  })

  it('seedsNeeded matches the smallest n reaching the power, null above max', () => {
    for (const [effect, sd, alpha, power, sided, max, want] of ref.seeds_needed)
      expect(seedsNeeded({ effect, sd, alpha, power, sided, max }), `effect ${effect} sd ${sd}`).toBe(want)
    expect(seedsNeeded({ effect: 1, sd: 1, max: 9 })).toBeNull()
    expect(seedsNeeded({ effect: 0, sd: 1 })).toBeNull()
  })

  it('refuses inputs it cannot mean, naming them', () => {
    expect(() => pairedPower({ n: 1, sd: 1, effect: 1 })).toThrow(/n: expected a whole number of pairs >= 2/)
    expect(() => pairedPower({ n: 3, sd: 0, effect: 1 })).toThrow(/sd: expected a positive/)
    expect(() => minDetectableEffect({ n: 3, sd: 1, power: 1 })).toThrow(/power: expected a probability/)
    expect(() => seedsNeeded({ effect: 1, sd: 1, alpha: 0 })).toThrow(/alpha: expected a level/)
  })
})

describe('TOST equivalence power', () => {
  it('matches the exact (Owen) power by quadrature', () => {
    for (const [n, sd, margin, effect, alpha, want] of ref.equivalence_power)
      near(
        equivalencePower({ n, sd, margin, effect, alpha }),
        want,
        1e-7,
        1e-6,
        `tost n=${n} margin=${margin}`,
      )
  })
})

describe('d_z interval', () => {
  it('inverts the noncentral t as SciPy does', () => {
    for (const [t, n, level, [lo, hi]] of ref.effect_size_interval) {
      const [gotLo, gotHi] = effectSizeInterval({ t, n, level })
      near(gotLo, lo, 1e-8, 1e-7, `dz lo t=${t} n=${n}`)
      near(gotHi, hi, 1e-8, 1e-7, `dz hi t=${t} n=${n}`)
    }
    expect(effectSizeInterval({ t: Infinity, n: 3 })).toEqual([NaN, NaN])
  })
})
