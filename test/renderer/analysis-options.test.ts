import { describe, expect, it } from 'vitest'
import { compareRuns } from '../../src/core/analysis/compare'
import {
  buildConfusionOption,
  buildDeKdOption,
  buildOverlaidCurvesOption,
  confusionCells,
  meanStdByEpoch,
} from '../../src/shared/charts/analysis'
import { buildExportBundle, EXPORT_CHART_SIZE } from '../../src/shared/charts/export-bundle'
import { configDiff } from '../../src/renderer/src/lib/config-diff'
import { estimatePlan } from '../../src/renderer/src/lib/estimate'
import { reviveComparison } from '../../src/renderer/src/stores/compare'
import { resolveRunConfig } from '../../src/shared/schemas'
import type { EpochMetrics, EvalReport, RunDetail, VariantId } from '../../src/shared/types'

const m = (epoch: number, valAccuracy: number): EpochMetrics => ({
  epoch,
  trainLoss: 1,
  trainAccuracy: 0.5,
  valLoss: 1 - valAccuracy,
  valAccuracy,
  learningRate: 0.1,
  durationMs: 1000,
  samplesPerSec: 500,
})

const report = (acc: number): EvalReport => ({
  epoch: 1,
  loss: 1,
  accuracy: acc,
  top5: 1,
  ece: 0.05,
  perClassAccuracy: [acc, acc],
  confusion: [
    [8, 2],
    [1, 9],
  ],
  reliability: { bins: 2, counts: [5, 15], confidence: [0.4, 0.9], accuracy: [0.5, 0.85] },
})

function run(id: number, variant: VariantId, seed: number, acc: number): RunDetail {
  return {
    id,
    experimentId: 1,
    role: 'student',
    status: 'completed',
    failureReason: null,
    datasetId: 1,
    datasetName: 'mnist-10k',
    model: 'mlp',
    variant,
    seed,
    backend: 'wasm',
    device: 'cpu',
    teacherRunId: null,
    epochsPlanned: 2,
    epochsDone: 2,
    bestEpoch: 2,
    bestValAccuracy: acc,
    testAccuracy: acc,
    testLoss: 0.5,
    createdAt: 0,
    startedAt: 0,
    finishedAt: 1000,
    config: resolveRunConfig({ model: 'mlp', variant, seed }),
    metrics: [m(1, acc - 0.1), m(2, acc)],
    result: { best: report(acc), last: report(acc), selection: 'validation' },
    teacherEpoch: null,
  }
}

describe('analysis chart options', () => {
  it('mean and sample std per epoch over seeds', () => {
    const s = meanStdByEpoch([{ metrics: [m(1, 0.5)] }, { metrics: [m(1, 0.7)] }], 'valAccuracy')
    expect(s).toHaveLength(1)
    expect(s[0]!.mean).toBeCloseTo(0.6)
    expect(s[0]!.std).toBeCloseTo(Math.SQRT2 * 0.1)
  })

  it('draws a band (lower + 2 std, stacked) and a mean line per group', () => {
    const o = buildOverlaidCurvesOption(
      [{ label: 'baseline', runs: [{ metrics: [m(1, 0.5)] }, { metrics: [m(1, 0.7)] }] }],
      'valAccuracy',
    )
    const series = o.series as { id: string; stack?: string; data: number[][] }[]
    expect(series.map((s) => s.id)).toEqual(['baseline-lower', 'baseline-band', 'baseline-mean'])
    expect(series[0]!.stack).toBe(series[1]!.stack)
    expect(series[2]!.data).toEqual([[1, 60]])
    expect(series[0]!.data[0]![1]! + series[1]!.data[0]![1]!).toBeCloseTo(60 + 100 * Math.SQRT2 * 0.1, 3)
  })

  it('row-normalises confusion matrices and differences two', () => {
    const a = [
      [8, 2],
      [0, 10],
    ]
    const b = [
      [5, 5],
      [0, 10],
    ]
    expect(confusionCells(a)).toContainEqual([1, 0, 0.2])
    expect(confusionCells(a, b)).toContainEqual([0, 0, 0.3])
    const o = buildConfusionOption({
      classNames: ['0', '1'],
      label: 'kd',
      confusion: a,
      against: { label: 'b', confusion: b },
    })
    const vm = o.visualMap as { min: number; max: number }
    expect(vm.min).toBe(-vm.max)
  })

  it('puts the baseline line on the De-KD plot', () => {
    const o = buildDeKdOption(
      [{ teacherEpoch: 1, teacherAccuracy: 0.3, studentAccuracy: 0.9, seed: 1 }],
      0.88,
    )
    const s = (o.series as { data: number[][]; markLine?: { data: { yAxis: number }[] } }[])[0]!
    expect(s.data).toEqual([[30, 90]])
    expect(s.markLine?.data[0]?.yAxis).toBe(88)
  })
})

describe('export bundle', () => {
  const runs = [
    run(1, 'baseline', 1, 0.8),
    run(2, 'baseline', 2, 0.82),
    run(3, 'lsr', 1, 0.83),
    run(4, 'lsr', 2, 0.84),
  ]
  const table = compareRuns(
    runs.map((r) => ({ variant: r.variant, seed: r.seed, model: r.model, bestTestAccuracy: r.testAccuracy })),
  )

  it('lists every chart and table once, with the fixed size', () => {
    const b = buildExportBundle({ table, runs, classNames: ['a', 'b'] })
    expect(b.charts.map((c) => c.name)).toEqual([
      'curves-val-accuracy',
      'curves-val-loss',
      'per-seed',
      'reliability',
      'confusion-baseline',
      'confusion-lsr',
      'confusion-diff-baseline-vs-lsr',
    ])
    expect(b.charts.every((c) => c.width === EXPORT_CHART_SIZE.width)).toBe(true)
    expect(b.tables.map((t) => t.name)).toEqual([
      'comparison.csv',
      'comparison.md',
      'comparison.tex',
      'runs.csv',
      'metrics.csv',
    ])
    const csv = b.tables
      .find((t) => t.name === 'metrics.csv')!
      .content.trim()
      .split('\n')
    expect(csv).toHaveLength(1 + 4 * 2)
  })

  it('formats a table that crossed JSON (NaN -> null) after reviving it', () => {
    const wire = JSON.parse(JSON.stringify(table)) as typeof table
    const b = buildExportBundle({ table: reviveComparison(wire), runs, classNames: [] })
    expect(b.tables.find((t) => t.name === 'comparison.tex')!.content).toContain('baseline')
  })
})

describe('helpers', () => {
  it('config diff keeps only the keys that differ', () => {
    const d = configDiff([
      { a: 1, b: { c: 2 } },
      { a: 1, b: { c: 3 } },
    ])
    expect(d).toEqual([{ key: 'b.c', values: ['2', '3'] }])
  })

  it('estimates a plan from measured throughput', () => {
    const e = estimatePlan(
      {
        variants: ['baseline', 'lsr'],
        seeds: [1, 2],
        student: 'mlp',
        training: { epochs: 2, maxTrainSamples: 1000 },
      },
      10_000,
      { mlp: 1000 },
    )
    expect([e.runs, e.teachers, e.unmeasured]).toEqual([4, 0, []])
    // 4 runs x 2 epochs x (1000 + 1000 / 3) samples at 1000/s
    expect(e.seconds).toBeCloseTo((4 * 2 * (1000 + 1000 / 3)) / 1000, 3)
    expect(estimatePlan({ variants: ['kd'], seeds: [1] }, 10_000, {}).teachers).toBe(1)
  })
})
