/**
 * Issue 22, item 3: what the exported files hold. A figure file cannot page its legend, so the
 * reliability figure of seven variants (PNG and SVG, UI and `tfkd export`, all rendered from
 * `fileOption`) shows every variant's entry, with no "1/2" pager, laid out clear of the plot; and
 * comparison.csv is checked in test/core/analysis/compare.test.ts (units, fixed decimals).
 */
import { describe, expect, it } from 'vitest'
import { renderChartSvg } from '../../src/core/export/render-chart'
import { buildExportBundle, fileOption, poolReports } from '../../src/shared/charts/export-bundle'
import { legendRows } from '../../src/shared/charts/layout'
import type { VariantId } from '../../src/shared/types'
import { chartLayout, overlaps } from '../support/chart-layout'
import { DIGIT_WORDS, reportOf, runOf } from './chart-fixtures'

const VARIANTS: VariantId[] = ['baseline', 'lsr', 'kd', 're-kd', 'tfkd-self', 'tfkd-reg']

const bundle = buildExportBundle({
  table: null,
  runs: VARIANTS.flatMap((v, i) => [runOf(2 * i + 1, v, 1, 0.8), runOf(2 * i + 2, v, 2, 0.82)]),
  classNames: DIGIT_WORDS,
})

describe('exported figures show every legend entry', () => {
  it('the reliability SVG has no legend pager and every variant (tfkd-self, tfkd-reg included)', () => {
    const chart = bundle.charts.find((c) => c.name === 'reliability')!
    const svg = renderChartSvg(chart)
    expect(svg).not.toMatch(/>\s*1\/2\s*</)
    const layout = chartLayout(fileOption(chart), chart.width, chart.height)
    const legendTexts = layout.texts.filter((t) => t.what.startsWith('legend text')).map((t) => t.what)
    for (const v of VARIANTS) {
      expect(
        legendTexts.some((t) => t.includes(`"${v} (ECE`)),
        v,
      ).toBe(true)
      expect(svg).toContain(`${v} (ECE`)
    }
    // Every legend entry lies inside the figure.
    for (const t of layout.texts.filter((x) => x.what.startsWith('legend text'))) {
      expect(t.x, t.what).toBeGreaterThanOrEqual(0)
      expect(t.x + t.width, t.what).toBeLessThanOrEqual(chart.width)
    }
  })

  it('every chart file is laid out without overlaps, at its export size', () => {
    for (const c of bundle.charts) {
      const layout = chartLayout(fileOption(c), c.width, c.height)
      expect(overlaps(layout), c.name).toEqual([])
    }
  })

  it('packs legend entries into rows no wider than the figure', () => {
    const rows = legendRows(['a'.repeat(30), 'b'.repeat(30), 'c'.repeat(30)], 500)
    expect(rows).toEqual([['a'.repeat(30), 'b'.repeat(30)], ['c'.repeat(30)]])
  })
})

describe('reports pooled over seeds', () => {
  it('adds the confusion matrices, merges the reliability bins and recomputes ECE', () => {
    const a = reportOf(0.8, 2)
    const b = {
      ...reportOf(0.6, 2),
      reliability: { bins: 2, counts: [15, 5], confidence: [0.4, 0.9], accuracy: [0.3, 0.7] },
    }
    const p = poolReports([a, b])
    expect(p.confusion[0]![0]).toBe(80 + 60)
    expect(p.accuracy).toBeCloseTo(1.4 / 2, 12)
    expect(p.reliability.counts).toEqual([20, 20])
    expect(p.reliability.accuracy[0]).toBeCloseTo((0.5 * 5 + 0.3 * 15) / 20, 12)
    expect(p.reliability.accuracy[1]).toBeCloseTo((0.85 * 15 + 0.7 * 5) / 20, 12)
    const ece =
      0.5 * Math.abs(p.reliability.accuracy[0]! - 0.4) + 0.5 * Math.abs(p.reliability.accuracy[1]! - 0.9)
    expect(p.ece).toBeCloseTo(ece, 12)
    expect(poolReports([a])).toBe(a)
  })
})
