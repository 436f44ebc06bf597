/**
 * Special functions for small-sample statistics: pure TypeScript, no dependencies, shared by the core's
 * tests (src/core/analysis/stats.ts re-exports them) and the power calculations (./power.ts) the UI also
 * uses. They follow Numerical Recipes (3rd ed., sections 6.1, 6.2, 6.4): Lanczos log-gamma, the
 * regularized incomplete beta by Lentz's continued fraction, the regularized incomplete gamma by series /
 * continued fraction; they agree with SciPy to ~1e-13 on the ranges used (test/core/analysis/stats.test.ts).
 */

const EPS = 1e-15
const FPMIN = 1e-300

/** Lanczos coefficients, g = 607/128 (hoisted: logGamma is called in inner loops). */
const LANCZOS = [
  0.99999999999999709182, 57.156235665862923517, -59.597960355475491248, 14.136097974741747174,
  -0.49191381609762019978, 0.33994649984811888699e-4, 0.46523628927048575665e-4, -0.98374475304879564677e-4,
  0.15808870322491248884e-3, -0.21026444172410488319e-3, 0.2174396181152126432e-3, -0.16431810653676389022e-3,
  0.84418223983852743293e-4, -0.2619083840158140867e-4, 0.36899182659531622704e-5,
]

/** ln Gamma(x) for x > 0 (Lanczos, g = 607/128, 15 terms; relative error < 1e-15). */
export function logGamma(x: number): number {
  const c = LANCZOS
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x)
  const g = 607 / 128
  let sum = c[0]!
  for (let i = 1; i < c.length; i++) sum += c[i]! / (x - 1 + i)
  const t = x - 0.5 + g
  return 0.5 * Math.log(2 * Math.PI) + (x - 0.5) * Math.log(t) - t + Math.log(sum)
}

/** Continued fraction of the incomplete beta (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  let d = 1 - (qab * x) / qap
  if (Math.abs(d) < FPMIN) d = FPMIN
  d = 1 / d
  let h = d
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < FPMIN) d = FPMIN
    c = 1 + aa / c
    if (Math.abs(c) < FPMIN) c = FPMIN
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2))
    d = 1 + aa * d
    if (Math.abs(d) < FPMIN) d = FPMIN
    c = 1 + aa / c
    if (Math.abs(c) < FPMIN) c = FPMIN
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < EPS) return h
  }
  throw new Error(`incomplete beta: continued fraction did not converge (a=${a}, b=${b}, x=${x})`)
}

/** Regularized incomplete beta I_x(a, b), a, b > 0, x in [0, 1]. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new Error(`incomplete beta: expected a, b > 0, received a=${a}, b=${b}`)
  if (Number.isNaN(x)) return NaN
  if (x <= 0) return 0
  if (x >= 1) return 1
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x)
  // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(a, b, x)) / a
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(b, a, 1 - x)) / b
}

/** Regularized lower incomplete gamma P(a, x). */
export function regularizedGammaP(a: number, x: number): number {
  if (x <= 0) return 0
  if (x < a + 1) {
    let ap = a
    let sum = 1 / a
    let del = sum
    for (let n = 0; n < 10_000; n++) {
      ap += 1
      del *= x / ap
      sum += del
      if (Math.abs(del) < Math.abs(sum) * EPS) break
    }
    return sum * Math.exp(-x + a * Math.log(x) - logGamma(a))
  }
  return 1 - regularizedGammaQ(a, x)
}

/** Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x), accurate in the far tail. */
export function regularizedGammaQ(a: number, x: number): number {
  if (x < a + 1) return 1 - regularizedGammaP(a, x)
  let b = x + 1 - a
  let c = 1 / FPMIN
  let d = 1 / b
  let h = d
  for (let i = 1; i <= 10_000; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < FPMIN) d = FPMIN
    c = b + an / c
    if (Math.abs(c) < FPMIN) c = FPMIN
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < EPS) break
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h
}

/** Standard normal CDF Phi(z), via erfc(x) = Q(1/2, x^2) (no loss of precision in the tails). */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN
  const tail = 0.5 * regularizedGammaQ(0.5, (z * z) / 2)
  return z < 0 ? tail : 1 - tail
}

/** Two-sided normal p-value 2 * (1 - Phi(|z|)). */
export function normalTwoSidedP(z: number): number {
  return Number.isNaN(z) ? NaN : regularizedGammaQ(0.5, (z * z) / 2)
}

/** Student t CDF with df > 0 degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN
  if (t === Infinity) return 1
  if (t === -Infinity) return 0
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5)
  return t < 0 ? tail : 1 - tail
}

/** Two-sided p-value P(|T| >= |t|) of Student's t with df degrees of freedom. */
export function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN
  if (!Number.isFinite(t)) return 0
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5)
}

/** Quantile of Student's t: the t with CDF(t) = p, p in (0, 1). Bracketing + bisection to 1e-12. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`t quantile: expected p in (0, 1), received ${p}`)
  if (p === 0.5) return 0
  if (p < 0.5) return -studentTQuantile(1 - p, df)
  let lo = 0
  let hi = 1
  while (studentTCdf(hi, df) < p) {
    lo = hi
    hi *= 2
    if (hi > 1e12) return Infinity
  }
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2
    if (studentTCdf(mid, df) < p) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}
