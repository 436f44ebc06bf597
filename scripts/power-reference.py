#!/usr/bin/env python3
"""Writes test/fixtures/power-reference.json: reference figures for src/shared/power.ts, computed with
SciPy alone (statsmodels' formulas, written out so that statsmodels need not be installed).

- nct_cdf: scipy.stats.nct.cdf(t, df, nc).
- paired_power: statsmodels `ttest_power(d, nobs=n, alpha, alternative)` with d = effect / sd:
  two-sided = nct.sf(c, df, d sqrt n) + nct.cdf(-c, df, d sqrt n), c = t.isf(alpha/2, df);
  one-sided ('larger', in the effect's direction) = nct.sf(t.isf(alpha, df), df, |d| sqrt n).
- min_detectable_effect: brentq of paired_power(effect) - power (statsmodels `solve_power` for
  effect_size, times sd).
- seeds_needed: the smallest n >= 2 whose paired_power reaches the target (None above max).
- equivalence_power: exact TOST power (Owen 1965) by scipy.integrate.quad over s / sd ~ chi_df / sqrt df,
  each one-sided test at alpha / 2; cross-checked here against a seeded simulation of 400,000 studies.
- effect_size_interval: the exact CI of d_z, brentq of nct.cdf(t, n - 1, nc) = 1 - tail and = tail, / sqrt n.

Regenerate (Debian: apt-get install -y python3-scipy):  /usr/bin/python3 scripts/power-reference.py
"""
import json
import math
import os

import numpy as np
from scipy import integrate, optimize, stats


def paired_power(n, sd, effect, alpha, sided):
    df = n - 1
    nc = effect / sd * math.sqrt(n)
    if sided == "one":
        return float(stats.nct.sf(stats.t.isf(alpha, df), df, abs(nc)))
    crit = stats.t.isf(alpha / 2, df)
    # The lower tail nct.cdf(-crit, df, nc) written as nct.sf(crit, df, -nc): the same number, and SciPy
    # returns NaN for the former at df = 1 and a large nc.
    value = float(stats.nct.sf(crit, df, nc) + stats.nct.sf(crit, df, -nc))
    assert not math.isnan(value), (n, sd, effect, alpha, sided)
    return value


def min_detectable_effect(n, sd, alpha, power, sided):
    f = lambda e: paired_power(n, sd, e, alpha, sided) - power
    hi = sd
    while f(hi) < 0:
        hi *= 2
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-14, rtol=1e-13))


def seeds_needed(effect, sd, alpha, power, sided, max_n):
    for n in range(2, max_n + 1):
        if paired_power(n, sd, effect, alpha, sided) >= power:
            return n
    return None


def equivalence_power(n, sd, margin, effect, alpha):
    df = n - 1
    crit = stats.t.isf(alpha / 2, df)
    root = math.sqrt(n)
    u_max = margin * root / (crit * sd)
    chi = stats.chi(df, scale=1 / math.sqrt(df))
    upper = (margin - effect) * root / sd
    lower = (-margin - effect) * root / sd

    def g(u):
        return max(0.0, stats.norm.cdf(upper - crit * u) - stats.norm.cdf(lower + crit * u)) * chi.pdf(u)

    value, _ = integrate.quad(g, 0, u_max, epsabs=1e-13, epsrel=1e-12, limit=200)
    return float(value)


def simulated_equivalence_power(n, sd, margin, effect, alpha, reps=400_000, seed=1):
    rng = np.random.default_rng(seed)
    d = rng.normal(effect, sd, size=(reps, n))
    m = d.mean(axis=1)
    s = d.std(axis=1, ddof=1)
    crit = stats.t.isf(alpha / 2, n - 1)
    return float(np.mean(np.abs(m) < margin - crit * s / math.sqrt(n)))


def effect_size_interval(t, n, level):
    df = n - 1
    tail = (1 - level) / 2
    f = lambda target: (lambda nc: stats.nct.cdf(t, df, nc) - target)
    lo = optimize.brentq(f(1 - tail), t - 60, t + 60, xtol=1e-13, rtol=1e-13)
    hi = optimize.brentq(f(tail), t - 60, t + 60, xtol=1e-13, rtol=1e-13)
    return [float(lo / math.sqrt(n)), float(hi / math.sqrt(n))]


def main():
    out = {"scipy": __import__("scipy").__version__}
    cdf_cases = [
        (1.5, 4, 0.5), (-1.2, 3, 1.0), (2.0, 1, 3.0), (12.706, 1, 20.0), (2.262, 9, 4.5), (0.0, 5, 1.3),
        (3.0, 29, -1.0), (-2.0, 2, -0.5), (4.303, 2, 45.0), (2.0, 99, 60.0), (0.7, 7, 0.0), (-3.0, 10, 2.0),
    ]
    out["nct_cdf"] = [[t, df, nc, float(stats.nct.cdf(t, df, nc))] for t, df, nc in cdf_cases]
    power_cases = [
        # n, sd, effect, alpha, sided; the last rows: the 3-seed Re-KD case and resolution-scale sds
        (3, 1.0, 1.0, 0.05, "two"), (3, 1.0, 5.0, 0.05, "two"), (5, 0.5, 0.7, 0.05, "two"),
        (10, 1.0, 0.5, 0.05, "one"), (10, 1.0, -0.5, 0.05, "two"), (2, 1.0, 10.0, 0.05, "two"),
        (20, 0.8, 0.3, 0.01, "two"), (30, 1.0, 0.2, 0.025, "one"), (3, 0.0122, 0.0141, 0.05, "two"),
        (4, 1e-4, 3e-4, 0.05, "two"), (50, 2.0, 1.0, 0.05, "two"), (8, 1.0, 0.0, 0.05, "two"),
    ]
    out["paired_power"] = [
        [n, sd, e, a, s, paired_power(n, sd, e, a, s)] for n, sd, e, a, s in power_cases
    ]
    mde_cases = [
        (2, 1.0, 0.05, 0.8, "two"), (3, 1.0, 0.05, 0.8, "two"), (5, 0.01, 0.05, 0.8, "two"),
        (10, 1.0, 0.05, 0.9, "one"), (30, 0.5, 0.0125, 0.8, "two"), (100, 1.0, 0.05, 0.8, "two"),
    ]
    out["min_detectable_effect"] = [
        [n, sd, a, p, s, min_detectable_effect(n, sd, a, p, s)] for n, sd, a, p, s in mde_cases
    ]
    seeds_cases = [
        (0.0141, 0.0122, 0.05, 0.8, "two", 100), (1.0, 1.0, 0.05, 0.8, "two", 100),
        (0.5, 1.0, 0.05, 0.8, "one", 100), (0.1, 1.0, 0.05, 0.8, "two", 100), (3.0, 1.0, 0.05, 0.8, "two", 100),
        (0.0227, 0.01, 0.0125, 0.8, "two", 100),
    ]
    out["seeds_needed"] = [
        [e, sd, a, p, s, m, seeds_needed(e, sd, a, p, s, m)] for e, sd, a, p, s, m in seeds_cases
    ]
    eq_cases = [
        (3, 1.0, 2.0, 0.0, 0.05), (5, 0.5, 0.5, 0.0, 0.05), (10, 1.0, 1.0, 0.2, 0.05), (20, 1.0, 0.5, 0.0, 0.05),
        (2, 0.1, 1.0, 0.0, 0.05), (8, 0.004, 0.005, 0.001, 0.05),
    ]
    rows = []
    for n, sd, m, e, a in eq_cases:
        exact = equivalence_power(n, sd, m, e, a)
        sim = simulated_equivalence_power(n, sd, m, e, a)
        assert abs(exact - sim) < 4e-3, (n, sd, m, e, a, exact, sim)
        rows.append([n, sd, m, e, a, exact])
    out["equivalence_power"] = rows
    dz_cases = [(2.5, 3, 0.95), (-1.2, 5, 0.95), (0.0, 10, 0.95), (6.0, 4, 0.9), (3.1, 20, 0.99)]
    out["effect_size_interval"] = [[t, n, lv, effect_size_interval(t, n, lv)] for t, n, lv in dz_cases]
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "power-reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
