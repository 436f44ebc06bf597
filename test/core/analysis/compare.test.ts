import { describe, expect, it } from 'vitest'
import {
  compareRuns,
  formatComparison,
  formatCsv,
  formatJson,
  formatLatex,
  formatMarkdown,
  type ComparedRun,
} from '../../../src/core/analysis/compare'
import { holmAdjust } from '../../../src/core/analysis/stats'

const base = [0.701, 0.699, 0.712, 0.703, 0.708]
const tfkd = [0.712, 0.705, 0.718, 0.709, 0.715]
const runs = (variant: string, accs: number[], extra: Partial<ComparedRun> = {}): ComparedRun[] =>
  accs.map((a, i) => ({ variant, seed: i + 1, bestTestAccuracy: a, lastTestAccuracy: a - 0.01, ...extra }))

describe('compareRuns', () => {
  const table = compareRuns([
    ...runs('baseline', base),
    ...runs('tfkd-self', tfkd, { teacher: 'resnet8' }),
    ...runs('lsr', [0.702, 0.697, 0.713, 0.702, 0.709]),
    ...runs('de-kd', [0.69, 0.688, 0.7], { teacher: 'resnet20@1' }),
  ])

  it('has one row per variant, baseline first then registry order, with mean +- std', () => {
    expect(table.rows.map((r) => r.variant)).toEqual(['baseline', 'lsr', 'de-kd', 'tfkd-self'])
    const b = table.rows[0]!
    expect(b.verdict).toBe('reference')
    expect(b.n).toBe(5)
    expect(b.mean).toBeCloseTo(0.7046, 12)
    expect(b.std).toBeCloseTo(0.0053197744313081595, 15) // repr(np.std(base, ddof=1))
  })

  it('pairs matched seeds: same numbers as scipy ttest_rel (see stats.test.ts)', () => {
    const r = table.rows.find((x) => x.variant === 'tfkd-self')!
    expect(r.teacher).toBe('resnet8')
    expect(r.matched).toBe(5)
    expect(r.delta).toBeCloseTo(0.0072, 12)
    expect(r.t).toBeCloseTo(7.426232973063313, 8)
    expect(r.pT).toBeCloseTo(0.0017551725319408064, 10)
    expect(r.ci[0]).toBeCloseTo(0.004508136597662098, 10)
    expect(r.dz).toBeCloseTo(3.3211123489039864, 8)
    expect(r.pWilcoxon).toBe(0.0625) // all 5 positive: 2 / 2^5
    expect(r.wilcoxonMethod).toBe('exact')
    // Holm over the three compared variants.
    const ps = table.rows.filter((x) => x.variant !== 'baseline').map((x) => x.pT)
    expect(table.rows.filter((x) => x.variant !== 'baseline').map((x) => x.pTHolm)).toEqual(holmAdjust(ps))
    expect(r.verdict).toBe('better')
    expect(r.warnings).toEqual([])
  })

  it('says "no evidence" without a clear difference and warns below 3 matched seeds', () => {
    expect(table.rows.find((x) => x.variant === 'lsr')!.verdict).toBe('no evidence')
    const de = table.rows.find((x) => x.variant === 'de-kd')!
    expect(de.matched).toBe(3)
    expect(de.delta).toBeLessThan(0)
    const two = compareRuns([...runs('baseline', base), ...runs('kd', [0.8, 0.81])])
    const kd = two.rows.find((x) => x.variant === 'kd')!
    expect(kd.warnings.some((w) => /only 2 seed\(s\) matched/.test(w))).toBe(true)
  })

  it('compares the last epoch on request, averages duplicate seeds with a warning, skips missing values', () => {
    const t = compareRuns(
      [
        ...runs('baseline', base),
        ...runs('kd', tfkd),
        { variant: 'kd', seed: 1, bestTestAccuracy: 0.7, lastTestAccuracy: 0.7 },
        { variant: 'kd', seed: 9, bestTestAccuracy: null, lastTestAccuracy: null },
      ],
      { metric: 'last' },
    )
    const kd = t.rows.find((x) => x.variant === 'kd')!
    expect(kd.mean).toBeCloseTo((0.702 + 0.7) / 2 / 5 + (0.695 + 0.708 + 0.699 + 0.705) / 5, 12)
    expect(t.warnings.join(' ')).toMatch(/2 runs with seed 1/)
    expect(t.warnings.join(' ')).toMatch(/1 run\(s\) without a last-epoch/)
  })

  it('matches baselines per student model and warns without any', () => {
    const t = compareRuns([
      ...runs('baseline', base, { model: 'resnet8' }),
      ...runs('kd', tfkd, { model: 'resnet8' }),
      ...runs('kd', tfkd, { model: 'mobilenetv2' }),
    ])
    expect(t.rows.find((r) => r.model === 'resnet8' && r.variant === 'kd')!.matched).toBe(5)
    expect(t.rows.find((r) => r.model === 'mobilenetv2')!.matched).toBe(0)
    expect(compareRuns(runs('kd', tfkd)).warnings.join(' ')).toMatch(/no baseline runs/)
  })
})

describe('row order', () => {
  it('follows the variant registry (baseline first) whatever order the runs come in', () => {
    // The store lists runs newest first: the reverse of the plan's order.
    const newestFirst = [
      ...runs('tfkd-reg', tfkd),
      ...runs('tfkd-self', tfkd),
      ...runs('kd', tfkd),
      ...runs('lsr', tfkd),
      ...runs('baseline', base),
    ]
    expect(compareRuns(newestFirst).rows.map((r) => r.variant)).toEqual([
      'baseline',
      'lsr',
      'kd',
      'tfkd-self',
      'tfkd-reg',
    ])
  })
})

describe('formatters', () => {
  const table = compareRuns([
    ...runs('baseline', base),
    ...runs('tfkd-reg', tfkd),
    ...runs('re-kd', [0.71, 0.7], { teacher: 'cnn-small, "weak"' }),
  ])

  it('csv: units in the header, percent and points with fixed decimals (no float noise), quoted cells', () => {
    const csv = formatCsv(table).trim().split('\n')
    expect(csv[0]).toBe(
      'variant,model,teacher,n,mean_pct,std_pct,matched,delta_pp,ci_low_pp,ci_high_pp,t,p_t,p_t_holm,wilcoxon_w,p_wilcoxon,p_wilcoxon_holm,d_z,verdict,warnings,' +
        'ci_adj_low_pp,ci_adj_high_pp,teacher_accuracy_pct,teacher_epochs,teacher_fell_back,selection',
    )
    expect(csv[1]!.endsWith(',best-on-validation')).toBe(true)
    expect(csv).toHaveLength(4)
    expect(csv[1]).toBe('baseline,,,5,70.46,0.53,0,,,,,,,,,,,reference,,,,,,,best-on-validation')
    expect(csv[3]).toBe(
      'tfkd-reg,,,5,71.18,0.51,5,0.72,0.45,0.99,7.426,0.0018,0.0035,0.0,0.0625,0.1250,3.321,better,,0.38,1.06,,,,best-on-validation',
    )
    // No cell carries a fraction's float noise (0.7128000000000001): at most 4 decimals anywhere.
    expect(csv.join('\n')).not.toMatch(/\d\.\d{5,}/)
    // Registry order: re-kd before tfkd-reg, whatever order the runs came in.
    expect(csv[2]).toContain('"cnn-small, ""weak"""')
  })

  it('markdown: a table in percent with deltas in points and the warnings listed', () => {
    const md = formatMarkdown(table)
    expect(md).toContain('| variant | n | mean ± std (%) |')
    expect(md).toContain(
      '| tfkd-reg | 5 (5 matched) | 71.18 ± 0.51 | +0.72 | [+0.45, +0.99] | 0.0018 | 0.0035 | 0.0625 |',
    )
    expect(md).toMatch(/⚠ re-kd, teacher cnn-small, "weak": only 2 seed\(s\) matched/)
  })

  it('latex: booktabs with escaped text', () => {
    const tex = formatLatex(table)
    expect(tex).toContain('\\begin{tabular}')
    expect(tex).toContain('\\toprule')
    expect(tex).toContain('tfkd-reg & 5 & 71.18 $\\pm$ 0.51 & +0.72')
    expect(tex).toContain('$^\\dagger$')
    expect(tex).toMatch(/^% Needs \\usepackage\{booktabs\}/m)
    // The note is printed, not a % comment; numbers carry a real minus sign, never a hyphen.
    expect(tex).toMatch(/\{\\footnotesize \$\^\\dagger\$ .*only 2 seed\(s\) matched/)
    expect(tex).not.toMatch(/^% \$\^\\dagger/m)
    expect(tex).toContain('$-$')
    const body = tex.split('\n').filter((l) => l.endsWith('\\\\') && !l.startsWith('Variant'))
    for (const l of body) expect(l.split(' & ').slice(1, 8).join(' ')).not.toMatch(/(^|[^$])-\d/)
  })

  it('json: NaN becomes null and the table round-trips', () => {
    const parsed = JSON.parse(formatJson(table)) as { rows: { variant: string; delta: number | null }[] }
    expect(parsed.rows[0]).toMatchObject({ variant: 'baseline', delta: null })
    expect(formatComparison(table, 'json')).toBe(formatJson(table))
    expect(formatComparison(table, 'md')).toBe(formatMarkdown(table))
  })
})

describe('statistics at the edges', () => {
  it('rounds differences to the metric resolution, so k/N accuracies tie in Wilcoxon', () => {
    // Test set of 1,000: every accuracy is k/1000. The raw float differences of equal k-steps differ
    // in the last bits (0.703 - 0.701 !== 0.019 - 0.017), which would split the tie in the ranks.
    const N = 1000
    const b = [701, 17, 999, 101, 250].map((k) => k / N)
    const a = [703, 19, 1001, 104, 247].map((k) => k / N)
    expect(a[0]! - b[0]!).not.toBe(a[1]! - b[1]!)
    const rows = [...runs('baseline', b), ...runs('kd', a)]
    const raw = compareRuns(rows, { resolution: 0 }).rows[1]!
    const rounded = compareRuns(rows, { resolution: 1 / N }).rows[1]!
    // With the tie intact, |d| = 2,2,2,3,3 -> ranks 2,2,2,4.5,4.5; W- = 4.5 (the one negative).
    expect(rounded.wilcoxonStatistic).toBe(4.5)
    expect(raw.wilcoxonStatistic).not.toBe(4.5)
  })

  it('gives no verdict below 3 matched seeds, even with a tiny p', () => {
    const t = compareRuns([...runs('baseline', [0.5, 0.6]), ...runs('kd', [0.9, 1.0001])])
    const kd = t.rows[1]!
    expect(kd.matched).toBe(2)
    expect(kd.verdict).toBe('insufficient seeds')
    expect(formatMarkdown(t)).toMatch(/\| insufficient seeds ⚠ \|/)
  })

  it('labels the unadjusted CI with the raw p and gives a Bonferroni interval for the Holm p', () => {
    const t = compareRuns([
      ...runs('baseline', base),
      ...runs('tfkd-self', tfkd),
      ...runs('lsr', [0.702, 0.697, 0.713, 0.702, 0.709]),
    ])
    const r = t.rows[1]!
    // family of 2: the adjusted interval is the 97.5% t-interval, wider than the 95% one
    expect(r.ciAdjusted[0]).toBeLessThan(r.ci[0])
    expect(r.ciAdjusted[1]).toBeGreaterThan(r.ci[1])
    expect((r.ciAdjusted[0] + r.ciAdjusted[1]) / 2).toBeCloseTo(r.delta, 12)
    const md = formatMarkdown(t)
    expect(md).toContain('95% CI (pp, unadj.)')
    expect(md).toContain('adj. CI (pp, Bonferroni)')
    expect(t.method).toMatch(/unadjusted t-interval \(pairs with the raw p\)/)
  })

  it('says how the numbers were chosen and warns in every format when the test set chose them', () => {
    const onTest = runs('baseline', base, { selection: 'test (no validation split)' })
    const t = compareRuns([...onTest, ...runs('kd', tfkd, { selection: 'test (no validation split)' })])
    expect(t.selection).toBe('best-on-test')
    expect(t.warnings.join(' ')).toMatch(/ON THE TEST SET/)
    expect(formatMarkdown(t).split('\n')[0]).toMatch(/^\*\*⚠ Best-on-TEST accuracy/)
    expect(formatLatex(t)).toMatch(/^% ⚠ Best-on-TEST/)
    expect(formatCsv(t).trim().split('\n')[1]).toMatch(/,best-on-test$/)
    expect(compareRuns([...runs('baseline', base), ...runs('kd', tfkd)]).selection).toBe('best-on-validation')
    expect(compareRuns([...onTest, ...runs('kd', tfkd)]).selection).toBe('mixed')
    expect(compareRuns(runs('baseline', base), { metric: 'last' }).selection).toBe('last-epoch')
  })

  it("carries the teachers' measured accuracy and snapshot epoch, and says when de-kd fell back", () => {
    const t = compareRuns([
      ...runs('baseline', base),
      ...runs('de-kd', tfkd, { teacher: 'resnet8@>=30%', teacherAccuracy: 0.42, teacherEpoch: 2 }),
      {
        variant: 'de-kd',
        seed: 9,
        bestTestAccuracy: 0.7,
        teacher: 'resnet8@>=30%',
        teacherAccuracy: 0.44,
        teacherEpoch: 3,
        teacherFellBack: true,
      },
    ])
    const de = t.rows[1]!
    expect(de.teacherMeasure).toEqual({ accuracy: (5 * 0.42 + 0.44) / 6, epochs: [2, 3], fellBack: 1 })
    expect(de.warnings.join(' ')).toMatch(/no teacher snapshot reached the target accuracy/)
    expect(formatMarkdown(t)).toMatch(/\| 42\.33 @ e2\/3 \(fell back to best\) \|/)
    expect(t.rows[0]!.teacherMeasure).toBeNull()
  })
})

describe('measured teacher premises', () => {
  it('marks kd, re-kd and de-kd rows "invalid premise" when the measured teacher contradicts their name', () => {
    // The issue's first-time-user case: a "stronger" teacher at 33.8% against an 86% baseline.
    const b = [0.86, 0.861, 0.858]
    const t = compareRuns([
      ...runs('baseline', b),
      ...runs('kd', [0.62, 0.6, 0.61], { teacher: 'resnet8', teacherAccuracy: 0.338, teacherEpoch: 2 }),
      ...runs('re-kd', [0.87, 0.872, 0.869], { teacher: 'mlp', teacherAccuracy: 0.9, teacherEpoch: 2 }),
      ...runs('de-kd', [0.87, 0.872, 0.869], {
        teacher: 'resnet8@e1',
        teacherAccuracy: 0.3,
        teacherEpoch: 1,
      }),
    ])
    const row = (v: string) => t.rows.find((r) => r.variant === v)!
    expect(row('kd').verdict).toBe('invalid premise')
    expect(row('kd').warnings.join(' ')).toMatch(
      /the "stronger" teacher is not measurably stronger than the baseline student \(teacher 33\.80% vs baseline student 85\.97%\)/,
    )
    expect(row('re-kd').verdict).toBe('invalid premise')
    expect(row('de-kd').verdict).not.toBe('invalid premise') // 30% is a poor teacher
    expect(formatMarkdown(t)).toMatch(/\| 33\.80 @ e2 \|/)
  })
})

describe('identical paired differences (issue 25 item 9) and the Holm family', () => {
  const N = 2000
  const baseK = [1800, 1810, 1790, 1805, 1795]
  const one = (variant: string, d: number) =>
    baseK.map((k, i): ComparedRun => ({ variant, seed: i + 1, bestTestAccuracy: (k + d) / N }))

  it('every seed exactly one test image better: finite p and d_z (sd floored at 1 / test-set size)', () => {
    const t = compareRuns([...one('baseline', 0), ...one('kd', 1), ...one('lsr', -1)], { resolution: 1 / N })
    const kd = t.rows.find((r) => r.variant === 'kd')!
    expect(kd.pT).toBeGreaterThan(0)
    expect(Number.isFinite(kd.t)).toBe(true)
    expect(kd.dz).toBeCloseTo(1, 12) // one image / one image
    expect(kd.t).toBeCloseTo(Math.sqrt(5), 10)
    expect(kd.verdict).toBe('no evidence')
    const md = formatMarkdown(t)
    expect(md).not.toMatch(/Infinity/)
    expect(md).not.toMatch(/\| 0\.0000 \|/)
  })

  it('without a known test-set size, identical differences give no t-test rather than p = 0', () => {
    const t = compareRuns([...one('baseline', 0), ...one('kd', 1)])
    const kd = t.rows.find((r) => r.variant === 'kd')!
    expect(kd.pT).toBeNaN()
    expect(kd.dz).toBeNaN()
    expect(kd.warnings.join(' ')).toMatch(/differences are all equal and the test-set size is unknown/)
  })

  it('names the comparisons its Holm-adjusted p-values are over', () => {
    const t = compareRuns([...one('baseline', 0), ...one('kd', 1), ...one('lsr', -1)], { resolution: 1 / N })
    expect(t.holmFamily).toEqual(['lsr vs baseline', 'kd vs baseline'])
    expect(t.method).toMatch(
      /Holm family: the 2 comparison\(s\) of this table with baseline \(lsr vs baseline; kd vs baseline\), not the reproduction report's family/,
    )
    expect(formatMarkdown(t)).toMatch(/Holm family: the 2 comparison/)
  })
})
