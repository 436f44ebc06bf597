/**
 * Small-sample statistics for comparing training variants over seeds: pure TypeScript, no TF.js and
 * no dependencies. The special functions (log-gamma, incomplete beta and gamma, normal and Student t
 * distributions) live in src/shared/special.ts, so the UI's power figures use the same code; they agree
 * with SciPy to ~1e-13 on the ranges used (test/core/analysis/stats.test.ts). Two-sided tests throughout.
 */
import { studentTQuantile, studentTTwoSidedP, normalTwoSidedP } from '../../shared/special'

export {
  logGamma,
  normalCdf,
  normalTwoSidedP,
  regularizedGammaP,
  regularizedGammaQ,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTQuantile,
  studentTTwoSidedP,
} from '../../shared/special'

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN
  let s = 0
  for (const x of xs) s += x
  return s / xs.length
}

/** Sample standard deviation (denominator n - 1); NaN below two values. */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN
  const m = mean(xs)
  let ss = 0
  for (const x of xs) ss += (x - m) * (x - m)
  return Math.sqrt(ss / (xs.length - 1))
}

function pairedDiffs(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) {
    throw new Error(`paired test: expected samples of equal length, received ${a.length} and ${b.length}`)
  }
  return a.map((x, i) => x - b[i]!)
}

export interface PairedTTest {
  n: number
  meanDiff: number
  stdDiff: number
  t: number
  df: number
  p: number
  /** Two-sided confidence interval of the mean difference (t-based). */
  ci: [number, number]
  /** Cohen's d_z = mean(d) / sd(d). */
  dz: number
}

/**
 * Paired t-test of a - b (SciPy `ttest_rel`). n < 2 gives NaN; differences that are all equal give
 * t = +-Infinity and p = 0 (all zero: t = NaN, p = NaN, as SciPy does) unless `sdFloor` > 0: then the
 * sd of the differences is at least sdFloor (the metric's resolution, 1 / test-set size), so identical
 * differences of one test image give a finite t, p and d_z. `stdDiff` stays the observed sd.
 */
export function pairedTTest(
  a: readonly number[],
  b: readonly number[],
  confidence = 0.95,
  sdFloor = 0,
): PairedTTest {
  const d = pairedDiffs(a, b)
  const n = d.length
  const m = mean(d)
  const observed = sampleStd(d)
  const s = Math.max(observed, sdFloor)
  const df = n - 1
  if (n < 2) return { n, meanDiff: m, stdDiff: observed, t: NaN, df, p: NaN, ci: [NaN, NaN], dz: NaN }
  const se = s / Math.sqrt(n)
  const t = s === 0 ? (m === 0 ? NaN : m > 0 ? Infinity : -Infinity) : m / se
  const q = studentTQuantile(0.5 + confidence / 2, df)
  return {
    n,
    meanDiff: m,
    stdDiff: observed,
    t,
    df,
    p: studentTTwoSidedP(t, df),
    ci: [m - q * se, m + q * se],
    dz: s === 0 ? t : m / s,
  }
}

/** 95% (or `confidence`) t-based interval of the mean of xs. */
export function meanConfidenceInterval(xs: readonly number[], confidence = 0.95): [number, number] {
  const n = xs.length
  if (n < 2) return [NaN, NaN]
  const q = studentTQuantile(0.5 + confidence / 2, n - 1)
  const half = (q * sampleStd(xs)) / Math.sqrt(n)
  const m = mean(xs)
  return [m - half, m + half]
}

/** Average ranks (1-based) of |values|, ties sharing the mean of their ranks. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0])
  const ranks = new Array<number>(values.length)
  for (let i = 0; i < order.length;) {
    let j = i
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++
    const r = (i + j + 2) / 2
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = r
    i = j + 1
  }
  return ranks
}

export interface WilcoxonTest {
  /** Pairs left after dropping zero differences. */
  n: number
  zeros: number
  /** Sum of ranks of positive differences. */
  wPlus: number
  wMinus: number
  /** min(W+, W-), SciPy's two-sided statistic. */
  statistic: number
  p: number
  method: 'exact' | 'normal'
  /** Whether some |differences| were tied (average ranks used). */
  hasTies: boolean
}

/** Largest n for the exact null distribution (2^n sign patterns counted by dynamic programming). */
export const WILCOXON_EXACT_MAX_N = 25

/**
 * Wilcoxon signed-rank test of a - b, two-sided. Conventions (stated, as tests differ on them):
 * - zero differences are dropped (Wilcoxon's original method, SciPy `zero_method='wilcox'`);
 * - tied |differences| get average ranks;
 * - n <= 25: exact p from the sign-flip distribution of W+ over the actual (average) ranks, so it stays
 *   exact with ties (= an exact permutation test on the ranks), p = min(1, 2 min(P(W+ <= w), P(W+ >= w)));
 *   without ties this is SciPy's `method='exact'`;
 * - n > 25: normal approximation with the tie-corrected variance, no continuity correction (SciPy
 *   `method='approx'`, `correction=False`).
 * With no non-zero differences p is 1. `resolution` (> 0): differences are first rounded to multiples
 * of it (the metric's step, e.g. 1 / test-set size), so float noise cannot split a tie or hide a zero.
 */
export function wilcoxonSignedRank(a: readonly number[], b: readonly number[], resolution = 0): WilcoxonTest {
  const all = pairedDiffs(a, b).map((x) => (resolution > 0 ? Math.round(x / resolution) * resolution : x))
  const d = all.filter((x) => x !== 0)
  const zeros = all.length - d.length
  const n = d.length
  if (n === 0) {
    return { n, zeros, wPlus: 0, wMinus: 0, statistic: 0, p: 1, method: 'exact', hasTies: false }
  }
  const ranks = averageRanks(d.map(Math.abs))
  let wPlus = 0
  for (let i = 0; i < n; i++) if (d[i]! > 0) wPlus += ranks[i]!
  const total = (n * (n + 1)) / 2
  const wMinus = total - wPlus
  const hasTies = new Set(ranks).size < n
  const statistic = Math.min(wPlus, wMinus)
  if (n <= WILCOXON_EXACT_MAX_N) {
    // Doubled ranks are integers even with ties (average of integers has denominator 2).
    const r2 = ranks.map((r) => Math.round(2 * r))
    const max = r2.reduce((x, y) => x + y, 0)
    let counts = new Float64Array(max + 1)
    counts[0] = 1
    for (const r of r2) {
      const next = new Float64Array(max + 1)
      for (let s = 0; s <= max; s++) {
        const c = counts[s]!
        if (c === 0) continue
        next[s]! += c
        next[s + r]! += c
      }
      counts = next
    }
    const w2 = Math.round(2 * wPlus)
    const all2 = 2 ** n
    let le = 0
    let ge = 0
    for (let s = 0; s <= max; s++) {
      if (s <= w2) le += counts[s]!
      if (s >= w2) ge += counts[s]!
    }
    const p = Math.min(1, (2 * Math.min(le, ge)) / all2)
    return { n, zeros, wPlus, wMinus, statistic, p, method: 'exact', hasTies }
  }
  const tieGroups = new Map<number, number>()
  for (const r of ranks) tieGroups.set(r, (tieGroups.get(r) ?? 0) + 1)
  let tieSum = 0
  for (const t of tieGroups.values()) tieSum += t * t * t - t
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieSum / 48
  const z = (wPlus - total / 2) / Math.sqrt(variance)
  return { n, zeros, wPlus, wMinus, statistic, p: normalTwoSidedP(z), method: 'normal', hasTies }
}

/**
 * Holm's step-down adjustment (statsmodels `multipletests(method='holm')`): sorted p_(i) becomes
 * max_{j <= i} min(1, (m - j + 1) p_(j)). NaN p-values stay NaN and do not count in m.
 */
export function holmAdjust(ps: readonly number[]): number[] {
  const idx = ps.map((p, i) => [p, i] as const).filter(([p]) => !Number.isNaN(p))
  idx.sort((x, y) => x[0] - y[0])
  const m = idx.length
  const out = ps.map(() => NaN)
  let running = 0
  idx.forEach(([p, i], j) => {
    running = Math.max(running, Math.min(1, (m - j) * p))
    out[i] = running
  })
  return out
}
