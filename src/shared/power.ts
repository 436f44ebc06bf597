/**
 * Power of the paired t-test, for planning a study and for stating what a finished one could have seen.
 * Pure TypeScript (the CLI, the core and the UI use the same figures); checked against SciPy's
 * `scipy.stats.nct` and statsmodels' `TTestPower` formulas by scripts/power-reference.py, whose output is
 * test/fixtures/power-reference.json (test/shared/power.test.ts).
 *
 * Conventions (statsmodels `ttest_power`): n pairs, df = n - 1, standardized effect d = effect / sd,
 * noncentrality delta = d * sqrt(n). Two-sided power is P(T > t_{1-alpha/2}) + P(T < -t_{1-alpha/2}) with
 * T ~ noncentral t(df, delta); one-sided power is tested in the direction of the effect,
 * P(T > t_{1-alpha}) with delta = |d| sqrt(n).
 */
import { logGamma, normalCdf, regularizedIncompleteBeta, studentTQuantile } from './special'

export type Sided = 'two' | 'one'

/** Terms below this (times an incomplete beta <= 1) no longer change a double. */
const TINY = 1e-20

/**
 * CDF of the noncentral t distribution with df > 0 degrees of freedom and noncentrality nc, as the
 * Poisson mixture of incomplete beta functions (Lenth 1989, AS 243), summed outward from the Poisson
 * mode in log space (Benton & Krishnamoorthy 2003) so that a large nc does not underflow:
 * for t >= 0, F(t) = Phi(-nc) + 1/2 sum_j [P_j I_x(j + 1/2, df/2) + Q_j I_x(j + 1, df/2)],
 * x = t^2 / (t^2 + df), P_j = e^-l l^j / j!, Q_j = e^-l l^j nc / (sqrt 2 Gamma(j + 3/2)), l = nc^2 / 2;
 * for t < 0, F(t; df, nc) = 1 - F(-t; df, -nc).
 */
export function noncentralTCdf(t: number, df: number, nc: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || Number.isNaN(nc)) return NaN
  if (!(df > 0)) throw new Error(`noncentral t: expected df > 0, received ${df}`)
  if (t === Infinity) return 1
  if (t === -Infinity) return 0
  if (t < 0) return 1 - noncentralTCdf(-t, df, -nc)
  const base = normalCdf(-nc)
  if (t === 0) return base
  const x = (t * t) / (t * t + df)
  const b = df / 2
  const lambda = (nc * nc) / 2
  if (lambda === 0) return base + 0.5 * regularizedIncompleteBeta(x, 0.5, b)
  const sign = nc < 0 ? -1 : 1
  // Poisson weights at the mode from log-gamma, then by their ratios outward.
  const mode = Math.floor(lambda)
  const logLambda = Math.log(lambda)
  const p0 = Math.exp(-lambda + mode * logLambda - logGamma(mode + 1))
  const q0 = Math.exp(
    -lambda + mode * logLambda + Math.log(Math.abs(nc)) - 0.5 * Math.LN2 - logGamma(mode + 1.5),
  )
  const term = (j: number, p: number, q: number) =>
    p * regularizedIncompleteBeta(x, j + 0.5, b) + sign * q * regularizedIncompleteBeta(x, j + 1, b)
  let sum = 0
  // Upward: I_x(a, b) falls as a grows, so (p + q) I_x(j + 1/2, b) bounds this and every later term.
  for (let j = mode, p = p0, q = q0; ; j++) {
    const odd = regularizedIncompleteBeta(x, j + 0.5, b)
    sum += p * odd + sign * q * regularizedIncompleteBeta(x, j + 1, b)
    if ((p + q) * odd < TINY) break
    p *= lambda / (j + 1)
    q *= lambda / (j + 1.5)
  }
  // Downward: the weights fall geometrically below the mode.
  for (let j = mode - 1, p = (p0 * mode) / lambda, q = (q0 * (mode + 0.5)) / lambda; j >= 0; j--) {
    sum += term(j, p, q)
    if (p + q < TINY) break
    p *= j / lambda
    q *= (j + 0.5) / lambda
  }
  return Math.min(1, Math.max(0, base + 0.5 * sum))
}

function check(name: string, value: number, ok: boolean, expected: string): void {
  if (!ok) throw new Error(`${name}: expected ${expected}, received ${String(value)}`)
}

function checkLevel(alpha: number, power?: number): void {
  check('alpha', alpha, alpha > 0 && alpha < 1, 'a level in (0, 1)')
  if (power !== undefined) check('power', power, power > 0 && power < 1, 'a probability in (0, 1)')
}

export interface PairedPowerInput {
  /** Pairs (matched seeds), >= 2. */
  n: number
  /** Standard deviation of the paired differences (> 0; same units as effect). */
  sd: number
  /** True mean difference. */
  effect: number
  alpha?: number
  sided?: Sided
}

/** Power of a paired t-test with n pairs, difference sd and true mean difference `effect`. */
export function pairedPower({ n, sd, effect, alpha = 0.05, sided = 'two' }: PairedPowerInput): number {
  checkLevel(alpha)
  check('n', n, Number.isInteger(n) && n >= 2, 'a whole number of pairs >= 2')
  check('sd', sd, sd > 0 && Number.isFinite(sd), 'a positive, finite standard deviation')
  if (Number.isNaN(effect)) return NaN
  const df = n - 1
  const nc = (effect / sd) * Math.sqrt(n)
  if (sided === 'one') return 1 - noncentralTCdf(studentTQuantile(1 - alpha, df), df, Math.abs(nc))
  const crit = studentTQuantile(1 - alpha / 2, df)
  return 1 - noncentralTCdf(crit, df, nc) + noncentralTCdf(-crit, df, nc)
}

export interface MinDetectableEffectInput {
  n: number
  sd: number
  alpha?: number
  power?: number
  sided?: Sided
}

/**
 * The smallest |effect| (same units as sd) that the paired t-test detects with the given power:
 * the root of pairedPower(effect) = power, by bisection to a relative 1e-10.
 */
export function minDetectableEffect({
  n,
  sd,
  alpha = 0.05,
  power = 0.8,
  sided = 'two',
}: MinDetectableEffectInput): number {
  checkLevel(alpha, power)
  check('power', power, power > (sided === 'one' ? alpha : alpha / 2), 'a power above the test level')
  const at = (effect: number) => pairedPower({ n, sd, effect, alpha, sided })
  let lo = 0
  let hi = sd
  while (at(hi) < power) {
    lo = hi
    hi *= 2
  }
  for (let i = 0; i < 200 && hi - lo > 1e-10 * hi; i++) {
    const mid = (lo + hi) / 2
    if (at(mid) < power) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

export interface SeedsNeededInput {
  /** The effect to detect (e.g. the paper's gain), same units as sd. */
  effect: number
  sd: number
  alpha?: number
  power?: number
  sided?: Sided
  /** Largest n considered (default 100). */
  max?: number
}

/** The smallest n >= 2 whose paired t-test reaches the power for `effect`; null when above `max`. */
export function seedsNeeded({
  effect,
  sd,
  alpha = 0.05,
  power = 0.8,
  sided = 'two',
  max = 100,
}: SeedsNeededInput): number | null {
  checkLevel(alpha, power)
  if (effect === 0 || Number.isNaN(effect)) return null
  for (let n = 2; n <= max; n++) if (pairedPower({ n, sd, effect, alpha, sided }) >= power) return n
  return null
}

export interface EquivalencePowerInput {
  n: number
  sd: number
  /** Equivalence margin (> 0): "comparable" means the true difference lies in (-margin, +margin). */
  margin: number
  /** True mean difference (default 0). */
  effect?: number
  /** The TOST decides with the 1 - alpha interval: each one-sided test at alpha / 2. */
  alpha?: number
}

/**
 * Exact power of the paired TOST equivalence test (Owen 1965): it concludes equivalence when
 * |mean d| < margin - t_{1-alpha/2, n-1} s / sqrt(n). Integrates over s / sd ~ sqrt(chi2_df / df)
 * (Simpson's rule, 600 panels over the region where the rejection set is not empty).
 */
export function equivalencePower({ n, sd, margin, effect = 0, alpha = 0.05 }: EquivalencePowerInput): number {
  checkLevel(alpha)
  check('n', n, Number.isInteger(n) && n >= 2, 'a whole number of pairs >= 2')
  check('sd', sd, sd > 0 && Number.isFinite(sd), 'a positive, finite standard deviation')
  check('margin', margin, margin > 0 && Number.isFinite(margin), 'a positive, finite margin')
  const df = n - 1
  const crit = studentTQuantile(1 - alpha / 2, df)
  const root = Math.sqrt(n)
  // u = s / sd; rejection needs u < margin sqrt(n) / (crit sd).
  const uMax = (margin * root) / (crit * sd)
  const logNorm = Math.LN2 + (df / 2) * Math.log(df / 2) - logGamma(df / 2)
  const density = (u: number) =>
    u <= 0
      ? df === 1
        ? Math.exp(logNorm)
        : 0
      : Math.exp(logNorm + (df - 1) * Math.log(u) - (df * u * u) / 2)
  const upper = ((margin - effect) * root) / sd
  const lower = ((-margin - effect) * root) / sd
  const integrand = (u: number) =>
    Math.max(0, normalCdf(upper - crit * u) - normalCdf(lower + crit * u)) * density(u)
  // Beyond u = 1 + 40 / sqrt(df) the chi density is below 1e-300 relative; cap the range there.
  const end = Math.min(uMax, 1 + 40 / Math.sqrt(df) + 10)
  const panels = 600
  const h = end / panels
  let sum = integrand(0) + integrand(end)
  for (let i = 1; i < panels; i++) sum += (i % 2 ? 4 : 2) * integrand(i * h)
  return Math.min(1, Math.max(0, (sum * h) / 3))
}

export interface EffectSizeIntervalInput {
  /** The paired t statistic, mean / (sd / sqrt n). */
  t: number
  n: number
  /** Confidence level (default 0.95). */
  level?: number
}

/**
 * Exact confidence interval of Cohen's d_z = mean / sd of paired differences (Steiger & Fouladi 1997):
 * the noncentralities nc with noncentral-t CDF(t; n - 1, nc) = 1 - (1 - level) / 2 and (1 - level) / 2,
 * divided by sqrt(n). NaN below two pairs or for a non-finite t.
 */
export function effectSizeInterval({ t, n, level = 0.95 }: EffectSizeIntervalInput): [number, number] {
  check('level', level, level > 0 && level < 1, 'a confidence level in (0, 1)')
  if (!(n >= 2) || !Number.isFinite(t)) return [NaN, NaN]
  const df = n - 1
  const tail = (1 - level) / 2
  // CDF(t; nc) falls as nc grows: bracket the nc with CDF = target around the normal approximation
  // nc ~ t -+ z sqrt(1 + t^2 / (2 df)), then regula falsi (Illinois) to 1e-10.
  const spread = Math.sqrt(1 + (t * t) / (2 * df))
  const solve = (target: number): number => {
    const f = (nc: number) => noncentralTCdf(t, df, nc) - target
    let lo = t - 4 * spread
    let hi = t + 4 * spread
    let fLo = f(lo)
    let fHi = f(hi)
    while (fLo < 0) [lo, fLo] = [lo - 4 * spread, f(lo - 4 * spread)]
    while (fHi > 0) [hi, fHi] = [hi + 4 * spread, f(hi + 4 * spread)]
    let side = 0
    for (let i = 0; i < 200 && hi - lo > 1e-10 * Math.max(1, Math.abs(hi)); i++) {
      const mid = (lo * fHi - hi * fLo) / (fHi - fLo)
      const fMid = f(mid)
      if (fMid === 0) return mid
      if (fMid > 0) {
        ;[lo, fLo] = [mid, fMid]
        if (side === 1) fHi /= 2
        side = 1
      } else {
        ;[hi, fHi] = [mid, fMid]
        if (side === -1) fLo /= 2
        side = -1
      }
      if (Math.abs(fMid) < 1e-14) return mid
    }
    return (lo + hi) / 2
  }
  const root = Math.sqrt(n)
  return [solve(1 - tail) / root, solve(tail) / root]
}
