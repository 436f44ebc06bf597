/**
 * Builds a run's TeacherSource from what the host sent: a teacher run's checkpoint (TF.js) or an
 * imported ONNX model, optionally cached once on the unaugmented training images.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { TrainerStart } from '../../shared/trainer-protocol'
import type { DatasetSplits } from '../data/arrays'
import { buildModel } from '../models/registry'
import { openOnnxTeacher } from '../onnx/onnx-teacher'
import { loadWeightsInto } from './checkpoint'
import {
  cachedTeacherSource,
  onnxTeacherSource,
  tfjsTeacherSource,
  type TeacherSource,
} from './teacher-source'
import { normalisePixels } from './train-loop'

export async function openTeacher(start: TrainerStart, data: DatasetSplits): Promise<TeacherSource> {
  const { config } = start
  let source: TeacherSource
  if (start.onnxTeacher) {
    const t = start.onnxTeacher
    const teacher = await openOnnxTeacher(t.path, t.preprocessing, data.numClasses, {
      executionProvider: t.executionProvider,
    })
    source = onnxTeacherSource(teacher, data.train.shape, data.numClasses)
  } else if (start.teacher) {
    const model = buildModel(start.teacher.model, {
      inputShape: data.train.shape,
      numClasses: data.numClasses,
      seed: 0,
    })
    loadWeightsInto(model, start.teacher.checkpointPath)
    // Frozen: the optimizer gets only the student's variables, and the teacher never trains.
    model.trainable = false
    source = tfjsTeacherSource(model)
  } else {
    throw new Error(`variant ${config.variant} needs a teacher checkpoint or an imported ONNX teacher`)
  }
  if (config.teacherLogits !== 'cached-unaugmented') return source
  const [h, w, c] = data.train.shape
  return cachedTeacherSource(source, data.train, data.numClasses, (pixels, n) => {
    const xs = new Float32Array(n * h * w * c)
    normalisePixels(pixels, n * h * w * c, data.mean, data.std, xs)
    return tf.tensor4d(xs, [n, h, w, c])
  })
}
