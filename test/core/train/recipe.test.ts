import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../../src/core/backend/ladder'
import { carveValidation, channelStats, type DatasetSplits } from '../../../src/core/data/arrays'
import { loadMnist10k } from '../../../src/core/data/mnist10k'
import { makeLoss } from '../../../src/core/distill/losses'
import { buildModel } from '../../../src/core/models/registry'
import { deriveSeed } from '../../../src/core/random'
import { loadWeightsInto, readCheckpoint } from '../../../src/core/train/checkpoint'
import { learningRateAt } from '../../../src/core/train/schedule'
import { CancelledError, evaluate, trainModel, type TrainArgs } from '../../../src/core/train/train-loop'
import { resolveRunConfig, type RunConfigInput } from '../../../src/shared/schemas'
import type { EpochMetrics, RunConfig } from '../../../src/shared/types'

let full: ReturnType<typeof loadMnist10k>
const dirs: string[] = []

beforeAll(async () => {
  await loadBackend({ pin: 'wasm' })
  full = loadMnist10k()
})

afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tfkd-recipe-'))
  dirs.push(d)
  return d
}

function splits(config: RunConfig): DatasetSplits {
  const { train, validation } = carveValidation(full.train, {
    fraction: config.validationFraction,
    seed: config.seed,
    maxTrain: config.maxTrainSamples,
  })
  const test = {
    ...full.test,
    n: 300,
    images: full.test.images.subarray(0, 300 * 784),
    labels: full.test.labels.subarray(0, 300),
  }
  return { train, validation, test, numClasses: 10, classNames: [], ...channelStats(train) }
}

/** The repository's recipe, shrunk: warm-up, multistep decay, crop + flip + rotation. */
const recipe = (over: RunConfigInput = {}): RunConfig =>
  resolveRunConfig({
    model: 'mlp',
    epochs: 3,
    maxTrainSamples: 512,
    batchSize: 64,
    seed: 17,
    validationFraction: 0.05,
    lrSchedule: 'multistep',
    warmupEpochs: 0.5,
    lrMilestones: [1, 2], // 0-based epoch indices, as MultiStepLR.step(epoch): epochs 2 and 3 drop
    lrGamma: 0.2,
    augment: { cropPadding: 2, horizontalFlip: true, rotationDegrees: 10 },
    ...over,
  })

async function train(
  config: RunConfig,
  extra: Partial<TrainArgs> & { abortAfterEpoch?: number; initSeed?: number } = {},
) {
  const model = buildModel(config.model, {
    inputShape: [28, 28, 1],
    numClasses: 10,
    seed: extra.initSeed ?? deriveSeed(config.seed, 'model-init'),
  })
  const ac = new AbortController()
  const epochs: EpochMetrics[] = []
  try {
    const result = await trainModel({
      model,
      data: splits(config),
      config,
      loss: makeLoss('baseline'),
      signal: ac.signal,
      ...extra,
      hooks: {
        onEpoch: (m) => {
          epochs.push(m)
          if (m.epoch === extra.abortAfterEpoch) ac.abort()
        },
        ...extra.hooks,
      },
    })
    return { result, epochs }
  } catch (err) {
    if (err instanceof CancelledError) return { result: null, epochs }
    throw err
  } finally {
    model.dispose()
  }
}

const strip = (m: EpochMetrics) => ({ ...m, durationMs: 0, samplesPerSec: 0 })

describe('training recipe', () => {
  it('reports the epoch LR, top-5 and ECE per epoch and best/last test reports', async () => {
    const config = recipe()
    const { result, epochs } = await train(config)
    expect(epochs.map((m) => m.epoch)).toEqual([1, 2, 3])
    const spe = Math.ceil(512 / 64)
    epochs.forEach((m) => {
      expect(m.learningRate).toBeCloseTo(learningRateAt(config, m.epoch * spe - 1, spe), 12)
      expect(m.valTop5).toBeGreaterThanOrEqual(m.valAccuracy)
      expect(m.valEce).toBeGreaterThanOrEqual(0)
      expect(m.valEce).toBeLessThanOrEqual(1)
    })
    expect(epochs.map((m) => m.learningRate)).toEqual([0.05, 0.01, 0.002].map((v) => expect.closeTo(v, 12)))
    const d = result!.details!
    expect(d.selection).toBe('validation')
    expect(d.last.epoch).toBe(3)
    expect(d.best.epoch).toBe(result!.bestEpoch)
    const bestVal = Math.max(...epochs.map((m) => m.valAccuracy))
    expect(result!.bestValAccuracy).toBe(bestVal)
    expect(epochs.find((m) => m.epoch === result!.bestEpoch)!.valAccuracy).toBe(bestVal)
    expect(result!.testAccuracy).toBe(d.last.accuracy)
    expect(result!.testLoss).toBe(d.last.loss)
    expect(d.last.accuracy).toBeGreaterThan(0.5)
    expect(d.last.top5).toBeGreaterThanOrEqual(d.last.accuracy)
    expect(d.last.confusion.flat().reduce((a, b) => a + b, 0)).toBe(300)
    expect(d.last.perClassAccuracy).toHaveLength(10)
    expect(d.last.reliability.counts.reduce((a, b) => a + b, 0)).toBe(300)
  })

  it('the best epoch is evaluated with its own weights (those of best.tfkd and its epoch file)', async () => {
    const config = recipe({ epochs: 4, learningRate: 0.5, lrSchedule: 'constant', warmupEpochs: 0, seed: 3 })
    const dir = tmp()
    const { result, epochs } = await train(config, { checkpoints: { dir } })
    const d = result!.details!
    expect(epochs.find((m) => m.epoch === d.best.epoch)!.valAccuracy).toBe(
      Math.max(...epochs.map((m) => m.valAccuracy)),
    )
    const data = splits(config)
    for (const file of ['best.tfkd', `epoch-${String(d.best.epoch).padStart(4, '0')}.tfkd`]) {
      const model = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 })
      loadWeightsInto(model, join(dir, file))
      const m = await evaluate(model, data.test, data)
      model.dispose()
      expect(m.accuracy).toBe(d.best.accuracy)
      expect(m.loss).toBe(d.best.loss)
    }
    expect(readCheckpoint(join(dir, 'best.tfkd')).meta.epoch).toBe(d.best.epoch)
  })

  it('without a validation split, selects on test and says so', async () => {
    const config = recipe({ validationFraction: 0, epochs: 2 })
    const { result, epochs } = await train(config)
    expect(epochs.every((m) => Number.isNaN(m.valAccuracy) && m.valTop5 === undefined)).toBe(true)
    const d = result!.details!
    expect(d.selection).toBe('test (no validation split)')
    expect(result!.bestValAccuracy).toBeNaN()
    expect(d.best.accuracy).toBeGreaterThanOrEqual(d.last.accuracy)
  })

  it('same seed: identical per-epoch metrics with augmentation and the schedule; another seed differs', async () => {
    const a = await train(recipe({ epochs: 2 }))
    const b = await train(recipe({ epochs: 2 }))
    expect(a.epochs.map(strip)).toEqual(b.epochs.map(strip))
    expect(a.result).toEqual(b.result)
    const off = await train(
      recipe({ epochs: 2, augment: { cropPadding: 0, horizontalFlip: false, rotationDegrees: 0 } }),
    )
    expect(off.epochs.map(strip)).not.toEqual(a.epochs.map(strip))
  })

  it('a run interrupted after 2 of 3 epochs and resumed gives exactly the uninterrupted metrics', async () => {
    const config = recipe()
    const dirA = tmp()
    const full3 = await train(config, { checkpoints: { dir: dirA, meta: { runId: 1 } } })
    const dirB = tmp()
    const saved: number[] = []
    const cut = await train(config, {
      checkpoints: { dir: dirB, meta: { runId: 1 } },
      abortAfterEpoch: 2,
      hooks: { onCheckpoint: (c) => void saved.push(c.epoch) },
    })
    expect(cut.result).toBeNull()
    expect(saved).toEqual([1, 2])
    const ckpt = join(dirB, 'epoch-0002.tfkd')
    const header = readCheckpoint(ckpt)
    expect(header.meta.epoch).toBe(2)
    expect(header.meta.runId).toBe(1)
    expect(header.optimizer?.className).toBe('Momentum')
    expect(existsSync(join(dirB, 'best.tfkd'))).toBe(true)
    // A different initialisation proves the weights come from the checkpoint.
    const resumed = await train(config, { checkpoints: { dir: dirB }, resumeFrom: ckpt, initSeed: 999 })
    expect(resumed.epochs.map((m) => m.epoch)).toEqual([3])
    expect([...cut.epochs, ...resumed.epochs].map(strip)).toEqual(full3.epochs.map(strip))
    expect(resumed.result).toEqual(full3.result)
  })

  it('resumes Adam too (optimizer state restored)', async () => {
    const config = recipe({ optimizer: 'adam', learningRate: 0.002 })
    const full3 = await train(config)
    const dir = tmp()
    const cut = await train(config, { checkpoints: { dir }, abortAfterEpoch: 2 })
    const resumed = await train(config, { resumeFrom: join(dir, 'epoch-0002.tfkd'), initSeed: 5 })
    const got = [...cut.epochs, ...resumed.epochs]
    expect(got.map((m) => m.epoch)).toEqual([1, 2, 3])
    // Adam's beta powers are rebuilt with pow() on load: equal to float32 rounding, not bit for bit.
    got.forEach((m, i) => {
      const want = full3.epochs[i]!
      expect(m.trainLoss).toBeCloseTo(want.trainLoss, 4)
      expect(m.valLoss).toBeCloseTo(want.valLoss, 4)
      expect(Math.abs(m.valAccuracy - want.valAccuracy)).toBeLessThanOrEqual(0.01)
    })
  })

  it('does not leak tensors with augmentation and a per-step learning rate', async () => {
    const config = recipe({ model: 'cnn-small', epochs: 2, maxTrainSamples: 320, warmupEpochs: 2 })
    const counts: number[] = []
    await train(config, {
      progressEveryMs: 0,
      hooks: {
        onProgress: (p) => void (p.epoch === 2 || p.step > 2 ? counts.push(tf.memory().numTensors) : 0),
      },
    })
    expect(counts.length).toBeGreaterThan(5)
    // epoch 2 steps after the best-weights snapshot of epoch 1: flat
    const epoch2 = counts.slice(-5)
    expect(new Set(epoch2).size).toBe(1)
    expect(new Set(counts.slice(0, 3)).size).toBe(1)
  })

  it('leaves no tensor behind after a whole run (optimizer slots, its -lr scalar, best weights)', async () => {
    const config = recipe({ epochs: 2, warmupEpochs: 1 })
    await train(config) // warm-up of the backend's own caches
    const before = tf.memory().numTensors
    await train(config, { checkpoints: { dir: tmp() } })
    await train(recipe({ epochs: 2, optimizer: 'adam', learningRate: 0.002 }))
    expect(tf.memory().numTensors).toBe(before)
  })
})
