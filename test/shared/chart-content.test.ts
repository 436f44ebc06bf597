/**
 * Issue 14's chart bullets and issue 10's "every number says how it was chosen", on the option
 * builders: confusion cells carry counts in a colour readable on their own cell, the colour bars
 * carry numbers, the difference map says which sign is which colour, groups follow the variant
 * registry, and every chart of an export names its selection rule (best-on-test in red).
 */
import { describe, expect, it } from 'vitest'
import { buildConfusionOption } from '../../src/shared/charts/analysis'
import { CONFUSION_COLORS, DIFF_COLORS } from '../../src/shared/charts/confusion'
import { buildCurvesOption, CURVE_SERIES } from '../../src/shared/charts/curves'
import type { ChartOption } from '../../src/shared/charts/echarts'
import { buildExportBundle, groupStudents } from '../../src/shared/charts/export-bundle'
import { contrast, rampColor, WARN_TEXT } from '../../src/shared/charts/layout'
import type { VariantId } from '../../src/shared/types'
import { confusion, DIGIT_WORDS, epochOf, runOf } from './chart-fixtures'

type Cell = { value: [number, number, number]; label: { formatter: string; color: string } }
type Titled = { title: { text: string; textStyle: { color: string } }[] }
const cellsOf = (o: ChartOption) => (o.series as { data: Cell[] }[])[0]!.data
const titleLines = (o: ChartOption) => (o as unknown as Titled).title
const visualMapOf = (o: ChartOption) =>
  o.visualMap as { text: string[]; min: number; max: number; inRange: { color: string[] }; dimension: number }

describe('confusion matrix', () => {
  // Row 0 all correct (the darkest cell), the others 80 / 20.
  const a = confusion(80).map((row, t) => (t === 0 ? row.map((_, p) => (p === 0 ? 100 : 0)) : row))
  const o = buildConfusionOption({ classNames: DIGIT_WORDS, label: 'kd', confusion: a })

  it('labels every cell with its image count', () => {
    const cells = cellsOf(o)
    expect(cells).toHaveLength(100)
    for (const c of cells) expect(c.label.formatter).toBe(String(a[c.value[1]]![c.value[0]]))
    expect((o.series as { label: { show: boolean } }[])[0]!.label.show).toBe(true)
  })

  it('draws each count at >= 4.5:1 contrast on its own cell, dark and light', () => {
    const colours = new Set<string>()
    for (const c of cellsOf(o)) {
      const cell = rampColor(CONFUSION_COLORS, c.value[2])
      expect(contrast(c.label.color, cell)).toBeGreaterThanOrEqual(4.5)
      colours.add(c.label.color)
    }
    // White on the darkest cell, black on the paler ones.
    expect(colours.size).toBe(2)
  })

  it('puts numbers on the colour bar, which maps the share (not the count)', () => {
    const vm = visualMapOf(o)
    expect(vm.text).toEqual(['100% of row', '0%'])
    expect(vm.dimension).toBe(2)
    expect([vm.min, vm.max]).toEqual([0, 1])
  })
})

describe('confusion difference', () => {
  const o = buildConfusionOption({
    classNames: DIGIT_WORDS,
    label: 'kd',
    confusion: confusion(90),
    against: { label: 'baseline', confusion: confusion(80) },
  })

  it('says which sign is which colour, in words and on the colour bar', () => {
    const lines = titleLines(o).map((t) => t.text)
    expect(lines[0]).toBe('Confusion difference: kd − baseline')
    expect(lines).toContain('blue: kd predicts the cell more often than baseline')
    expect(lines.some((l) => l.startsWith('red: less often'))).toBe(true)
    const vm = visualMapOf(o)
    expect(vm.text).toEqual(['+10 pp more', '−10 pp less'])
    // Low end (negative) red, high end (positive) blue: the words match the colours.
    expect(vm.inRange.color).toEqual([...DIFF_COLORS])
    expect(DIFF_COLORS[0]).toBe('#c8412b')
    expect(DIFF_COLORS[2]).toBe('#2f6fdf')
  })

  it('labels cells with signed percentage points (a real minus), blank where equal', () => {
    const byPos = new Map(cellsOf(o).map((c) => [`${c.value[0]},${c.value[1]}`, c]))
    expect(byPos.get('0,0')!.label.formatter).toBe('+10')
    expect(byPos.get('1,0')!.label.formatter).toBe('−10')
    expect(byPos.get('5,0')!.label.formatter).toBe('')
    for (const c of cellsOf(o)) {
      const cell = rampColor(DIFF_COLORS, (c.value[2] + 0.1) / 0.2)
      expect(contrast(c.label.color, cell)).toBeGreaterThanOrEqual(4.5)
    }
  })
})

describe('order', () => {
  it('groups follow the variant registry whatever order the runs come in', () => {
    const order: VariantId[] = ['tfkd-reg', 'tfkd-self', 'de-kd', 're-kd', 'kd', 'lsr', 'baseline']
    const runs = order.map((v, i) => {
      const r = runOf(i + 1, v, 1, 0.8)
      return v === 'de-kd' ? { ...r, teacherEpoch: 1 } : r
    })
    expect(groupStudents(runs).map((g) => g.label)).toEqual([
      'baseline',
      'lsr',
      'kd',
      're-kd',
      'de-kd@e1',
      'tfkd-self',
      'tfkd-reg',
    ])
    const bundle = buildExportBundle({ table: null, runs, classNames: DIGIT_WORDS })
    expect(bundle.charts.map((c) => c.name)).toContain('confusion-diff-baseline-vs-lsr')
  })
})

describe('selection rule in every chart', () => {
  const runsWith = (selection: 'validation' | 'test (no validation split)') =>
    (['baseline', 'lsr'] as const).flatMap((v, i) => [
      runOf(2 * i + 1, v, 1, 0.8, selection),
      runOf(2 * i + 2, v, 2, 0.82, selection),
    ])

  it('best-on-validation: named in every chart header and caption', () => {
    const b = buildExportBundle({ table: null, runs: runsWith('validation'), classNames: DIGIT_WORDS })
    expect(b.charts.length).toBe(7)
    for (const c of b.charts) {
      expect(c.title, c.name).toMatch(/· best-on-validation$/)
      expect(
        titleLines(c.option).some((t) => /best-on-validation/.test(t.text)),
        c.name,
      ).toBe(true)
    }
  })

  it('best-on-test: warned in red and in words, in every chart', () => {
    const b = buildExportBundle({
      table: null,
      runs: runsWith('test (no validation split)'),
      classNames: DIGIT_WORDS,
    })
    for (const c of b.charts) {
      expect(c.title, c.name).toMatch(/⚠ best-on-TEST$/)
      const warned = titleLines(c.option).filter((t) => t.textStyle.color === WARN_TEXT)
      expect(warned.map((t) => t.text).join(), c.name).toMatch(
        /⚠ .*best-on-TEST: epoch chosen on the test set/,
      )
    }
  })

  it('last epoch: the matrices are the last epoch’s, and say so', () => {
    const b = buildExportBundle({
      table: null,
      runs: runsWith('validation'),
      classNames: DIGIT_WORDS,
      metric: 'last',
    })
    const conf = b.charts.find((c) => c.name === 'confusion-baseline')!
    const lines = titleLines(conf.option).map((t) => t.text)
    expect(lines).toContain('last epoch: test accuracy after the final epoch')
    // Both seeds pooled (issue 22): seed 1's 79 and seed 2's 81 on the diagonal's first cell.
    expect(conf.title).toMatch(/^Confusion matrix: baseline \(2 seeds pooled\)/)
    expect(lines).toContain('baseline: test set, runs #1, #2 (seeds 1, 2, pooled)')
    expect(cellsOf(conf.option)[0]!.label.formatter).toBe('160')
    const one = buildExportBundle({
      table: null,
      runs: runsWith('validation').filter((r) => r.seed === 1),
      classNames: DIGIT_WORDS,
      metric: 'last',
    }).charts.find((c) => c.name === 'confusion-baseline')!
    expect(titleLines(one.option).map((t) => t.text)).toContain(
      'baseline: test set, run #1 (seed 1, epoch 3)',
    )
    expect(cellsOf(one.option)[0]!.label.formatter).toBe('79')
  })

  it('calibration pooled over every seed; the per-seed spread shows each seed', () => {
    const b = buildExportBundle({ table: null, runs: runsWith('validation'), classNames: DIGIT_WORDS })
    const rel = b.charts.find((c) => c.name === 'reliability')!
    expect(titleLines(rel.option).map((t) => t.text)).toContain('every finished seed of each variant, pooled')
    const spread = b.charts.find((c) => c.name === 'per-seed')!
    const seeds = (spread.option.series as { id: string; data: number[][] }[]).find((s) => s.id === 'seed')!
    expect(seeds.data).toEqual([
      [0, 80],
      [0, 82],
      [1, 80],
      [1, 82],
    ])
  })

  it('a finished run’s curves mark and name the chosen epoch (red when chosen on test)', () => {
    const metrics = [epochOf(1, 0.5), epochOf(2, 0.7), epochOf(3, 0.6)]
    const ok = buildCurvesOption({
      metrics,
      chosen: { epoch: 2, rule: 'best-on-validation', testAccuracy: 0.69 },
    })
    expect(titleLines(ok)[0]!.text).toBe(
      'best-on-validation: test acc 69.00% at epoch 2, chosen on validation',
    )
    const acc = (ok.series as { id: string; markLine?: { data: { xAxis: number }[] } }[]).find(
      (s) => s.id === CURVE_SERIES.valAccuracy,
    )!
    expect(acc.markLine!.data).toEqual([{ xAxis: 2 }])
    const bad = buildCurvesOption({ metrics, chosen: { epoch: 2, rule: 'best-on-test' } })
    expect(titleLines(bad)[0]).toMatchObject({ textStyle: { color: WARN_TEXT } })
    expect(titleLines(bad)[0]!.text).toMatch(/^⚠ best-on-TEST: epoch 2, chosen on the test set/)
    // Live (no chosen epoch yet): no header line, an empty mark.
    expect(titleLines(buildCurvesOption({ metrics }))).toEqual([])
  })
})
