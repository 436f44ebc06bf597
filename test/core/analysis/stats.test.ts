/*
 * Reference values from SciPy 1.10.1 (Debian bookworm: apt-get install -y python3-scipy), computed with
 * /usr/bin/python3 and the snippet next to each block; `r = lambda x: repr(float(x))`.
 */
import { describe, expect, it } from 'vitest'
import {
  averageRanks,
  holmAdjust,
  mean,
  meanConfidenceInterval,
  normalCdf,
  normalTwoSidedP,
  pairedTTest,
  regularizedIncompleteBeta,
  sampleStd,
  studentTCdf,
  studentTQuantile,
  wilcoxonSignedRank,
} from '../../../src/core/analysis/stats'

const close = (got: number, want: number, rel = 1e-10) =>
  expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(
    rel * Math.max(Math.abs(want), 1e-300),
  )

describe('special functions', () => {
  it('Student t CDF matches scipy.stats.t.cdf', () => {
    // [r(stats.t.cdf(t, df)) for t, df in [(0.5,1),(-2.3,2),(1.96,5),(3.5,10),(-0.1,30),(8,3),(2.0,1000),(-40,4)]]
    const cases: [number, number, number][] = [
      [0.5, 1, 0.6475836176504333],
      [-2.3, 2, 0.07407407407407407],
      [1.96, 5, 0.946356023747353],
      [3.5, 10, 0.9971367472850574],
      [-0.1, 30, 0.46050480589513554],
      [8, 3, 0.9979617112061073],
      [2.0, 1000, 0.9771148267533741],
      [-40, 4, 1.1670081613006347e-6],
    ]
    for (const [t, df, want] of cases) close(studentTCdf(t, df), want, 1e-12)
  })

  it('Student t quantile matches scipy.stats.t.ppf(0.975, df)', () => {
    // [r(stats.t.ppf(0.975, df)) for df in [1,2,4,9,29]]
    const want = [
      12.706204736432095, 4.302652729911275, 2.7764451051977987, 2.2621571627409915, 2.045229642132703,
    ]
    // SciPy's ppf (cephes stdtrit) is itself good to ~1e-11: its t.cdf at the df=9 quantile is
    // 0.975 - 2.3e-12, so compare at 1e-10 and check our inverse against our (SciPy-exact) CDF.
    ;[1, 2, 4, 9, 29].forEach((df, i) => close(studentTQuantile(0.975, df), want[i]!, 1e-10))
    close(studentTQuantile(0.025, 9), -2.2621571627409915, 1e-10)
    for (const df of [1, 3, 9, 100]) close(studentTCdf(studentTQuantile(0.975, df), df), 0.975, 1e-13)
  })

  it('regularized incomplete beta matches scipy.special.betainc', () => {
    // [r(special.betainc(a,b,x)) for a,b,x in [(0.5,0.5,0.3),(2,3,0.9),(10,0.5,0.99),(15,0.5,0.2),(1.5,20,0.05)]]
    const cases: [number, number, number, number][] = [
      [0.5, 0.5, 0.3, 0.3690101195655454],
      [2, 3, 0.9, 0.9963],
      [10, 0.5, 0.99, 0.6579281751567843],
      [15, 0.5, 0.2, 5.252095298744014e-12],
      [1.5, 20, 0.05, 0.4434212016856905],
    ]
    for (const [a, b, x, want] of cases) close(regularizedIncompleteBeta(x, a, b), want, 1e-11)
    expect(regularizedIncompleteBeta(0, 2, 3)).toBe(0)
    expect(regularizedIncompleteBeta(1, 2, 3)).toBe(1)
  })

  it('normal CDF matches scipy.stats.norm, tails included', () => {
    // [r(stats.norm.cdf(z)) for z in [-1.96, 0.3, -6.5, 3.0]], r(2*stats.norm.sf(5.2))
    const cases: [number, number][] = [
      [-1.96, 0.024997895148220435],
      [0.3, 0.6179114221889526],
      [-6.5, 4.016000583859088e-11],
      [3.0, 0.9986501019683699],
    ]
    for (const [z, want] of cases) close(normalCdf(z), want, 1e-12)
    close(normalTwoSidedP(5.2), 1.992885263386694e-7, 1e-10)
  })
})

describe('descriptive statistics', () => {
  it('mean, sample std and the t-interval of a mean', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5)
    close(sampleStd([1, 2, 3, 4]), Math.sqrt(5 / 3), 1e-14)
    expect(sampleStd([1])).toBeNaN()
    const [lo, hi] = meanConfidenceInterval([1, 2, 3, 4])
    close(hi - 2.5, (3.182446305284263 * Math.sqrt(5 / 3)) / 2, 1e-9) // stats.t.ppf(0.975, 3)
    close(2.5 - lo, hi - 2.5, 1e-12)
  })

  it('average ranks share ties', () => {
    expect(averageRanks([3, 1, 3, 2, 3])).toEqual([4, 1, 4, 2, 4])
  })
})

describe('paired t-test', () => {
  it('matches scipy.stats.ttest_rel, the t-interval of the delta and d_z', () => {
    // a=[0.712,0.705,0.718,0.709,0.715]; b=[0.701,0.699,0.712,0.703,0.708]; res=stats.ttest_rel(a,b)
    // d=np.array(a)-np.array(b); ci=stats.t.interval(0.95, len(d)-1, loc=d.mean(), scale=stats.sem(d))
    // r(res.statistic), r(res.pvalue), r(ci[0]), r(ci[1]), r(d.mean()/d.std(ddof=1))
    const t = pairedTTest([0.712, 0.705, 0.718, 0.709, 0.715], [0.701, 0.699, 0.712, 0.703, 0.708])
    close(t.t, 7.426232973063313, 1e-9)
    close(t.p, 0.0017551725319408064, 1e-8)
    close(t.ci[0], 0.004508136597662098, 1e-8)
    close(t.ci[1], 0.009891863402337915, 1e-8)
    close(t.dz, 3.3211123489039864, 1e-9)
    expect(t.df).toBe(4)
  })

  it('degenerate inputs: one pair, constant or zero differences', () => {
    expect(pairedTTest([1], [0]).p).toBeNaN()
    expect(pairedTTest([1, 2], [0, 1]).p).toBe(0)
    expect(pairedTTest([1, 2], [1, 2]).p).toBeNaN()
    expect(() => pairedTTest([1, 2], [1])).toThrow(/equal length/)
  })
})

describe('Wilcoxon signed-rank', () => {
  it('exact, no ties: matches scipy.stats.wilcoxon(method="exact")', () => {
    // x=[1.83,0.50,1.62,2.48,1.68,1.88,1.55,3.06,1.30]; y=[0.878,0.647,0.598,2.05,1.06,1.29,1.06,3.14,1.29]
    // w=stats.wilcoxon(x,y,method='exact') -> 5.0 0.0390625
    const w = wilcoxonSignedRank(
      [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3],
      [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29],
    )
    expect(w.method).toBe('exact')
    expect(w.statistic).toBe(5)
    close(w.p, 0.0390625, 1e-12)
    // x2=[0.5,-1.2,2.0,0.3,-0.7,1.1,0.9,-0.2,1.6,2.4,0.05,-0.4]; stats.wilcoxon(x2,method='exact') -> 21.0 0.17626953125
    const x2 = [0.5, -1.2, 2.0, 0.3, -0.7, 1.1, 0.9, -0.2, 1.6, 2.4, 0.05, -0.4]
    const w2 = wilcoxonSignedRank(
      x2,
      x2.map(() => 0),
    )
    expect(w2.statistic).toBe(21)
    close(w2.p, 0.17626953125, 1e-12)
  })

  it('exact with ties and zeros: the sign-flip permutation distribution of W+ on average ranks', () => {
    // dt=np.array([1,2,2,-3,3,3,0,4,-1,5,0,6.]); nz=dt[dt!=0]
    // def wplus(s, axis=-1): rk=stats.rankdata(np.abs(s), axis=axis); return np.sum(rk*(s>0), axis=axis)
    // stats.permutation_test((nz,), wplus, permutation_type='samples', n_resamples=np.inf,
    //   alternative='two-sided', vectorized=True).pvalue -> 0.04296875; wplus(nz) -> 47.5
    const d = [1, 2, 2, -3, 3, 3, 0, 4, -1, 5, 0, 6]
    const w = wilcoxonSignedRank(
      d,
      d.map(() => 0),
    )
    expect(w).toMatchObject({ n: 10, zeros: 2, wPlus: 47.5, hasTies: true, method: 'exact' })
    close(w.p, 0.04296875, 1e-12)
  })

  it('n > 25: normal approximation with tie correction, as scipy (method="approx", correction=False)', () => {
    // rng=np.random.default_rng(3); big=np.round(rng.normal(0.3,1,30),1)
    // stats.wilcoxon(big, method='approx', correction=False) -> 135.5 0.12307936138250483 (2 zeros dropped)
    const big = [
      2.3, -2.3, 0.7, -0.3, -0.2, 0.1, -1.7, 0.1, -0.6, 3.6, 0.5, -0.1, 0.0, -0.4, -0.8, -0.1, 0.8, 0.1, 1.3,
      0.1, 0.3, 1.8, 0.8, -0.2, 0.1, 0.8, 2.2, 0.0, 0.1, 1.3,
    ]
    const w = wilcoxonSignedRank(
      big,
      big.map(() => 0),
    )
    expect(w).toMatchObject({ n: 28, zeros: 2, statistic: 135.5, method: 'normal' })
    close(w.p, 0.12307936138250483, 1e-9)
  })

  it('three seeds can never reach p < 0.25', () => {
    expect(wilcoxonSignedRank([0.9, 0.91, 0.92], [0.8, 0.8, 0.8]).p).toBe(0.25)
    expect(wilcoxonSignedRank([1, 1], [1, 1]).p).toBe(1)
  })
})

describe('Holm correction', () => {
  it('steps down and keeps monotonicity', () => {
    // sorted 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.06
    const got = holmAdjust([0.01, 0.04, 0.03, 0.005])
    ;[0.03, 0.06, 0.06, 0.02].forEach((want, i) => close(got[i]!, want, 1e-12))
    expect(holmAdjust([0.5, 0.9])).toEqual([1, 1])
    const withNaN = holmAdjust([NaN, 0.02, 0.04])
    expect(withNaN[0]).toBeNaN()
    close(withNaN[1]!, 0.04, 1e-12)
    close(withNaN[2]!, 0.04, 1e-12)
  })
})

describe('pairedTTest with an sd floor', () => {
  it('identical differences of one step give a finite t, p and d_z at the floor; the observed sd is kept', () => {
    const b = [0.9, 0.905, 0.895]
    const a = b.map((x) => x + 0.0005)
    const raw = pairedTTest(a, b)
    expect(raw.p).toBeLessThan(1e-12)
    const floored = pairedTTest(a, b, 0.95, 0.0005)
    expect(floored.stdDiff).toBeLessThan(1e-12)
    expect(floored.t).toBeCloseTo(Math.sqrt(3), 6)
    expect(floored.dz).toBeCloseTo(1, 6)
    expect(floored.p).toBeCloseTo(studentTwoSided(Math.sqrt(3), 2), 6)
  })
})

/** Two-sided p of Student's t, from the CDF. */
function studentTwoSided(t: number, df: number): number {
  return 2 * (1 - studentTCdf(Math.abs(t), df))
}
