/**
 * Native acceleration of the wasm backend. `@tfkd/cpu-kernels` (an optional N-API addon built from
 * source at install) computes the heavy CNN kernels with SIMD on every core, directly on tensors in
 * the wasm heap; everything else stays on the wasm backend. Where the addon did not build, the wasm
 * backend keeps its own kernels (and ours from wasm-kernels.ts).
 */
import { createRequire } from 'node:module'
import * as tf from '@tensorflow/tfjs-core'
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core'

export interface CpuKernelsAddon {
  conv2d(heap: ArrayBuffer, offsets: number[], dims: number[], activation: number): void
  conv2dBackpropInput(heap: ArrayBuffer, offsets: number[], dims: number[]): void
  conv2dBackpropFilter(heap: ArrayBuffer, offsets: number[], dims: number[]): void
  maxPoolGrad(heap: ArrayBuffer, offsets: number[], dims: number[]): void
  depthwiseBackpropInput(heap: ArrayBuffer, offsets: number[], dims: number[]): void
  depthwiseBackpropFilter(heap: ArrayBuffer, offsets: number[], dims: number[]): void
  reduceRows(heap: ArrayBuffer, offsets: number[], dims: number[], scale: number): void
  batchNormTrain(
    heap: ArrayBuffer,
    offsets: number[],
    dims: number[],
    epsilon: number,
    activation: number,
  ): void
  batchNormTrainGrad(
    heap: ArrayBuffer,
    offsets: number[],
    dims: number[],
    epsilon: number,
    activation: number,
  ): void
  threads(n?: number): number
  isa(): string
}

/** The parts of tfjs-backend-wasm's BackendWasm we use (its data map and heap). */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array }
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined }
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo
}

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2 }

/**
 * Training-mode batch normalisation over every axis but the last, as two kernels of our own
 * (registered on the wasm backend only; batch-norm.ts uses them when `tf.getKernel` finds them):
 * - `TfkdBatchNormTrain` (x, gamma, beta; attrs epsilon, activation) -> [y, mean, variance]: batch
 *   statistics (biased variance) and y = act((x - mean) / sqrt(variance + epsilon) * gamma + beta);
 * - `TfkdBatchNormTrainGrad` (dy, x, mean, variance, gamma[, y when activation is not linear]; attrs
 *   epsilon, activation) -> [dx, dgamma, dbeta], the closed-form gradient of the above.
 */
export const BATCH_NORM_TRAIN = 'TfkdBatchNormTrain'
export const BATCH_NORM_TRAIN_GRAD = 'TfkdBatchNormTrainGrad'

export function loadCpuKernelsAddon(): CpuKernelsAddon {
  const req = createRequire(import.meta.url)
  return req('@tfkd/cpu-kernels') as CpuKernelsAddon
}

function offset(backend: WasmBackendLike, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId)
  if (!d) throw new Error('tfkd-cpu-kernels: tensor is not on the wasm backend')
  return d.memoryOffset
}

function convDims(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.dilationHeight,
    info.dilationWidth,
  ]
}

/** Replaces a wasm kernel, keeping the original for the cases the native one does not cover. */
function override(name: string, make: (original: KernelFunc) => KernelFunc): void {
  const original = tf.getKernel(name, 'wasm') as KernelConfig | undefined
  if (!original) throw new Error(`wasm backend has no ${name} kernel to accelerate`)
  tf.unregisterKernel(name, 'wasm')
  tf.registerKernel({ ...original, kernelFunc: make(original.kernelFunc) })
}

/** Registers a kernel the wasm backend lacks (replacing our composed fallback if present). */
function replaceOrRegister(name: string, kernelFunc: KernelFunc): void {
  if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm')
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc })
}

let installed: { threads: number; isa: string } | null = null

/** Registers the native kernels on the wasm backend (idempotent). Throws if the addon is absent. */
export function installNativeKernels(addon: CpuKernelsAddon = loadCpuKernelsAddon()): {
  threads: number
  isa: string
} {
  if (installed) return installed
  const heap = (b: WasmBackendLike) => b.wasm.HEAPU8.buffer as ArrayBuffer

  const conv =
    (original: KernelFunc, fused: boolean): KernelFunc =>
    (args) => {
      const { inputs, backend } = args
      const attrs = args.attrs as NamedAttrMap & {
        strides: number | [number, number]
        pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding
        dilations: number | [number, number]
        dataFormat: 'NHWC' | 'NCHW'
        dimRoundingMode?: 'floor' | 'round' | 'ceil'
        activation?: string
      }
      const { x, filter, bias, preluActivationWeights } = inputs as Record<string, TensorInfo | undefined>
      const act = fused ? ACTIVATIONS[attrs.activation ?? 'linear'] : 0
      if (attrs.dataFormat !== 'NHWC' || act === undefined || preluActivationWeights) return original(args)
      const info = tf.backend_util.computeConv2DInfo(
        x!.shape as [number, number, number, number],
        filter!.shape as [number, number, number, number],
        attrs.strides,
        attrs.dilations,
        attrs.pad,
        attrs.dimRoundingMode,
      )
      const b = backend as unknown as WasmBackendLike
      const out = b.makeOutput(info.outShape, 'float32')
      addon.conv2d(
        heap(b),
        [offset(b, x!), offset(b, filter!), bias ? offset(b, bias) : -1, offset(b, out)],
        convDims(info),
        act,
      )
      return out
    }

  override('Conv2D', (original) => conv(original, false))
  override('FusedConv2D', (original) => conv(original, true))

  override('Conv2DBackpropInput', (original) => (args) => {
    const { inputs, backend } = args
    const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs
    const { dy, filter } = inputs as Record<string, TensorInfo>
    if (attrs.dataFormat !== 'NHWC') return original(args)
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape as [number, number, number, number],
      filter!.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    )
    const b = backend as unknown as WasmBackendLike
    const out = b.makeOutput([...attrs.inputShape], 'float32')
    addon.conv2dBackpropInput(heap(b), [offset(b, dy!), offset(b, filter!), offset(b, out)], convDims(info))
    return out
  })

  // The wasm backend has no Conv2DBackpropFilter of its own: replace ours (wasm-kernels.ts) if it
  // is registered, else register fresh.
  const filterKernel: KernelFunc = (args) => {
    const { inputs, backend } = args
    const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs
    const { x, dy } = inputs as Record<string, TensorInfo>
    if (attrs.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter: only NHWC is supported')
    const info = tf.backend_util.computeConv2DInfo(
      x!.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    )
    const b = backend as unknown as WasmBackendLike
    const out = b.makeOutput([...attrs.filterShape], 'float32')
    addon.conv2dBackpropFilter(heap(b), [offset(b, x!), offset(b, dy!), offset(b, out)], convDims(info))
    return out
  }
  replaceOrRegister('Conv2DBackpropFilter', filterKernel)

  override('MaxPoolGrad', (original) => (args) => {
    const { inputs, backend } = args
    const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs
    const { dy, input } = inputs as Record<string, TensorInfo>
    const info = tf.backend_util.computePool2DInfo(
      input!.shape as [number, number, number, number],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    )
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return original(args)
    const b = backend as unknown as WasmBackendLike
    const out = b.makeOutput([...input!.shape], 'float32')
    addon.maxPoolGrad(
      heap(b),
      [offset(b, dy!), offset(b, input!), offset(b, out)],
      [
        info.batchSize,
        info.inHeight,
        info.inWidth,
        info.inChannels,
        info.outHeight,
        info.outWidth,
        info.filterHeight,
        info.filterWidth,
        info.strideHeight,
        info.strideWidth,
        info.padInfo.top,
        info.padInfo.left,
      ],
    )
    return out
  })

  // Depthwise gradients: the wasm backend has none of its own (wasm-kernels.ts registers composed
  // fallbacks, replaced here).
  const depthwiseDims = (info: tf.backend_util.Conv2DInfo, m: number) => [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    m,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.dilationHeight,
    info.dilationWidth,
  ]
  type DwAttrs = {
    strides: number | [number, number]
    dilations: number | [number, number]
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding
    dimRoundingMode?: 'floor' | 'round' | 'ceil'
  }
  replaceOrRegister('DepthwiseConv2dNativeBackpropFilter', (args) => {
    const { inputs, backend } = args
    const attrs = args.attrs as unknown as DwAttrs & { filterShape: [number, number, number, number] }
    const { x, dy } = inputs as Record<string, TensorInfo>
    const info = tf.backend_util.computeConv2DInfo(
      x!.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      attrs.dilations,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    )
    const b = backend as unknown as WasmBackendLike
    const out = b.makeOutput([...attrs.filterShape], 'float32')
    addon.depthwiseBackpropFilter(
      heap(b),
      [offset(b, x!), offset(b, dy!), offset(b, out)],
      depthwiseDims(info, attrs.filterShape[3]),
    )
    return out
  })
  replaceOrRegister('DepthwiseConv2dNativeBackpropInput', (args) => {
    const { inputs, backend } = args
    const attrs = args.attrs as unknown as DwAttrs & { inputShape: [number, number, number, number] }
    const { dy, filter } = inputs as Record<string, TensorInfo>
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter!.shape as [number, number, number, number],
      attrs.strides,
      attrs.dilations,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    )
    const b = backend as unknown as WasmBackendLike
    const out = b.makeOutput([...attrs.inputShape], 'float32')
    addon.depthwiseBackpropInput(
      heap(b),
      [offset(b, dy!), offset(b, filter!), offset(b, out)],
      depthwiseDims(info, filter!.shape[3]!),
    )
    return out
  })

  // Sum and Mean over every axis but the last (bias gradients, batch-norm moments): the wasm
  // backend transposes the whole tensor first and reduces on one thread.
  const leadingReduce =
    (original: KernelFunc, mean: boolean): KernelFunc =>
    (args) => {
      const { inputs, backend } = args
      const { x } = inputs as Record<string, TensorInfo>
      const attrs = args.attrs as unknown as { axis: number | number[]; keepDims: boolean }
      const rank = x!.shape.length
      const axes = tf.util.parseAxisParam(attrs.axis, x!.shape).sort((p, q) => p - q)
      const isLeading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i)
      if (!isLeading || x!.dtype !== 'float32') return original(args)
      const cols = x!.shape[rank - 1]!
      const rows = tf.util.sizeFromShape(x!.shape) / cols
      const b = backend as unknown as WasmBackendLike
      const shape = attrs.keepDims ? [...Array<number>(rank - 1).fill(1), cols] : [cols]
      const out = b.makeOutput(shape, 'float32')
      addon.reduceRows(
        heap(b),
        [offset(b, x!), offset(b, out)],
        [rows, cols],
        mean ? 1 / Math.max(rows, 1) : 1,
      )
      return out
    }
  override('Sum', (original) => leadingReduce(original, false))
  override('Mean', (original) => leadingReduce(original, true))

  const channelsOf = (x: TensorInfo) => {
    const c = x.shape[x.shape.length - 1]!
    return [tf.util.sizeFromShape(x.shape) / Math.max(c, 1), c]
  }
  const bnActivation = (attrs: NamedAttrMap) => {
    const act = ACTIVATIONS[(attrs.activation as string | undefined) ?? 'linear']
    if (act === undefined)
      throw new Error(`${BATCH_NORM_TRAIN}: unsupported activation ${String(attrs.activation)}`)
    return act
  }
  replaceOrRegister(BATCH_NORM_TRAIN, (args) => {
    const { x, gamma, beta } = args.inputs as Record<string, TensorInfo>
    const b = args.backend as unknown as WasmBackendLike
    const [rows, c] = channelsOf(x!)
    const y = b.makeOutput([...x!.shape], 'float32')
    const mean = b.makeOutput([c!], 'float32')
    const variance = b.makeOutput([c!], 'float32')
    addon.batchNormTrain(
      heap(b),
      [
        offset(b, x!),
        offset(b, gamma!),
        offset(b, beta!),
        offset(b, y),
        offset(b, mean),
        offset(b, variance),
      ],
      [rows!, c!],
      args.attrs!.epsilon as number,
      bnActivation(args.attrs!),
    )
    return [y, mean, variance]
  })
  replaceOrRegister(BATCH_NORM_TRAIN_GRAD, (args) => {
    const { dy, x, mean, variance, gamma, y } = args.inputs as Record<string, TensorInfo | undefined>
    const b = args.backend as unknown as WasmBackendLike
    const act = bnActivation(args.attrs!)
    if (act !== 0 && !y) throw new Error(`${BATCH_NORM_TRAIN_GRAD}: a fused activation needs y`)
    const [rows, c] = channelsOf(x!)
    const dx = b.makeOutput([...x!.shape], 'float32')
    const dgamma = b.makeOutput([c!], 'float32')
    const dbeta = b.makeOutput([c!], 'float32')
    addon.batchNormTrainGrad(
      heap(b),
      [
        offset(b, dy!),
        offset(b, x!),
        act !== 0 ? offset(b, y!) : -1,
        offset(b, mean!),
        offset(b, variance!),
        offset(b, gamma!),
        offset(b, dx),
        offset(b, dgamma),
        offset(b, dbeta),
      ],
      [rows!, c!],
      args.attrs!.epsilon as number,
      act,
    )
    return [dx, dgamma, dbeta]
  })

  // Identity (every tensor the autodiff tape saves is a clone) and same-dtype Cast (the clone's
  // gradient) copy the whole tensor on the wasm backend; share the buffer by reference count instead,
  // as the cpu backend does (wasm kernels never write to their inputs; Reshape already shares).
  const share =
    (original: KernelFunc): KernelFunc =>
    (args) => {
      const { x } = args.inputs as Record<string, TensorInfo>
      const dtype = (args.attrs?.dtype as tf.DataType | undefined) ?? x!.dtype
      if (x!.dtype === 'string' || dtype !== x!.dtype) return original(args)
      ;(args.backend as unknown as { incRef(dataId: object): void }).incRef(x!.dataId)
      return { dataId: x!.dataId, shape: [...x!.shape], dtype }
    }
  override('Identity', share)
  override('Cast', share)

  installed = { threads: addon.threads(), isa: addon.isa() }
  return installed
}
