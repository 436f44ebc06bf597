/** The Report view's figures are built from the report's own numbers (no second computation). */
import { describe, expect, it } from 'vitest'
import { buildReportCurvesOption, buildReportDotsOption, reportCharts } from '../../src/shared/charts/report'
import type { ReproReport } from '../../src/shared/reproduce'

const report = {
  selection: 'best-on-validation',
  perSeed: [
    { variant: 'baseline', seed: 1, accuracy: 0.9 },
    { variant: 'baseline', seed: 2, accuracy: 0.8 },
    { variant: 'kd', seed: 1, accuracy: 0.91 },
  ],
  curves: [
    {
      variant: 'baseline',
      points: [
        [1, 0.5],
        [2, 0.75],
      ],
    },
  ],
  deKd: [{ seed: 1, teacherEpoch: 1, teacherAccuracy: 0.3, studentAccuracy: 0.88, fellBack: false }],
} as unknown as ReproReport

describe('report figures', () => {
  it('one dot per variant and seed, at the variant column, in percent', () => {
    const o = buildReportDotsOption(report) as { xAxis: { data: string[] }; series: { data: number[][] }[] }
    expect(o.xAxis.data).toEqual(['baseline', 'kd'])
    expect(o.series[0]!.data).toEqual([
      [0, 90],
      [0, 80],
      [1, 91],
    ])
  })

  it('curves in percent per epoch; the De-KD plot only when there are de-kd runs, with the baseline mean', () => {
    const c = buildReportCurvesOption(report) as { series: { name: string; data: number[][] }[] }
    expect(c.series.map((s) => [s.name, s.data])).toEqual([
      [
        'baseline',
        [
          [1, 50],
          [2, 75],
        ],
      ],
    ])
    const charts = reportCharts(report)
    expect(charts.map((x) => x.name)).toEqual(['report-per-seed', 'report-curves', 'report-de-kd'])
    const dekd = charts[2]!.option as {
      series: { data: number[][]; markLine: { data: { yAxis: number }[] } }[]
    }
    expect(dekd.series[0]!.data).toEqual([[30, 88]])
    expect(dekd.series[0]!.markLine.data[0]!.yAxis).toBe(85)
    expect(reportCharts({ ...report, deKd: [] }).map((x) => x.name)).not.toContain('report-de-kd')
  })
})
