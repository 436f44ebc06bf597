/**
 * `tfkd export-model`, in the trainer: a run's checkpoint as TF.js Layers (model.json +
 * weights.bin) or ONNX (model.onnx, opset 13, NCHW input), with preprocessing.json beside it. Each
 * export is checked before it is kept: the written files are loaded back (TF.js from disk, ONNX in
 * onnxruntime-node) and their logits on test images must equal the app's own to 1e-4. Files are
 * written into a temporary folder and renamed into place, so a failed export leaves nothing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'
import type { ModelExportResult } from '../../shared/onnx'
import type { ModelExportRequest } from '../../shared/trainer-protocol'
import type { DatasetSplits } from '../data/arrays'
import { buildModel } from '../models/registry'
import { openOnnxTeacher } from '../onnx/onnx-teacher'
import { deriveSeed } from '../random'
import { loadWeightsInto } from '../train/checkpoint'
import { normalisePixels } from '../train/train-loop'
import { ONNX_OPSET, toOnnx } from './onnx-writer'

export const EXPORT_TOLERANCE = 1e-4
const CHECK_IMAGES = 256
/** tfkd's own layer classes: a TF.js app loading model.json registers these (see src/core/models). */
const CUSTOM_LAYERS = ['TfkdBatchNormalization', 'TfkdChannelSlice', 'TfkdChannelShuffle']

function preprocessingJson(req: ModelExportRequest, data: DatasetSplits, layout: 'nchw' | 'nhwc'): object {
  const [h, w, c] = data.train.shape
  return {
    format: req.format,
    exportedBy: 'tfkd-studio',
    run: { id: req.runId, model: req.config.model, variant: req.config.variant, seed: req.config.seed },
    checkpoint: { which: req.checkpoint, epoch: req.epoch },
    input: {
      name: 'input',
      layout,
      shape: layout === 'nchw' ? ['n', c, h, w] : ['n', h, w, c],
      dtype: 'float32',
      formula: 'x = (pixel / 255 - mean[channel]) / std[channel]',
      mean: data.mean,
      std: data.std,
      meanStdFrom: "the run's training split (after the validation carve), in [0, 1] pixel units",
    },
    output: {
      name: 'logits',
      shape: ['n', data.numClasses],
      meaning: 'unnormalised class scores (softmax for probabilities)',
    },
    classNames: data.classNames,
    ...(req.format === 'onnx' ? { opset: ONNX_OPSET } : { customLayers: CUSTOM_LAYERS }),
  }
}

async function writeTfjs(model: tfl.LayersModel, dir: string): Promise<string[]> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData
        ? tf.io.CompositeArrayBuffer.join(artifacts.weightData)
        : new ArrayBuffer(0)
      writeFileSync(join(dir, 'weights.bin'), Buffer.from(weights))
      const modelJson = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: 'tfkd-studio',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      }
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson))
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    }),
  )
  return ['model.json', 'weights.bin']
}

/** Loads model.json + weights.bin back from `dir`, as a TF.js app would. */
export async function loadTfjsExport(dir: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]
  }
  const manifest = json.weightsManifest[0]!
  const bin = readFileSync(join(dir, manifest.paths[0]!))
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: manifest.weights,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  )
}

/** The app's own logits [n, K] on the first n test images (inference mode). */
function appLogits(model: tfl.LayersModel, data: DatasetSplits, n: number): Float32Array {
  const [h, w, c] = data.test.shape
  const xs = new Float32Array(n * h * w * c)
  normalisePixels(data.test.images.subarray(0, n * h * w * c), n * h * w * c, data.mean, data.std, xs)
  return tf.tidy(
    () =>
      (
        model.apply(tf.tensor4d(xs, [n, h, w, c]), { training: false }) as tf.Tensor
      ).dataSync() as Float32Array,
  )
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return Number.isNaN(m) ? Infinity : m
}

/** Runs the export check: the reloaded files' logits against the app's. */
async function checkExport(
  req: ModelExportRequest,
  dir: string,
  model: tfl.LayersModel,
  data: DatasetSplits,
): Promise<ModelExportResult['check']> {
  const n = Math.min(CHECK_IMAGES, data.test.n)
  const ref = appLogits(model, data, n)
  let got: Float32Array
  let runtime: string
  if (req.format === 'onnx') {
    const [h, w, c] = data.test.shape
    const file = join(dir, 'model.onnx')
    const teacher = await openOnnxTeacher(
      file,
      {
        layout: 'nchw',
        mean: data.mean,
        std: data.std,
        inputSize: [h, w],
        channels: c,
        inputName: 'input',
        outputName: 'logits',
        outputClasses: data.numClasses,
        classMap: null,
      },
      data.numClasses,
    )
    try {
      got = (await teacher.logits(data.test.images, n, data.test.shape)).logits
    } finally {
      await teacher.close()
    }
    runtime = 'onnxruntime-node (cpu)'
  } else {
    const reloaded = await loadTfjsExport(dir)
    try {
      got = appLogits(reloaded, data, n)
    } finally {
      reloaded.dispose()
    }
    runtime = `tfjs-layers loadLayersModel (${tf.getBackend()})`
  }
  const diff = maxAbsDiff(ref, got)
  if (!(diff <= EXPORT_TOLERANCE)) {
    throw new Error(
      `the exported ${req.format} model's logits differ from the app's by up to ${diff} on ${n} test images (tolerance ${EXPORT_TOLERANCE}); nothing was written`,
    )
  }
  return { images: n, maxAbsDiff: diff, tolerance: EXPORT_TOLERANCE, runtime }
}

/**
 * Moves the checked export into place. An existing folder is replaced only when it is an earlier
 * export (it has our preprocessing.json); any other non-empty folder is left alone and refused.
 */
function replaceExportDir(outDir: string, tmp: string): void {
  if (existsSync(outDir)) {
    const entries = readdirSync(outDir)
    let ours = false
    try {
      ours =
        (JSON.parse(readFileSync(join(outDir, 'preprocessing.json'), 'utf8')) as { exportedBy?: string })
          .exportedBy === 'tfkd-studio'
    } catch {
      ours = false
    }
    if (entries.length > 0 && !ours) {
      throw new Error(`${outDir} exists and is not an earlier tfkd export; choose an empty or new folder`)
    }
    rmSync(outDir, { recursive: true, force: true })
  }
  mkdirSync(dirname(outDir), { recursive: true })
  renameSync(tmp, outDir)
}

export async function exportModel(req: ModelExportRequest, data: DatasetSplits): Promise<ModelExportResult> {
  const model = buildModel(req.config.model, {
    inputShape: data.train.shape,
    numClasses: data.numClasses,
    seed: deriveSeed(req.config.seed, 'model-init'),
  })
  const tmp = join(dirname(req.outDir), `.${basename(req.outDir)}.tmp-${process.pid}`)
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  try {
    loadWeightsInto(model, req.checkpointPath)
    const files: string[] = []
    const layout = req.format === 'onnx' ? 'nchw' : 'nhwc'
    const pre = preprocessingJson(req, data, layout)
    if (req.format === 'onnx') {
      const bytes = toOnnx(model, {
        metadata: { preprocessing: JSON.stringify(pre) },
        docString: `tfkd-studio run ${req.runId} (${req.config.model}, ${req.config.variant}), ${req.checkpoint} checkpoint (epoch ${req.epoch})`,
      })
      writeFileSync(join(tmp, 'model.onnx'), bytes)
      files.push('model.onnx')
    } else {
      files.push(...(await writeTfjs(model, tmp)))
    }
    writeFileSync(join(tmp, 'preprocessing.json'), `${JSON.stringify(pre, null, 2)}\n`)
    files.push('preprocessing.json')
    const check = await checkExport(req, tmp, model, data)
    replaceExportDir(req.outDir, tmp)
    return {
      runId: req.runId,
      format: req.format,
      checkpoint: req.checkpoint,
      epoch: req.epoch,
      dir: req.outDir,
      files: files.map((f) => join(req.outDir, f)),
      check,
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true })
    throw err
  } finally {
    model.dispose()
  }
}
