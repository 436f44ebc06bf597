/**
 * The reproduction report's figures as ECharts options (the Report view), built from the report
 * itself so they show exactly the numbers the claims table and the HTML report use: per-seed dots
 * per variant, validation curves, and the De-KD teacher-accuracy plot.
 */
import { SELECTION_LABELS } from '../selection'
import type { ReproReport } from '../reproduce'
import { buildDeKdOption, PALETTE } from './analysis'
import type { ChartFile } from './export-bundle'
import type { ChartOption } from './echarts'

const pct = (x: number) => Math.round(x * 10000) / 100
const title = (text: string, subtext?: string) => ({
  text,
  left: 'center',
  top: 2,
  textStyle: { fontSize: 13 },
  ...(subtext ? { subtext, subtextStyle: { fontSize: 10, color: '#666' } } : {}),
})

/** Per-seed accuracies, one column of dots per variant (in the report's variant order). */
export function buildReportDotsOption(r: ReproReport): ChartOption {
  const variants = [...new Set(r.perSeed.map((p) => p.variant))]
  return {
    animation: false,
    title: title('Student test accuracy per seed', SELECTION_LABELS[r.selection]),
    tooltip: { trigger: 'item' },
    grid: { left: 56, right: 20, top: 56, bottom: 40 },
    xAxis: { type: 'category', data: variants, axisLabel: { fontSize: 11 } },
    yAxis: { type: 'value', name: 'test accuracy %', scale: true },
    series: [
      {
        id: 'per-seed',
        name: 'seed',
        type: 'scatter',
        symbolSize: 9,
        color: PALETTE[0],
        data: r.perSeed.map((p) => [variants.indexOf(p.variant), pct(p.accuracy)]),
      },
    ],
  }
}

/** Mean validation accuracy per epoch, one line per variant. */
export function buildReportCurvesOption(r: ReproReport): ChartOption {
  return {
    animation: false,
    title: title('Validation accuracy per epoch (mean over seeds)'),
    legend: { top: 22, textStyle: { fontSize: 11 } },
    tooltip: { trigger: 'axis' },
    grid: { left: 52, right: 20, top: 60, bottom: 36 },
    xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 22, minInterval: 1 },
    yAxis: { type: 'value', name: 'validation accuracy %', scale: true },
    series: r.curves.map((c, i) => ({
      id: c.variant,
      name: c.variant,
      type: 'line' as const,
      color: PALETTE[i % PALETTE.length],
      symbolSize: 5,
      data: c.points.map(([epoch, acc]) => [epoch, pct(acc)]),
    })),
  }
}

/** The three figures of a report, as chart files (PNG/SVG export like every other chart). */
export function reportCharts(r: ReproReport): ChartFile[] {
  const baseline = r.perSeed.filter((p) => p.variant === 'baseline')
  const baselineMean = baseline.length ? baseline.reduce((s, p) => s + p.accuracy, 0) / baseline.length : null
  const charts: ChartFile[] = [
    {
      name: 'report-per-seed',
      title: 'Per-seed student accuracy by variant',
      option: buildReportDotsOption(r),
      width: 800,
      height: 480,
    },
    {
      name: 'report-curves',
      title: 'Validation accuracy per epoch, mean over seeds',
      option: buildReportCurvesOption(r),
      width: 800,
      height: 480,
    },
  ]
  if (r.deKd.length) {
    charts.push({
      name: 'report-de-kd',
      title: 'De-KD: the poor teacher snapshot accuracy vs its student',
      option: buildDeKdOption(
        r.deKd.map((d) => ({
          teacherEpoch: d.teacherEpoch,
          teacherAccuracy: d.teacherAccuracy,
          studentAccuracy: d.studentAccuracy,
          seed: d.seed,
        })),
        baselineMean,
        r.selection,
      ),
      width: 800,
      height: 480,
    })
  }
  return charts
}
