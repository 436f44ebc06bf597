/**
 * Training-throughput measurement on random data, the same protocol as the PyTorch peer
 * (scripts/bench/torch_train_speed.py): SGD with momentum, lr 0.05, cross-entropy, 3 warm-up
 * steps, then as many steps as fit in the given seconds. Runs inside a trainer process.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { BenchRequest, BenchResult } from '../../shared/trainer-protocol'
import { loadBackend } from '../backend/ladder'
import { GPU_STATS_READ_EVERY } from './train-loop'
import { installGpuCounters, perStep, type GpuCounters } from '../backend/webgpu-counters'
import { crossEntropy } from '../distill/losses'
import { buildModel } from '../models/registry'

export async function runBench(req: BenchRequest): Promise<BenchResult> {
  const report = await loadBackend({ pin: req.backend })
  const [h, w, c] = req.inputShape
  const model = buildModel(req.model, { inputShape: req.inputShape, numClasses: req.numClasses, seed: 1 })
  const vars = model.trainableWeights.map((v) => v.read() as tf.Variable)
  const optimizer = tf.train.momentum(0.05, 0.9)
  const x = tf.randomNormal([req.batchSize, h, w, c], 0, 1, 'float32', 1)
  const y = tf.randomUniformInt([req.batchSize], 0, req.numClasses, 2) as tf.Tensor1D
  let peakRss = process.memoryUsage().rss
  // The loss is read back as the training loop reads it: every step on a CPU backend, every
  // GPU_STATS_READ_EVERY steps on WebGPU (the running sum stays on the GPU meanwhile).
  const readEvery = req.readEvery ?? (report.chosen === 'webgpu' ? GPU_STATS_READ_EVERY : 1)
  let pending: tf.Tensor | null = null
  let unread = 0
  const flush = async (): Promise<void> => {
    if (!pending) return
    await pending.data()
    pending.dispose()
    pending = null
    unread = 0
  }
  const step = async (): Promise<void> => {
    const loss = tf.tidy(() => {
      const cost = optimizer.minimize(
        () => crossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, y, req.numClasses),
        true,
        vars,
      )
      if (!cost) throw new Error('optimizer returned no loss')
      return pending ? tf.add(pending, cost) : cost
    })
    pending?.dispose()
    pending = loss
    if (++unread >= readEvery) await flush()
  }
  const counters = req.counters ? gpuCounters(report.chosen) : null
  for (let i = 0; i < 3; i++) await step()
  await flush()
  const tensorsBefore = tf.memory().numTensors
  const countsBefore = counters?.read()
  let steps = 0
  const t0 = performance.now()
  while (performance.now() - t0 < req.seconds * 1000 || steps < (req.minSteps ?? 1)) {
    await step()
    steps++
    if (steps % 5 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss)
  }
  await flush() // the queued steps' work is done when the last loss is read
  const ms = performance.now() - t0
  const leaked = (tf.memory().numTensors - tensorsBefore) / Math.max(1, steps)
  const countsPerStep = counters && countsBefore ? perStep(countsBefore, counters.read(), steps) : undefined
  let profile: [string, number][] | undefined
  if (req.profile) {
    const info = await tf.profile(async () => {
      await step()
      await flush()
    })
    const byKernel = new Map<string, number>()
    for (const k of info.kernels) {
      // Backends without timer support report an error object instead of a number.
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : NaN
      byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + ms)
    }
    profile = [...byKernel].sort((a, b) => (b[1] || 0) - (a[1] || 0)).slice(0, 15)
  }
  tf.dispose([x, y])
  optimizer.dispose()
  model.dispose()
  return {
    model: req.model,
    backend: report.chosen,
    device: report.device,
    batchSize: req.batchSize,
    steps,
    samplesPerSec: (steps * req.batchSize) / (ms / 1000),
    msPerStep: ms / steps,
    peakRssMb: Math.max(peakRss, process.memoryUsage().rss) / 2 ** 20,
    leakedTensorsPerStep: leaked,
    ...(profile ? { profile } : {}),
    ...(countsPerStep ? { counters: countsPerStep } : {}),
  }
}

/** The counters on the webgpu backend's device; other backends have no GPU calls to count. */
function gpuCounters(backend: string): GpuCounters {
  const device = (tf.backend() as unknown as { device?: object }).device
  if (backend !== 'webgpu' || !device)
    throw new Error(`--counters counts WebGPU calls; the ${backend} backend has none (use --backends webgpu)`)
  return installGpuCounters(device)
}
