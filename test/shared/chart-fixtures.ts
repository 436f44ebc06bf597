/** Run details and reports for the chart tests: plain data, shaped as the store returns it. */
import { resolveRunConfig } from '../../src/shared/schemas'
import type { EpochMetrics, EvalReport, RunDetail, VariantId } from '../../src/shared/types'

export const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']

export const epochOf = (epoch: number, valAccuracy: number): EpochMetrics => ({
  epoch,
  trainLoss: 1 / epoch,
  trainAccuracy: 0.5,
  valLoss: 1 - valAccuracy,
  valAccuracy,
  learningRate: 0.1,
  durationMs: 1000,
  samplesPerSec: 500,
})

/** A 10-class confusion matrix with `hits` on the diagonal and one confusion per row. */
export function confusion(hits: number, k = 10): number[][] {
  return Array.from({ length: k }, (_, t) =>
    Array.from({ length: k }, (_, p) => (p === t ? hits : p === (t + 1) % k ? 100 - hits : 0)),
  )
}

export const reportOf = (acc: number, epoch: number): EvalReport => ({
  epoch,
  loss: 1,
  accuracy: acc,
  top5: 1,
  ece: 0.05,
  perClassAccuracy: new Array(10).fill(acc),
  confusion: confusion(Math.round(acc * 100)),
  reliability: { bins: 2, counts: [5, 15], confidence: [0.4, 0.9], accuracy: [0.5, 0.85] },
})

export function runOf(
  id: number,
  variant: VariantId,
  seed: number,
  acc: number,
  selection: 'validation' | 'test (no validation split)' = 'validation',
): RunDetail {
  return {
    id,
    experimentId: 1,
    role: 'student',
    status: 'completed',
    failureReason: null,
    datasetId: 1,
    datasetName: 'digits',
    model: 'mlp',
    variant,
    seed,
    backend: 'wasm',
    device: 'cpu',
    teacherRunId: null,
    epochsPlanned: 3,
    epochsDone: 3,
    bestEpoch: 2,
    bestValAccuracy: acc,
    testAccuracy: acc,
    testLoss: 0.5,
    createdAt: 0,
    startedAt: 0,
    finishedAt: 1000,
    config: resolveRunConfig({ model: 'mlp', variant, seed }),
    metrics: [epochOf(1, acc - 0.1), epochOf(2, acc), epochOf(3, acc - 0.01)],
    result: { best: reportOf(acc, 2), last: reportOf(acc - 0.01, 3), selection },
    teacherEpoch: null,
  }
}
