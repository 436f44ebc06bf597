import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../../src/core/backend/ladder'
import type { DatasetSplits, ImageSet } from '../../../src/core/data/arrays'
import { exportModel, loadTfjsExport } from '../../../src/core/export/model-export'
import { MODEL_IDS } from '../../../src/core/models/catalog'
import { buildModel } from '../../../src/core/models/registry'
import { inspectOnnxFile } from '../../../src/core/onnx/proto'
import { createOnnxRunner } from '../../../src/core/onnx/runner'
import { createRng, deriveSeed } from '../../../src/core/random'
import { saveCheckpoint } from '../../../src/core/train/checkpoint'
import { normalisePixels } from '../../../src/core/train/train-loop'
import { DEFAULT_RUN_CONFIG } from '../../../src/shared/schemas'
import type { ModelExportFormat } from '../../../src/shared/onnx'

function randomSet(n: number, shape: [number, number, number], seed: number): ImageSet {
  const rng = createRng(seed)
  const images = new Uint8Array(n * shape[0] * shape[1] * shape[2])
  for (let i = 0; i < images.length; i++) images[i] = Math.floor(rng() * 256)
  return { images, labels: Int32Array.from({ length: n }, (_, i) => i % 10), n, shape }
}

function splits(shape: [number, number, number]): DatasetSplits {
  const c = shape[2]
  return {
    train: randomSet(16, shape, 1),
    validation: randomSet(0, shape, 2),
    test: randomSet(8, shape, 3),
    numClasses: 10,
    classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
    mean: Array.from({ length: c }, (_, k) => 0.4 + 0.05 * k),
    std: Array.from({ length: c }, (_, k) => 0.25 + 0.02 * k),
  }
}

let dir: string
beforeAll(async () => {
  await loadBackend({ pin: 'wasm' })
  dir = mkdtempSync(join(tmpdir(), 'tfkd-export-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Non-trivial batch-norm statistics and biases, so the export of every weight is exercised. */
function perturb(model: ReturnType<typeof buildModel>, seed: number): void {
  const rng = createRng(seed)
  const values = model.weights.map((w) => {
    const v = w.read()
    if (!/moving_variance|moving_mean|gamma|beta|bias/.test(w.name)) return tf.clone(v)
    const noise = Float32Array.from({ length: v.size }, () => rng() * 0.5)
    const t = tf.tensor(noise, v.shape)
    const out = /moving_variance|gamma/.test(w.name) ? tf.add(t, 0.75) : tf.sub(t, 0.25)
    t.dispose()
    return out
  })
  model.setWeights(values)
  tf.dispose(values)
}

// CI size: every model at 32x32x3 (odd and asymmetric 'same' pads, three channels). TFKD_FULL_TESTS=1
// adds 28x28x1 (the other padding case) .
const SHAPES = [
  ['32x32x3', [32, 32, 3]],
  ...(process.env.TFKD_FULL_TESTS === '1' ? [['28x28x1', [28, 28, 1]] as const] : []),
] as const

describe('export-model round trip: every catalog model, ONNX and TF.js', () => {
  for (const [label, shape] of SHAPES) {
    for (const id of MODEL_IDS) {
      it(`${id} at ${label}: reloaded logits equal the app's to 1e-4`, async () => {
        const data = splits([...shape])
        const config = { ...DEFAULT_RUN_CONFIG, model: id, seed: 5 }
        const model = buildModel(id, {
          inputShape: [...shape],
          numClasses: 10,
          seed: deriveSeed(5, 'model-init'),
        })
        perturb(model, 9)
        const ckpt = join(dir, `${id}-${label}.tfkd`)
        await saveCheckpoint(model, ckpt, { epoch: 1 })
        const [h, w, c] = shape
        const n = data.test.n
        const xs = new Float32Array(n * h * w * c)
        normalisePixels(data.test.images, n * h * w * c, data.mean, data.std, xs)
        const ref = tf.tidy(() =>
          (model.apply(tf.tensor4d(xs, [n, h, w, c]), { training: false }) as tf.Tensor).dataSync(),
        )
        model.dispose()
        // The logits carry signal (a broken export could agree on a constant).
        expect(Math.max(...ref) - Math.min(...ref)).toBeGreaterThan(1e-3)
        for (const format of ['onnx', 'tfjs'] as ModelExportFormat[]) {
          const outDir = join(dir, `${id}-${label}-${format}`)
          const r = await exportModel(
            {
              type: 'export-model',
              runId: 1,
              config,
              dataset: { kind: 'bundled', name: 'mnist-10k' },
              checkpointPath: ckpt,
              checkpoint: 'last',
              epoch: 1,
              format,
              outDir,
            },
            data,
          )
          expect(r.check.maxAbsDiff).toBeLessThanOrEqual(1e-4)
          expect(r.check.images).toBe(n)
          const pre = JSON.parse(readFileSync(join(outDir, 'preprocessing.json'), 'utf8')) as {
            input: { mean: number[]; layout: string }
          }
          expect(pre.input.mean).toEqual(data.mean)
          // An independent reload of the written files.
          let got: Float32Array
          if (format === 'onnx') {
            const info = inspectOnnxFile(join(outDir, 'model.onnx'))
            expect(info.opset).toBeGreaterThanOrEqual(13)
            expect(pre.input.layout).toBe('nchw')
            const runner = await createOnnxRunner(join(outDir, 'model.onnx'))
            const nchw = new Float32Array(xs.length)
            for (let s = 0; s < n; s++)
              for (let y = 0; y < h; y++)
                for (let x = 0; x < w; x++)
                  for (let k = 0; k < c; k++)
                    nchw[((s * c + k) * h + y) * w + x] = xs[((s * h + y) * w + x) * c + k]!
            got = (await runner.run({ name: 'input', data: nchw, dims: [n, c, h, w] }, 'logits')).data
            await runner.close()
          } else {
            expect(existsSync(join(outDir, 'weights.bin'))).toBe(true)
            const m = await loadTfjsExport(outDir)
            got = tf.tidy(
              () =>
                (
                  m.apply(tf.tensor4d(xs, [n, h, w, c]), { training: false }) as tf.Tensor
                ).dataSync() as Float32Array,
            )
            m.dispose()
          }
          let diff = 0
          for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i]! - got[i]!))
          expect(got.length).toBe(ref.length)
          expect(diff).toBeLessThanOrEqual(1e-4)
        }
      })
    }
  }
})
