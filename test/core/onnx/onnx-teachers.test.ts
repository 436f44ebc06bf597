/**
 * Imported ONNX teachers end to end, with a real teacher made by Debian's PyTorch
 * (test/onnx-helpers.ts): import through the core (the trainer child checks and evaluates it), the
 * stored accuracy against PyTorch's, bad teachers refused by name, distillation from it (the logits
 * a step used against PyTorch's on that very batch, and a kd run through the queue with lineage).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../../src/core/backend/ladder'
import { carveValidation, channelStats, type DatasetSplits } from '../../../src/core/data/arrays'
import { loadMnist10k } from '../../../src/core/data/mnist10k'
import { makeLoss } from '../../../src/core/distill/losses'
import { toOnnx } from '../../../src/core/export/onnx-writer'
import { buildModel } from '../../../src/core/models/registry'
import { openOnnxTeacher } from '../../../src/core/onnx/onnx-teacher'
import { onnx } from '../../../src/core/onnx/proto'
import { createAppCore, type AppCore } from '../../../src/core/app/app-core'
import { createForkSpawner } from '../../../src/core/services/fork-trainer'
import { onnxTeacherSource, type TeacherSource } from '../../../src/core/train/teacher-source'
import { trainModel } from '../../../src/core/train/train-loop'
import { resolveRunConfig } from '../../../src/shared/schemas'
import type { ModelExportResult } from '../../../src/shared/onnx'
import { requireBuiltTrainer, tempHome } from '../../helpers'
import { pytorchPart, torchLogits, torchTeacher, type TorchTeacher } from '../../onnx-helpers'
import { needsSystemPart } from '../../support/system-parts'

let home: ReturnType<typeof tempHome>
let core: AppCore

beforeAll(() => {
  home = tempHome('tfkd-onnx-')
  core = createAppCore({
    dataHome: home.dir,
    host: 'cli',
    spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
  })
})
afterAll(async () => {
  await core.close()
  home.cleanup()
})

/** An ONNX file written from a TF.js model of the catalog (no PyTorch needed). */
function onnxOf(file: string, inputShape: [number, number, number], numClasses: number): string {
  const m = buildModel('cnn-small', { inputShape, numClasses, seed: 1 })
  writeFileSync(file, toOnnx(m))
  m.dispose()
  return file
}

describe('bad teachers are refused with the file and the mismatch; nothing is stored', () => {
  beforeAll(async () => {
    await loadBackend({ pin: 'cpu' })
  })
  const refused = async (file: string, ...mismatch: RegExp[]) => {
    const before = core.teachers.list().length
    const err = await core.teachers.import({ path: file, dataset: 'mnist-10k' }).then(
      () => null,
      (e: Error) => e,
    )
    expect(err, `${file} was accepted`).not.toBeNull()
    expect(err!.message).toContain(file)
    for (const m of mismatch) expect(err!.message).toMatch(m)
    expect(core.teachers.list()).toHaveLength(before)
  }

  it('wrong input shape: 3 channels for a 1-channel dataset; 32x32 for 28x28 without --input-size', async () => {
    await refused(
      onnxOf(join(home.dir, 'rgb.onnx'), [28, 28, 3], 10),
      /expects 3 channels/,
      /mnist-10k has 1/,
    )
    await refused(
      onnxOf(join(home.dir, 'big.onnx'), [32, 32, 1], 10),
      /expects 32x32/,
      /set the input size to 32x32/,
    )
  })

  it('wrong class count', async () => {
    await refused(onnxOf(join(home.dir, 'five.onnx'), [28, 28, 1], 5), /has 5 classes/, /mnist-10k has 10/)
  })

  it('a non-ONNX file and a truncated one', async () => {
    const text = join(home.dir, 'notes.onnx')
    writeFileSync(text, 'this is a text file, not a model\n'.repeat(20))
    await refused(text, /not an ONNX model|truncated/)
    const good = readFileSync(onnxOf(join(home.dir, 'good.onnx'), [28, 28, 1], 10))
    const cut = join(home.dir, 'cut.onnx')
    writeFileSync(cut, good.subarray(0, Math.floor(good.length / 2)))
    await refused(cut, /truncated/)
  })

  it('an operator ONNX Runtime lacks', async () => {
    const bytes = readFileSync(onnxOf(join(home.dir, 'op.onnx'), [28, 28, 1], 10))
    const model = onnx.ModelProto.decode(bytes)
    model.graph!.node![1]!.opType = 'TfkdNoSuchOp'
    const file = join(home.dir, 'strange-op.onnx')
    writeFileSync(file, onnx.ModelProto.encode(model).finish())
    await refused(file, /TfkdNoSuchOp/, /ONNX Runtime cannot/)
  })
})

describe.skipIf(needsSystemPart(pytorchPart()))(
  'a PyTorch teacher (ONNX, NCHW, ImageNet-style normalisation)',
  () => {
    let teacher: TorchTeacher
    let teacherId: number
    beforeAll(async () => {
      teacher = torchTeacher()
      await loadBackend({ pin: 'wasm' })
    })

    it("imports: stored accuracy equals PyTorch's on the same test split (0.1 pp), with hash and preprocessing", async () => {
      const { teacher: t, warnings } = await core.teachers.import({
        path: teacher.onnxPath,
        dataset: 'mnist-10k',
        mean: [teacher.mean],
        std: [teacher.std],
      })
      teacherId = t.id
      expect(warnings).toEqual([])
      expect(t.testCount).toBe(teacher.testCount)
      expect(Math.abs(t.testAccuracy - teacher.testAccuracy)).toBeLessThanOrEqual(0.001)
      expect(t.preprocessing).toMatchObject({
        layout: 'nchw',
        channels: 1,
        inputSize: [28, 28],
        outputClasses: 10,
      })
      expect(t.sha256).toMatch(/^[0-9a-f]{64}$/)
      expect(t.producer).toMatch(/pytorch.*opset 13/)
      expect(t.nearChance).toBe(false)
    })

    it('flags a near-chance teacher and names preprocessing as the usual cause', async () => {
      // A class map that shifts every class by one: the model is right, the mapping is wrong.
      const map = join(home.dir, 'shifted.txt')
      writeFileSync(map, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'].join('\n'))
      const { teacher: t, warnings } = await core.teachers.import({
        path: teacher.onnxPath,
        dataset: 'mnist-10k',
        mean: [teacher.mean],
        std: [teacher.std],
        classMap: map,
        name: 'shifted',
      })
      expect(t.nearChance).toBe(true)
      expect(warnings.join(' ')).toMatch(/near chance.*preprocessing is the usual cause/)
      // The UI shows this warning: it names the settings, not CLI flags (issue 14).
      expect(warnings.join(' ')).toMatch(/Check the layout \(used nchw\)/)
      expect(warnings.join(' ')).not.toMatch(/--[a-z]/)
    })

    it("the teacher logits a kd step uses equal PyTorch's for that (augmented) batch to 1e-4", async () => {
      const stored = core.teachers.get(teacherId)
      const { train, test } = loadMnist10k()
      const carved = carveValidation(train, { fraction: 0.1, seed: 3, maxTrain: 256 })
      const data: DatasetSplits = {
        ...carved,
        test: {
          ...test,
          n: 200,
          images: test.images.subarray(0, 200 * 784),
          labels: test.labels.subarray(0, 200),
        },
        numClasses: 10,
        classNames: Array.from({ length: 10 }, (_, i) => String(i)),
        ...channelStats(carved.train),
      }
      const inner = onnxTeacherSource(
        await openOnnxTeacher(stored.path, stored.preprocessing, 10),
        train.shape,
        10,
      )
      // A recorder around the real source: what the loop gave it and the logits the step's loss received.
      const seen: { pixels: Uint8Array; n: number; logits: Float32Array }[] = []
      const recorder: TeacherSource = {
        ...inner,
        cost: () => inner.cost(),
        dispose: () => inner.dispose(),
        async begin(batch) {
          const pixels = batch.pixels.slice()
          const f = await inner.begin(batch)
          return {
            logits: (x) => {
              const t = f.logits(x)
              seen.push({ pixels, n: batch.n, logits: t.dataSync() as Float32Array })
              return t
            },
          }
        },
      }
      const config = resolveRunConfig({
        variant: 'kd',
        epochs: 1,
        batchSize: 64,
        seed: 3,
        maxTrainSamples: 256,
        augment: { cropPadding: 2, horizontalFlip: false, rotationDegrees: 0 },
      })
      const model = buildModel('cnn-small', { inputShape: [28, 28, 1], numClasses: 10, seed: 3 })
      const result = await trainModel({
        model,
        data,
        config,
        loss: makeLoss('kd', config.variantParams),
        teacher: recorder,
      })
      await recorder.dispose()
      model.dispose()
      expect(seen).toHaveLength(4)
      expect(result.details?.teacherCost).toMatchObject({ kind: 'onnx', logits: 'per-batch', steps: 4 })
      expect(result.details!.teacherCost!.teacherForwardMsPerStep).toBeGreaterThan(0)
      const step = seen[1]!
      const ref = torchLogits(teacher, step.pixels, step.n)
      let diff = 0
      for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i]! - step.logits[i]!))
      expect(ref.length).toBe(step.n * 10)
      expect(diff).toBeLessThanOrEqual(1e-4)
      expect(tf.memory().numTensors).toBeLessThan(1000)
    })

    it('kd from it for one epoch through the queue: completed, lineage records the hash, comparison names it', async () => {
      const stored = core.teachers.get(teacherId)
      const run = core.runs.start(
        resolveRunConfig({
          variant: 'kd',
          epochs: 1,
          maxTrainSamples: 512,
          batchSize: 64,
          importedTeacher: { id: teacherId },
        }),
      )
      const done = await core.runs.waitFor(run.id)
      expect(done.failureReason).toBeNull()
      expect(done.status).toBe('completed')
      const detail = core.store.runs.detail(run.id)!
      expect(detail.config.importedTeacher).toMatchObject({ id: teacherId, sha256: stored.sha256 })
      expect(detail.result?.teacherCost).toMatchObject({ kind: 'onnx', sha256: stored.sha256 })
      const table = core.plans.compare({ runIds: [run.id] })
      expect(JSON.stringify(table)).toContain(`onnx:${stored.name}`)
      // The History export action's channel: the student as ONNX, checked against the app's logits.
      const exported = await core.dispatch('exports:model', { runId: run.id, format: 'onnx' })
      expect(exported.ok, JSON.stringify(exported)).toBe(true)
      const r = (exported as { ok: true; value: ModelExportResult }).value
      expect(r).toMatchObject({ checkpoint: 'best', format: 'onnx' })
      expect(r.check.maxAbsDiff).toBeLessThanOrEqual(1e-4)
      const listed = await core.dispatch('teachers:list', {})
      expect(JSON.stringify(listed)).toContain(stored.sha256)
    })
  },
)
