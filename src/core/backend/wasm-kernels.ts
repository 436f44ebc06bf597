/**
 * Gradient kernels the wasm backend lacks, built from kernels it has (XNNPACK convolutions).
 *
 * Conv2DBackpropFilter, NHWC, dilation 1 (TF.js's conv gradient requires it):
 *   dW[i,j,ci,co] = sum_{n,h,w} xpad[n, h*sh + i, w*sw + j, ci] * dy[n, h, w, co]
 * which is a 'valid' convolution of xpad^T [Ci, Hp, Wp, N] with dy^T [Ho, Wo, N, Co] used as the
 * filter, at dilation (sh, sw); its [Ci, kh, kw, Co] corner transposed to [kh, kw, Ci, Co] is dW.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { Conv2DBackpropFilterAttrs, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core'

function conv2dBackpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: Conv2DBackpropFilterAttrs,
): tf.Tensor4D {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter (wasm): only NHWC, got ${dataFormat}`)
  const [kh, kw, ci, co] = filterShape
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  )
  const { top, left, bottom, right } = info.padInfo
  return tf.tidy(() => {
    const xpad =
      top || left || bottom || right
        ? tf.pad(x, [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ])
        : x
    const xt = tf.transpose(xpad, [3, 1, 2, 0]) as tf.Tensor4D
    const dyt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D
    const r = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth])
    const corner = r.shape[1] === kh && r.shape[2] === kw ? r : tf.slice(r, [0, 0, 0, 0], [ci, kh, kw, co])
    return tf.transpose(corner, [1, 2, 0, 3]) as tf.Tensor4D
  })
}

let registered = false

/** Registers the missing training kernels for the wasm backend (idempotent). */
export function registerWasmTrainingKernels(): void {
  if (registered) return
  registered = true
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs as NamedTensorInfoMap
      return conv2dBackpropFilter(
        tensorOf(x!),
        tensorOf(dy!),
        attrs as unknown as Conv2DBackpropFilterAttrs,
      ) as TensorInfo
    },
  })
}

/** The engine hands kernels the op's own input Tensors; anything else is a TF.js change we must see. */
function tensorOf(t: TensorInfo): tf.Tensor4D {
  if (!(t instanceof tf.Tensor)) throw new Error('Conv2DBackpropFilter (wasm): expected Tensor inputs')
  return t as tf.Tensor4D
}

export const _test = { conv2dBackpropFilter }
