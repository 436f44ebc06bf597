/**
 * A TF.js teacher's logits on an unaugmented training split are computed once, kept beside its
 * checkpoint, and read by the next student: the student trains exactly as with the teacher run in
 * its step (bit for bit), a second student does not run the teacher, and a damaged file is
 * recomputed, never used. The teacher is a resnet8 (convolutions with stride 2, batch norm, residual
 * adds) on the wasm rung with the native kernels where they built: the cache relies on a sample's
 * logits not depending on the batch it is in, which this test guards.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type * as tfl from '@tensorflow/tfjs-layers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../../src/core/backend/ladder'
import { carveValidation, channelStats, type DatasetSplits } from '../../../src/core/data/arrays'
import { loadMnist10k } from '../../../src/core/data/mnist10k'
import { makeLoss } from '../../../src/core/distill/losses'
import { buildModel } from '../../../src/core/models/registry'
import { deriveSeed } from '../../../src/core/random'
import { openCachedTfjsTeacher, openTeacher } from '../../../src/core/train/open-teacher'
import type { TeacherSource } from '../../../src/core/train/teacher-source'
import { trainModel } from '../../../src/core/train/train-loop'
import { loadWeightsInto } from '../../../src/core/train/checkpoint'
import { resolveRunConfig } from '../../../src/shared/schemas'
import type { TrainerStart } from '../../../src/shared/trainer-protocol'
import type { EpochMetrics, RunConfig } from '../../../src/shared/types'

const dir = mkdtempSync(join(tmpdir(), 'tfkd-logits-cache-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let full: ReturnType<typeof loadMnist10k>
let teacherCkpt: string

function splits(config: RunConfig): DatasetSplits {
  const { train, validation } = carveValidation(full.train, {
    fraction: config.validationFraction,
    seed: config.splitSeed ?? config.seed,
    maxTrain: config.maxTrainSamples,
  })
  const test = {
    ...full.test,
    n: 200,
    images: full.test.images.subarray(0, 200 * 784),
    labels: full.test.labels.subarray(0, 200),
  }
  return { train, validation, test, numClasses: 10, classNames: [], ...channelStats(train) }
}

const base = { epochs: 2, maxTrainSamples: 256, batchSize: 64, splitSeed: 5, backend: 'wasm' } as const
const studentConfig = resolveRunConfig({
  ...base,
  model: 'mlp',
  variant: 'kd',
  seed: 9,
  teacher: { runId: 1, epoch: null, targetAccuracy: null },
})

async function trainOnce(config: RunConfig, teacher?: tfl.LayersModel | TeacherSource, ckptDir?: string) {
  const model = buildModel(config.model, {
    inputShape: [28, 28, 1],
    numClasses: 10,
    seed: deriveSeed(config.seed, 'model-init'),
  })
  const epochs: EpochMetrics[] = []
  try {
    const result = await trainModel({
      model,
      data: splits(config),
      config,
      loss: makeLoss(config.variant, config.variantParams, config.model),
      ...(teacher ? { teacher } : {}),
      ...(ckptDir ? { checkpoints: { dir: ckptDir } } : {}),
      hooks: { onEpoch: (m) => void epochs.push({ ...m, durationMs: 0, samplesPerSec: 0 }) },
    })
    return { result, epochs }
  } finally {
    model.dispose()
  }
}

const start = (config: RunConfig): TrainerStart => ({
  type: 'start',
  runId: 2,
  config,
  checkpointDir: dir,
  dataset: { kind: 'bundled', name: 'mnist-10k' },
  teacher: { checkpointPath: teacherCkpt, model: 'resnet8', runId: 1, epoch: 1 },
})

beforeAll(async () => {
  await loadBackend({ pin: 'wasm' })
  full = loadMnist10k()
  const teacherDir = join(dir, 'checkpoints', '1')
  mkdirSync(teacherDir, { recursive: true })
  await trainOnce(resolveRunConfig({ ...base, model: 'resnet8', epochs: 1, seed: 4 }), undefined, teacherDir)
  teacherCkpt = join(teacherDir, 'epoch-0001.tfkd')
})

describe('teacher logits cache', () => {
  it('gives the student exactly the metrics of the teacher run in its step; the second student reads the file', async () => {
    // The old way: the frozen TF.js teacher evaluated in every step's graph.
    const teacherModel = buildModel('resnet8', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 })
    loadWeightsInto(teacherModel, teacherCkpt)
    teacherModel.trainable = false
    const uncached = await trainOnce(studentConfig, teacherModel)
    teacherModel.dispose()
    expect(uncached.result.details?.teacherCost?.logits).toBe('per-batch')

    const first = await openTeacher(start(studentConfig), splits(studentConfig), { backend: 'wasm' })
    expect(first.cache).toMatchObject({ hit: false })
    const file = first.cache!.file
    expect(file.startsWith(`${teacherCkpt}.logits-`)).toBe(true)
    const cached = await trainOnce(studentConfig, first)
    expect(cached.epochs).toEqual(uncached.epochs)
    expect(cached.result.testAccuracy).toBe(uncached.result.testAccuracy)
    expect(cached.result.testLoss).toBe(uncached.result.testLoss)
    expect(cached.result.details?.teacherCost).toMatchObject({
      logits: 'cached-unaugmented',
      cache: { file, hit: false, teacherSha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    })

    // A second student (another seed) of the same teacher and split reads the file: no teacher forward.
    const mtime = statSync(file).mtimeMs
    const other = { ...studentConfig, seed: 10 }
    const second = await openTeacher(start(other), splits(other), { backend: 'wasm' })
    expect(second.cache).toEqual({ ...first.cache, hit: true })
    expect(second.cost().forwardMs).toBe(0)
    const r = await trainOnce(other, second)
    expect(r.result.details?.teacherCost?.cache?.hit).toBe(true)
    expect(statSync(file).mtimeMs).toBe(mtime)
  })

  it('keys the file by the split and the backend: another max-train makes another file', async () => {
    const a = await openTeacher(start(studentConfig), splits(studentConfig), { backend: 'wasm' })
    const smaller = { ...studentConfig, maxTrainSamples: 192 }
    const b = await openTeacher(start(smaller), splits(smaller), { backend: 'wasm' })
    const c = await openTeacher(start(studentConfig), splits(studentConfig), { backend: 'cpu' })
    expect(new Set([a.cache!.file, b.cache!.file, c.cache!.file]).size).toBe(3)
    expect(b.cache!.hit).toBe(false)
    expect(c.cache!.hit).toBe(false)
  })

  it('recomputes a truncated or corrupted file, never uses it', async () => {
    const t = start(studentConfig).teacher!
    const data = splits(studentConfig)
    const good = await openCachedTfjsTeacher(t, data, { backend: 'wasm' })
    const file = good.cache!.file
    const bytes = readFileSync(file)
    const logs: string[] = []

    truncateSync(file, bytes.byteLength - 4)
    const afterTruncate = await openCachedTfjsTeacher(t, data, { backend: 'wasm', log: (m) => logs.push(m) })
    expect(afterTruncate.cache).toMatchObject({ hit: false, logitsSha256: good.cache!.logitsSha256 })
    expect(readFileSync(file).equals(bytes)).toBe(true)

    const flipped = Buffer.from(bytes)
    flipped.writeUInt8(flipped.readUInt8(flipped.byteLength - 1) ^ 0x40, flipped.byteLength - 1)
    writeFileSync(file, flipped)
    const afterFlip = await openCachedTfjsTeacher(t, data, { backend: 'wasm', log: (m) => logs.push(m) })
    expect(afterFlip.cache).toMatchObject({ hit: false, logitsSha256: good.cache!.logitsSha256 })
    expect(logs).toEqual([expect.stringContaining('size'), expect.stringContaining('SHA-256')])
    expect((await openCachedTfjsTeacher(t, data, { backend: 'wasm' })).cache!.hit).toBe(true)
  })

  it('a student with augmentation still runs the teacher on every batch', async () => {
    const aug = resolveRunConfig({
      ...studentConfig,
      augment: { cropPadding: 2, horizontalFlip: false, rotationDegrees: 0 },
    })
    const s = await openTeacher(start(aug), splits(aug), { backend: 'wasm' })
    expect(s.mode).toBe('per-batch')
    expect(s.cache).toBeUndefined()
    await s.dispose()
  })
})
