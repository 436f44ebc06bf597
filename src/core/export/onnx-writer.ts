/**
 * A trained TF.js Layers model as an ONNX model (opset 13), written with the onnx-proto schema.
 *
 * The graph takes NCHW input (the ONNX and PyTorch convention, what deployment tools expect) and
 * keeps every tensor NCHW inside: each layer of the catalog maps to standard ops (Conv with explicit
 * pads that reproduce TF's asymmetric 'same' padding, grouped Conv for depthwise, BatchNormalization,
 * Relu / Clip, MaxPool, GlobalAveragePool, Gemm, Add, Concat, Slice, Reshape / Transpose for the
 * channel shuffle). Flatten goes back to NHWC order first, so dense weights keep their meaning. A
 * layer with no mapping is refused by name rather than exported wrong.
 */
import type * as tfl from '@tensorflow/tfjs-layers'
import { onnx, type OnnxNs } from '../onnx/proto'

export const ONNX_OPSET = 13

type Sym = tfl.SymbolicTensor
type Cfg = Record<string, unknown>

const FLOAT = onnx.TensorProto.DataType.FLOAT
const INT64 = onnx.TensorProto.DataType.INT64
const A = onnx.AttributeProto.AttributeType

function floatTensor(name: string, dims: number[], data: Float32Array): OnnxNs.ITensorProto {
  return {
    name,
    dims,
    dataType: FLOAT,
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  }
}

function int64Tensor(name: string, values: number[]): OnnxNs.ITensorProto {
  const buf = new BigInt64Array(values.map((v) => BigInt(v)))
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(buf.buffer) }
}

const ints = (name: string, v: number[]): OnnxNs.IAttributeProto => ({ name, type: A.INTS, ints: v })
const int = (name: string, v: number): OnnxNs.IAttributeProto => ({ name, type: A.INT, i: v })
const float = (name: string, v: number): OnnxNs.IAttributeProto => ({ name, type: A.FLOAT, f: v })

/** TF padding for one spatial axis: 'valid' = none, 'same' = total split with the extra at the end. */
function tfPads(size: number, k: number, s: number, padding: string): [number, number] {
  if (padding === 'valid') return [0, 0]
  const out = Math.ceil(size / s)
  const total = Math.max((out - 1) * s + k - size, 0)
  return [Math.floor(total / 2), total - Math.floor(total / 2)]
}

const pair = (v: unknown, d: number): [number, number] =>
  Array.isArray(v)
    ? [Number(v[0]), Number(v[1] ?? v[0])]
    : v === undefined || v === null
      ? [d, d]
      : [Number(v), Number(v)]

class GraphBuilder {
  nodes: OnnxNs.INodeProto[] = []
  inits: OnnxNs.ITensorProto[] = []
  private n = 0

  node(op: string, inputs: string[], attrs: OnnxNs.IAttributeProto[] = [], name?: string): string {
    const out = `${name ?? op.toLowerCase()}_${this.n++}`
    this.nodes.push({ opType: op, input: inputs, output: [out], attribute: attrs, name: out })
    return out
  }

  init(t: OnnxNs.ITensorProto): string {
    this.inits.push(t)
    return t.name!
  }
}

/** [kh, kw, cin, cout] -> [cout, cin, kh, kw] */
function convWeights(k: Float32Array, [kh, kw, cin, cout]: number[]): Float32Array {
  const out = new Float32Array(k.length)
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < cin!; i++)
        for (let o = 0; o < cout!; o++)
          out[((o * cin! + i) * kh! + y) * kw! + x] = k[((y * kw! + x) * cin! + i) * cout! + o]!
  return out
}

/** Depthwise [kh, kw, cin, mult] -> grouped conv [cin * mult, 1, kh, kw] (output channel c * mult + m, as TF). */
function depthwiseWeights(k: Float32Array, [kh, kw, cin, mult]: number[]): Float32Array {
  const out = new Float32Array(k.length)
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let c = 0; c < cin!; c++)
        for (let m = 0; m < mult!; m++)
          out[((c * mult! + m) * kh! + y) * kw! + x] = k[((y * kw! + x) * cin! + c) * mult! + m]!
  return out
}

function activation(g: GraphBuilder, x: string, act: unknown, layer: string): string {
  switch (act ?? 'linear') {
    case 'linear':
      return x
    case 'relu':
      return g.node('Relu', [x])
    case 'relu6':
      return g.node('Clip', [
        x,
        g.init(floatTensor(`${layer}_min`, [], Float32Array.of(0))),
        g.init(floatTensor(`${layer}_max`, [], Float32Array.of(6))),
      ])
    default:
      throw new Error(`layer ${layer}: activation "${String(act)}" has no ONNX export`)
  }
}

const spatial = (t: Sym): [number, number, number] => {
  const s = t.shape
  return [Number(s[1]), Number(s[2]), Number(s[3])]
}

/** What a layer converter gets: the graph, the layer, its config, weights and input names. */
interface LayerInput {
  g: GraphBuilder
  layer: tfl.layers.Layer
  cls: string
  cfg: Cfg
  name: string
  weights: { data: Float32Array; shape: number[] }[]
  /** The layer's (first) symbolic input: its shape is NHWC. */
  input: Sym
  /** ONNX name of the first input, and of all of them. */
  x: string
  ins: string[]
}

function convertConv({ g, cls, cfg, name, weights, input, x }: LayerInput): string {
  const [h, w] = spatial(input)
  const [kh, kw] = pair(cfg.kernelSize, 1)
  const [sh, sw] = pair(cfg.strides, 1)
  const [dh, dw] = pair(cfg.dilationRate, 1)
  if (dh !== 1 || dw !== 1) throw new Error(`layer ${name}: dilated convolutions have no ONNX export here`)
  const [pt, pb] = tfPads(h, kh, sh, String(cfg.padding))
  const [pl, pr] = tfPads(w, kw, sw, String(cfg.padding))
  const k = weights[0]!
  const depthwise = cls === 'DepthwiseConv2D'
  const wdims = depthwise ? [k.shape[2]! * k.shape[3]!, 1, kh, kw] : [k.shape[3]!, k.shape[2]!, kh, kw]
  const W = g.init(
    floatTensor(
      `${name}_W`,
      wdims,
      depthwise ? depthwiseWeights(k.data, k.shape) : convWeights(k.data, k.shape),
    ),
  )
  const inputs = [x, W]
  if (weights[1]) inputs.push(g.init(floatTensor(`${name}_B`, [weights[1].shape[0]!], weights[1].data)))
  const y = g.node(
    'Conv',
    inputs,
    [
      ints('kernel_shape', [kh, kw]),
      ints('strides', [sh, sw]),
      ints('pads', [pt, pl, pb, pr]),
      int('group', depthwise ? k.shape[2]! : 1),
    ],
    name,
  )
  return activation(g, y, cfg.activation, name)
}

function convertBatchNorm({ g, layer, cfg, name, weights, x }: LayerInput): string {
  const [gamma, beta, mean, variance] = weights
  const c = gamma!.shape[0]!
  const y = g.node(
    'BatchNormalization',
    [
      x,
      g.init(floatTensor(`${name}_scale`, [c], gamma!.data)),
      g.init(floatTensor(`${name}_B`, [c], beta!.data)),
      g.init(floatTensor(`${name}_mean`, [c], mean!.data)),
      g.init(floatTensor(`${name}_var`, [c], variance!.data)),
    ],
    [float('epsilon', Number(cfg.epsilon ?? (layer as unknown as { epsilon: number }).epsilon))],
    name,
  )
  return activation(g, y, (layer as unknown as { activation: string }).activation, name)
}

function convertRelu({ g, cfg, name, x }: LayerInput): string {
  const max = cfg.maxValue
  if (max === null || max === undefined) return g.node('Relu', [x], [], name)
  return g.node(
    'Clip',
    [
      x,
      g.init(floatTensor(`${name}_min`, [], Float32Array.of(0))),
      g.init(floatTensor(`${name}_max`, [], Float32Array.of(Number(max)))),
    ],
    [],
    name,
  )
}

function convertMaxPool({ g, cfg, name, input, x }: LayerInput): string {
  const [h, w] = spatial(input)
  const [kh, kw] = pair(cfg.poolSize, 2)
  const [sh, sw] = pair(cfg.strides ?? cfg.poolSize, 2)
  const [pt, pb] = tfPads(h, kh, sh, String(cfg.padding))
  const [pl, pr] = tfPads(w, kw, sw, String(cfg.padding))
  return g.node(
    'MaxPool',
    [x],
    [ints('kernel_shape', [kh, kw]), ints('strides', [sh, sw]), ints('pads', [pt, pl, pb, pr])],
    name,
  )
}

function convertGlobalAvgPool({ g, name, x }: LayerInput): string {
  return g.node('Flatten', [g.node('GlobalAveragePool', [x], [], name)], [int('axis', 1)])
}

function convertFlatten({ g, name, input, x }: LayerInput): string {
  // TF flattens NHWC: go back to that order so the next dense layer's weights line up.
  const nhwc = input.shape.length === 4 ? g.node('Transpose', [x], [ints('perm', [0, 2, 3, 1])]) : x
  return g.node('Flatten', [nhwc], [int('axis', 1)], name)
}

function convertDense({ g, cfg, name, weights, x }: LayerInput): string {
  const k = weights[0]!
  const inputs = [x, g.init(floatTensor(`${name}_W`, k.shape, k.data))]
  if (weights[1]) inputs.push(g.init(floatTensor(`${name}_B`, [weights[1].shape[0]!], weights[1].data)))
  else inputs.push(g.init(floatTensor(`${name}_B`, [k.shape[1]!], new Float32Array(k.shape[1]!))))
  return activation(g, g.node('Gemm', inputs, [], name), cfg.activation, name)
}

function convertAdd({ g, name, x, ins }: LayerInput): string {
  return ins
    .slice(1)
    .reduce((acc, b, i) => g.node('Add', [acc, b], [], i === ins.length - 2 ? name : undefined), x)
}

function convertConcat({ g, cfg, name, ins }: LayerInput): string {
  const axis = Number(cfg.axis ?? -1)
  if (axis !== -1 && axis !== 3) throw new Error(`layer ${name}: only channel concatenation is exported`)
  return g.node('Concat', ins, [int('axis', 1)], name)
}

function convertChannelSlice({ g, layer, name, x }: LayerInput): string {
  const { begin, size } = layer as unknown as { begin: number; size: number }
  return g.node(
    'Slice',
    [
      x,
      g.init(int64Tensor(`${name}_starts`, [begin])),
      g.init(int64Tensor(`${name}_ends`, [begin + size])),
      g.init(int64Tensor(`${name}_axes`, [1])),
    ],
    [],
    name,
  )
}

function convertChannelShuffle({ g, layer, name, input, x }: LayerInput): string {
  const { groups } = layer as unknown as { groups: number }
  const [h, w, c] = spatial(input)
  const grouped = g.node('Reshape', [x, g.init(int64Tensor(`${name}_s1`, [-1, groups, c / groups, h, w]))])
  const swapped = g.node('Transpose', [grouped], [ints('perm', [0, 2, 1, 3, 4])])
  return g.node('Reshape', [swapped, g.init(int64Tensor(`${name}_s2`, [-1, c, h, w]))], [], name)
}

/** One converter per exported Keras layer class: returns the ONNX name of the layer's output. */
const CONVERTERS: Record<string, (l: LayerInput) => string> = {
  Conv2D: convertConv,
  DepthwiseConv2D: convertConv,
  TfkdBatchNormalization: convertBatchNorm,
  ReLU: convertRelu,
  MaxPooling2D: convertMaxPool,
  GlobalAveragePooling2D: convertGlobalAvgPool,
  Flatten: convertFlatten,
  Dense: convertDense,
  Add: convertAdd,
  Concatenate: convertConcat,
  TfkdChannelSlice: convertChannelSlice,
  TfkdChannelShuffle: convertChannelShuffle,
}

/**
 * Converts one layer. `ins` are the ONNX names of its inputs (NCHW, or [N, F] after a flatten);
 * returns the name of its output.
 */
function convertLayer(g: GraphBuilder, layer: tfl.layers.Layer, ins: string[]): string {
  const cls = layer.getClassName()
  const name = layer.name
  const convert = Object.hasOwn(CONVERTERS, cls) ? CONVERTERS[cls] : undefined
  if (!convert)
    throw new Error(`layer ${name} (${cls}) has no ONNX export; supported: the catalog's layer types`)
  return convert({
    g,
    layer,
    cls,
    cfg: layer.getConfig(),
    name,
    weights: layer.getWeights().map((w) => ({ data: w.dataSync() as Float32Array, shape: w.shape })),
    input: (Array.isArray(layer.input) ? layer.input[0] : layer.input) as Sym,
    x: ins[0]!,
    ins,
  })
}

export interface OnnxExportMeta {
  /** Written into the model's metadata_props (key -> value), e.g. the preprocessing as JSON. */
  metadata?: Record<string, string>
  docString?: string
}

/** Encodes `model` (input [N, H, W, C] in TF.js) as an ONNX ModelProto with input "input" [N, C, H, W] and output "logits". */
export function toOnnx(model: tfl.LayersModel, meta: OnnxExportMeta = {}): Uint8Array {
  const g = new GraphBuilder()
  const names = new Map<number, string>()
  const input = model.inputs[0]!
  names.set(input.id, 'input')
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue
    const ins = Array.isArray(layer.input) ? layer.input : [layer.input]
    const inNames = ins.map((t) => {
      const n = names.get(t.id)
      if (!n) throw new Error(`layer ${layer.name}: input ${t.name} is not produced by an earlier layer`)
      return n
    })
    const out = layer.output as Sym
    names.set(out.id, convertLayer(g, layer, inNames))
  }
  const last = names.get(model.outputs[0]!.id)!
  // The graph's output has a stable name.
  g.nodes.push({ opType: 'Identity', input: [last], output: ['logits'], name: 'logits' })
  const [h, w, c] = spatial(input)
  const k = Number(model.outputs[0]!.shape[1])
  const valueInfo = (name: string, dims: (number | string)[]): OnnxNs.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  })
  const proto: OnnxNs.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'tfkd-studio',
    producerVersion: '0.1.0',
    docString: meta.docString ?? '',
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.inits,
      input: [valueInfo('input', ['n', c, h, w])],
      output: [valueInfo('logits', ['n', k])],
    },
    metadataProps: Object.entries(meta.metadata ?? {}).map(([key, value]) => ({ key, value })),
  }
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish()
}
