/**
 * The proof that a GPU rung really trains: one small convolution forward and backward (input and
 * filter gradients) on the active backend, compared with a plain-JS reference. A backend that loads
 * but computes on the CPU, or returns zeros or garbage (tensorflow/tfjs#7733), fails here instead of
 * training silently wrong or silently slow.
 */
import * as tf from '@tensorflow/tfjs-core'

const N = 2
const H = 6
const W = 6
const CI = 3
const CO = 4
const K = 3

/** NHWC input and HWIO filter of the check, deterministic. */
function inputs(): { x: Float32Array; w: Float32Array } {
  const x = new Float32Array(N * H * W * CI).map((_, k) => Math.sin(k * 0.37))
  const w = new Float32Array(K * K * CI * CO).map((_, k) => Math.cos(k * 0.11) * 0.2)
  return { x, w }
}

const xi = (n: number, h: number, w: number, c: number) => ((n * H + h) * W + w) * CI + c
const wi = (i: number, j: number, c: number, o: number) => ((i * K + j) * CI + c) * CO + o
const yi = (n: number, h: number, w: number, o: number) => ((n * H + h) * W + w) * CO + o

/** Reference of y = conv2d(x, w, 'same'), loss = sum(y^2)/2, and its gradients dx and dw (= y-weighted). */
export function referenceConvStep(): { loss: number; dx: Float32Array; dw: Float32Array } {
  const { x, w } = inputs()
  const y = new Float64Array(N * H * W * CO)
  const pad = (K - 1) / 2
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++)
      for (let q = 0; q < W; q++)
        for (let o = 0; o < CO; o++) {
          let s = 0
          for (let i = 0; i < K; i++)
            for (let j = 0; j < K; j++) {
              const hh = h + i - pad
              const ww = q + j - pad
              if (hh < 0 || hh >= H || ww < 0 || ww >= W) continue
              for (let c = 0; c < CI; c++) s += x[xi(n, hh, ww, c)]! * w[wi(i, j, c, o)]!
            }
          y[yi(n, h, q, o)] = s
        }
  let loss = 0
  for (const v of y) loss += (v * v) / 2
  const dx = new Float32Array(x.length)
  const dw = new Float32Array(w.length)
  // dL/dy = y; scatter it back through the convolution.
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++)
      for (let q = 0; q < W; q++)
        for (let o = 0; o < CO; o++) {
          const g = y[yi(n, h, q, o)]!
          for (let i = 0; i < K; i++)
            for (let j = 0; j < K; j++) {
              const hh = h + i - pad
              const ww = q + j - pad
              if (hh < 0 || hh >= H || ww < 0 || ww >= W) continue
              for (let c = 0; c < CI; c++) {
                dx[xi(n, hh, ww, c)]! += g * w[wi(i, j, c, o)]!
                dw[wi(i, j, c, o)]! += g * x[xi(n, hh, ww, c)]!
              }
            }
        }
  return { loss, dx, dw }
}

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0
  for (let k = 0; k < want.length; k++) scale = Math.max(scale, Math.abs(want[k]!))
  let err = 0
  for (let k = 0; k < want.length; k++) {
    const g = got[k]!
    if (!Number.isFinite(g)) return Infinity
    err = Math.max(err, Math.abs(g - want[k]!))
  }
  return err / (scale || 1)
}

/**
 * Runs the step on the active backend; throws with what differed. The tolerance (1%) admits TF32
 * convolutions (TensorFlow's default on Ampere and newer) and catches zeros, NaNs and wrong layouts.
 */
export async function convStepCheck(tolerance = 1e-2): Promise<{ ms: number; maxError: number }> {
  const t0 = performance.now()
  const { x, w } = inputs()
  const xt = tf.tensor4d(x, [N, H, W, CI])
  const wt = tf.tensor4d(w, [K, K, CI, CO])
  const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
    tf.div(tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))), 2)
  const { value, grads } = tf.valueAndGrads(f)([xt, wt])
  try {
    const [loss, dx, dw] = await Promise.all([value.data(), grads[0]!.data(), grads[1]!.data()])
    const ref = referenceConvStep()
    const errors = {
      loss: maxRelError(loss, [ref.loss]),
      'input gradient': maxRelError(dx, ref.dx),
      'filter gradient': maxRelError(dw, ref.dw),
    }
    const bad = Object.entries(errors).filter(([, e]) => !(e <= tolerance))
    if (bad.length) {
      throw new Error(
        `the conv forward/backward check on backend "${tf.getBackend()}" computed wrong values (${bad
          .map(([k, e]) => `${k} off by ${Number.isFinite(e) ? `${(e * 100).toFixed(2)}%` : 'NaN/Inf'}`)
          .join(', ')}; allowed ${tolerance * 100}%)`,
      )
    }
    return { ms: Math.round(performance.now() - t0), maxError: Math.max(...Object.values(errors)) }
  } finally {
    tf.dispose([xt, wt, value, ...grads])
  }
}
