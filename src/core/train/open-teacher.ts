/**
 * Builds a run's TeacherSource from what the host sent: a teacher run's checkpoint (TF.js) or an
 * imported ONNX model, optionally cached once on the unaugmented training images.
 *
 * A TF.js teacher whose student sees the same inputs every epoch (no augmentation), or that is
 * asked for `cached-unaugmented` logits, is run once over the training split and its logits kept
 * in a file beside its checkpoint (logits-cache.ts): the next student of that teacher, on the same
 * split, normalisation and backend, reads them instead of running the teacher. The numbers are the
 * ones the teacher gives in the student's step (a sample's logits do not depend on its batch).
 */
import * as tf from '@tensorflow/tfjs-core'
import type { TrainerStart } from '../../shared/trainer-protocol'
import type { DatasetSplits } from '../data/arrays'
import { buildModel } from '../models/registry'
import { openOnnxTeacher } from '../onnx/onnx-teacher'
import { augmentIsOff } from './augment'
import { loadWeightsInto } from './checkpoint'
import {
  logitsCacheKey,
  logitsCachePath,
  readLogitsCache,
  sha256File,
  writeLogitsCache,
} from './logits-cache'
import {
  cachedTeacherSource,
  fillLogitsTable,
  onnxTeacherSource,
  tableTeacherSource,
  tfjsTeacherSource,
  type TeacherSource,
} from './teacher-source'
import { normalisePixels } from './train-loop'

export interface OpenTeacherOptions {
  /** The backend the run trains on (part of the cache key); default tf.getBackend(). */
  backend?: string
  /** Where a cache that could not be used or written is reported. */
  log?: (message: string) => void
}

type TfjsTeacher = NonNullable<TrainerStart['teacher']>

function buildTeacher(t: TfjsTeacher, data: DatasetSplits) {
  const model = buildModel(t.model, { inputShape: data.train.shape, numClasses: data.numClasses, seed: 0 })
  loadWeightsInto(model, t.checkpointPath)
  // Frozen: the optimizer gets only the student's variables, and the teacher never trains.
  model.trainable = false
  return model
}

/** The loop's own normalisation, on a chunk of training pixels. */
function inputOf(data: DatasetSplits): (pixels: Uint8Array, n: number) => tf.Tensor4D {
  const [h, w, c] = data.train.shape
  return (pixels, n) => {
    const xs = new Float32Array(n * h * w * c)
    normalisePixels(pixels, n * h * w * c, data.mean, data.std, xs)
    return tf.tensor4d(xs, [n, h, w, c])
  }
}

/** A TF.js teacher's logits from the cache file beside its checkpoint, computed and written on a miss. */
export async function openCachedTfjsTeacher(
  t: TfjsTeacher,
  data: DatasetSplits,
  opts: OpenTeacherOptions = {},
): Promise<TeacherSource> {
  const teacherSha256 = sha256File(t.checkpointPath)
  const backend = opts.backend ?? tf.getBackend()
  const key = logitsCacheKey({ teacherSha256, teacherModel: t.model, backend, ...data })
  const file = logitsCachePath(t.checkpointPath, key)
  const read = readLogitsCache(file, key)
  if (read.ok) {
    const cache = { file, teacherSha256, logitsSha256: read.bodySha256, hit: true }
    const table = { table: read.table, fillMs: 0, device: `cache (${backend})` }
    return tableTeacherSource('tfjs-run', table, data.numClasses, cache)
  }
  if (read.reason !== 'no cache file')
    opts.log?.(`teacher logits cache ${file}: ${read.reason}; computing them again`)
  const model = buildTeacher(t, data)
  let filled
  try {
    filled = await fillLogitsTable(tfjsTeacherSource(model), data.train, data.numClasses, inputOf(data))
  } finally {
    model.dispose()
  }
  try {
    const logitsSha256 = writeLogitsCache(file, key, filled.table)
    return tableTeacherSource('tfjs-run', filled, data.numClasses, {
      file,
      teacherSha256,
      logitsSha256,
      hit: false,
    })
  } catch (err) {
    // The run goes on with the logits in memory; only the next student loses the cache.
    opts.log?.(`teacher logits cache not written: ${(err as Error).message}`)
    return tableTeacherSource('tfjs-run', filled, data.numClasses)
  }
}

export async function openTeacher(
  start: TrainerStart,
  data: DatasetSplits,
  opts: OpenTeacherOptions = {},
): Promise<TeacherSource> {
  const { config } = start
  if (start.teacher && (config.teacherLogits === 'cached-unaugmented' || augmentIsOff(config.augment))) {
    return openCachedTfjsTeacher(start.teacher, data, opts)
  }
  let source: TeacherSource
  if (start.onnxTeacher) {
    const t = start.onnxTeacher
    const teacher = await openOnnxTeacher(t.path, t.preprocessing, data.numClasses, {
      executionProvider: t.executionProvider,
    })
    source = onnxTeacherSource(teacher, data.train.shape, data.numClasses)
  } else if (start.teacher) {
    source = tfjsTeacherSource(buildTeacher(start.teacher, data))
  } else {
    throw new Error(`variant ${config.variant} needs a teacher checkpoint or an imported ONNX teacher`)
  }
  if (config.teacherLogits !== 'cached-unaugmented') return source
  return cachedTeacherSource(source, data.train, data.numClasses, inputOf(data))
}
