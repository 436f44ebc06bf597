/**
 * Gradient kernels the wasm backend lacks, built from kernels it has (XNNPACK convolutions).
 *
 * Conv2DBackpropFilter, NHWC, dilation 1 (TF.js's conv gradient requires it):
 *   dW[i,j,ci,co] = sum_{n,h,w} xpad[n, h*sh + i, w*sw + j, ci] * dy[n, h, w, co]
 * which is a 'valid' convolution of xpad^T [Ci, Hp, Wp, N] with dy^T [Ho, Wo, N, Co] used as the
 * filter, at dilation (sh, sw); its [Ci, kh, kw, Co] corner transposed to [kh, kw, Ci, Co] is dW.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { Conv2DBackpropFilterAttrs, TensorInfo } from '@tensorflow/tfjs-core'

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

/**
 * Conv2DBackpropFilter from matrix products: dW[i, j] = Xs(i, j)^T . dY, where Xs(i, j) is the
 * strided slice of the padded input that filter tap (i, j) saw. Any backend's MatMul does the work;
 * tfjs-backend-webgpu's own kernel for this op is a naive loop that takes most of a ResNet training
 * step on a GPU.
 */
export function conv2dBackpropFilterByTaps(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: Conv2DBackpropFilterAttrs,
): tf.Tensor4D {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter: only NHWC, got ${dataFormat}`)
  const [kh, kw, ci, co] = filterShape
  const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode)
  const { top, left, bottom, right } = info.padInfo
  const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info
  const n = x.shape[0]
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
    const taps: tf.Tensor[] = []
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        taps.push(
          kh === 1 && kw === 1 && sh === 1 && sw === 1 && xpad.shape[1] === ho && xpad.shape[2] === wo
            ? xpad
            : tf.stridedSlice(
                xpad,
                [0, i, j, 0],
                [n, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, ci],
                [1, sh, sw, 1],
              ),
        )
      }
    }
    // im2col of each image, [N, Ho*Wo, kh*kw*Ci] (tap-major, as the filter is laid out), times its
    // dY [N, Ho*Wo, Co]: one batched product per image ("split-K": a GPU runs the N products in
    // parallel instead of one product with K = N*Ho*Wo), then the sum over images.
    const cols = tf.reshape(taps.length === 1 ? taps[0]! : tf.concat(taps, 3), [n, ho * wo, kh * kw * ci])
    const perImage = tf.matMul(cols, tf.reshape(dy, [n, ho * wo, co]), true, false)
    return tf.reshape(tf.sum(perImage, 0), [kh, kw, ci, co]) as tf.Tensor4D
  })
}

/** Replaces a backend's Conv2DBackpropFilter with the per-tap matrix products above. */
export function registerTapFilterGradient(backendName: string): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, backendName))
    tf.unregisterKernel(tf.Conv2DBackpropFilter, backendName)
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName,
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs
      return conv2dBackpropFilterByTaps(
        tensorOf(x!),
        tensorOf(dy!),
        attrs as unknown as Conv2DBackpropFilterAttrs,
      )
    },
  })
}

type DepthwiseAttrs = {
  strides: number | [number, number]
  dilations: number | [number, number]
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
}

/**
 * Depthwise filter gradient from slices: for each filter tap (i, j), the strided slice of the padded
 * input that the tap saw, times dy, summed over batch and space. Filter [kh, kw, C, M].
 */
function depthwiseBackpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  attrs: DepthwiseAttrs,
): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape,
    filterShape,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  )
  const [kh, kw, c, m] = filterShape
  const { top, bottom, left, right } = info.padInfo
  const [n] = x.shape
  const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info
  const { dilationHeight: dh, dilationWidth: dw } = info
  return tf.tidy(() => {
    const xpad = tf.pad(x, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ])
    const dy5 = tf.reshape(dy, [n, ho, wo, c, m])
    const taps: tf.Tensor[] = []
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const xs = tf.stridedSlice(
          xpad,
          [0, i * dh, j * dw, 0],
          [n, i * dh + (ho - 1) * sh + 1, j * dw + (wo - 1) * sw + 1, c],
          [1, sh, sw, 1],
        )
        taps.push(tf.sum(tf.mul(tf.expandDims(xs, 4), dy5), [0, 1, 2]))
      }
    }
    return tf.reshape(tf.stack(taps), [kh, kw, c, m]) as tf.Tensor4D
  })
}

/**
 * Depthwise input gradient: each filter tap's contribution dy * w[i, j] (summed over the channel
 * multiplier), spread back to the input positions it came from (zero-inserted by the stride, shifted
 * by the tap's offset, cropped to the input), summed over taps.
 */
function depthwiseBackpropInput(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  attrs: DepthwiseAttrs,
): tf.Tensor4D {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  )
  const [n, h, w, c] = inputShape
  const [kh, kw, , m] = filter.shape
  const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info
  const { dilationHeight: dh, dilationWidth: dw } = info
  return tf.tidy(() => {
    const dy5 = tf.reshape(dy, [n, ho, wo, c, m])
    const terms: tf.Tensor4D[] = []
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const tap = tf.reshape(tf.slice(filter, [i, j, 0, 0], [1, 1, c, m]), [1, 1, 1, c, m])
        let t = tf.sum(tf.mul(dy5, tap), 4) as tf.Tensor4D
        if (sh > 1 || sw > 1) {
          const spread = tf.pad(tf.reshape(t, [n, ho, 1, wo, 1, c]), [
            [0, 0],
            [0, 0],
            [0, sh - 1],
            [0, 0],
            [0, sw - 1],
            [0, 0],
          ])
          t = tf.reshape(spread, [n, ho * sh, wo * sw, c])
        }
        // Row r of t is input row r + i*dh - top (likewise for columns).
        const r0 = i * dh - info.padInfo.top
        const c0 = j * dw - info.padInfo.left
        const skipR = Math.max(0, -r0)
        const skipC = Math.max(0, -c0)
        const padT = Math.max(0, r0)
        const padL = Math.max(0, c0)
        const rows = Math.min(ho * sh - skipR, h - padT)
        const cols = Math.min(wo * sw - skipC, w - padL)
        if (rows <= 0 || cols <= 0) continue
        const kept = tf.slice(t, [0, skipR, skipC, 0], [n, rows, cols, c])
        terms.push(
          tf.pad(kept, [
            [0, 0],
            [padT, h - padT - rows],
            [padL, w - padL - cols],
            [0, 0],
          ]),
        )
      }
    }
    return terms.length ? tf.addN(terms) : tf.zeros(inputShape)
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
      const { x, dy } = inputs
      return conv2dBackpropFilter(tensorOf(x!), tensorOf(dy!), attrs as unknown as Conv2DBackpropFilterAttrs)
    },
  })
  tf.registerKernel({
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs
      const a = attrs as unknown as DepthwiseAttrs & { filterShape: [number, number, number, number] }
      return depthwiseBackpropFilter(tensorOf(x!), tensorOf(dy!), a.filterShape, a)
    },
  })
  tf.registerKernel({
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const { dy, filter } = inputs
      const a = attrs as unknown as DepthwiseAttrs & { inputShape: [number, number, number, number] }
      return depthwiseBackpropInput(tensorOf(dy!), tensorOf(filter!), a.inputShape, a)
    },
  })
}

/** The engine hands kernels the op's own input Tensors; anything else is a TF.js change we must see. */
function tensorOf(t: TensorInfo): tf.Tensor4D {
  if (!(t instanceof tf.Tensor)) throw new Error('wasm training kernels: expected Tensor inputs')
  return t as tf.Tensor4D
}

export const _test = { conv2dBackpropFilter, depthwiseBackpropFilter, depthwiseBackpropInput }
