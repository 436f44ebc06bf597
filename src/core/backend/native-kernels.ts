/**
 * Native acceleration of the wasm backend. `@tfkd/cpu-kernels` (an optional N-API addon built from
 * source at install) computes the heavy CNN kernels with SIMD on every CPU the process may use
 * (cpu-threads.ts), directly on tensors in the wasm heap; everything else stays on the wasm backend.
 * Where the addon did not build, the wasm backend keeps its own kernels (and ours from
 * wasm-kernels.ts). The addon checks every argument it is given (native/cpu-kernels/src/binding.cc):
 * a bad call throws a RangeError/TypeError naming the op and the value, it cannot crash the process.
 */
import { createRequire } from 'node:module'
import * as tf from '@tensorflow/tfjs-core'
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core'
import { usableCpus, type CpuBudget } from './cpu-threads'

/**
 * The addon's argument spec, mirrored from native/cpu-kernels/src/binding.cc (kConvFields, ...,
 * kOps): the addon reads every dimension, buffer offset (bytes into the heap; null = absent) and
 * parameter BY NAME, so nothing depends on an order repeated on both sides. `installNativeKernels`
 * checks this mirror against the addon's own `spec()` and refuses an addon that disagrees.
 */
export const NATIVE_DIMS = {
  conv: [
    'batch',
    'inHeight',
    'inWidth',
    'inChannels',
    'outHeight',
    'outWidth',
    'outChannels',
    'filterHeight',
    'filterWidth',
    'strideHeight',
    'strideWidth',
    'padTop',
    'padLeft',
    'dilationHeight',
    'dilationWidth',
  ],
  pool: [
    'batch',
    'inHeight',
    'inWidth',
    'channels',
    'outHeight',
    'outWidth',
    'filterHeight',
    'filterWidth',
    'strideHeight',
    'strideWidth',
    'padTop',
    'padLeft',
  ],
  depthwise: [
    'batch',
    'inHeight',
    'inWidth',
    'inChannels',
    'channelMultiplier',
    'outHeight',
    'outWidth',
    'filterHeight',
    'filterWidth',
    'strideHeight',
    'strideWidth',
    'padTop',
    'padLeft',
    'dilationHeight',
    'dilationWidth',
  ],
  rows: ['rows', 'channels'],
} as const

export const NATIVE_OPS = {
  conv2d: { dims: 'conv', buffers: ['x', 'filter', 'bias', 'y'], params: ['activation'] },
  conv2dBackpropInput: { dims: 'conv', buffers: ['dy', 'filter', 'dx'], params: [] },
  conv2dBackpropFilter: { dims: 'conv', buffers: ['x', 'dy', 'dw'], params: [] },
  maxPoolGrad: { dims: 'pool', buffers: ['dy', 'x', 'dx'], params: [] },
  depthwiseBackpropInput: { dims: 'depthwise', buffers: ['dy', 'filter', 'dx'], params: [] },
  depthwiseBackpropFilter: { dims: 'depthwise', buffers: ['x', 'dy', 'dw'], params: [] },
  reduceRows: { dims: 'rows', buffers: ['x', 'y'], params: ['scale'] },
  batchNormTrain: {
    dims: 'rows',
    buffers: ['x', 'gamma', 'beta', 'y', 'mean', 'variance'],
    params: ['epsilon', 'activation'],
  },
  batchNormTrainGrad: {
    dims: 'rows',
    buffers: ['dy', 'x', 'y', 'mean', 'variance', 'gamma', 'dx', 'dgamma', 'dbeta'],
    params: ['epsilon', 'activation'],
  },
} as const

export type NativeDimsFamily = keyof typeof NATIVE_DIMS
export type NativeOp = keyof typeof NATIVE_OPS
export type NativeDims<F extends NativeDimsFamily> = Record<(typeof NATIVE_DIMS)[F][number], number>
type OpDims<O extends NativeOp> = NativeDims<(typeof NATIVE_OPS)[O]['dims']>
type OpBuffers<O extends NativeOp> = Record<(typeof NATIVE_OPS)[O]['buffers'][number], number | null>
type OpParams<O extends NativeOp> = Record<(typeof NATIVE_OPS)[O]['params'][number], number>

/** What the addon's spec() returns. */
export interface NativeSpec {
  maxDimension: number
  dims: Record<string, { name: string; min: number }[]>
  ops: Record<string, { dims: string; buffers: string[]; params: string[] }>
}

/** Every op: (heap, buffers, dims, params); bad arguments throw a RangeError/TypeError naming the op. */
export type CpuKernelsAddon = {
  [O in NativeOp]: (heap: ArrayBuffer, buffers: OpBuffers<O>, dims: OpDims<O>, params: OpParams<O>) => void
} & {
  threads(n?: number): number
  isa(): string
  spec(): NativeSpec
}

/** Where the addon's spec differs from NATIVE_DIMS / NATIVE_OPS, in words; null where it agrees. */
export function specMismatch(spec: NativeSpec): string | null {
  const same = (a: readonly string[], b: readonly string[] | undefined) =>
    JSON.stringify(a) === JSON.stringify(b)
  for (const [family, names] of Object.entries(NATIVE_DIMS)) {
    const theirs = spec.dims[family]?.map((f) => f.name)
    if (!same(names, theirs))
      return `dims.${family}: addon has [${theirs?.join(', ')}], expected [${names.join(', ')}]`
  }
  for (const [op, mine] of Object.entries(NATIVE_OPS)) {
    const theirs = spec.ops[op]
    if (!theirs) return `the addon has no ${op}`
    if (theirs.dims !== mine.dims || !same(mine.buffers, theirs.buffers) || !same(mine.params, theirs.params))
      return `${op}: addon reads ${JSON.stringify(theirs)}, expected ${JSON.stringify(mine)}`
  }
  return null
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

function convDims(info: tf.backend_util.Conv2DInfo): NativeDims<'conv'> {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
  }
}

function poolDims(info: tf.backend_util.Conv2DInfo): NativeDims<'pool'> {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    channels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  }
}

function depthwiseDims(info: tf.backend_util.Conv2DInfo, multiplier: number): NativeDims<'depthwise'> {
  const { outChannels: _outChannels, ...conv } = convDims(info)
  return { ...conv, channelMultiplier: multiplier }
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

const heapOf = (b: WasmBackendLike) => b.wasm.HEAPU8.buffer as ArrayBuffer
const wasmOf = (backend: unknown) => backend as WasmBackendLike
type Shape4 = [number, number, number, number]
type ConvPad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding
type Rounding = 'floor' | 'round' | 'ceil'

/** Conv2D and FusedConv2D (bias and relu/relu6 fused); NCHW and prelu stay on the wasm kernel. */
function convForward(addon: CpuKernelsAddon, original: KernelFunc, fused: boolean): KernelFunc {
  return (args) => {
    const attrs = args.attrs as NamedAttrMap & {
      strides: number | [number, number]
      pad: ConvPad
      dilations: number | [number, number]
      dataFormat: 'NHWC' | 'NCHW'
      dimRoundingMode?: Rounding
      activation?: string
    }
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>
    const act = fused ? ACTIVATIONS[attrs.activation ?? 'linear'] : 0
    if (attrs.dataFormat !== 'NHWC' || act === undefined || preluActivationWeights) return original(args)
    const info = tf.backend_util.computeConv2DInfo(
      x!.shape as Shape4,
      filter!.shape as Shape4,
      attrs.strides,
      attrs.dilations,
      attrs.pad,
      attrs.dimRoundingMode,
    )
    const b = wasmOf(args.backend)
    const y = b.makeOutput(info.outShape, 'float32')
    const buffers = {
      x: offset(b, x!),
      filter: offset(b, filter!),
      bias: bias ? offset(b, bias) : null,
      y: offset(b, y),
    }
    addon.conv2d(heapOf(b), buffers, convDims(info), { activation: act })
    return y
  }
}

function installConvolutions(addon: CpuKernelsAddon): void {
  override('Conv2D', (original) => convForward(addon, original, false))
  override('FusedConv2D', (original) => convForward(addon, original, true))

  override('Conv2DBackpropInput', (original) => (args) => {
    const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs
    const { dy, filter } = args.inputs as Record<string, TensorInfo>
    if (attrs.dataFormat !== 'NHWC') return original(args)
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter!.shape as Shape4,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    )
    const b = wasmOf(args.backend)
    const dx = b.makeOutput([...attrs.inputShape], 'float32')
    const buffers = { dy: offset(b, dy!), filter: offset(b, filter!), dx: offset(b, dx) }
    addon.conv2dBackpropInput(heapOf(b), buffers, convDims(info), {})
    return dx
  })

  // The wasm backend has no Conv2DBackpropFilter of its own: replace ours (wasm-kernels.ts) if it
  // is registered, else register fresh.
  replaceOrRegister('Conv2DBackpropFilter', (args) => {
    const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs
    const { x, dy } = args.inputs as Record<string, TensorInfo>
    if (attrs.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter: only NHWC is supported')
    const info = tf.backend_util.computeConv2DInfo(
      x!.shape as Shape4,
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    )
    const b = wasmOf(args.backend)
    const dw = b.makeOutput([...attrs.filterShape], 'float32')
    addon.conv2dBackpropFilter(
      heapOf(b),
      { x: offset(b, x!), dy: offset(b, dy!), dw: offset(b, dw) },
      convDims(info),
      {},
    )
    return dw
  })
}

function installMaxPoolGrad(addon: CpuKernelsAddon): void {
  override('MaxPoolGrad', (original) => (args) => {
    const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs
    const { dy, input } = args.inputs as Record<string, TensorInfo>
    const info = tf.backend_util.computePool2DInfo(
      input!.shape as Shape4,
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    )
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return original(args)
    const b = wasmOf(args.backend)
    const dx = b.makeOutput([...input!.shape], 'float32')
    addon.maxPoolGrad(
      heapOf(b),
      { dy: offset(b, dy!), x: offset(b, input!), dx: offset(b, dx) },
      poolDims(info),
      {},
    )
    return dx
  })
}

// Depthwise gradients: the wasm backend has none of its own (wasm-kernels.ts registers composed
// fallbacks, replaced here).
type DwAttrs = {
  strides: number | [number, number]
  dilations: number | [number, number]
  pad: ConvPad
  dimRoundingMode?: Rounding
}

function installDepthwise(addon: CpuKernelsAddon): void {
  replaceOrRegister('DepthwiseConv2dNativeBackpropFilter', (args) => {
    const attrs = args.attrs as unknown as DwAttrs & { filterShape: Shape4 }
    const { x, dy } = args.inputs as Record<string, TensorInfo>
    const info = tf.backend_util.computeConv2DInfo(
      x!.shape as Shape4,
      attrs.filterShape,
      attrs.strides,
      attrs.dilations,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    )
    const b = wasmOf(args.backend)
    const dw = b.makeOutput([...attrs.filterShape], 'float32')
    const buffers = { x: offset(b, x!), dy: offset(b, dy!), dw: offset(b, dw) }
    addon.depthwiseBackpropFilter(heapOf(b), buffers, depthwiseDims(info, attrs.filterShape[3]), {})
    return dw
  })
  replaceOrRegister('DepthwiseConv2dNativeBackpropInput', (args) => {
    const attrs = args.attrs as unknown as DwAttrs & { inputShape: Shape4 }
    const { dy, filter } = args.inputs as Record<string, TensorInfo>
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter!.shape as Shape4,
      attrs.strides,
      attrs.dilations,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    )
    const b = wasmOf(args.backend)
    const dx = b.makeOutput([...attrs.inputShape], 'float32')
    const buffers = { dy: offset(b, dy!), filter: offset(b, filter!), dx: offset(b, dx) }
    addon.depthwiseBackpropInput(heapOf(b), buffers, depthwiseDims(info, filter!.shape[3]!), {})
    return dx
  })
}

// Sum and Mean over every axis but the last (bias gradients, batch-norm moments): the wasm
// backend transposes the whole tensor first and reduces on one thread.
function leadingReduce(addon: CpuKernelsAddon, original: KernelFunc, mean: boolean): KernelFunc {
  return (args) => {
    const { x } = args.inputs as Record<string, TensorInfo>
    const attrs = args.attrs as unknown as { axis: number | number[]; keepDims: boolean }
    const rank = x!.shape.length
    const axes = tf.util.parseAxisParam(attrs.axis, x!.shape).sort((p, q) => p - q)
    const isLeading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i)
    if (!isLeading || x!.dtype !== 'float32') return original(args)
    const cols = x!.shape[rank - 1]!
    const rows = tf.util.sizeFromShape(x!.shape) / cols
    const b = wasmOf(args.backend)
    const shape = attrs.keepDims ? [...Array<number>(rank - 1).fill(1), cols] : [cols]
    const y = b.makeOutput(shape, 'float32')
    const scale = mean ? 1 / Math.max(rows, 1) : 1
    addon.reduceRows(heapOf(b), { x: offset(b, x!), y: offset(b, y) }, { rows, channels: cols }, { scale })
    return y
  }
}

function installReductions(addon: CpuKernelsAddon): void {
  override('Sum', (original) => leadingReduce(addon, original, false))
  override('Mean', (original) => leadingReduce(addon, original, true))
}

function rowsOf(x: TensorInfo): NativeDims<'rows'> {
  const channels = x.shape[x.shape.length - 1]!
  return { rows: tf.util.sizeFromShape(x.shape) / Math.max(channels, 1), channels }
}

function bnActivation(attrs: NamedAttrMap): number {
  const act = ACTIVATIONS[(attrs.activation as string | undefined) ?? 'linear']
  if (act === undefined)
    throw new Error(`${BATCH_NORM_TRAIN}: unsupported activation ${String(attrs.activation)}`)
  return act
}

function installBatchNorm(addon: CpuKernelsAddon): void {
  replaceOrRegister(BATCH_NORM_TRAIN, (args) => {
    const { x, gamma, beta } = args.inputs as Record<string, TensorInfo>
    const b = wasmOf(args.backend)
    const dims = rowsOf(x!)
    const y = b.makeOutput([...x!.shape], 'float32')
    const mean = b.makeOutput([dims.channels], 'float32')
    const variance = b.makeOutput([dims.channels], 'float32')
    const buffers = {
      x: offset(b, x!),
      gamma: offset(b, gamma!),
      beta: offset(b, beta!),
      y: offset(b, y),
      mean: offset(b, mean),
      variance: offset(b, variance),
    }
    const params = { epsilon: args.attrs!.epsilon as number, activation: bnActivation(args.attrs!) }
    addon.batchNormTrain(heapOf(b), buffers, dims, params)
    return [y, mean, variance]
  })
  replaceOrRegister(BATCH_NORM_TRAIN_GRAD, (args) => {
    const { dy, x, mean, variance, gamma, y } = args.inputs as Record<string, TensorInfo | undefined>
    const b = wasmOf(args.backend)
    const act = bnActivation(args.attrs!)
    if (act !== 0 && !y) throw new Error(`${BATCH_NORM_TRAIN_GRAD}: a fused activation needs y`)
    const dims = rowsOf(x!)
    const dx = b.makeOutput([...x!.shape], 'float32')
    const dgamma = b.makeOutput([dims.channels], 'float32')
    const dbeta = b.makeOutput([dims.channels], 'float32')
    const buffers = {
      dy: offset(b, dy!),
      x: offset(b, x!),
      y: act !== 0 ? offset(b, y!) : null,
      mean: offset(b, mean!),
      variance: offset(b, variance!),
      gamma: offset(b, gamma!),
      dx: offset(b, dx),
      dgamma: offset(b, dgamma),
      dbeta: offset(b, dbeta),
    }
    addon.batchNormTrainGrad(heapOf(b), buffers, dims, {
      epsilon: args.attrs!.epsilon as number,
      activation: act,
    })
    return [dx, dgamma, dbeta]
  })
}

// Identity (every tensor the autodiff tape saves is a clone) and same-dtype Cast (the clone's
// gradient) copy the whole tensor on the wasm backend; share the buffer by reference count instead,
// as the cpu backend does (wasm kernels never write to their inputs; Reshape already shares).
function installSharing(): void {
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
}

export interface NativeKernelsInfo {
  /** Threads of the addon's pool. */
  threads: number
  /** Where that count came from (cgroup quota, affinity, TFKD_THREADS). */
  threadSource: string
  isa: string
}

let installed: NativeKernelsInfo | null = null

/**
 * Registers the native kernels on the wasm backend (idempotent) with a pool of `cpu.threads`
 * threads. Throws if the addon is absent, or was built from another version of the spec.
 */
export function installNativeKernels(
  addon: CpuKernelsAddon = loadCpuKernelsAddon(),
  cpu: CpuBudget = usableCpus(),
): NativeKernelsInfo {
  if (installed) return installed
  if (typeof addon.spec !== 'function') {
    throw new Error(
      'the built @tfkd/cpu-kernels predates its argument spec: rebuild it (npm rebuild @tfkd/cpu-kernels)',
    )
  }
  const mismatch = specMismatch(addon.spec())
  if (mismatch) throw new Error(`@tfkd/cpu-kernels disagrees with this build (${mismatch}): rebuild it`)
  const threads = addon.threads(cpu.threads)
  installConvolutions(addon)
  installMaxPoolGrad(addon)
  installDepthwise(addon)
  installReductions(addon)
  installBatchNorm(addon)
  installSharing()
  installed = { threads, threadSource: cpu.source, isa: addon.isa() }
  return installed
}
