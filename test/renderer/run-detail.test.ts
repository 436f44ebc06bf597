import { describe, expect, it } from 'vitest'
import { configRows, selectionRule, timeRows, trainingTime } from '../../src/renderer/src/lib/run-detail'
import { resolveRunConfig } from '../../src/shared/schemas'
import type { RunSummary } from '../../src/shared/types'

const run = (over: Partial<RunSummary> = {}): RunSummary => ({
  id: 7,
  experimentId: null,
  role: 'student',
  status: 'completed',
  failureReason: null,
  datasetId: 1,
  datasetName: 'mnist-10k',
  model: 'mlp',
  variant: 'baseline',
  seed: 1,
  backend: 'wasm',
  device: null,
  teacherRunId: null,
  epochsPlanned: 1,
  epochsDone: 1,
  bestEpoch: 1,
  bestValAccuracy: 0.8,
  testAccuracy: 0.8,
  testLoss: 0.5,
  createdAt: 0,
  startedAt: 60_000,
  finishedAt: 162_000,
  trainingMs: 8_000,
  ...over,
})

describe('run detail rows', () => {
  it('training time is the epoch sum, and wall time is labelled as including downtime', () => {
    expect(trainingTime(run())).toBe('8.0s')
    expect(trainingTime(run({ trainingMs: 0 }))).toBe('–')
    const rows = timeRows(run(), 1)
    expect(rows[0]).toEqual({
      label: 'Training time',
      value: '8.0s (sum of 1 recorded epoch; no queue or downtime)',
    })
    expect(rows[1]!.value).toMatch(/^1m 42s from first start to end \(includes .*stopped before a resume\)/)
    expect(rows[2]).toEqual({ label: 'Waited in queue', value: '1m 0s before its first start' })
  })
  it('the config as rows, variant parameters included; the selection rule in words', () => {
    const c = resolveRunConfig({ model: 'mlp', variant: 'tfkd-reg', epochs: 3, maxTrainSamples: 0 })
    const rows = configRows(c)
    expect(rows.find((r) => r.label === 'Max train samples')!.value).toBe('all')
    expect(rows.some((r) => r.label.startsWith('tfkd-reg: '))).toBe(true)
    const d = { config: c, bestEpoch: 2, result: null }
    expect(rows.find((r) => r.label === 'Dataset')!.value).toBe(c.dataset)
    expect(selectionRule(d)).toBe('best epoch 2 so far: highest validation accuracy')
  })

  it('names the dataset, not its id, and gives the learning rate as trained beside the nominal', () => {
    const c = resolveRunConfig({
      dataset: '3',
      model: 'mlp',
      epochs: 3,
      batchSize: 32,
      learningRate: 0.1,
      lrSchedule: 'multistep',
      lrMilestones: [2],
      lrGamma: 0.1,
      warmupEpochs: 1,
    })
    const metrics = [1, 2, 3].map((epoch) => ({
      epoch,
      trainLoss: 1,
      trainAccuracy: 0.5,
      valLoss: 1,
      valAccuracy: 0.5,
      learningRate: epoch === 3 ? 0.0025000000000000005 : 0.025,
      durationMs: 1000,
      samplesPerSec: 100,
    }))
    const rows = configRows(c, { datasetName: 'fashion-mnist', metrics })
    const value = (label: string) => rows.find((r) => r.label === label)!.value
    expect(value('Dataset')).toBe('fashion-mnist (id 3)')
    expect(value('Learning rate')).toBe('0.025 as trained (nominal 0.1 x batch 32 / 128)')
    expect(value('LR schedule')).toBe(
      'multistep x0.1 at epochs 2, linear warm-up over 1 epoch; as trained: epoch 1 ended at 0.025, epoch 3 at 0.0025',
    )
  })
})
