/**
 * An imported ONNX teacher at work: its session (in a worker thread, see runner.ts), its
 * preprocessing, and its evaluation on a split. Used by the import (evaluate on the test split),
 * by distillation (logits per batch) and by the export check (an exported student reloaded).
 */
import type { TeacherPreprocessing, OnnxExecutionProvider } from '../../shared/onnx'
import { neutralTeacherFieldNames, type TeacherFieldNamer } from '../../shared/teacher-fields'
import type { ImageSet } from '../data/arrays'
import { createOnnxRunner, type OnnxRunner } from './runner'
import { datasetLogits, teacherInput } from './preprocess'

export interface OnnxTeacher {
  readonly runner: OnnxRunner
  readonly pre: TeacherPreprocessing
  /** The dataset's logits [n, numClasses] of n uint8 NHWC images; `ms` is ONNX Runtime's run time. */
  logits(
    pixels: Uint8Array,
    n: number,
    shape: readonly [number, number, number],
  ): Promise<{ logits: Float32Array; ms: number }>
  close(): Promise<void>
}

/** Wraps ONNX Runtime's load error with the file and what it means for the user. */
export function explainLoadError(file: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err)
  if (/onnxruntime-node is not installed|execution provider is not available/.test(msg)) return err as Error
  const op =
    /(?:Could not find an implementation for |is not a registered function\/op|No Op registered for )(\S+)?/.exec(
      msg,
    )
  if (op) return new Error(`${file}: ONNX Runtime cannot run an operator of this model (${msg.trim()})`)
  return new Error(`${file}: ONNX Runtime cannot load this model (${msg.trim()})`)
}

export async function openOnnxTeacher(
  file: string,
  pre: TeacherPreprocessing,
  numClasses: number,
  opts: {
    executionProvider?: OnnxExecutionProvider
    threads?: number
    runner?: OnnxRunner
    /** How messages name a setting (the CLI adds its flags); neutral when not given. */
    fieldName?: TeacherFieldNamer
  } = {},
): Promise<OnnxTeacher> {
  const name = opts.fieldName ?? neutralTeacherFieldNames
  let runner: OnnxRunner
  try {
    runner = opts.runner ?? (await createOnnxRunner(file, opts))
  } catch (err) {
    throw explainLoadError(file, err)
  }
  return {
    runner,
    pre,
    async logits(pixels, n, shape) {
      const data = teacherInput(pixels, n, shape, pre)
      const [th, tw] = pre.inputSize
      const c = pre.channels
      const dims = pre.layout === 'nchw' ? [n, c, th, tw] : [n, th, tw, c]
      let r
      try {
        r = await runner.run({ name: pre.inputName, data, dims }, pre.outputName)
      } catch (err) {
        throw new Error(
          `${file}: ONNX Runtime failed on a batch of ${n} images [${dims.join(', ')}]: ${(err as Error).message}`,
        )
      }
      if (r.dims.length !== 2 || r.dims[0] !== n || r.dims[1] !== pre.outputClasses) {
        throw new Error(
          `${file}: output "${pre.outputName}" came back [${r.dims.join(', ')}], expected [${n}, ${pre.outputClasses}]${
            pre.classMap ? '' : ` (the dataset's ${numClasses} classes; give a ${name('classMap')} otherwise)`
          }`,
        )
      }
      return { logits: datasetLogits(r.data, n, pre, numClasses), ms: r.ms }
    },
    close: () => runner.close(),
  }
}

export interface TeacherEvaluation {
  correct: number
  n: number
  accuracy: number
  /** Accuracy of always answering the split's most frequent class. */
  chance: number
  ms: number
}

/** Top-1 accuracy of the teacher on a whole split, batch by batch; cancellable between batches. */
export async function evaluateOnnxTeacher(
  teacher: OnnxTeacher,
  set: ImageSet,
  numClasses: number,
  opts: { batchSize?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<TeacherEvaluation> {
  const bs = Math.max(1, opts.batchSize ?? 256)
  const [h, w, c] = set.shape
  const size = h * w * c
  const t0 = performance.now()
  let correct = 0
  for (let start = 0; start < set.n; start += bs) {
    if (opts.signal?.aborted) throw new Error('cancelled')
    const n = Math.min(bs, set.n - start)
    const { logits } = await teacher.logits(
      set.images.subarray(start * size, (start + n) * size),
      n,
      set.shape,
    )
    for (let i = 0; i < n; i++) {
      let best = 0
      for (let k = 1; k < numClasses; k++)
        if (logits[i * numClasses + k]! > logits[i * numClasses + best]!) best = k
      if (best === set.labels[start + i]) correct++
    }
    opts.onProgress?.(start + n, set.n)
  }
  const counts = new Array<number>(numClasses).fill(0)
  for (let i = 0; i < set.n; i++) counts[set.labels[i]!]!++
  return {
    correct,
    n: set.n,
    accuracy: set.n ? correct / set.n : NaN,
    chance: set.n ? Math.max(...counts) / set.n : NaN,
    ms: performance.now() - t0,
  }
}
