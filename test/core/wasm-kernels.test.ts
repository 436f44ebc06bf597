/**
 * Every kernel we supply to the wasm backend is checked against the reference CPU backend's own
 * kernel on random shapes, strides and paddings.
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/core/backend/ladder'
import { conv2dBackpropFilterByTaps } from '../../src/core/backend/wasm-kernels'
import { createRng } from '../../src/core/random'

beforeAll(async () => {
  await loadBackend({ pin: 'wasm' })
})

function randn(shape: number[], rng: () => number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1)
  return Float32Array.from({ length: n }, () => rng() * 2 - 1)
}

/** Runs the registered Conv2DBackpropFilter kernel of the current backend. */
function backpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number,
  pad: 'same' | 'valid',
): tf.Tensor4D {
  const attrs = { strides, pad, dataFormat: 'NHWC', filterShape } as unknown as tf.NamedAttrMap
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor4D
}

async function onBackend(name: string, fn: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(name)
  const t = fn()
  const v = (await t.data()) as Float32Array
  t.dispose()
  return v
}

describe('wasm Conv2DBackpropFilter', () => {
  const rng = createRng(42)
  const cases: { x: number[]; k: number[]; s: number; pad: 'same' | 'valid' }[] = []
  for (let i = 0; i < 24; i++) {
    const h = 3 + Math.floor(rng() * 12)
    const w = 3 + Math.floor(rng() * 12)
    const kh = 1 + Math.floor(rng() * Math.min(5, h))
    const kw = 1 + Math.floor(rng() * Math.min(5, w))
    cases.push({
      x: [1 + Math.floor(rng() * 4), h, w, 1 + Math.floor(rng() * 6)],
      k: [kh, kw],
      s: 1 + Math.floor(rng() * 3),
      pad: rng() < 0.5 ? 'same' : 'valid',
    })
  }
  cases.push({ x: [32, 14, 14, 16], k: [3, 3], s: 1, pad: 'same' }) // the second conv of mnist-cnn
  cases.push({ x: [8, 32, 32, 16], k: [3, 3], s: 2, pad: 'same' }) // a resnet20 downsampling conv

  it.each(cases)('x=$x k=$k stride=$s pad=$pad matches the cpu backend', async ({ x, k, s, pad }) => {
    const co = 1 + (x[3]! % 5)
    const filterShape: [number, number, number, number] = [k[0]!, k[1]!, x[3]!, co]
    const xv = randn(x, rng)
    const outShape = tf.backend_util.computeConv2DInfo(
      x as [number, number, number, number],
      filterShape,
      s,
      1,
      pad,
    ).outShape
    const dyv = randn(outShape, rng)
    const compute = () =>
      backpropFilter(
        tf.tensor4d(xv, x as [number, number, number, number]),
        tf.tensor4d(dyv, outShape),
        filterShape,
        s,
        pad,
      )
    const ref = await onBackend('cpu', () => tf.tidy(compute))
    const got = await onBackend('wasm', () => tf.tidy(compute))
    expect(got.length).toBe(ref.length)
    let maxErr = 0
    for (let i = 0; i < ref.length; i++)
      maxErr = Math.max(maxErr, Math.abs(got[i]! - ref[i]!) / (1 + Math.abs(ref[i]!)))
    expect(maxErr).toBeLessThan(1e-4)
  })

  it.each(cases)(
    'per-tap matmul form (used on WebGPU) x=$x k=$k stride=$s pad=$pad',
    async ({ x, k, s, pad }) => {
      const co = 1 + (x[3]! % 5)
      const filterShape: [number, number, number, number] = [k[0]!, k[1]!, x[3]!, co]
      const xv = randn(x, rng)
      const outShape = tf.backend_util.computeConv2DInfo(
        x as [number, number, number, number],
        filterShape,
        s,
        1,
        pad,
      ).outShape
      const dyv = randn(outShape, rng)
      const inputs = () =>
        [tf.tensor4d(xv, x as [number, number, number, number]), tf.tensor4d(dyv, outShape)] as const
      const ref = await onBackend('cpu', () =>
        tf.tidy(() => backpropFilter(...inputs(), filterShape, s, pad)),
      )
      const got = await onBackend('wasm', () =>
        tf.tidy(() =>
          conv2dBackpropFilterByTaps(...inputs(), {
            strides: s,
            pad,
            dataFormat: 'NHWC',
            filterShape,
          } as unknown as tf.Conv2DBackpropFilterAttrs),
        ),
      )
      let maxErr = 0
      for (let i = 0; i < ref.length; i++)
        maxErr = Math.max(maxErr, Math.abs(got[i]! - ref[i]!) / (1 + Math.abs(ref[i]!)))
      expect(maxErr).toBeLessThan(1e-4)
    },
  )

  it('leaves no tensors behind', async () => {
    await tf.setBackend('wasm')
    const before = tf.memory().numTensors
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D
    const dy = tf.randomNormal([2, 4, 4, 5], 0, 1, 'float32', 2) as tf.Tensor4D
    const dw = backpropFilter(x, dy, [3, 3, 3, 5], 2, 'same')
    tf.dispose([x, dy, dw])
    expect(tf.memory().numTensors).toBe(before)
  })
})
