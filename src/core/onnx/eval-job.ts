/**
 * The trainer's side of `tfkd teachers import`: read the file's header, open it in ONNX Runtime,
 * check its signature against the dataset and measure its accuracy on the whole test split.
 */
import { namerOf } from '../../shared/teacher-fields'
import type { OnnxEvalRequest, OnnxEvalResult } from '../../shared/trainer-protocol'
import { loadSource } from '../data/source'
import { evaluateOnnxTeacher, openOnnxTeacher, explainLoadError } from './onnx-teacher'
import { resolvePreprocessing } from './preprocess'
import { inspectOnnxFile } from './proto'
import { createOnnxRunner } from './runner'

export async function runOnnxEval(
  req: OnnxEvalRequest,
  onProgress: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<OnnxEvalResult> {
  const info = inspectOnnxFile(req.file)
  const source = loadSource(req.dataset)
  const fieldName = namerOf(req.fieldNames)
  let runner
  try {
    runner = await createOnnxRunner(req.file, { executionProvider: req.executionProvider, fieldName })
  } catch (err) {
    throw explainLoadError(req.file, err)
  }
  try {
    const pre = resolvePreprocessing(
      req.file,
      runner,
      { name: req.datasetName, shape: source.test.shape, classNames: source.classNames },
      { ...req.options, fieldName },
    )
    const teacher = await openOnnxTeacher(req.file, pre, source.classNames.length, { runner, fieldName })
    const ev = await evaluateOnnxTeacher(teacher, source.test, source.classNames.length, {
      signal,
      onProgress,
    })
    return {
      preprocessing: pre,
      producer: info.producer,
      opset: info.opset,
      correct: ev.correct,
      n: ev.n,
      accuracy: ev.accuracy,
      chance: ev.chance,
      ms: ev.ms,
      device: runner.device,
    }
  } finally {
    await runner.close()
  }
}
