/**
 * Model builders. Each layer gets its own initializer seed derived from the run's seed: a seeded
 * TF.js initializer returns the same tensor on every call, so sharing one seed would make every
 * same-shaped kernel identical. The convolutional families name every layer explicitly, so weight
 * names (and so checkpoints) do not depend on how many models the process built before, and derive
 * each layer's seed from its name.
 *
 * Batch norm uses PyTorch's defaults (momentum 0.1 there = 0.9 in Keras terms, epsilon 1e-5), the
 * convention of the reference recipe; Keras' 0.99 would leave the moving statistics far from the
 * batch statistics after the one-epoch snapshot that de-kd uses as a teacher.
 */
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import { deriveSeed } from '../random'
import { BatchNorm, type BatchNormActivation } from './batch-norm'
import type { ModelId } from './catalog'

export interface ModelSpec {
  /** [height, width, channels], e.g. [28, 28, 1] or [32, 32, 3]. */
  inputShape: [number, number, number]
  numClasses: number
  seed: number
}

/** How a model is built; with its info in MODEL_CATALOG it makes the model's registry entry. */
export type ModelBuilder = (spec: ModelSpec) => tfl.LayersModel
type SymbolicTensor = tfl.SymbolicTensor

function seeds(base: number) {
  let i = 0
  return {
    kernel: () => tfl.initializers.heNormal({ seed: deriveSeed(base, `kernel-${i++}`) }),
    glorot: () => tfl.initializers.glorotUniform({ seed: deriveSeed(base, `kernel-${i++}`) }),
  }
}

// ---------------------------------------------------------------------------------------------
// Custom layers of ShuffleNetV2 (tfjs-layers has neither a channel split nor a channel shuffle).

interface ChannelSliceArgs {
  begin: number
  size: number
  name?: string
}

/** Channels [begin, begin + size) of an NHWC tensor: one half of ShuffleNetV2's channel split. */
export class ChannelSlice extends tfl.layers.Layer {
  static className = 'TfkdChannelSlice'
  readonly begin: number
  readonly size: number
  constructor(args: ChannelSliceArgs) {
    super({ name: args.name })
    this.begin = args.begin
    this.size = args.size
  }
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape
    return [...s.slice(0, -1), this.size]
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs
    return tf.slice(x, [0, 0, 0, this.begin], [-1, -1, -1, this.size])
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), begin: this.begin, size: this.size }
  }
}

interface ChannelShuffleArgs {
  groups: number
  name?: string
}

/** ShuffleNet channel shuffle: [N,H,W,g*c] -> reshape [N,H,W,g,c] -> swap the last two -> [N,H,W,c*g]. */
export class ChannelShuffle extends tfl.layers.Layer {
  static className = 'TfkdChannelShuffle'
  readonly groups: number
  constructor(args: ChannelShuffleArgs) {
    super({ name: args.name })
    this.groups = args.groups
  }
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs
      const [, h, w, c] = x.shape as number[]
      const g = this.groups
      const grouped = tf.reshape(x, [-1, h!, w!, g, c! / g])
      return tf.reshape(tf.transpose(grouped, [0, 1, 2, 4, 3]), [-1, h!, w!, c!])
    })
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups }
  }
}

tf.serialization.registerClass(ChannelSlice)
tf.serialization.registerClass(ChannelShuffle)

// ---------------------------------------------------------------------------------------------
// Functional building blocks with named layers and per-name seeds.

class Net {
  constructor(
    readonly prefix: string,
    readonly seed: number,
  ) {}

  private init(name: string) {
    return tfl.initializers.heNormal({ seed: deriveSeed(this.seed, `kernel:${name}`) })
  }

  conv(x: SymbolicTensor, name: string, filters: number, kernelSize: number, strides = 1): SymbolicTensor {
    return tfl.layers
      .conv2d({
        name: `${this.prefix}_${name}`,
        filters,
        kernelSize,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: this.init(name),
      })
      .apply(x) as SymbolicTensor
  }

  /**
   * Depthwise 3x3. Keras computes the fan-in of a [3, 3, C, 1] kernel as 9*C, so He init would draw
   * weights sqrt(C) times too small (each output sees only 9 inputs); batch norm hides that in the
   * forward pass but the gradients grow by sqrt(C). Scale by C to get PyTorch's fan-in of 9.
   */
  dwconv(x: SymbolicTensor, name: string, strides = 1): SymbolicTensor {
    return tfl.layers
      .depthwiseConv2d({
        name: `${this.prefix}_${name}`,
        kernelSize: 3,
        strides,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: tfl.initializers.varianceScaling({
          scale: 2 * channels(x),
          mode: 'fanIn',
          distribution: 'normal',
          seed: deriveSeed(this.seed, `kernel:${name}`),
        }),
      })
      .apply(x) as SymbolicTensor
  }

  /**
   * Batch norm (our one-op layer, numerically tfjs-layers' BatchNormalization), optionally with the
   * following ReLU/ReLU6 fused into it: one pass forward and two backward instead of separate
   * activation and mask passes.
   */
  bn(x: SymbolicTensor, name: string, activation: BatchNormActivation = 'linear'): SymbolicTensor {
    return new BatchNorm({ name: `${this.prefix}_${name}`, momentum: 0.9, epsilon: 1e-5, activation }).apply(
      x,
    ) as SymbolicTensor
  }

  relu(x: SymbolicTensor, name: string, maxValue?: number): SymbolicTensor {
    return tfl.layers.reLU({ name: `${this.prefix}_${name}`, maxValue }).apply(x) as SymbolicTensor
  }

  /** conv -> BN -> (ReLU | ReLU6 | linear), the activation fused into the BN layer. */
  convBn(
    x: SymbolicTensor,
    name: string,
    filters: number,
    kernelSize: number,
    strides: number,
    act: 'relu' | 'relu6' | 'linear',
  ): SymbolicTensor {
    return this.bn(this.conv(x, name, filters, kernelSize, strides), `${name}_bn`, act)
  }

  add(xs: SymbolicTensor[], name: string): SymbolicTensor {
    return tfl.layers.add({ name: `${this.prefix}_${name}` }).apply(xs) as SymbolicTensor
  }

  concat(xs: SymbolicTensor[], name: string): SymbolicTensor {
    return tfl.layers.concatenate({ name: `${this.prefix}_${name}`, axis: -1 }).apply(xs) as SymbolicTensor
  }

  /** Global average pool -> dense(numClasses) logits. */
  head(x: SymbolicTensor, numClasses: number): SymbolicTensor {
    const pooled = tfl.layers
      .globalAveragePooling2d({ name: `${this.prefix}_gap` })
      .apply(x) as SymbolicTensor
    return tfl.layers
      .dense({
        name: `${this.prefix}_logits`,
        units: numClasses,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(this.seed, 'kernel:logits') }),
      })
      .apply(pooled) as SymbolicTensor
  }
}

/** channels of a tensor (NHWC). */
const channels = (x: SymbolicTensor) => x.shape[x.shape.length - 1] as number

/**
 * CIFAR ResNet (He et al. 2016, section 4.2) with depth 6n+2: conv3x3x16, three stages of n basic
 * blocks with 16/32/64 filters (stride 2 at the start of stages 2 and 3), global average pool, dense.
 * Option B shortcuts: a 1x1 conv + BN projection where the shape changes, identity elsewhere.
 */
function resnet(depth: number): ModelBuilder {
  const n = (depth - 2) / 6
  return ({ inputShape, numClasses, seed }) => {
    const net = new Net(`resnet${depth}`, seed)
    const input = tfl.input({ shape: inputShape, name: `${net.prefix}_input` })
    let x = net.convBn(input, 'stem', 16, 3, 1, 'relu')
    ;[16, 32, 64].forEach((filters, stage) => {
      for (let b = 0; b < n; b++) {
        const strides = stage > 0 && b === 0 ? 2 : 1
        const id = `s${stage + 1}b${b + 1}`
        let y = net.convBn(x, `${id}_conv1`, filters, 3, strides, 'relu')
        y = net.convBn(y, `${id}_conv2`, filters, 3, 1, 'linear')
        const shortcut =
          strides !== 1 || channels(x) !== filters
            ? net.convBn(x, `${id}_proj`, filters, 1, strides, 'linear')
            : x
        x = net.relu(net.add([y, shortcut], `${id}_add`), `${id}_out`)
      }
    })
    return tfl.model({ name: net.prefix, inputs: input, outputs: net.head(x, numClasses) })
  }
}

/**
 * Compact MobileNetV2 (Sandler et al. 2018) for 28x28 / 32x32 inputs: stride-1 stem of 32, inverted
 * residual blocks (1x1 expand -> ReLU6 -> depthwise 3x3 -> ReLU6 -> 1x1 linear projection, identity
 * add when stride 1 and widths match), 1x1 head conv of 640, global average pool, dense. The paper's
 * table up to the 96-wide stage (the 160/320 stages and the 1280 head are dropped for size), with
 * three downsamplings 32 -> 16 -> 8 -> 4: ~0.56 M weights, ~17 M MACs at 32x32.
 */
const MOBILENET_BLOCKS: [expansion: number, filters: number, repeats: number, stride: number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 3, 2],
  [6, 96, 3, 1],
]
const MOBILENET_STEM = 32
const MOBILENET_HEAD = 640

function mobilenetv2({ inputShape, numClasses, seed }: ModelSpec): tfl.LayersModel {
  const net = new Net('mobilenetv2', seed)
  const input = tfl.input({ shape: inputShape, name: `${net.prefix}_input` })
  let x = net.convBn(input, 'stem', MOBILENET_STEM, 3, 1, 'relu6')
  MOBILENET_BLOCKS.forEach(([t, c, repeats, s], stage) => {
    for (let b = 0; b < repeats; b++) {
      const strides = b === 0 ? s : 1
      const id = `s${stage + 1}b${b + 1}`
      const inC = channels(x)
      let y = t === 1 ? x : net.convBn(x, `${id}_expand`, inC * t, 1, 1, 'relu6')
      y = net.bn(net.dwconv(y, `${id}_dw`, strides), `${id}_dw_bn`, 'relu6')
      y = net.convBn(y, `${id}_project`, c, 1, 1, 'linear')
      x = strides === 1 && inC === c ? net.add([x, y], `${id}_add`) : y
    }
  })
  x = net.convBn(x, 'head', MOBILENET_HEAD, 1, 1, 'relu6')
  return tfl.model({ name: net.prefix, inputs: input, outputs: net.head(x, numClasses) })
}

/**
 * Compact ShuffleNetV2 (Ma et al. 2018) for small inputs: stride-1 3x3 stem of 24 (no max pool), three
 * stages at the paper's 0.5x widths 48/96/192 with 4/8/4 units (the first of each downsamples by 2:
 * 32 -> 16 -> 8 -> 4), a 1x1 head conv of 1024, global average pool, dense (~0.35 M weights). Basic
 * unit: split the channels in halves, transform one (1x1 -> depthwise 3x3 -> 1x1), concatenate, shuffle.
 */
const SHUFFLENET_STAGES: [filters: number, units: number][] = [
  [48, 4],
  [96, 8],
  [192, 4],
]
const SHUFFLENET_STEM = 24
const SHUFFLENET_HEAD = 1024

function shufflenetv2({ inputShape, numClasses, seed }: ModelSpec): tfl.LayersModel {
  const net = new Net('shufflenetv2', seed)
  const input = tfl.input({ shape: inputShape, name: `${net.prefix}_input` })
  let x = net.convBn(input, 'stem', SHUFFLENET_STEM, 3, 1, 'relu')
  const branch = (y: SymbolicTensor, id: string, out: number, strides: number) => {
    y = net.convBn(y, `${id}_pw1`, out, 1, 1, 'relu')
    y = net.bn(net.dwconv(y, `${id}_dw`, strides), `${id}_dw_bn`)
    return net.convBn(y, `${id}_pw2`, out, 1, 1, 'relu')
  }
  SHUFFLENET_STAGES.forEach(([filters, units], stage) => {
    const half = filters / 2
    for (let u = 0; u < units; u++) {
      const id = `s${stage + 2}u${u + 1}`
      let left: SymbolicTensor
      let right: SymbolicTensor
      if (u === 0) {
        // Downsampling unit: both branches see the whole input.
        left = net.bn(net.dwconv(x, `${id}_l_dw`, 2), `${id}_l_dw_bn`)
        left = net.convBn(left, `${id}_l_pw`, half, 1, 1, 'relu')
        right = branch(x, `${id}_r`, half, 2)
      } else {
        const c = channels(x)
        left = new ChannelSlice({ name: `${net.prefix}_${id}_split_l`, begin: 0, size: c / 2 }).apply(
          x,
        ) as SymbolicTensor
        const r = new ChannelSlice({ name: `${net.prefix}_${id}_split_r`, begin: c / 2, size: c / 2 }).apply(
          x,
        ) as SymbolicTensor
        right = branch(r, `${id}_r`, half, 1)
      }
      const joined = net.concat([left, right], `${id}_concat`)
      x = new ChannelShuffle({ name: `${net.prefix}_${id}_shuffle`, groups: 2 }).apply(
        joined,
      ) as SymbolicTensor
    }
  })
  x = net.convBn(x, 'head', SHUFFLENET_HEAD, 1, 1, 'relu')
  return tfl.model({ name: net.prefix, inputs: input, outputs: net.head(x, numClasses) })
}

export const MODEL_BUILDERS = {
  mlp: ({ inputShape, numClasses, seed }) => {
    const s = seeds(seed)
    const m = tfl.sequential({ name: 'mlp' })
    m.add(tfl.layers.flatten({ inputShape }))
    m.add(tfl.layers.dense({ units: 256, activation: 'relu', kernelInitializer: s.kernel() }))
    m.add(tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: s.kernel() }))
    m.add(tfl.layers.dense({ units: numClasses, kernelInitializer: s.glorot() }))
    return m
  },
  'cnn-small': ({ inputShape, numClasses, seed }) => {
    const s = seeds(seed)
    const m = tfl.sequential({ name: 'cnn_small' })
    m.add(
      tfl.layers.conv2d({
        inputShape,
        filters: 16,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: s.kernel(),
      }),
    )
    m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }))
    m.add(
      tfl.layers.conv2d({
        filters: 32,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: s.kernel(),
      }),
    )
    m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }))
    m.add(tfl.layers.flatten())
    m.add(tfl.layers.dense({ units: numClasses, kernelInitializer: s.glorot() }))
    return m
  },
  resnet8: resnet(8),
  resnet14: resnet(14),
  resnet20: resnet(20),
  mobilenetv2,
  shufflenetv2,
} satisfies Record<ModelId, ModelBuilder>

/**
 * Builds model `id` from a builder table: MODEL_BUILDERS, or a test's table that adds an entry next
 * to it (the recipe in docs/extending.md). The spec is checked before any layer is made.
 */
export function buildModelIn(
  builders: Readonly<Record<string, ModelBuilder>>,
  id: string,
  spec: ModelSpec,
): tfl.LayersModel {
  if (!Object.hasOwn(builders, id)) {
    throw new Error(`unknown model "${id}"; expected one of ${Object.keys(builders).join(', ')}`)
  }
  const [h, w, c] = spec.inputShape
  if (![h, w, c].every((d) => Number.isInteger(d) && d > 0) || !(spec.numClasses >= 2)) {
    throw new Error(
      `model "${id}": expected inputShape [H, W, C] of positive integers and numClasses >= 2, received [${spec.inputShape.join(', ')}] and ${spec.numClasses}`,
    )
  }
  return builders[id]!(spec)
}

export function buildModel(id: string, spec: ModelSpec): tfl.LayersModel {
  return buildModelIn(MODEL_BUILDERS, id, spec)
}

export interface ModelCost {
  /** All weights, batch-norm moving statistics included (tfjs `countParams`). */
  params: number
  /** Trainable weights only (PyTorch's `parameters()` count). */
  trainableParams: number
  /**
   * Forward multiply-accumulates per sample of Conv2D (H_out W_out C_out kh kw C_in), DepthwiseConv2D
   * (H_out W_out C_in mult kh kw) and Dense (in x units) layers; batch norm, activations, pooling,
   * adds and biases are not counted (the convention of published CIFAR figures).
   */
  macs: number
  /** 2 x macs. A training step costs about 3 x the forward pass. */
  flops: number
}

const dims = (s: (number | null)[]) => s.slice(1).map((d) => d ?? 1)

/** Parameter count and forward cost of a built model, by walking its layers. */
export function modelCost(model: tfl.LayersModel): ModelCost {
  let macs = 0
  for (const layer of model.layers) {
    const cls = layer.getClassName()
    if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D' && cls !== 'Dense') continue
    const inShape = dims((layer.input as SymbolicTensor).shape)
    const outShape = dims(layer.outputShape as (number | null)[])
    const cfg = layer.getConfig() as { kernelSize?: number[] }
    const [kh, kw] = cfg.kernelSize ?? [1, 1]
    const cin = inShape[inShape.length - 1]!
    const outPositions = outShape.slice(0, -1).reduce((a, b) => a * b, 1)
    const cout = outShape[outShape.length - 1]!
    if (cls === 'Conv2D') macs += outPositions * cout * kh! * kw! * cin
    else if (cls === 'DepthwiseConv2D') macs += outPositions * cout * kh! * kw!
    else macs += outPositions * cin * cout
  }
  const trainableParams = model.trainableWeights.reduce(
    (a, w) => a + (w.shape as number[]).reduce((p, d) => p * d, 1),
    0,
  )
  return { params: model.countParams(), trainableParams, macs, flops: 2 * macs }
}
