/**
 * A teacher's preprocessing: from the app's uint8 NHWC pixels to the teacher's float32 input, and
 * from its outputs to the dataset's classes; and the check of an ONNX model's signature against a
 * dataset, which turns every mismatch into a message naming the file, what the model expects and
 * what the dataset has.
 */
import { readFileSync } from 'node:fs'
import type { TeacherPreprocessing, TensorLayout } from '../../shared/onnx'
import type { OnnxValueInfo } from './runner'

/**
 * The teacher's input for n images: (pixel / 255 - mean) / std per channel, resized bilinearly
 * (half-pixel centres, no antialiasing: PyTorch's `interpolate(mode='bilinear',
 * align_corners=False)`) when the teacher's size differs, in the teacher's layout. A fresh array
 * (it is transferred to the ONNX Runtime worker).
 */
export function teacherInput(
  pixels: Uint8Array,
  n: number,
  shape: readonly [number, number, number],
  pre: Pick<TeacherPreprocessing, 'layout' | 'mean' | 'std' | 'inputSize'>,
): Float32Array {
  const [h, w, c] = shape
  const [th, tw] = pre.inputSize
  const out = new Float32Array(n * th * tw * c)
  const scale = pre.mean.map((_, k) => 1 / (255 * pre.std[k]!))
  const shift = pre.mean.map((m, k) => -m / pre.std[k]!)
  const nchw = pre.layout === 'nchw'
  // Source sampling per output row/column (identity when the sizes agree).
  const axis = (src: number, dst: number) => {
    const i0 = new Int32Array(dst)
    const i1 = new Int32Array(dst)
    const f = new Float32Array(dst)
    for (let o = 0; o < dst; o++) {
      const x = Math.max(0, ((o + 0.5) * src) / dst - 0.5)
      const lo = Math.min(Math.floor(x), src - 1)
      i0[o] = lo
      i1[o] = Math.min(lo + 1, src - 1)
      f[o] = x - lo
    }
    return { i0, i1, f }
  }
  const ys = axis(h, th)
  const xs = axis(w, tw)
  const same = th === h && tw === w
  for (let s = 0; s < n; s++) {
    const base = s * h * w * c
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        for (let k = 0; k < c; k++) {
          let v: number
          if (same) v = pixels[base + (y * w + x) * c + k]!
          else {
            const px = (yy: number, xx: number) => pixels[base + (yy * w + xx) * c + k]!
            const fy = ys.f[y]!
            const fx = xs.f[x]!
            const top = px(ys.i0[y]!, xs.i0[x]!) * (1 - fx) + px(ys.i0[y]!, xs.i1[x]!) * fx
            const bottom = px(ys.i1[y]!, xs.i0[x]!) * (1 - fx) + px(ys.i1[y]!, xs.i1[x]!) * fx
            v = top * (1 - fy) + bottom * fy
          }
          const at = nchw ? ((s * c + k) * th + y) * tw + x : ((s * th + y) * tw + x) * c + k
          out[at] = v * scale[k]! + shift[k]!
        }
      }
    }
  }
  return out
}

/** The teacher's logits [n, outputClasses] as the dataset's [n, numClasses] (through classMap). */
export function datasetLogits(
  out: Float32Array,
  n: number,
  pre: Pick<TeacherPreprocessing, 'outputClasses' | 'classMap'>,
  numClasses: number,
): Float32Array {
  if (!pre.classMap) return out
  const k = pre.outputClasses
  const res = new Float32Array(n * numClasses)
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < k; j++) {
      const d = pre.classMap[j]!
      if (d >= 0) res[s * numClasses + d] = out[s * k + j]!
    }
  }
  return res
}

/**
 * Reads a class map: a JSON array, or a text file with one entry per line; entry j names the
 * dataset class of teacher output j (a class name or index), or is empty / null / "-" when the
 * output is dropped. Every dataset class must appear exactly once.
 */
export function readClassMap(file: string, classNames: string[]): number[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new Error(`--class-map ${file}: cannot read it (${(err as Error).message})`)
  }
  let entries: unknown[]
  const trimmed = text.trim()
  if (trimmed.startsWith('[')) {
    try {
      entries = JSON.parse(trimmed) as unknown[]
    } catch (err) {
      throw new Error(`--class-map ${file}: not valid JSON (${(err as Error).message})`)
    }
  } else {
    entries = text.replace(/\r/g, '').replace(/\n$/, '').split('\n')
  }
  const seen = new Map<number, number>()
  const map = entries.map((e, j) => {
    if (e === null || e === '' || e === '-') return -1
    const name = String(e).trim()
    let d = classNames.indexOf(name)
    if (d < 0 && /^\d+$/.test(name) && Number(name) < classNames.length) d = Number(name)
    if (d < 0) {
      throw new Error(
        `--class-map ${file}: entry ${j} ("${name}") is not a class of the dataset (${classNames.join(', ')})`,
      )
    }
    if (seen.has(d)) {
      throw new Error(
        `--class-map ${file}: class "${classNames[d]}" is mapped twice (teacher outputs ${seen.get(d)} and ${j})`,
      )
    }
    seen.set(d, j)
    return d
  })
  const missing = classNames.filter((_, d) => !seen.has(d))
  if (missing.length)
    throw new Error(`--class-map ${file}: no teacher output for class ${missing.join(', ')}`)
  return map
}

export interface TeacherOptions {
  layout?: TensorLayout
  mean?: number[]
  std?: number[]
  inputSize?: [number, number]
  /** Resolved class map (see readClassMap). */
  classMap?: number[] | null
}

const fixed = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null)

type DatasetSig = { name: string; shape: [number, number, number]; classNames: string[] }

/** The one float32 image input: its layout (given, or guessed from the shape) and the size it expects. */
function checkInput(
  fail: (what: string) => never,
  inputs: OnnxValueInfo[],
  dataset: DatasetSig,
  opts: TeacherOptions,
): { input: OnnxValueInfo; layout: TensorLayout; inputSize: [number, number] } {
  const [h, w, c] = dataset.shape
  if (inputs.length !== 1) {
    fail(
      `expected a model with one input (the image batch), found ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`,
    )
  }
  const input = inputs[0]!
  if (!input.isTensor || (input.type && input.type !== 'float32')) {
    fail(`input "${input.name}" is ${input.type ?? 'not a tensor'}, expected a float32 tensor`)
  }
  const shape = input.shape ?? []
  if (shape.length !== 4) {
    fail(
      `input "${input.name}" has shape [${shape.join(', ')}], expected 4 dimensions ([N, C, H, W] or [N, H, W, C]) for images ${h}x${w}x${c} of ${dataset.name}`,
    )
  }
  // PyTorch exports NCHW; guess NHWC only when the shape says so.
  const layout = opts.layout ?? (fixed(shape[3]) === c && fixed(shape[1]) !== c ? 'nhwc' : 'nchw')
  const [dc, dh, dw] = layout === 'nchw' ? [shape[1], shape[2], shape[3]] : [shape[3], shape[1], shape[2]]
  const dims = `[${shape.join(', ')}] (${layout})`
  if (fixed(dc) !== null && fixed(dc) !== c) {
    fail(
      `input "${input.name}" ${dims} expects ${dc} channels; dataset ${dataset.name} has ${c} (${h}x${w}x${c})${
        opts.layout ? '' : '; if the layout is wrong, pass --layout nchw or nhwc'
      }`,
    )
  }
  const inputSize: [number, number] = opts.inputSize ?? [fixed(dh) ?? h, fixed(dw) ?? w]
  if (opts.inputSize) {
    if (
      (fixed(dh) !== null && fixed(dh) !== inputSize[0]) ||
      (fixed(dw) !== null && fixed(dw) !== inputSize[1])
    ) {
      fail(
        `input "${input.name}" ${dims} is ${dh}x${dw}, not the --input-size ${inputSize[0]}x${inputSize[1]}`,
      )
    }
  } else if (inputSize[0] !== h || inputSize[1] !== w) {
    fail(
      `input "${input.name}" ${dims} expects ${dh}x${dw} images; dataset ${dataset.name} has ${h}x${w}: pass --input-size ${dh}x${dw} to resize them for the teacher`,
    )
  }
  return { input, layout, inputSize: [inputSize[0], inputSize[1]] }
}

/** The first tensor output: float32 logits [N, K], K the classes or the class map's length. */
function checkOutput(
  fail: (what: string) => never,
  outputs: OnnxValueInfo[],
  dataset: DatasetSig,
  classMap: number[] | null,
): { output: OnnxValueInfo; k: number | null } {
  const tensorOutputs = outputs.filter((o) => o.isTensor)
  if (tensorOutputs.length === 0) fail('the model has no tensor output (expected logits [N, classes])')
  const output = tensorOutputs[0]!
  const oshape = output.shape ?? []
  if (output.type && output.type !== 'float32')
    fail(`output "${output.name}" is ${output.type}, expected float32 logits`)
  if (oshape.length !== 2) {
    fail(`output "${output.name}" has shape [${oshape.join(', ')}], expected [N, classes] logits`)
  }
  const k = fixed(oshape[1])
  const numClasses = dataset.classNames.length
  if (classMap) {
    if (k !== null && classMap.length !== k) {
      fail(`output "${output.name}" has ${k} classes but the class map has ${classMap.length} entries`)
    }
  } else if (k !== null && k !== numClasses) {
    fail(
      `output "${output.name}" [${oshape.join(', ')}] has ${k} classes; dataset ${dataset.name} has ${numClasses} (${dataset.classNames.slice(0, 12).join(', ')}${numClasses > 12 ? ', ...' : ''}); pass --class-map to map teacher outputs to the dataset's classes`,
    )
  }
  return { output, k }
}

/** --mean / --std: one value per channel (a single value is repeated), std positive. */
function normalisation(
  fail: (what: string) => never,
  c: number,
  opts: TeacherOptions,
): { mean: number[]; std: number[] } {
  const mean = opts.mean ?? Array<number>(c).fill(0)
  const std = opts.std ?? Array<number>(c).fill(1)
  for (const [flag, v] of [
    ['--mean', mean],
    ['--std', std],
  ] as const) {
    if (v.length === 1 && c > 1) v.push(...Array<number>(c - 1).fill(v[0]!))
    if (v.length !== c) fail(`${flag} has ${v.length} values; the dataset has ${c} channels`)
  }
  if (std.some((s) => !(s > 0))) fail(`--std must be positive, got ${std.join(', ')}`)
  return { mean, std }
}

/**
 * Checks the model's signature against the dataset and resolves its preprocessing. One float32
 * input [N, C, H, W] (nchw) or [N, H, W, C] (nhwc) and one float32 output [N, K]; the channels
 * must be the dataset's, the size the dataset's (or --input-size), K the classes (or the class
 * map's length). Throws a message naming the file and the mismatch.
 */
export function resolvePreprocessing(
  file: string,
  io: { inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[] },
  dataset: DatasetSig,
  opts: TeacherOptions = {},
): TeacherPreprocessing {
  const c = dataset.shape[2]
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}`)
  }
  const { input, layout, inputSize } = checkInput(fail, io.inputs, dataset, opts)
  const classMap = opts.classMap ?? null
  const { output, k } = checkOutput(fail, io.outputs, dataset, classMap)
  const { mean, std } = normalisation(fail, c, opts)
  return {
    layout,
    mean,
    std,
    inputSize,
    channels: c,
    inputName: input.name,
    outputName: output.name,
    outputClasses: k ?? classMap?.length ?? dataset.classNames.length,
    classMap,
  }
}
