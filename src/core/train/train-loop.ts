/**
 * The training loop, written by hand rather than `model.fit`: fit shuffles with Math.random and
 * cannot be cancelled between batches. Each step runs inside `tf.tidy`; the optimizer gets the
 * model's own variable list, so nothing else registered in the engine (a frozen teacher) is trained.
 */
import * as tf from '@tensorflow/tfjs-core'
import type * as tfl from '@tensorflow/tfjs-layers'
import type { RunConfig, EpochMetrics, RunProgress } from '../../shared/types'
import type { TestResult } from '../../shared/trainer-protocol'
import type { DatasetSplits, ImageSet } from '../data/arrays'
import { crossEntropy, type LossFn, type LossInputs } from '../distill/losses'
import { createRng, deriveSeed, permutation } from '../random'

export interface TrainHooks {
  onProgress?(p: Omit<RunProgress, 'runId'>): void
  /** Called after each epoch's metrics are known; awaited before the next epoch starts. */
  onEpoch?(m: EpochMetrics, model: tfl.LayersModel): Promise<void> | void
}

/** The training objective; `needsTeacher` losses get the frozen teacher's logits on the same batch. */
export type TrainLoss = ((a: LossInputs) => tf.Scalar) & { readonly needsTeacher?: boolean }

export interface TrainArgs {
  model: tfl.LayersModel
  data: DatasetSplits
  config: RunConfig
  loss: TrainLoss
  /** Frozen teacher (inference mode, outside the gradient), for losses that need one. */
  teacher?: tfl.LayersModel
  signal?: AbortSignal
  hooks?: TrainHooks
  /** Epochs already done (resume); training continues at startEpoch + 1. */
  startEpoch?: number
  /** Minimum ms between progress reports. */
  progressEveryMs?: number
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled')
    this.name = 'CancelledError'
  }
}

export class NonFiniteLossError extends Error {
  constructor(epoch: number, step: number, value: number) {
    super(`non-finite loss at epoch ${epoch}, step ${step} (${value})`)
    this.name = 'NonFiniteLossError'
  }
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Fills `out` with normalised float32 pixels of the samples `idx` (NHWC). */
export function fillBatch(
  set: ImageSet,
  idx: ArrayLike<number>,
  mean: number[],
  std: number[],
  out: Float32Array,
  labelsOut: Int32Array,
): void {
  const [h, w, c] = set.shape
  const size = h * w * c
  const scale = mean.map((_, k) => 1 / (255 * std[k]!))
  const shift = mean.map((m, k) => -m / std[k]!)
  for (let i = 0; i < idx.length; i++) {
    const src = idx[i]! * size
    const dst = i * size
    for (let p = 0; p < size; p++) {
      const k = p % c
      out[dst + p] = set.images[src + p]! * scale[k]! + shift[k]!
    }
    labelsOut[i] = set.labels[idx[i]!]!
  }
}

export interface EvalResult {
  loss: number
  accuracy: number
}

/** Mean loss and top-1 accuracy over a whole split, in inference mode. */
export async function evaluate(
  model: tfl.LayersModel,
  set: ImageSet,
  data: Pick<DatasetSplits, 'mean' | 'std' | 'numClasses'>,
  loss: LossFn = crossEntropy,
  batchSize = 500,
): Promise<EvalResult> {
  if (set.n === 0) return { loss: NaN, accuracy: NaN }
  const [h, w, c] = set.shape
  let lossSum = 0
  let correct = 0
  const xs = new Float32Array(batchSize * h * w * c)
  const ys = new Int32Array(batchSize)
  for (let start = 0; start < set.n; start += batchSize) {
    const n = Math.min(batchSize, set.n - start)
    const idx = Array.from({ length: n }, (_, i) => start + i)
    fillBatch(set, idx, data.mean, data.std, xs, ys)
    const out = tf.tidy(() => {
      const x = tf.tensor4d(xs.subarray(0, n * h * w * c), [n, h, w, c])
      const y = tf.tensor1d(ys.subarray(0, n), 'int32')
      const logits = model.apply(x, { training: false }) as tf.Tensor2D
      const l = tf.mul(loss(logits, y, data.numClasses), n)
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'float32'))
      return tf.stack([l, hits])
    })
    const [l, hits] = await out.data()
    out.dispose()
    lossSum += l!
    correct += hits!
  }
  return { loss: lossSum / set.n, accuracy: correct / set.n }
}

export function makeOptimizer(config: RunConfig): { optimizer: tf.Optimizer; learningRate: number } {
  // The reference recipe scales the learning rate with the batch size (lr x batch / 128).
  const learningRate = config.learningRate * (config.batchSize / 128)
  const optimizer =
    config.optimizer === 'adam'
      ? tf.train.adam(learningRate)
      : tf.train.momentum(learningRate, config.momentum)
  return { optimizer, learningRate }
}

export async function trainModel(args: TrainArgs): Promise<TestResult & { lastEpoch: number }> {
  const { model, data, config, loss, signal, hooks, teacher } = args
  if (loss.needsTeacher && !teacher) throw new Error(`variant ${config.variant} needs a teacher model`)
  const { train } = data
  const [h, w, c] = train.shape
  const bs = Math.min(config.batchSize, train.n)
  const stepsPerEpoch = Math.ceil(train.n / bs)
  const { optimizer, learningRate } = makeOptimizer(config)
  const vars = model.trainableWeights.map((wt) => wt.read() as tf.Variable)
  const decay = config.weightDecay
  const xs = new Float32Array(bs * h * w * c)
  const ys = new Int32Array(bs)
  const startEpoch = args.startEpoch ?? 0
  const progressEveryMs = args.progressEveryMs ?? 250
  const t0 = performance.now()
  let samplesDone = 0
  let lastProgress = 0
  let best = { epoch: 0, valAccuracy: -Infinity }

  for (let epoch = startEpoch + 1; epoch <= config.epochs; epoch++) {
    const epochStart = performance.now()
    // A fresh, seeded order each epoch; the same seed repeats the same orders.
    const order = permutation(train.n, createRng(deriveSeed(config.seed, `shuffle-epoch-${epoch}`)))
    let lossSum = 0
    let correct = 0
    for (let step = 0; step < stepsPerEpoch; step++) {
      if (signal?.aborted) throw new CancelledError()
      const start = step * bs
      const n = Math.min(bs, train.n - start)
      fillBatch(train, order.subarray(start, start + n), data.mean, data.std, xs, ys)
      const stats = tf.tidy(() => {
        const x = tf.tensor4d(xs.subarray(0, n * h * w * c), [n, h, w, c])
        const y = tf.tensor1d(ys.subarray(0, n), 'int32')
        // minimize() runs f in its own tidy: keep the two statistics past it, dispose them below.
        let hits: tf.Scalar | undefined
        let dataLoss: tf.Scalar | undefined
        // The teacher sees the same batch, in inference mode, outside the gradient.
        const teacherLogits =
          loss.needsTeacher && teacher ? (teacher.apply(x, { training: false }) as tf.Tensor2D) : undefined
        optimizer.minimize(
          () => {
            const logits = model.apply(x, { training: true }) as tf.Tensor2D
            dataLoss = tf.keep(loss({ logits, labels: y, numClasses: data.numClasses, teacherLogits }))
            hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'float32')) as tf.Scalar)
            if (decay <= 0) return tf.clone(dataLoss)
            // Coupled L2 as in PyTorch's SGD(weight_decay): grad += decay * w.
            const l2 = tf.addN(vars.map((v) => tf.sum(tf.square(v))))
            return tf.add(dataLoss, tf.mul(l2, decay / 2)) as tf.Scalar
          },
          false,
          vars,
        )
        const out = tf.stack([dataLoss!, hits!])
        dataLoss!.dispose()
        hits!.dispose()
        return out
      })
      const [stepLoss, stepHits] = await stats.data()
      stats.dispose()
      if (!Number.isFinite(stepLoss!)) throw new NonFiniteLossError(epoch, step + 1, stepLoss!)
      lossSum += stepLoss! * n
      correct += stepHits!
      samplesDone += n
      const now = performance.now()
      if (hooks?.onProgress && (now - lastProgress >= progressEveryMs || step === stepsPerEpoch - 1)) {
        lastProgress = now
        const totalSteps = (config.epochs - startEpoch) * stepsPerEpoch
        const doneSteps = (epoch - startEpoch - 1) * stepsPerEpoch + step + 1
        const elapsed = now - t0
        const samplesPerSec = samplesDone / (elapsed / 1000)
        hooks.onProgress({
          epoch,
          epochs: config.epochs,
          step: step + 1,
          stepsPerEpoch,
          fraction: (epoch - 1) / config.epochs + (step + 1) / stepsPerEpoch / config.epochs,
          loss: stepLoss!,
          samplesPerSec,
          etaMs: doneSteps > 0 ? (elapsed / doneSteps) * (totalSteps - doneSteps) : null,
        })
      }
      await yieldToEventLoop()
    }
    const trainMs = performance.now() - epochStart
    // Validation and test report the plain cross-entropy (NLL), comparable across variants.
    const val = await evaluate(model, data.validation, data)
    const metrics: EpochMetrics = {
      epoch,
      trainLoss: lossSum / train.n,
      trainAccuracy: correct / train.n,
      valLoss: val.loss,
      valAccuracy: val.accuracy,
      learningRate,
      durationMs: performance.now() - epochStart,
      samplesPerSec: train.n / (trainMs / 1000),
    }
    if (!(val.accuracy <= best.valAccuracy)) best = { epoch, valAccuracy: val.accuracy }
    await hooks?.onEpoch?.(metrics, model)
  }
  optimizer.dispose()
  const test = await evaluate(model, data.test, data)
  return {
    testLoss: test.loss,
    testAccuracy: test.accuracy,
    bestEpoch: best.epoch,
    bestValAccuracy: best.valAccuracy,
    lastEpoch: config.epochs,
  }
}
