/**
 * Where a distilling run's teacher logits come from, behind one interface the train loop calls:
 * a TF.js model from a teacher run (evaluated in the step's graph, on the student's input tensor),
 * an imported ONNX model (ONNX Runtime in a worker thread, started a step ahead so its forward
 * overlaps the student's step), or either of them cached once on the unaugmented training images.
 *
 * The loop calls `begin(batch)` as soon as a batch is assembled and, in the step, `logits(x)` on
 * what it resolved to; it never asks which kind of teacher it has.
 */
import * as tf from '@tensorflow/tfjs-core'
import type * as tfl from '@tensorflow/tfjs-layers'
import type { TeacherCost } from '../../shared/types'
import type { TeacherLogitsMode } from '../../shared/onnx'
import type { ImageSet } from '../data/arrays'
import type { OnnxTeacher } from '../onnx/onnx-teacher'

/** One training batch as the teacher sees it: the student's own (augmented) pixels. */
export interface TeacherBatch {
  /** uint8 NHWC pixels of the n samples, after augmentation; valid only during `begin`. */
  pixels: Uint8Array
  n: number
  /** The samples' indices in the training split (for caches). */
  indices: ArrayLike<number>
}

/** A teacher's answer for one batch, turned into a tensor inside the step's tidy. */
export interface TeacherForward {
  /** Logits [n, numClasses]; x is the student's normalised input for the batch. */
  logits(x: tf.Tensor4D): tf.Tensor2D
}

export interface TeacherSource {
  readonly kind: TeacherCost['kind']
  readonly mode: TeacherLogitsMode
  /** True when `begin` works off the loop's thread: the loop then starts it one step ahead. */
  readonly runsAside: boolean
  /** Starts the teacher on a batch; `batch.pixels` may be reused once this returns. */
  begin(batch: TeacherBatch): Promise<TeacherForward>
  /** Where a table of logits came from, when it is kept on disk (see logits-cache.ts). */
  readonly cache?: TeacherCost['cache']
  /** Forward time measured so far (null for an in-graph teacher, which has no separate time). */
  cost(): { steps: number; forwardMs: number | null; device: string }
  dispose(): Promise<void>
}

/** A frozen TF.js model (a teacher run's checkpoint), applied in inference mode in the step's graph. */
export function tfjsTeacherSource(model: tfl.LayersModel): TeacherSource {
  const forward: TeacherForward = {
    logits: (x) => model.apply(x, { training: false }) as tf.Tensor2D,
  }
  let steps = 0
  return {
    kind: 'tfjs-run',
    mode: 'per-batch',
    runsAside: false,
    begin() {
      steps++
      return Promise.resolve(forward)
    },
    cost: () => ({ steps, forwardMs: null, device: `tfjs ${tf.getBackend()}` }),
    dispose: () => Promise.resolve(),
  }
}

/** An imported ONNX teacher: ONNX Runtime computes the logits of the batch's pixels aside. */
export function onnxTeacherSource(
  teacher: OnnxTeacher,
  shape: readonly [number, number, number],
  numClasses: number,
): TeacherSource {
  let steps = 0
  let forwardMs = 0
  return {
    kind: 'onnx',
    mode: 'per-batch',
    runsAside: true,
    begin(batch) {
      // teacherInput copies the pixels before the first await, so the caller may reuse them.
      const pending = teacher.logits(batch.pixels, batch.n, shape)
      return pending.then(({ logits, ms }) => {
        steps++
        forwardMs += ms
        return { logits: () => tf.tensor2d(logits, [batch.n, numClasses]) }
      })
    },
    cost: () => ({ steps, forwardMs, device: teacher.runner.device }),
    dispose: () => teacher.close(),
  }
}

/** A teacher's logits on every unaugmented training image, in order ([n, numClasses] row-major). */
export interface LogitsTable {
  table: Float32Array
  /** What computing the table cost (0 when it was read from a cache file). */
  fillMs: number
  device: string
}

/** Runs `inner` once over the unaugmented training images, in chunks, and disposes it. */
export async function fillLogitsTable(
  inner: TeacherSource,
  train: ImageSet,
  numClasses: number,
  toInput: (pixels: Uint8Array, n: number) => tf.Tensor4D,
  chunk = 256,
): Promise<LogitsTable> {
  const [h, w, c] = train.shape
  const size = h * w * c
  const table = new Float32Array(train.n * numClasses)
  const t0 = performance.now()
  try {
    for (let start = 0; start < train.n; start += chunk) {
      const n = Math.min(chunk, train.n - start)
      const pixels = train.images.subarray(start * size, (start + n) * size)
      const indices = Array.from({ length: n }, (_, i) => start + i)
      const f = await inner.begin({ pixels, n, indices })
      const t = tf.tidy(() => f.logits(toInput(pixels, n)))
      try {
        table.set(await t.data(), start * numClasses)
      } finally {
        t.dispose()
      }
    }
  } finally {
    await inner.dispose()
  }
  return { table, fillMs: performance.now() - t0, device: inner.cost().device }
}

/**
 * Answers each batch from a table of logits by sample index (the loop's `indices` are indices into
 * the training split, the table's rows).
 */
export function tableTeacherSource(
  kind: TeacherCost['kind'],
  { table, fillMs, device }: LogitsTable,
  numClasses: number,
  cache?: TeacherCost['cache'],
): TeacherSource {
  let steps = 0
  return {
    kind,
    mode: 'cached-unaugmented',
    runsAside: false,
    ...(cache ? { cache } : {}),
    begin(batch) {
      steps++
      const out = new Float32Array(batch.n * numClasses)
      for (let i = 0; i < batch.n; i++) {
        const s = batch.indices[i]!
        out.set(table.subarray(s * numClasses, (s + 1) * numClasses), i * numClasses)
      }
      return Promise.resolve({ logits: () => tf.tensor2d(out, [batch.n, numClasses]) })
    },
    // The whole table's time, once: per step it is what filling the table cost, spread over the run.
    cost: () => ({ steps, forwardMs: fillMs, device }),
    dispose: () => Promise.resolve(),
  }
}

/**
 * Computes `inner`'s logits once on every unaugmented training image, then answers each batch from
 * that table by sample index: fast, but with augmentation on the student's augmented batch meets
 * the logits of the unaugmented images (configs and reports say `cached-unaugmented`).
 */
export async function cachedTeacherSource(
  inner: TeacherSource,
  train: ImageSet,
  numClasses: number,
  toInput: (pixels: Uint8Array, n: number) => tf.Tensor4D,
  chunk = 256,
): Promise<TeacherSource> {
  const filled = await fillLogitsTable(inner, train, numClasses, toInput, chunk)
  return tableTeacherSource(inner.kind, filled, numClasses)
}
