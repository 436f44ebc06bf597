/**
 * The native kernels (@tfkd/cpu-kernels on the wasm backend) against the reference CPU backend's
 * kernels, on random shapes, strides, paddings and dilations.
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/core/backend/ladder'
import { _test } from '../../src/core/backend/wasm-kernels'
import { batchNormTrain, type BatchNormActivation } from '../../src/core/models/batch-norm'
import { createRng } from '../../src/core/random'

let device = ''
beforeAll(async () => {
  device = (await loadBackend({ pin: 'wasm' })).device
})

const rng = createRng(7)
const randn = (shape: number[]) =>
  Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng() * 2 - 1)
const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1))

async function both(fn: () => tf.Tensor): Promise<{ ref: Float32Array; got: Float32Array }> {
  const run = async (name: string) => {
    await tf.setBackend(name)
    const t = tf.tidy(fn)
    const v = (await t.data()) as Float32Array
    t.dispose()
    return v
  }
  return { ref: await run('cpu'), got: await run('wasm') }
}

function expectClose(got: Float32Array, ref: Float32Array, tol = 1e-4): void {
  expect(got.length).toBe(ref.length)
  let worst = 0
  for (let i = 0; i < ref.length; i++)
    worst = Math.max(worst, Math.abs(got[i]! - ref[i]!) / (1 + Math.abs(ref[i]!)))
  expect(worst).toBeLessThan(tol)
}

type Pad = 'same' | 'valid'
interface ConvCase {
  x: [number, number, number, number]
  f: [number, number, number, number]
  s: number
  d: number
  pad: Pad
}

function convCases(n: number, withDilation: boolean): ConvCase[] {
  const out: ConvCase[] = []
  for (let i = 0; i < n; i++) {
    const h = int(3, 13)
    const w = int(3, 13)
    const d = withDilation && rng() < 0.3 ? 2 : 1
    const kh = int(1, Math.min(4, Math.floor((h - 1) / d) + 1))
    const kw = int(1, Math.min(4, Math.floor((w - 1) / d) + 1))
    out.push({
      x: [int(1, 4), h, w, int(1, 20)],
      f: [kh, kw, 0, int(1, 40)],
      s: d > 1 ? 1 : int(1, 3),
      d,
      pad: rng() < 0.5 ? 'same' : 'valid',
    })
    out[i]!.f[2] = out[i]!.x[3]
  }
  // The reference models' own layers.
  out.push({ x: [16, 28, 28, 1], f: [3, 3, 1, 16], s: 1, d: 1, pad: 'same' })
  out.push({ x: [16, 14, 14, 16], f: [3, 3, 16, 32], s: 1, d: 1, pad: 'same' })
  out.push({ x: [8, 32, 32, 16], f: [3, 3, 16, 32], s: 2, d: 1, pad: 'same' })
  out.push({ x: [8, 16, 16, 32], f: [1, 1, 32, 64], s: 2, d: 1, pad: 'valid' })
  out.push({ x: [4, 8, 8, 64], f: [1, 1, 64, 64], s: 1, d: 1, pad: 'valid' })
  return out
}

describe('native kernels on the wasm backend', () => {
  it('are loaded here (the addon builds at install on this machine)', () => {
    expect(device).toMatch(/native .* kernels, \d+ threads/)
    // ... and says where the thread count came from (cgroup quota, affinity or TFKD_THREADS).
    expect(device).toMatch(/native .* kernels, \d+ threads: .*(CPUs|TFKD_THREADS)/)
  })

  it.each(convCases(20, true))('Conv2D and FusedConv2D(bias, relu) x=$x f=$f s=$s d=$d $pad', async (c) => {
    const xv = randn(c.x)
    const fv = randn(c.f)
    const bv = randn([c.f[3]])
    const plain = await both(() =>
      tf.conv2d(tf.tensor4d(xv, c.x), tf.tensor4d(fv, c.f), c.s, c.pad, 'NHWC', c.d),
    )
    expectClose(plain.got, plain.ref)
    const fused = await both(() =>
      tf.fused.conv2d({
        x: tf.tensor4d(xv, c.x),
        filter: tf.tensor4d(fv, c.f),
        strides: c.s,
        pad: c.pad,
        dilations: c.d,
        bias: tf.tensor1d(bv),
        activation: 'relu',
      }),
    )
    expectClose(fused.got, fused.ref)
  })

  it.each(convCases(20, false))('conv gradients (input and filter) x=$x f=$f s=$s $pad', async (c) => {
    const xv = randn(c.x)
    const fv = randn(c.f)
    const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad).outShape
    const dyv = randn(outShape)
    const grads = () => {
      const g = tf.grads((x: tf.Tensor, f: tf.Tensor) =>
        tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad),
      )([tf.tensor4d(xv, c.x), tf.tensor4d(fv, c.f)], tf.tensor4d(dyv, outShape))
      return tf.concat([tf.reshape(g[0]!, [-1]), tf.reshape(g[1]!, [-1])])
    }
    const r = await both(grads)
    expectClose(r.got, r.ref)
  })

  it.each<{ x: number[]; k: number; s: number; pad: Pad }>([
    { x: [4, 28, 28, 16], k: 2, s: 2, pad: 'valid' },
    { x: [3, 9, 7, 5], k: 3, s: 2, pad: 'same' },
    { x: [2, 8, 8, 3], k: 3, s: 1, pad: 'same' },
    { x: [2, 7, 7, 4], k: 2, s: 2, pad: 'same' },
  ])('MaxPoolGrad x=$x k=$k s=$s $pad', async ({ x, k, s, pad }) => {
    const xv = randn(x)
    const r = await both(() =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, k, s, pad), 1.5)))(
        tf.tensor4d(xv, x as [number, number, number, number]),
      ),
    )
    expectClose(r.got, r.ref)
  })
})

describe('native reductions over leading axes', () => {
  it.each([
    { shape: [64, 7, 7, 32], axis: [0, 1, 2], keepDims: false },
    { shape: [5, 3, 10], axis: [0, 1], keepDims: true },
    { shape: [300, 17], axis: [0], keepDims: false },
    { shape: [2, 3, 4, 5], axis: [2, 1, 0], keepDims: false },
    { shape: [2, 3, 4, 5], axis: [0, 2], keepDims: false }, // not leading: falls back to wasm
  ])('Sum and Mean of $shape over $axis (keepDims $keepDims)', async ({ shape, axis, keepDims }) => {
    const v = randn(shape)
    const r = await both(() =>
      tf.concat([
        tf.reshape(tf.sum(tf.tensor(v, shape), axis, keepDims), [-1]),
        tf.reshape(tf.mean(tf.tensor(v, shape), axis, keepDims), [-1]),
      ]),
    )
    expectClose(r.got, r.ref, 1e-5)
    const shapeOn = async (name: string) => {
      await tf.setBackend(name)
      return tf.tidy(() => tf.sum(tf.tensor(v, shape), axis, keepDims).shape)
    }
    expect(await shapeOn('wasm')).toEqual(await shapeOn('cpu'))
  })
})

describe('depthwise convolution gradients on the wasm backend (native and composed fallback)', () => {
  const cases: {
    x: [number, number, number, number]
    k: number
    m: number
    s: number
    d: number
    pad: Pad
  }[] = []
  for (let i = 0; i < 14; i++) {
    const d = rng() < 0.25 ? 2 : 1
    cases.push({
      x: [int(1, 3), int(5, 12), int(5, 12), int(1, 12)],
      k: int(1, 3),
      m: rng() < 0.3 ? 2 : 1,
      s: d > 1 ? 1 : int(1, 2),
      d,
      pad: rng() < 0.5 ? 'same' : 'valid',
    })
  }
  cases.push({ x: [8, 16, 16, 32], k: 3, m: 1, s: 2, d: 1, pad: 'same' }) // mobilenetv2-style downsampling
  cases.push({ x: [8, 8, 8, 96], k: 3, m: 1, s: 1, d: 1, pad: 'same' })

  it.each(cases)('x=$x k=$k m=$m s=$s d=$d $pad', async (c) => {
    const fshape: [number, number, number, number] = [c.k, c.k, c.x[3], c.m]
    const xv = randn(c.x)
    const fv = randn(fshape)
    const info = tf.backend_util.computeConv2DInfo(c.x, fshape, c.s, c.d, c.pad, undefined, true)
    const dyv = randn(info.outShape)
    const viaGrad = () => {
      const g = tf.grads((x: tf.Tensor, f: tf.Tensor) =>
        tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d),
      )([tf.tensor4d(xv, c.x), tf.tensor4d(fv, fshape)], tf.tensor4d(dyv, info.outShape))
      return tf.concat([tf.reshape(g[0]!, [-1]), tf.reshape(g[1]!, [-1])])
    }
    const native = await both(viaGrad)
    expectClose(native.got, native.ref)
    // The composed fallback used where the addon is not built.
    await tf.setBackend('wasm')
    const attrs = { strides: c.s, dilations: c.d, pad: c.pad }
    const fb = tf.tidy(() =>
      tf.concat([
        tf.reshape(
          _test.depthwiseBackpropInput(tf.tensor4d(dyv, info.outShape), tf.tensor4d(fv, fshape), c.x, attrs),
          [-1],
        ),
        tf.reshape(
          _test.depthwiseBackpropFilter(tf.tensor4d(xv, c.x), tf.tensor4d(dyv, info.outShape), fshape, attrs),
          [-1],
        ),
      ]),
    )
    expectClose((await fb.data()) as Float32Array, native.ref)
    fb.dispose()
  })
})

describe('native training-mode batch norm (TfkdBatchNormTrain[Grad]) against the cpu backend', () => {
  // Own generator, so the cases above keep their random data.
  const bnRng = createRng(8)
  const bnInt = (lo: number, hi: number) => lo + Math.floor(bnRng() * (hi - lo + 1))
  const cases: { shape: number[]; act: BatchNormActivation }[] = []
  const acts: BatchNormActivation[] = ['linear', 'relu', 'relu6']
  for (let i = 0; i < 10; i++)
    cases.push({ shape: [bnInt(1, 5), bnInt(1, 9), bnInt(1, 9), bnInt(1, 40)], act: acts[i % 3]! })
  cases.push({ shape: [37, 5], act: 'linear' })
  cases.push({ shape: [64, 32, 32, 16], act: 'relu' }) // resnet20's first stage at batch 64
  cases.push({ shape: [16, 8, 8, 64], act: 'linear' })

  it.each(cases)('x=$shape $act: forward, statistics and gradients', async ({ shape, act }) => {
    const c = shape[shape.length - 1]!
    // An offset and scale per channel, so the statistics are not those of a standard normal.
    const xv = randn(shape).map((v, i) => v * (1 + (i % c)) + 3 * Math.sin(i % c))
    const gv = randn([c]).map((v) => v + 1.5)
    const bv = randn([c])
    const dyv = randn(shape)
    const run = () => {
      const x = tf.tensor(xv, shape)
      const gamma = tf.tensor1d(gv)
      const beta = tf.tensor1d(bv)
      let stats: tf.Tensor[] = []
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const r = batchNormTrain(a, g, b, 1e-5, act)
        stats = [r.mean, r.variance]
        return r.y
      })([x, gamma, beta], tf.tensor(dyv, shape))
      const out = tf.concat([value, ...stats, ...grads].map((t) => tf.reshape(t, [-1])))
      tf.dispose(stats)
      return out
    }
    expect(tf.getKernel('TfkdBatchNormTrainGrad', 'wasm')).toBeDefined()
    const r = await both(run)
    expectClose(r.got, r.ref, 2e-4)
    // And against tfjs' own composition (moments + batchNorm and their gradients) on the cpu backend.
    await tf.setBackend('cpu')
    const ref = tf.tidy(() => {
      const axes = shape.slice(0, -1).map((_, i) => i)
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, axes)
        const y = tf.batchNorm(a, mean, variance, b, g, 1e-5)
        return act === 'relu' ? tf.relu(y) : act === 'relu6' ? tf.relu6(y) : y
      })([tf.tensor(xv, shape), tf.tensor1d(gv), tf.tensor1d(bv)], tf.tensor(dyv, shape))
      const { mean, variance } = tf.moments(tf.tensor(xv, shape), axes)
      return tf.concat([value, mean, variance, ...grads].map((t) => tf.reshape(t, [-1])))
    })
    expectClose(r.got, (await ref.data()) as Float32Array, 2e-3)
    ref.dispose()
  })
})
