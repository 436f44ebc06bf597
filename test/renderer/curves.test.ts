import { describe, expect, it } from 'vitest'
import { buildCurvesOption, CURVE_SERIES } from '../../src/shared/charts/curves'
import type { EpochMetrics } from '../../src/shared/types'

const epoch = (e: number, over: Partial<EpochMetrics> = {}): EpochMetrics => ({
  epoch: e,
  trainLoss: 1 / e,
  trainAccuracy: 0.5 + e / 10,
  valLoss: 1.2 / e,
  valAccuracy: 0.45 + e / 10,
  learningRate: 0.1,
  durationMs: 1000,
  samplesPerSec: 500,
  ...over,
})

type Series = { id: string; name: string; yAxisIndex: number; data: [number, number][]; showSymbol: boolean }
const seriesOf = (o: ReturnType<typeof buildCurvesOption>): Series[] => o.series as Series[]
const byId = (o: ReturnType<typeof buildCurvesOption>, id: string): Series => {
  const s = seriesOf(o).find((x) => x.id === id)
  if (!s) throw new Error(`no series ${id}`)
  return s
}

describe('buildCurvesOption', () => {
  it('builds loss on the left axis and accuracy in percent on the right, sorted by epoch', () => {
    const o = buildCurvesOption({ metrics: [epoch(2), epoch(1)], epochs: 5 })
    expect(seriesOf(o).map((s) => s.id)).toEqual([
      CURVE_SERIES.batchLoss,
      CURVE_SERIES.trainLoss,
      CURVE_SERIES.valLoss,
      CURVE_SERIES.trainAccuracy,
      CURVE_SERIES.valAccuracy,
    ])
    expect(byId(o, CURVE_SERIES.trainLoss).data).toEqual([
      [1, 1],
      [2, 0.5],
    ])
    expect(byId(o, CURVE_SERIES.trainLoss).yAxisIndex).toBe(0)
    expect(byId(o, CURVE_SERIES.valAccuracy).yAxisIndex).toBe(1)
    expect(byId(o, CURVE_SERIES.valAccuracy).data).toEqual([
      [1, 55],
      [2, 65],
    ])
    expect(o.xAxis).toMatchObject({ type: 'value', min: 0, max: 5 })
    expect(o.yAxis).toMatchObject([{ name: 'loss' }, { name: 'accuracy %', min: 0, max: 100 }])
    expect(o.animation).toBe(false)
  })

  it('gives every series a stable id so live updates merge by id', () => {
    const a = buildCurvesOption({ metrics: [epoch(1)] })
    const b = buildCurvesOption({ metrics: [epoch(1), epoch(2)] })
    expect(seriesOf(a).map((s) => s.id)).toEqual(seriesOf(b).map((s) => s.id))
  })

  it('draws an empty chart for no data, with a 1-epoch axis', () => {
    const o = buildCurvesOption({ metrics: [] })
    expect(seriesOf(o).every((s) => s.data.length === 0)).toBe(true)
    expect(o.xAxis).toMatchObject({ max: 1 })
  })

  it('drops non-finite values instead of breaking the chart', () => {
    const o = buildCurvesOption({
      metrics: [epoch(1), epoch(2, { trainLoss: Number.NaN, valLoss: Number.POSITIVE_INFINITY })],
      trail: [
        [0.5, 2],
        [0.75, Number.NaN],
      ],
    })
    expect(byId(o, CURVE_SERIES.trainLoss).data).toEqual([[1, 1]])
    expect(byId(o, CURVE_SERIES.valLoss).data).toEqual([[1, 1.2]])
    expect(byId(o, CURVE_SERIES.trainAccuracy).data).toHaveLength(2)
    expect(byId(o, CURVE_SERIES.batchLoss).data).toEqual([[0.5, 2]])
  })

  it('grows the x axis to the live trail and hides symbols on long series', () => {
    const trail = Array.from({ length: 100 }, (_, i): [number, number] => [(i + 1) / 40, 1])
    const o = buildCurvesOption({ metrics: [], trail, epochs: 2 })
    expect(o.xAxis).toMatchObject({ max: 3 })
    expect(byId(o, CURVE_SERIES.batchLoss).showSymbol).toBe(false)
    const many = Array.from({ length: 40 }, (_, i) => epoch(i + 1))
    expect(byId(buildCurvesOption({ metrics: many }), CURVE_SERIES.trainLoss).showSymbol).toBe(false)
  })

  it('does not mutate its input', () => {
    const metrics = [epoch(3), epoch(1)]
    const frozen = Object.freeze(metrics.map((m) => Object.freeze(m)))
    buildCurvesOption({ metrics: frozen })
    expect(frozen.map((m) => m.epoch)).toEqual([3, 1])
  })
})
