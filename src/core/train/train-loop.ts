/**
 * The training loop, written by hand rather than `model.fit`: fit shuffles with Math.random and
 * cannot be cancelled between batches. Each step runs inside `tf.tidy`; the optimizer gets the
 * model's own variable list, so nothing else registered in the engine (a frozen teacher) is trained.
 *
 * Recipe: the learning rate follows `schedule.ts` per iteration (warm-up, multistep / cosine /
 * constant, scaled by batch / 128); training batches are augmented on their uint8 pixels
 * (`augment.ts`), one seeded stream per epoch; validation reports NLL, top-1, top-5 and ECE per epoch.
 * The best epoch is chosen on validation accuracy (on test accuracy, flagged, when there is no
 * validation split); at the end the test split is evaluated with the best epoch's weights (kept in
 * memory, and in `best.tfkd` when checkpointing) and with the last ones.
 *
 * Checkpoints (optional, `checkpoints.dir`): after each epoch `epoch-NNNN.tfkd` with the model, the
 * optimizer state and the best-so-far; `best.tfkd` whenever the best improves (written first). A run
 * resumed from such a checkpoint gives exactly the metrics of an uninterrupted one: the shuffles,
 * augmentation streams and learning rates depend only on the seed, the epoch and the step.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import type * as tfl from '@tensorflow/tfjs-layers'
import type { RunConfig, EpochMetrics, RunProgress, EvalReport, RunResultDetails } from '../../shared/types'
import type { TestResult } from '../../shared/trainer-protocol'
import { MetricsAccumulator, type ClassificationMetrics } from '../analysis/metrics'
import type { DatasetSplits, ImageSet } from '../data/arrays'
import type { LossInputs } from '../distill/losses'
import { createRng, deriveSeed, permutation } from '../random'
import { augmentBatch, augmentIsOff } from './augment'
import { loadOptimizerState, readCheckpoint, readWeightsFor, saveCheckpoint } from './checkpoint'
import { baseLearningRate, learningRateAt } from './schedule'
import { tfjsTeacherSource, type TeacherForward, type TeacherSource } from './teacher-source'

export interface TrainHooks {
  onProgress?(p: Omit<RunProgress, 'runId'>): void
  /** Called after each epoch's metrics are known; awaited before the epoch's checkpoint and the next epoch. */
  onEpoch?(m: EpochMetrics, model: tfl.LayersModel): Promise<void> | void
  /** Called after an epoch's checkpoint file is written (only with `checkpoints`). */
  onCheckpoint?(c: { epoch: number; path: string; bytes: number }): Promise<void> | void
}

/** The training objective; `needsTeacher` losses get the frozen teacher's logits on the same batch. */
export type TrainLoss = ((a: LossInputs) => tf.Scalar) & { readonly needsTeacher?: boolean }

export interface CheckpointOptions {
  /** Directory of `epoch-NNNN.tfkd` and `best.tfkd`. */
  dir: string
  /** Extra header fields of every checkpoint (run id, config...). */
  meta?: Record<string, unknown>
}

export interface TrainArgs {
  model: tfl.LayersModel
  data: DatasetSplits
  config: RunConfig
  loss: TrainLoss
  /**
   * The frozen teacher, for losses that need one: a TF.js model (inference mode, outside the
   * gradient) or any TeacherSource (an imported ONNX model, a cache of logits). The caller disposes it.
   */
  teacher?: tfl.LayersModel | TeacherSource
  signal?: AbortSignal
  hooks?: TrainHooks
  /** Epochs already done (resume without a checkpoint); training continues at startEpoch + 1. */
  startEpoch?: number
  /** Write a checkpoint after every epoch (model, optimizer state, best-so-far). */
  checkpoints?: CheckpointOptions
  /**
   * Resume from a checkpoint written with `checkpoints`: loads the weights, the optimizer state and the
   * best-so-far (with `best.tfkd` from the same directory) and continues at its epoch + 1.
   */
  resumeFrom?: string
  /** Minimum ms between progress reports. */
  progressEveryMs?: number
  /** Steps between readbacks of the training loss and hits (default: 1 on CPU backends, 16 on WebGPU). */
  statsReadEvery?: number
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled')
    this.name = 'CancelledError'
  }
}

export class NonFiniteLossError extends Error {
  /** `firstStep`: where the statistics are read every few steps, the first step of the window read. */
  constructor(epoch: number, step: number, value: number, firstStep = step) {
    const where = firstStep === step ? `step ${step}` : `one of steps ${firstStep}-${step}`
    super(`non-finite loss at epoch ${epoch}, ${where} (${value})`)
    this.name = 'NonFiniteLossError'
  }
}

/** On WebGPU the step's statistics stay on the GPU for this many steps between readbacks. */
export const GPU_STATS_READ_EVERY = 16

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Normalises `count` uint8 NHWC values (c channels) into float32: (v / 255 - mean) / std. */
export function normalisePixels(
  pixels: Uint8Array,
  count: number,
  mean: number[],
  std: number[],
  out: Float32Array,
): void {
  const c = mean.length
  const scale = mean.map((_, k) => 1 / (255 * std[k]!))
  const shift = mean.map((m, k) => -m / std[k]!)
  if (c === 1) {
    const s = scale[0]!
    const b = shift[0]!
    for (let p = 0; p < count; p++) out[p] = pixels[p]! * s + b
    return
  }
  if (c === 3) {
    const [s0, s1, s2] = scale as [number, number, number]
    const [b0, b1, b2] = shift as [number, number, number]
    for (let p = 0; p < count; p += 3) {
      out[p] = pixels[p]! * s0 + b0
      out[p + 1] = pixels[p + 1]! * s1 + b1
      out[p + 2] = pixels[p + 2]! * s2 + b2
    }
    return
  }
  for (let p = 0; p < count; p += c) {
    for (let k = 0; k < c; k++) out[p + k] = pixels[p + k]! * scale[k]! + shift[k]!
  }
}

/** Copies the uint8 pixels of the samples `idx` into `out` (NHWC). */
export function gatherPixels(set: ImageSet, idx: ArrayLike<number>, out: Uint8Array): void {
  const [h, w, c] = set.shape
  const size = h * w * c
  for (let i = 0; i < idx.length; i++)
    out.set(set.images.subarray(idx[i]! * size, (idx[i]! + 1) * size), i * size)
}

const isTeacherSource = (t: tfl.LayersModel | TeacherSource): t is TeacherSource =>
  typeof (t as Partial<TeacherSource>).begin === 'function'

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
  for (let i = 0; i < idx.length; i++) {
    const src = idx[i]! * size
    normalisePixels(set.images.subarray(src, src + size), size, mean, std, out.subarray(i * size))
    labelsOut[i] = set.labels[idx[i]!]!
  }
}

/**
 * Metrics of a whole split in inference mode: NLL (plain cross-entropy, comparable across variants),
 * top-1, top-5, ECE, per-class accuracy, confusion and reliability bins. Batched; logits are read per
 * batch. An empty split gives NaN loss, accuracy, top-5 and ECE.
 */
export async function evaluate(
  model: tfl.LayersModel,
  set: ImageSet,
  data: Pick<DatasetSplits, 'mean' | 'std' | 'numClasses'>,
  batchSize = 500,
): Promise<ClassificationMetrics> {
  const acc = new MetricsAccumulator(data.numClasses)
  const [h, w, c] = set.shape
  const size = h * w * c
  const bs = Math.max(1, Math.min(batchSize, set.n))
  const xs = new Float32Array(bs * size)
  for (let start = 0; start < set.n; start += bs) {
    const n = Math.min(bs, set.n - start)
    normalisePixels(set.images.subarray(start * size, (start + n) * size), n * size, data.mean, data.std, xs)
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(xs.subarray(0, n * size), [n, h, w, c])
      return model.apply(x, { training: false }) as tf.Tensor2D
    })
    try {
      acc.add(await logits.data(), set.labels.subarray(start, start + n), 'logits', n)
    } finally {
      logits.dispose()
    }
  }
  return acc.result()
}

export function toEvalReport(epoch: number, m: ClassificationMetrics): EvalReport {
  return {
    epoch,
    loss: m.loss,
    accuracy: m.accuracy,
    top5: m.top5,
    ece: m.ece,
    perClassAccuracy: m.perClassAccuracy,
    confusion: m.confusion,
    reliability: m.reliability,
  }
}

/** The optimizer at the schedule's base rate (lr x batch / 128); the loop sets the rate every step. */
export function makeOptimizer(config: RunConfig): { optimizer: tf.Optimizer; learningRate: number } {
  const learningRate = baseLearningRate(config)
  const optimizer =
    config.optimizer === 'adam'
      ? tf.train.adam(learningRate)
      : tf.train.momentum(learningRate, config.momentum)
  return { optimizer, learningRate }
}

/** Sets the optimizer's learning rate for the next step. */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  // Duck-typed: Optimizer's Symbol.hasInstance makes every optimizer `instanceof SGDOptimizer`.
  const sgd = optimizer as Partial<Pick<tf.SGDOptimizer, 'setLearningRate'>>
  if (typeof sgd.setLearningRate === 'function') {
    // SGD and Momentum: replaces the kept -lr scalar (disposing the old one).
    sgd.setLearningRate(lr)
  } else {
    // Adam (and the others) read the protected `learningRate` field on every applyGradients and
    // have no setter; writing it is the only way to schedule them without rebuilding their slots.
    ;(optimizer as unknown as { learningRate: number }).learningRate = lr
  }
}

/** What the checkpoints keep of the best epoch so far. */
interface BestSoFar {
  epoch: number
  /** Selection score: validation accuracy, or test accuracy when there is no validation split. */
  score: number
  valAccuracy: number
}

const epochFile = (dir: string, epoch: number): string =>
  join(dir, `epoch-${String(epoch).padStart(4, '0')}.tfkd`)
const BEST_FILE = 'best.tfkd'

/**
 * What every step and epoch of one training call shares: the model and its optimizer, the two batch
 * buffers, the teacher, the selection state (best-so-far) and the running totals of cost and progress.
 */
interface Session {
  args: TrainArgs
  teacher: TeacherSource | null
  /** Batch size (at most the training set) and steps per epoch. */
  bs: number
  stepsPerEpoch: number
  /** Values per image (h x w x c). */
  size: number
  optimizer: tf.Optimizer
  vars: tf.Variable[]
  // Two batch buffers: the next batch is assembled while the current step runs on an asynchronous
  // backend (WebGPU, CUDA), before its loss is read back.
  xsBuf: readonly [Float32Array, Float32Array]
  ysBuf: readonly [Int32Array, Int32Array]
  augment: RunConfig['augment'] | null
  /** The batch's uint8 pixels (augmented), which a teacher outside the graph also needs. */
  augmented: Uint8Array | null
  /** Teacher answers by buffer; a teacher working aside starts on the next batch before this step. */
  teacherPending: (Promise<TeacherForward> | undefined)[]
  ahead: boolean
  cost: { waitMs: number; studentMs: number; steps: number }
  selectOnTest: boolean
  startEpoch: number
  best: BestSoFar
  /** A snapshot of the best epoch's weights (clones share the data; the variables move on). */
  bestWeights: tf.Tensor[] | null
  currentLr: number
  progress: { t0: number; samplesDone: number; lastProgress: number }
  /** Steps between readbacks of the loss and hits: 1 on CPU backends, more on a GPU (see StepStats). */
  statsReadEvery: number
}

export async function trainModel(args: TrainArgs): Promise<TestResult & { lastEpoch: number }> {
  const s = openSession(args)
  try {
    if (args.resumeFrom) await resumeSession(s, args.resumeFrom)
    s.progress.t0 = performance.now()
    for (let epoch = s.startEpoch + 1; epoch <= args.config.epochs; epoch++) await runEpoch(s, epoch)
    return await finalResult(s)
  } finally {
    s.optimizer.dispose()
    // MomentumOptimizer.dispose() forgets SGD's kept -lr scalar `c` (disposing twice is a no-op).
    ;(s.optimizer as unknown as { c?: tf.Tensor }).c?.dispose()
    if (s.bestWeights) tf.dispose(s.bestWeights)
  }
}

/** The session of a training call: optimizer, buffers and teacher, before any epoch ran. */
function openSession(args: TrainArgs): Session {
  const { model, data, config, loss } = args
  if (loss.needsTeacher && !args.teacher) throw new Error(`variant ${config.variant} needs a teacher model`)
  const teacher: TeacherSource | null =
    loss.needsTeacher && args.teacher
      ? isTeacherSource(args.teacher)
        ? args.teacher
        : tfjsTeacherSource(args.teacher)
      : null
  const { train } = data
  const [h, w, c] = train.shape
  const size = h * w * c
  const bs = Math.min(config.batchSize, train.n)
  const augment = augmentIsOff(config.augment) ? null : config.augment
  return {
    args,
    teacher,
    bs,
    stepsPerEpoch: Math.ceil(train.n / bs),
    size,
    optimizer: makeOptimizer(config).optimizer,
    vars: model.trainableWeights.map((wt) => wt.read() as tf.Variable),
    xsBuf: [new Float32Array(bs * size), new Float32Array(bs * size)],
    ysBuf: [new Int32Array(bs), new Int32Array(bs)],
    augment,
    augmented: augment || teacher ? new Uint8Array(bs * size) : null,
    teacherPending: [undefined, undefined],
    ahead: teacher?.runsAside === true,
    cost: { waitMs: 0, studentMs: 0, steps: 0 },
    selectOnTest: data.validation.n === 0,
    startEpoch: args.startEpoch ?? 0,
    best: { epoch: 0, score: -Infinity, valAccuracy: NaN },
    bestWeights: null,
    currentLr: baseLearningRate(config),
    progress: { t0: 0, samplesDone: 0, lastProgress: 0 },
    statsReadEvery: args.statsReadEvery ?? (tf.getBackend() === 'webgpu' ? GPU_STATS_READ_EVERY : 1),
  }
}

/** Loads a checkpoint's weights, optimizer state and best-so-far; training continues after its epoch. */
async function resumeSession(s: Session, file: string): Promise<void> {
  const { model } = s.args
  const ckpt = readCheckpoint(file)
  const values = readWeightsFor(model, file, ckpt)
  model.setWeights(values)
  tf.dispose(values)
  if (ckpt.optimizer) await loadOptimizerState(s.optimizer, ckpt, file)
  s.startEpoch = Number(ckpt.meta.epoch)
  if (!Number.isInteger(s.startEpoch) || s.startEpoch < 0) throw new Error(`${file}: no epoch in the header`)
  const saved = ckpt.meta.best as BestSoFar | undefined
  if (saved && saved.epoch > 0) {
    // JSON has no NaN: a missing validation accuracy comes back as null.
    s.best = {
      epoch: saved.epoch,
      score: Number(saved.score ?? NaN),
      valAccuracy: Number(saved.valAccuracy ?? NaN),
    }
    s.bestWeights = readBestWeights(model, dirname(file), saved.epoch)
  }
}

/**
 * The batch assembler of one epoch: `prepare(step)` fills buffer `step % 2` with the step's samples
 * (augmented, normalised) and starts the teacher on them. The shuffle and augmentation streams are
 * seeded by the run's seed and the epoch alone, so a resumed run repeats them.
 */
function batchPreparer(s: Session, epoch: number): (step: number) => void {
  const { data, config } = s.args
  const { train } = data
  // A fresh, seeded order each epoch; the same seed repeats the same orders.
  const order = permutation(train.n, createRng(deriveSeed(config.seed, `shuffle-epoch-${epoch}`)))
  const augRng = s.augment ? createRng(deriveSeed(config.seed, `augment-epoch-${epoch}`)) : null
  const { augment, augmented, teacher, bs, size } = s
  return (step) => {
    const start = step * bs
    const n = Math.min(bs, train.n - start)
    const idx = order.subarray(start, start + n)
    const xs = s.xsBuf[step % 2]!
    const ys = s.ysBuf[step % 2]!
    if (augmented) {
      if (augment && augRng) augmentBatch(train.images, idx, train.shape, augment, augRng, augmented)
      else gatherPixels(train, idx, augmented)
      normalisePixels(augmented, n * size, data.mean, data.std, xs)
      for (let i = 0; i < n; i++) ys[i] = train.labels[idx[i]!]!
    } else {
      fillBatch(train, idx, data.mean, data.std, xs, ys)
    }
    if (teacher) {
      const p = teacher.begin({ pixels: augmented!.subarray(0, n * size), n, indices: idx })
      p.catch(() => undefined) // awaited in its step; a cancelled run never awaits it
      s.teacherPending[step % 2] = p
    }
  }
}

/**
 * The steps' [loss, hits] on the device. On a GPU backend the running sums stay there and are read
 * back once every `statsReadEvery` steps and at the epoch's end, so a step never waits on a readback
 * (issue 21); on a CPU backend every step is read, as before, and the sums are exactly as before.
 */
interface StepStats {
  lossSum: number
  correct: number
  /** [sum of loss x n, hits] of the steps not read yet, on the device. */
  pending: tf.Tensor | null
  pendingSamples: number
  pendingSteps: number
}

/** Adds one step's [loss, hits] (disposing it); reads when due. Returns the mean loss read, or null. */
async function addStepStats(
  s: Session,
  st: StepStats,
  stats: tf.Tensor,
  at: { epoch: number; step: number; n: number; last: boolean },
): Promise<number | null> {
  const every = s.statsReadEvery
  if (every > 1) {
    const weighted = tf.tidy(() => tf.mul(stats, tf.tensor1d([at.n, 1])))
    stats.dispose()
    const old = st.pending
    st.pending = old ? tf.add(old, weighted) : weighted
    if (old) {
      old.dispose()
      weighted.dispose()
    }
    st.pendingSamples += at.n
    if (++st.pendingSteps < every && !at.last) return null
  }
  const t = every > 1 ? st.pending! : stats
  const [a, hits] = await t.data()
  t.dispose()
  const samples = every > 1 ? st.pendingSamples : at.n
  const meanLoss = every > 1 ? a! / samples : a!
  if (!Number.isFinite(meanLoss)) {
    const first = every > 1 ? at.step + 2 - st.pendingSteps : at.step + 1
    throw new NonFiniteLossError(at.epoch, at.step + 1, meanLoss, first)
  }
  st.lossSum += every > 1 ? a! : a! * at.n
  st.correct += hits!
  s.progress.samplesDone += samples
  Object.assign(st, { pending: null, pendingSamples: 0, pendingSteps: 0 })
  return meanLoss
}

/** One epoch: every step, then validation, best-epoch selection, hooks and checkpoints. */
async function runEpoch(s: Session, epoch: number): Promise<void> {
  const { config, signal, data } = s.args
  const { stepsPerEpoch, bs, teacher, ahead } = s
  const n0 = data.train.n
  const epochStart = performance.now()
  const prepare = batchPreparer(s, epoch)
  const st: StepStats = { lossSum: 0, correct: 0, pending: null, pendingSamples: 0, pendingSteps: 0 }
  prepare(0)
  try {
    for (let step = 0; step < stepsPerEpoch; step++) {
      if (signal?.aborted) throw new CancelledError()
      const n = Math.min(bs, n0 - step * bs)
      // The teacher of the next batch runs aside while this step trains.
      if (ahead && step + 1 < stepsPerEpoch) prepare(step + 1)
      const waitStart = performance.now()
      const teacherForward = teacher ? await s.teacherPending[step % 2] : undefined
      const stepStart = performance.now()
      s.cost.waitMs += stepStart - waitStart
      const lr = learningRateAt(config, (epoch - 1) * stepsPerEpoch + step, stepsPerEpoch)
      if (lr !== s.currentLr) {
        setLearningRate(s.optimizer, lr)
        s.currentLr = lr
      }
      const stats = trainStep(s, { epoch, step }, n, teacherForward)
      // The step's tensors are gone (tidy); the other buffer takes the next batch meanwhile.
      if (!ahead && step + 1 < stepsPerEpoch) prepare(step + 1)
      const meanLoss = await addStepStats(s, st, stats, { epoch, step, n, last: step === stepsPerEpoch - 1 })
      s.cost.studentMs += performance.now() - stepStart
      s.cost.steps++
      if (meanLoss !== null) reportProgress(s, epoch, step, meanLoss)
      await yieldToEventLoop()
    }
  } finally {
    st.pending?.dispose()
  }
  const { lossSum, correct } = st
  await endEpoch(s, epoch, { lossSum, correct, epochStart, trainMs: performance.now() - epochStart })
}

/**
 * One optimizer step on the batch in buffer `step % 2`: data loss (with the teacher's logits on the
 * same batch, in inference mode, outside the gradient) plus coupled L2. Returns [loss, hits] as one
 * tensor the caller reads back and disposes.
 */
function trainStep(
  s: Session,
  at: { epoch: number; step: number },
  n: number,
  teacherForward: TeacherForward | undefined,
): tf.Tensor {
  const { model, data, loss, config } = s.args
  const step = at.step
  // Epochs done counting this step (fractional), for losses that change with training (DKD's warm-up).
  const progress = { epoch: at.epoch - 1 + (step + 1) / s.stepsPerEpoch, epochs: config.epochs }
  const [h, w, c] = data.train.shape
  const { vars, size } = s
  const decay = config.weightDecay
  const xs = s.xsBuf[step % 2]!
  const ys = s.ysBuf[step % 2]!
  return tf.tidy(() => {
    const x = tf.tensor4d(xs.subarray(0, n * size), [n, h, w, c])
    const y = tf.tensor1d(ys.subarray(0, n), 'int32')
    // minimize() runs f in its own tidy: keep the two statistics past it, dispose them below.
    let hits: tf.Scalar | undefined
    let dataLoss: tf.Scalar | undefined
    // The teacher sees the same batch, in inference mode, outside the gradient.
    const teacherLogits = teacherForward?.logits(x)
    s.optimizer.minimize(
      () => {
        const logits = model.apply(x, { training: true }) as tf.Tensor2D
        dataLoss = tf.keep(loss({ logits, labels: y, numClasses: data.numClasses, teacherLogits, progress }))
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
}

/** Reports progress at most every `progressEveryMs`, and always at an epoch's last step. */
function reportProgress(s: Session, epoch: number, step: number, stepLoss: number): void {
  const { hooks, config } = s.args
  const { stepsPerEpoch, startEpoch, progress } = s
  const now = performance.now()
  const every = s.args.progressEveryMs ?? 250
  if (!hooks?.onProgress || !(now - progress.lastProgress >= every || step === stepsPerEpoch - 1)) return
  progress.lastProgress = now
  const totalSteps = (config.epochs - startEpoch) * stepsPerEpoch
  const doneSteps = (epoch - startEpoch - 1) * stepsPerEpoch + step + 1
  const elapsed = now - progress.t0
  const samplesPerSec = progress.samplesDone / (elapsed / 1000)
  hooks.onProgress({
    epoch,
    epochs: config.epochs,
    step: step + 1,
    stepsPerEpoch,
    fraction: (epoch - 1) / config.epochs + (step + 1) / stepsPerEpoch / config.epochs,
    loss: stepLoss,
    samplesPerSec,
    etaMs: doneSteps > 0 ? (elapsed / doneSteps) * (totalSteps - doneSteps) : null,
  })
}

/** After an epoch's steps: validation metrics, the best-epoch choice, the hooks and the checkpoints. */
async function endEpoch(
  s: Session,
  epoch: number,
  t: { lossSum: number; correct: number; epochStart: number; trainMs: number },
): Promise<void> {
  const { model, data, hooks } = s.args
  const { train } = data
  const val = await evaluate(model, data.validation, data)
  const metrics: EpochMetrics = {
    epoch,
    trainLoss: t.lossSum / train.n,
    trainAccuracy: t.correct / train.n,
    valLoss: val.loss,
    valAccuracy: val.accuracy,
    ...(val.n > 0 ? { valTop5: val.top5, valEce: val.ece } : {}),
    learningRate: s.currentLr,
    durationMs: performance.now() - t.epochStart,
    samplesPerSec: train.n / (t.trainMs / 1000),
  }
  // Without a validation split the best epoch is chosen on test (the repository's rule, flagged).
  const score = s.selectOnTest ? (await evaluate(model, data.test, data)).accuracy : val.accuracy
  const improved = !(score <= s.best.score)
  if (improved) {
    s.best = { epoch, score, valAccuracy: val.accuracy }
    if (s.bestWeights) tf.dispose(s.bestWeights)
    s.bestWeights = model.weights.map((wt) => tf.keep(tf.clone(wt.read())))
  }
  await hooks?.onEpoch?.(metrics, model)
  if (s.args.checkpoints) {
    const { dir, meta = {} } = s.args.checkpoints
    const best = s.best
    // best.tfkd first: a crash between the two files leaves the previous epoch's checkpoint,
    // whose best epoch still has its own epoch file (see readBestWeights).
    if (improved) await saveCheckpoint(model, join(dir, BEST_FILE), { ...meta, epoch, best })
    const path = epochFile(dir, epoch)
    const bytes = await saveCheckpoint(model, path, { ...meta, epoch, best }, { optimizer: s.optimizer })
    await hooks?.onCheckpoint?.({ epoch, path, bytes })
  }
}

/** The test split with the last and the best epoch's weights, and the teacher's cost per step. */
async function finalResult(s: Session): Promise<TestResult & { lastEpoch: number }> {
  const { model, data, config } = s.args
  const { best, bestWeights, teacher, cost } = s
  const lastEpoch = Math.max(s.startEpoch, config.epochs)
  const last = await evaluate(model, data.test, data)
  let bestReport = toEvalReport(lastEpoch, last)
  if (bestWeights && best.epoch !== lastEpoch) {
    const current = model.weights.map((wt) => tf.clone(wt.read()))
    try {
      model.setWeights(bestWeights)
      bestReport = toEvalReport(best.epoch, await evaluate(model, data.test, data))
    } finally {
      model.setWeights(current)
      tf.dispose(current)
    }
  }
  const selection: RunResultDetails['selection'] = s.selectOnTest
    ? 'test (no validation split)'
    : 'validation'
  const details: RunResultDetails = { best: bestReport, last: toEvalReport(lastEpoch, last), selection }
  if (teacher && cost.steps > 0) {
    const t = teacher.cost()
    details.teacherCost = {
      kind: teacher.kind,
      logits: teacher.mode,
      device: t.device,
      steps: cost.steps,
      // A cache's forward time was spent once, before training: spread over the steps.
      teacherForwardMsPerStep: t.forwardMs === null ? null : t.forwardMs / cost.steps,
      teacherWaitMsPerStep: cost.waitMs / cost.steps,
      studentStepMsPerStep: cost.studentMs / cost.steps,
      ...(teacher.cache ? { cache: teacher.cache } : {}),
    }
  }
  return {
    testLoss: last.loss,
    testAccuracy: last.accuracy,
    bestEpoch: best.epoch || lastEpoch,
    bestValAccuracy: best.valAccuracy,
    lastEpoch,
    details,
  }
}

/**
 * The best epoch's weights for a resumed run: `best.tfkd` when it holds that epoch, else that
 * epoch's own checkpoint file.
 */
function readBestWeights(model: tfl.LayersModel, dir: string, epoch: number): tf.Tensor[] {
  const bestPath = join(dir, BEST_FILE)
  if (existsSync(bestPath)) {
    const c = readCheckpoint(bestPath)
    if (Number(c.meta.epoch) === epoch) return readWeightsFor(model, bestPath, c).map((t) => tf.keep(t))
  }
  const own = epochFile(dir, epoch)
  if (existsSync(own)) return readWeightsFor(model, own).map((t) => tf.keep(t))
  throw new Error(`cannot resume: the best epoch's (${epoch}) weights are in neither ${bestPath} nor ${own}`)
}
