/**
 * docs/extending.md's model and variant recipes followed once by a test: a test-only model (its catalog info and
 * its builder, the two halves of a registry entry) joins the registry next to the real ones, builds
 * through the same path as every model (`buildModelIn`, which `buildModel` uses), matches its
 * declared size, and trains a real step in the real training loop. A test-only variant (its params
 * schema, declared teacher kind and loss) joins copies of the variant tables: its loss computes
 * through `makeLossIn` (the path `makeLoss` takes), a plan expands it by its teacher kind through
 * `expandPlanIn` (the path `expandPlan` takes), and it trains a seeded epoch with a teacher. A
 * test-only KD-style variant declares its K-dependence (which of its own hyperparameters are the
 * weight, temperature, multiplier and reduction) and gets K-matching, effective weights and the
 * comparison warnings from shared/k-dependence.ts with no edit there.
 */
import * as tfl from '@tensorflow/tfjs-layers'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/core/backend/ladder'
import { carveValidation, channelStats } from '../../src/core/data/arrays'
import { loadMnist10k } from '../../src/core/data/mnist10k'
import * as tf from '@tensorflow/tfjs-core'
import { z } from 'zod'
import {
  crossEntropy,
  LOSS_REGISTRY,
  makeLoss,
  makeLossIn,
  type LossEntry,
} from '../../src/core/distill/losses'
import { MODEL_CATALOG, type ModelCatalogEntry } from '../../src/core/models/catalog'
import {
  buildModel,
  buildModelIn,
  MODEL_BUILDERS,
  modelCost,
  type ModelBuilder,
} from '../../src/core/models/registry'
import { deriveSeed } from '../../src/core/random'
import { trainModel } from '../../src/core/train/train-loop'
import { expandPlan, expandPlanIn, resolvePlan } from '../../src/shared/plan'
import { resolveRunConfig } from '../../src/shared/schemas'
import type { VariantId } from '../../src/shared/types'
import {
  describeK,
  effectiveDistillWeight,
  hasKWeight,
  kDependenceWarnings,
  kMatchedParams,
} from '../../src/shared/k-dependence'
import {
  resolveVariantParams,
  VARIANT_K_DEPENDENCE,
  VARIANT_TEACHER_KINDS,
  type KDependence,
} from '../../src/shared/variants'

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

/** 128 training and 64 test digits of the bundled MNIST subset, and a 1-epoch config. */
function smallData(model: string, variant: VariantId = 'baseline') {
  const full = loadMnist10k()
  const config = resolveRunConfig({ model, variant, epochs: 1, maxTrainSamples: 128, seed: 3 })
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
  return { config, data: { train, validation, test, numClasses: 10, classNames: [], ...channelStats(train) } }
}

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
    const { config, data } = smallData('mlp')
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

/**
 * The test-only variant: plain (no T^2) distillation from an early snapshot of the stronger teacher,
 * (1 - beta) CE + beta CE(softmax(t), z). Its params schema (as in VARIANT_PARAMS), declared teacher
 * kind (as in VARIANTS) and loss (as in IMPLS) are the three things the recipe asks for.
 */
const SOFT_PARAMS = z.object({ beta: z.number().min(0).max(1).default(0.25) }).strict()
const softEntry: LossEntry<'test-soft', z.output<typeof SOFT_PARAMS>> = {
  teacher: 'poor-snapshot',
  resolve: (input) => SOFT_PARAMS.parse(input ?? {}),
  impl: (p, a) => {
    const soft = tf.neg(tf.mean(tf.sum(tf.mul(tf.softmax(a.teacherLogits!), tf.logSoftmax(a.logits)), -1)))
    const ce = crossEntropy(a.logits, a.labels, a.numClasses)
    return tf.add(tf.mul(ce, 1 - p.beta), tf.mul(soft, p.beta)) as tf.Scalar
  },
}
const losses = { ...LOSS_REGISTRY, 'test-soft': softEntry }
const kinds = { ...VARIANT_TEACHER_KINDS, 'test-soft': softEntry.teacher }
// Registering the id for real means adding it to VARIANT_IDS; a plan's variants are typed by it.
const TEST_SOFT = 'test-soft' as VariantId

describe('a test-only variant through the variant registry', () => {
  it('computes its loss through the same path as the real variants', () => {
    const loss = makeLossIn(losses, 'test-soft', { beta: 0.5 })
    expect(loss.variant).toBe('test-soft')
    expect(loss.params).toEqual({ beta: 0.5 })
    expect(loss.needsTeacher).toBe(true)
    expect(makeLossIn(losses, 'test-soft').params).toEqual({ beta: 0.25 })
    expect(() => makeLossIn(losses, 'test-soft', { gamma: 1 })).toThrow(/gamma/)
    const logits = tf.tensor2d([
      [2, 0, -1],
      [0, 1, 0],
    ])
    const teacherLogits = tf.tensor2d([
      [1, 1, 0],
      [0, 3, 0],
    ])
    const labels = tf.tensor1d([0, 1], 'int32')
    try {
      const value = loss({ logits, labels, numClasses: 3, teacherLogits })
      // By hand: half the cross-entropy plus half the soft cross-entropy against softmax(t).
      const expected = tf.tidy(() => {
        const soft = tf.neg(tf.mean(tf.sum(tf.mul(tf.softmax(teacherLogits), tf.logSoftmax(logits)), -1)))
        return tf.add(tf.mul(crossEntropy(logits, labels, 3), 0.5), tf.mul(soft, 0.5))
      })
      expect(value.dataSync()[0]).toBeCloseTo(expected.dataSync()[0]!, 6)
      value.dispose()
      expected.dispose()
      // The shape checks every variant gets, naming this one.
      expect(() => loss({ logits, labels, numClasses: 4, teacherLogits })).toThrow(
        /^test-soft loss: expected logits \[N, 4\]/,
      )
      // The real registry's variants still compute as makeLoss does.
      const viaSeam = makeLossIn(LOSS_REGISTRY, 'kd')({ logits, labels, numClasses: 3, teacherLogits })
      const viaMakeLoss = makeLoss('kd')({ logits, labels, numClasses: 3, teacherLogits })
      expect(viaSeam.dataSync()[0]).toBe(viaMakeLoss.dataSync()[0])
      tf.dispose([viaSeam, viaMakeLoss])
    } finally {
      tf.dispose([logits, teacherLogits, labels])
    }
    // The real registry does not know it.
    // @ts-expect-error -- not a registered variant id: the compiler says so first
    expect(() => makeLossIn(LOSS_REGISTRY, 'test-soft')).toThrow(
      /unknown variant "test-soft"; expected one of baseline/,
    )
  })

  it('expands in a plan by its declared teacher kind, as the real variant of that kind does', () => {
    const base = resolvePlan({ variants: ['baseline', 'de-kd'], seeds: [1, 2] })
    const withTest = {
      ...base,
      variants: ['baseline' as const, TEST_SOFT],
      variantParams: { [TEST_SOFT]: { beta: 0.5 } },
    }
    const runs = expandPlanIn(kinds, withTest)
    // Same teachers and snapshot groups as de-kd (also a poor-snapshot variant), under its own id.
    const rename = (key: string) => key.replace('de-kd', 'test-soft')
    expect(runs.map((r) => r.key)).toEqual(expandPlan(base).map((r) => rename(r.key)))
    const students = runs.filter((r) => r.config.variant === TEST_SOFT)
    expect(students).toHaveLength(base.deKdEpochs.length * 2)
    expect(students.every((s) => s.teacher?.slot === 'stronger' && s.teacher.epoch !== null)).toBe(true)
    expect(students[0]!.config.variantParams).toEqual({ beta: 0.5 })
    // Without its kind in the table (the real one), it would need no teacher: kinds are read, not ids.
    expect(expandPlan(withTest).filter((r) => r.role === 'teacher')).toHaveLength(0)
  })

  it('trains a seeded epoch with a teacher, and the same seed gives the same loss', async () => {
    const { config, data } = smallData('mlp')
    const run = async () => {
      const model = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, seed: 3 })
      const teacher = buildModel('cnn-small', { inputShape: [28, 28, 1], numClasses: 10, seed: 9 })
      const epochLosses: number[] = []
      try {
        const result = await trainModel({
          model,
          teacher,
          data,
          config: { ...config, variant: TEST_SOFT, variantParams: { beta: 0.5 } },
          loss: makeLossIn(losses, 'test-soft', { beta: 0.5 }),
          hooks: { onEpoch: (m) => void epochLosses.push(m.trainLoss) },
        })
        return { result, epochLosses }
      } finally {
        model.dispose()
        teacher.dispose()
      }
    }
    const a = await run()
    expect(a.epochLosses).toHaveLength(1)
    expect(Number.isFinite(a.epochLosses[0])).toBe(true)
    const b = await run()
    expect(b.epochLosses).toEqual(a.epochLosses)
    // The teacher's logits reach the loss: without a teacher the loop refuses this variant.
    const alone = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, seed: 3 })
    try {
      await expect(
        trainModel({ model: alone, data, config, loss: makeLossIn(losses, 'test-soft') }),
      ).rejects.toThrow(/needs a teacher model/)
    } finally {
      alone.dispose()
    }
  })
})

/**
 * A test-only KD-style variant: (1 - lambda) CE + lambda tau^2 scale KL(softmax(t / tau) || softmax(z / tau))
 * with the elementwise_mean reduction. Its hyperparameters carry other names than kd's on purpose:
 * K-matching must read the declaration, not guess the names or the id.
 */
const KDLIKE_PARAMS = z
  .object({
    lambda: z.number().min(0).max(1).default(0.9),
    tau: z.number().positive().default(4),
    scale: z.number().positive().default(1),
    how: z.enum(['elementwise_mean', 'batchmean']).default('elementwise_mean'),
  })
  .strict()
const KDLIKE_DEPENDENCE: KDependence = {
  kind: 'kd-weight',
  weight: 'lambda',
  temperature: 'tau',
  multiplier: 'scale',
  reduction: 'how',
  tunedAtK: 100,
}
const kdLikeEntry: LossEntry<'test-kdlike', z.output<typeof KDLIKE_PARAMS>> = {
  teacher: 'stronger',
  resolve: (input) => KDLIKE_PARAMS.parse(input ?? {}),
  impl: (p, a) => {
    const [n, k] = a.logits.shape
    const logQ = tf.logSoftmax(tf.div(a.teacherLogits!, p.tau))
    const logP = tf.logSoftmax(tf.div(a.logits, p.tau))
    const kl = tf.div(tf.sum(tf.mul(tf.exp(logQ), tf.sub(logQ, logP))), p.how === 'batchmean' ? n : n * k)
    const ce = crossEntropy(a.logits, a.labels, a.numClasses)
    return tf.add(tf.mul(ce, 1 - p.lambda), tf.mul(kl, p.lambda * p.tau * p.tau * p.scale)) as tf.Scalar
  },
}
const kTable = { ...VARIANT_K_DEPENDENCE, 'test-kdlike': KDLIKE_DEPENDENCE }

describe('a test-only KD-style variant gets K-matching from its declaration', () => {
  it('effective weight, K-matched values and the picker figures, with no edit to k-dependence.ts', () => {
    const p = kdLikeEntry.resolve({})
    expect(hasKWeight('test-kdlike', kTable)).toBe(true)
    // lambda tau^2 scale / K: 0.9 * 16 / 10 at K = 10, / 100 at K = 100.
    expect(effectiveDistillWeight('test-kdlike', p, 10, kTable)).toBeCloseTo(1.44, 12)
    const matched = kMatchedParams('test-kdlike', p, 10, kTable)
    expect(matched.scale).toBeCloseTo(0.1, 12)
    expect(effectiveDistillWeight('test-kdlike', matched, 10, kTable)).toBeCloseTo(0.144, 12)
    expect(describeK('test-kdlike', matched, 10, kTable)).toMatchObject({ tunedAtK: 100, smoothing: null })
    expect(kMatchedParams('test-kdlike', { ...p, how: 'batchmean' }, 10, kTable).scale).toBe(1)
    // Mixed with the real kd at the repository's values: the same warning the real variants get.
    const w = kDependenceWarnings(
      [
        { variant: 'kd', variantParams: resolveVariantParams('kd', {}) },
        { variant: 'test-kdlike', variantParams: matched },
      ],
      10,
      kTable,
    )
    expect(w.join(' ')).toMatch(/mix the repository's multipliers with rescaled \(K-matched\) ones/)
    // The real registry does not know it: no K-matching for an undeclared variant.
    expect(hasKWeight('test-kdlike')).toBe(false)
    expect(kMatchedParams('test-kdlike', p, 10)).toBe(p)
  })

  it('the K-matched loss at K = 10 weighs its KL term per sample as the defaults do at K = 100', () => {
    const table = { ...LOSS_REGISTRY, 'test-kdlike': kdLikeEntry }
    const p = kdLikeEntry.resolve({})
    const matched = kMatchedParams('test-kdlike', p, 10, kTable)
    const batch = (k: number) => ({
      logits: tf.tensor2d([Array.from({ length: k }, (_, i) => Math.sin(i + 1))]),
      teacherLogits: tf.tensor2d([Array.from({ length: k }, (_, i) => Math.cos(i))]),
      labels: tf.tensor1d([0], 'int32'),
      numClasses: k,
    })
    // The KL part alone (lambda 1 removes CE), per sample and per class-summed KL.
    const klPerSample = (params: object, k: number) =>
      tf.tidy(() => {
        const b = batch(k)
        const loss = makeLossIn(table, 'test-kdlike', { ...params, lambda: 1 })({ ...b })
        const logQ = tf.logSoftmax(tf.div(b.teacherLogits, p.tau))
        const logP = tf.logSoftmax(tf.div(b.logits, p.tau))
        const kl = tf.sum(tf.mul(tf.exp(logQ), tf.sub(logQ, logP)))
        return loss.dataSync()[0]! / kl.dataSync()[0]!
      })
    // weight per sample = tau^2 scale / K: equal at (K = 10, matched) and (K = 100, defaults).
    expect(klPerSample(matched, 10)).toBeCloseTo(klPerSample(p, 100), 4)
    expect(klPerSample(p, 10)).toBeCloseTo(10 * klPerSample(p, 100), 3)
  })
})

describe('a loss that changes during training', () => {
  it('receives the progress (fractional epochs done, of the plan) at every step, as DKD warm-up reads it', async () => {
    const { config, data } = smallData('mlp')
    const seen: { epoch: number; epochs: number }[] = []
    const recorder: LossEntry<'test-progress', object> = {
      teacher: 'none',
      resolve: () => ({}),
      impl: (_p, a) => {
        if (a.progress) seen.push(a.progress)
        return crossEntropy(a.logits, a.labels, a.numClasses)
      },
    }
    const model = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, seed: 3 })
    try {
      await trainModel({
        model,
        data,
        config: { ...config, epochs: 2, batchSize: 32 },
        loss: makeLossIn({ 'test-progress': recorder }, 'test-progress'),
      })
    } finally {
      model.dispose()
    }
    const steps = Math.ceil(data.train.n / 32)
    expect(seen).toHaveLength(2 * steps)
    expect(seen.every((p) => p.epochs === 2)).toBe(true)
    expect(seen[0]!.epoch).toBeCloseTo(1 / steps, 12)
    expect(seen[steps - 1]!.epoch).toBeCloseTo(1, 12)
    expect(seen.at(-1)!.epoch).toBeCloseTo(2, 12)
  })
})
