/**
 * Issue 14: legends never overlap axis names, titles or plots. Every chart builder is rendered with
 * ECharts' SVG renderer in SSR mode (the renderer `tfkd export` writes SVG and PNG with) at the
 * export size and at the UI's smallest card size, and the laid-out boxes of the legend, the title
 * lines, the colour bar, the axis names and labels and the plot area are checked pairwise.
 */
import { describe, expect, it } from 'vitest'
import {
  buildClassBalanceOption,
  buildConfusionOption,
  buildDeKdOption,
  buildOverlaidCurvesOption,
  buildReliabilityOption,
} from '../../src/shared/charts/analysis'
import { buildCurvesOption } from '../../src/shared/charts/curves'
import type { ChartOption } from '../../src/shared/charts/echarts'
import { buildExportBundle } from '../../src/shared/charts/export-bundle'
import { selectionLine } from '../../src/shared/selection'
import type { VariantId } from '../../src/shared/types'
import { chartLayout, overlaps } from '../support/chart-layout'
import { confusion, DIGIT_WORDS, epochOf, reportOf, runOf } from './chart-fixtures'

/** Export size, the Compare view's smallest card, the Datasets card, the live panel at 1024 wide. */
const SIZES = [
  [800, 480],
  [540, 320],
  [600, 300],
  [460, 280],
] as const

const LABELS = ['baseline', 'lsr', 'kd', 're-kd', 'de-kd@e1', 'tfkd-self', 'tfkd-reg']
const runs = [{ metrics: [1, 2, 3].map((e) => epochOf(e, 0.3 * e)) }]
const lines = [selectionLine('best-on-test'), { text: 'baseline: run #12, seed 1, test set at epoch 3' }]

const BUILDERS: Record<string, () => ChartOption> = {
  'run curves (live)': () => buildCurvesOption({ metrics: runs[0]!.metrics, epochs: 5, trail: [[0.5, 2]] }),
  'run curves (chosen epoch)': () =>
    buildCurvesOption({
      metrics: runs[0]!.metrics,
      chosen: { epoch: 2, rule: 'best-on-test', testAccuracy: 0.8 },
    }),
  'class balance': () =>
    buildClassBalanceOption({
      classNames: DIGIT_WORDS,
      train: DIGIT_WORDS.map(() => 6000),
      test: DIGIT_WORDS.map(() => 1000),
    }),
  'overlaid curves, 7 groups': () =>
    buildOverlaidCurvesOption(
      LABELS.map((label) => ({ label, runs })),
      'valAccuracy',
      'mixed',
    ),
  'reliability, 7 groups': () =>
    buildReliabilityOption(
      LABELS.map((label) => ({ label, report: reportOf(0.8, 2) })),
      lines,
    ),
  'confusion matrix': () =>
    buildConfusionOption({ classNames: DIGIT_WORDS, label: 'baseline', confusion: confusion(80), lines }),
  'confusion difference': () =>
    buildConfusionOption({
      classNames: DIGIT_WORDS,
      label: 'tfkd-self',
      confusion: confusion(80),
      against: { label: 'de-kd@e1', confusion: confusion(90) },
      lines,
    }),
  'de-kd plot': () =>
    buildDeKdOption(
      [{ teacherEpoch: 1, teacherAccuracy: 0.3, studentAccuracy: 0.8, seed: 1 }],
      0.85,
      'best-on-test',
    ),
}

describe('chart layout: nothing overlaps', () => {
  for (const [name, build] of Object.entries(BUILDERS)) {
    it(name, () => {
      for (const [w, h] of SIZES) {
        const layout = chartLayout(build(), w, h)
        expect(layout.grids.length).toBeGreaterThan(0)
        expect(overlaps(layout), `${name} at ${w}x${h}`).toEqual([])
      }
    })
  }

  it('confusion, 100 classes (labels off, still clear of the colour bar)', () => {
    const option = buildConfusionOption({
      classNames: Array.from({ length: 100 }, (_, i) => `class${i}`),
      label: 'kd',
      confusion: confusion(70, 100),
    })
    expect(overlaps(chartLayout(option, 800, 480))).toEqual([])
  })

  it('every chart of an export bundle, at its export size and in a Compare card', () => {
    const variants: VariantId[] = ['baseline', 'lsr', 'kd', 're-kd', 'tfkd-self', 'tfkd-reg']
    const all = variants.flatMap((v, i) => [runOf(2 * i + 1, v, 1, 0.8), runOf(2 * i + 2, v, 2, 0.82)])
    const bundle = buildExportBundle({
      table: null,
      runs: all,
      classNames: DIGIT_WORDS,
      confusionPair: ['tfkd-self', 're-kd'],
    })
    expect(bundle.charts.length).toBeGreaterThanOrEqual(6)
    for (const c of bundle.charts) {
      expect(overlaps(chartLayout(c.option, c.width, c.height)), c.name).toEqual([])
      expect(overlaps(chartLayout(c.option, 540, 320)), `${c.name} at 540x320`).toEqual([])
    }
  })

  it('the check itself catches a legend laid over the plot and the y-axis name', () => {
    const bad: ChartOption = {
      legend: { top: 40, data: ['a'] },
      grid: { top: 30, left: 50, right: 20, bottom: 30 },
      xAxis: { type: 'value' },
      yAxis: { type: 'value', name: 'accuracy' },
      series: [{ type: 'line', name: 'a', data: [[0, 1]] }],
    }
    expect(overlaps(chartLayout(bad, 400, 300)).join('; ')).toMatch(/legend 0 overlaps grid 0/)
  })
})
