/**
 * docs/extending.md's model recipe followed once by a test: a test-only model (its catalog info and
 * its builder, the two halves of a registry entry) joins the registry next to the real ones, builds
 * through the same path as every model (`buildModelIn`, which `buildModel` uses), matches its
 * declared size, and trains a real step in the real training loop.
 */
import * as tfl from '@tensorflow/tfjs-layers'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/core/backend/ladder'
import { carveValidation, channelStats } from '../../src/core/data/arrays'
import { loadMnist10k } from '../../src/core/data/mnist10k'
import { makeLoss } from '../../src/core/distill/losses'
import { MODEL_CATALOG, type ModelCatalogEntry } from '../../src/core/models/catalog'
import { buildModelIn, MODEL_BUILDERS, modelCost, type ModelBuilder } from '../../src/core/models/registry'
import { deriveSeed } from '../../src/core/random'
import { trainModel } from '../../src/core/train/train-loop'
import { resolveRunConfig } from '../../src/shared/schemas'

beforeAll(async () => {
  await loadBackend({ pin: 'wasm' })
})

/** The test-only model's entry: info as in MODEL_CATALOG, a builder as in MODEL_BUILDERS. */
const TINY_INFO = {
  description: 'test-only: one dense layer on the flattened image',
  family: 'mlp',
  strength: 0,
  // 32*32*3*10 + 10 at the catalog's reference input (32x32x3, 10 classes)
  params: 30_730,
  macs: 30_720,
} satisfies ModelCatalogEntry

const tinyBuilder: ModelBuilder = ({ inputShape, numClasses, seed }) => {
  const m = tfl.sequential({ name: 'test_tiny' })
  m.add(tfl.layers.flatten({ inputShape }))
  m.add(
    tfl.layers.dense({
      units: numClasses,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(seed, 'kernel-0') }),
    }),
  )
  return m
}

const catalog = { ...MODEL_CATALOG, 'test-tiny': TINY_INFO }
const builders = { ...MODEL_BUILDERS, 'test-tiny': tinyBuilder }

describe('a test-only model through the model registry', () => {
  it('builds through the same path as the catalog models, at its declared size', () => {
    const model = buildModelIn(builders, 'test-tiny', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 })
    try {
      const cost = modelCost(model)
      expect(cost.params).toBe(catalog['test-tiny'].params)
      expect(cost.macs).toBe(catalog['test-tiny'].macs)
    } finally {
      model.dispose()
    }
    // The real registry does not know it; the error lists what it does know.
    expect(() =>
      buildModelIn(MODEL_BUILDERS, 'test-tiny', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 }),
    ).toThrow(/unknown model "test-tiny"; expected one of mlp, cnn-small/)
  })

  it('trains a real epoch of steps in the training loop, and the same seed gives the same loss', async () => {
    const full = loadMnist10k()
    const config = resolveRunConfig({ model: 'mlp', epochs: 1, maxTrainSamples: 128, seed: 3 })
    const { train, validation } = carveValidation(full.train, {
      fraction: config.validationFraction,
      seed: config.seed,
      maxTrain: config.maxTrainSamples,
    })
    const test = {
      ...full.test,
      n: 64,
      images: full.test.images.subarray(0, 64 * 784),
      labels: full.test.labels.subarray(0, 64),
    }
    const data = { train, validation, test, numClasses: 10, classNames: [], ...channelStats(train) }
    const run = async () => {
      const model = buildModelIn(builders, 'test-tiny', { inputShape: [28, 28, 1], numClasses: 10, seed: 3 })
      const losses: number[] = []
      try {
        const result = await trainModel({
          model,
          data,
          config,
          loss: makeLoss('baseline'),
          hooks: { onEpoch: (m) => void losses.push(m.trainLoss) },
        })
        return { result, losses }
      } finally {
        model.dispose()
      }
    }
    const a = await run()
    expect(a.losses).toHaveLength(1)
    expect(Number.isFinite(a.losses[0])).toBe(true)
    expect(a.result.testAccuracy).toBeGreaterThanOrEqual(0)
    const b = await run()
    expect(b.losses).toEqual(a.losses)
  })
})
