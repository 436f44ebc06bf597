import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/core/backend/ladder'
import { carveValidation, channelStats, type DatasetSplits } from '../../src/core/data/arrays'
import { loadMnist10k } from '../../src/core/data/mnist10k'
import { crossEntropy, makeLoss } from '../../src/core/distill/losses'
import type { TrainLoss } from '../../src/core/train/train-loop'
import { buildModel } from '../../src/core/models/registry'
import { deriveSeed } from '../../src/core/random'
import { CancelledError, trainModel } from '../../src/core/train/train-loop'
import { resolveRunConfig } from '../../src/shared/schemas'
import type { EpochMetrics, RunConfig } from '../../src/shared/types'

let full: ReturnType<typeof loadMnist10k>

beforeAll(async () => {
  await loadBackend({ pin: 'wasm' })
  full = loadMnist10k()
})

function splits(config: RunConfig): DatasetSplits {
  const { train, validation } = carveValidation(full.train, {
    fraction: config.validationFraction,
    seed: config.seed,
    maxTrain: config.maxTrainSamples,
  })
  const test = {
    ...full.test,
    n: 200,
    images: full.test.images.subarray(0, 200 * 784),
    labels: full.test.labels.subarray(0, 200),
  }
  return { train, validation, test, numClasses: 10, classNames: [], ...channelStats(train) }
}

const baseline: TrainLoss = makeLoss('baseline')

async function train(
  config: RunConfig,
  loss: TrainLoss = baseline,
  signal?: AbortSignal,
  statsReadEvery?: number,
) {
  const model = buildModel(config.model, {
    inputShape: [28, 28, 1],
    numClasses: 10,
    seed: deriveSeed(config.seed, 'model-init'),
  })
  const epochs: EpochMetrics[] = []
  try {
    const result = await trainModel({
      model,
      data: splits(config),
      config,
      loss,
      signal,
      statsReadEvery,
      hooks: { onEpoch: (m) => void epochs.push(m) },
    })
    return { result, epochs }
  } finally {
    model.dispose()
  }
}

const strip = (m: EpochMetrics) => ({ ...m, durationMs: 0, samplesPerSec: 0 })

describe('training loop', () => {
  it('learns: cnn-small beats chance by far on a small slice', async () => {
    const { result } = await train(resolveRunConfig({ epochs: 2, maxTrainSamples: 1024, seed: 3 }))
    expect(result.testAccuracy).toBeGreaterThan(0.6)
  })

  it('same seed, same backend: identical per-epoch metrics', async () => {
    const config = resolveRunConfig({ model: 'cnn-small', epochs: 2, maxTrainSamples: 384, seed: 11 })
    const a = await train(config)
    const b = await train(config)
    expect(a.epochs.map(strip)).toEqual(b.epochs.map(strip))
    expect(a.result).toEqual(b.result)
    const c = await train({ ...config, seed: 12 })
    expect(c.epochs.map(strip)).not.toEqual(a.epochs.map(strip))
  })

  it('does not leak tensors: numTensors is flat across steps after warm-up', async () => {
    const config = resolveRunConfig({ model: 'cnn-small', epochs: 1, maxTrainSamples: 640, batchSize: 64 })
    const model = buildModel('cnn-small', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 })
    const counts: number[] = []
    await trainModel({
      model,
      data: splits(config),
      config,
      loss: baseline,
      progressEveryMs: 0,
      hooks: { onProgress: () => void counts.push(tf.memory().numTensors) },
    })
    model.dispose()
    expect(counts.length).toBe(10)
    // After the first steps (optimizer slots are created lazily) the count must not move.
    expect(new Set(counts.slice(2)).size).toBe(1)
  })

  it('stops a diverging run with the epoch and step of the first non-finite loss', async () => {
    let calls = 0
    const poisoned: TrainLoss = ({ logits, labels, numClasses }) =>
      tf.tidy(() => {
        calls++
        const l = crossEntropy(logits, labels, numClasses)
        return calls === 3 ? tf.mul(l, NaN) : l
      })
    await expect(
      train(resolveRunConfig({ model: 'mlp', epochs: 1, maxTrainSamples: 640, weightDecay: 0 }), poisoned),
    ).rejects.toThrow('non-finite loss at epoch 1, step 3')
  })

  it('reads the step statistics once every N steps (as on WebGPU) with the same training', async () => {
    const config = resolveRunConfig({ model: 'mlp', epochs: 2, maxTrainSamples: 640, weightDecay: 0 })
    const every1 = await train(config, baseline, undefined, 1)
    const every4 = await train(config, baseline, undefined, 4)
    // Reading later changes nothing in the training: same weights, so the same validation and test.
    expect(every4.result.testAccuracy).toBe(every1.result.testAccuracy)
    for (const [a, b] of every4.epochs.map((m, i) => [m, every1.epochs[i]!] as const)) {
      expect(a.valAccuracy).toBe(b.valAccuracy)
      expect(a.trainAccuracy).toBe(b.trainAccuracy)
      // The loss sum runs in float32 on the device instead of float64 on the host.
      expect(a.trainLoss).toBeCloseTo(b.trainLoss, 5)
    }
  })

  it('names the window of steps when a deferred read finds a non-finite loss', async () => {
    let calls = 0
    const poisoned: TrainLoss = ({ logits, labels, numClasses }) =>
      tf.tidy(() => {
        calls++
        const l = crossEntropy(logits, labels, numClasses)
        return (calls === 3 ? tf.mul(l, NaN) : l) as tf.Scalar
      })
    const config = resolveRunConfig({ model: 'mlp', epochs: 1, maxTrainSamples: 640, weightDecay: 0 })
    await expect(train(config, poisoned, undefined, 4)).rejects.toThrow(
      'non-finite loss at epoch 1, one of steps 1-4',
    )
  })

  it('cancels between batches', async () => {
    const ac = new AbortController()
    const p = train(
      resolveRunConfig({ model: 'mlp', epochs: 50, maxTrainSamples: 2000 }),
      baseline,
      ac.signal,
    )
    setTimeout(() => ac.abort(), 200)
    const t0 = Date.now()
    await expect(p).rejects.toBeInstanceOf(CancelledError)
    expect(Date.now() - t0).toBeLessThan(5000)
  })
})
