/**
 * The one-op batch norm layer (src/core/models/batch-norm.ts) against tfjs-layers'
 * BatchNormalization on the reference cpu backend: training and inference outputs, gradients of
 * the input, gamma and beta, the moving-statistics update, weights and serialization.
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import * as tfl from '@tensorflow/tfjs-layers'
import { beforeAll, describe, expect, it } from 'vitest'
import { BatchNorm, type BatchNormActivation } from '../../../src/core/models/batch-norm'
import { createRng } from '../../../src/core/random'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const rng = createRng(11)
const randn = (n: number) => Float32Array.from({ length: n }, () => rng() * 2 - 1)

function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, tol = 1e-4): void {
  expect(got.length).toBe(ref.length)
  let worst = 0
  for (let i = 0; i < ref.length; i++)
    worst = Math.max(worst, Math.abs(got[i]! - ref[i]!) / (1 + Math.abs(ref[i]!)))
  expect(worst).toBeLessThan(tol)
}

/** Both layers built on the same input shape, with the same random gamma, beta and moving statistics. */
function pair(shape: number[], activation: BatchNormActivation = 'linear') {
  const c = shape[shape.length - 1]!
  const ours = new BatchNorm({ name: 'ours', momentum: 0.9, epsilon: 1e-5, activation })
  const theirs = tfl.layers.batchNormalization({ name: 'theirs', momentum: 0.9, epsilon: 1e-5 })
  const input = tfl.input({ shape: shape.slice(1) })
  ours.apply(input)
  theirs.apply(input)
  const weights = [
    Float32Array.from(randn(c), (v) => v + 1.2),
    randn(c),
    randn(c),
    Float32Array.from(randn(c), (v) => v + 1.5),
  ]
  ours.setWeights(weights.map((w) => tf.tensor1d(w)))
  theirs.setWeights(weights.map((w) => tf.tensor1d(w)))
  const act = (y: tf.Tensor) =>
    activation === 'relu' ? tf.relu(y) : activation === 'relu6' ? tf.relu6(y) : y
  return { ours, theirs, act }
}

const cases: { shape: number[]; activation: BatchNormActivation }[] = [
  { shape: [4, 5, 6, 7], activation: 'linear' },
  { shape: [3, 8, 8, 16], activation: 'relu' },
  { shape: [2, 3, 3, 5], activation: 'relu6' },
  { shape: [9, 12], activation: 'linear' },
  { shape: [1, 4, 4, 3], activation: 'linear' },
]

describe('BatchNorm (one-op training mode) matches tfjs-layers BatchNormalization', () => {
  it.each(cases)('$shape $activation: outputs, gradients and moving statistics', ({ shape, activation }) => {
    const { ours, theirs, act } = pair(shape, activation)
    const n = shape.reduce((a, b) => a * b, 1)
    const c = shape[shape.length - 1]!
    const xv = Float32Array.from(randn(n), (v, i) => v * (1 + (i % c)) + 2 * Math.cos(i % c))
    const x = tf.tensor(xv, shape)
    const dy = tf.tensor(randn(n), shape)
    const run = (layer: tfl.layers.Layer, post: (y: tf.Tensor) => tf.Tensor) => {
      const [gamma, beta] = layer.trainableWeights.map((w) => w.read())
      const { value, grads } = tf.valueAndGrads((xi: tf.Tensor) =>
        post(layer.apply(xi, { training: true }) as tf.Tensor),
      )([x], dy)
      // Gradients of gamma and beta through the variables, as the optimiser sees them.
      const vg = tf.variableGrads(
        () => tf.sum(tf.mul(post(layer.apply(x, { training: true }) as tf.Tensor), dy)),
        [gamma as tf.Variable, beta as tf.Variable],
      )
      const out = {
        y: value.dataSync(),
        dx: grads[0]!.dataSync(),
        dgamma: vg.grads[(gamma as tf.Variable).name]!.dataSync(),
        dbeta: vg.grads[(beta as tf.Variable).name]!.dataSync(),
        inference: post(layer.apply(x, { training: false }) as tf.Tensor).dataSync(),
        // Applied twice in training mode above: the moving statistics moved twice.
        moving: layer
          .getWeights()
          .slice(2)
          .map((w) => w.dataSync()),
      }
      return out
    }
    const a = run(ours, (y) => y)
    const b = run(theirs, act)
    expectClose(a.y, b.y)
    expectClose(a.dx, b.dx, 2e-4)
    expectClose(a.dgamma, b.dgamma, 2e-4)
    expectClose(a.dbeta, b.dbeta, 2e-4)
    expectClose(a.inference, b.inference)
    expectClose(a.moving[0]!, b.moving[0]!)
    expectClose(a.moving[1]!, b.moving[1]!)
    tf.dispose([x, dy])
    ours.dispose()
    theirs.dispose()
  })

  it('has the same weights (names, shapes, order, trainability) and serializes', async () => {
    const { ours, theirs } = pair([2, 4, 4, 6])
    const describe = (l: tfl.layers.Layer) =>
      l.weights.map((w) => ({ name: w.name.split('/').pop(), shape: w.shape, trainable: w.trainable }))
    expect(describe(ours)).toEqual(describe(theirs))
    expect(ours.countParams()).toBe(theirs.countParams())
    const input = tfl.input({ shape: [4, 4, 6] })
    const model = tfl.model({
      inputs: input,
      outputs: new BatchNorm({ name: 'bn', momentum: 0.9, epsilon: 1e-5, activation: 'relu' }).apply(
        input,
      ) as tfl.SymbolicTensor,
    })
    const json = model.toJSON(undefined, false) as unknown as { config: { layers: { class_name: string }[] } }
    expect(json.config.layers.map((l) => l.class_name)).toContain('TfkdBatchNormalization')
    const restored = await tfl.models.modelFromJSON({
      modelTopology: model.toJSON(undefined, false) as tf.io.ModelJSON['modelTopology'],
    })
    expect(restored.layers[1]).toBeInstanceOf(BatchNorm)
    expect(restored.layers[1]!.getConfig()).toMatchObject({
      momentum: 0.9,
      epsilon: 1e-5,
      activation: 'relu',
    })
    expect(restored.getWeights().map((w) => w.shape)).toEqual(model.getWeights().map((w) => w.shape))
    restored.dispose()
    model.dispose()
    ours.dispose()
    theirs.dispose()
  })
})
