import * as tf from '@tensorflow/tfjs-core'
import type * as tfl from '@tensorflow/tfjs-layers'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../../src/core/backend/ladder'
import { crossEntropy } from '../../../src/core/distill/losses'
import {
  MODEL_CATALOG,
  MODEL_IDS,
  isModelId,
  strongerModels,
  weakerModels,
  type ModelId,
} from '../../../src/core/models/catalog'
import { ChannelShuffle, buildModel, modelCost } from '../../../src/core/models/registry'

const CIFAR: [number, number, number] = [32, 32, 3]
const MNIST: [number, number, number] = [28, 28, 1]

const built: tfl.LayersModel[] = []
function build(id: ModelId, inputShape = CIFAR, numClasses = 10, seed = 7): tfl.LayersModel {
  const m = buildModel(id, { inputShape, numClasses, seed })
  built.push(m)
  return m
}

beforeAll(async () => {
  await loadBackend({ pin: 'cpu' })
})

afterEach(() => {
  built.splice(0).forEach((m) => m.dispose())
})

describe('model registry', () => {
  it('builds every model for 28x28x1 and 32x32x3 with any number of classes', () => {
    for (const id of MODEL_IDS) {
      for (const [shape, k] of [
        [MNIST, 10],
        [CIFAR, 100],
        [CIFAR, 3],
      ] as const) {
        const m = build(id, shape, k)
        const y = tf.tidy(() => m.predict(tf.zeros([2, ...shape])) as tf.Tensor)
        expect(y.shape, `${id} ${shape.join('x')} K=${k}`).toEqual([2, k])
        expect(Array.from(y.dataSync()).every(Number.isFinite), id).toBe(true)
        y.dispose()
        m.dispose()
        built.pop()
      }
    }
  })

  it('catalog figures match the built models (32x32x3, 10 classes)', () => {
    for (const id of MODEL_IDS) {
      const { params, macs } = modelCost(build(id))
      expect({ id, params, macs }).toEqual({
        id,
        params: MODEL_CATALOG[id].params,
        macs: MODEL_CATALOG[id].macs,
      })
    }
  })

  it('ResNet-20 (option B) has the published size: ~0.27 M weights and 40.81 M forward MACs', () => {
    const cost = modelCost(build('resnet20'))
    // PyTorch counts 272,474 parameters (conv + BN affine + linear); tfjs adds 1,568 BN moving stats.
    expect(cost.trainableParams).toBe(272_474)
    expect(cost.params).toBeGreaterThanOrEqual(272_000)
    expect(cost.params).toBeLessThanOrEqual(275_000)
    // chenyaofo/CIFAR-pretrained-models: "FLOPs 40.81M" (MACs, conv + linear).
    expect(cost.macs / 1e6).toBeCloseTo(40.81, 2)
    expect(cost.flops).toBe(2 * cost.macs)
  })

  it('compact networks are sized for small inputs (0.3-0.6 M trainable weights)', () => {
    for (const id of ['mobilenetv2', 'shufflenetv2'] as const) {
      const { trainableParams } = modelCost(build(id))
      expect(trainableParams, id).toBeGreaterThan(300_000)
      expect(trainableParams, id).toBeLessThan(600_000)
    }
    const layers = build('mobilenetv2').layers.map((l) => l.getClassName())
    expect(layers).toContain('DepthwiseConv2D')
    expect(build('shufflenetv2').layers.some((l) => l instanceof ChannelShuffle)).toBe(true)
  })

  it('counts MACs by the documented convention on a hand-checkable model', () => {
    // cnn-small at 28x28x1: 28*28*16*9 + 14*14*32*9*16 + 7*7*32*10
    expect(modelCost(build('cnn-small', MNIST)).macs).toBe(
      28 * 28 * 16 * 9 + 14 * 14 * 32 * 144 + 7 * 7 * 32 * 10,
    )
  })

  it('strength ordering gives weaker and stronger teachers', () => {
    expect(weakerModels('resnet20')).toContain('resnet8')
    expect(weakerModels('resnet20')).toContain('mobilenetv2')
    expect(strongerModels('resnet8')[0]).toBeDefined()
    expect(weakerModels('mlp')).toEqual([])
    for (const id of MODEL_IDS) {
      for (const w of weakerModels(id))
        expect(MODEL_CATALOG[w].strength).toBeLessThan(MODEL_CATALOG[id].strength)
    }
    expect(isModelId('resnet14')).toBe(true)
    expect(isModelId('resnet18')).toBe(false)
    expect(() => buildModel('resnet18', { inputShape: CIFAR, numClasses: 10, seed: 1 })).toThrow(
      /unknown model/,
    )
  })

  it('channel shuffle interleaves the two halves', () => {
    const out = tf.tidy(() =>
      Array.from(
        (
          new ChannelShuffle({ groups: 2 }).apply(tf.tensor4d([0, 1, 2, 3, 4, 5], [1, 1, 1, 6])) as tf.Tensor
        ).dataSync(),
      ),
    )
    expect(out).toEqual([0, 3, 1, 4, 2, 5])
  })
})

describe('seeded initialisation', () => {
  const weights = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()))

  it('same seed gives identical weights; another seed does not; weight names are stable', () => {
    for (const id of ['resnet8', 'mobilenetv2', 'shufflenetv2'] as const) {
      const a = build(id, CIFAR, 10, 11)
      const b = build(id, CIFAR, 10, 11)
      const c = build(id, CIFAR, 10, 12)
      expect(weights(a)).toEqual(weights(b))
      expect(weights(a)[0]).not.toEqual(weights(c)[0])
      expect(a.weights.map((w) => w.originalName)).toEqual(b.weights.map((w) => w.originalName))
    }
  })

  it('different layers get different kernels', () => {
    const m = build('resnet20')
    const kernels = m.weights.filter(
      (w) => w.originalName.endsWith('/kernel') && w.shape.join() === '3,3,16,16',
    )
    expect(kernels.length).toBe(6)
    const values = kernels.map((w) => w.read().dataSync().slice(0, 16).join())
    expect(new Set(values).size).toBe(values.length)
  })
})

describe('training on the cpu backend', () => {
  /**
   * One SGD step on a tiny batch, of fixed length 0.05 in weight space (lr = 0.05 / |g|), so the test
   * checks the gradient's direction without depending on each architecture's gradient scale; loss in
   * training mode (batch statistics) before and after.
   */
  function stepReducesLoss(id: ModelId, inputShape: [number, number, number]) {
    const m = build(id, inputShape, 5, 3)
    const x = tf.randomNormal([4, ...inputShape], 0, 1, 'float32', 5)
    const y = tf.tensor1d([0, 1, 2, 3], 'int32')
    const loss = () => crossEntropy(m.apply(x, { training: true }) as tf.Tensor2D, y, 5)
    const before = tf.tidy(() => loss().dataSync()[0]!)
    const vars = m.trainableWeights.map((w) => w.read() as tf.Variable)
    const { value, grads } = tf.variableGrads(loss, vars)
    const norm = Math.sqrt(
      tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]!),
    )
    const opt = tf.train.sgd(0.05 / norm)
    opt.applyGradients(grads)
    const after = tf.tidy(() => loss().dataSync()[0]!)
    tf.dispose([x, y, value, ...Object.values(grads)])
    opt.dispose()
    expect(vars.length).toBe(m.trainableWeights.length)
    return { before, after }
  }

  it.each([
    ['resnet8', [16, 16, 3]],
    ['mobilenetv2', [16, 16, 3]],
    ['shufflenetv2', [16, 16, 1]],
  ] as const)('one step reduces the loss: %s', (id, shape) => {
    const { before, after } = stepReducesLoss(id, [...shape])
    expect(Number.isFinite(after)).toBe(true)
    expect(after).toBeLessThan(before)
  })
})
