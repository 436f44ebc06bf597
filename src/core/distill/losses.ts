/**
 * Training losses of the variants. The seven of the Tf-KD paper take the form of the authors'
 * repository by default (docs/method-spec.md): KL with PyTorch's `elementwise_mean` (sum / (N*K)), T^2 where the
 * repository has it, the multiplier m, and the virtual teacher v = softmax(p_d / T) of tfkd-reg.
 * The later logit baselines (dkd, dist, logit standardization) are in logit-baselines.ts.
 *
 * Shapes: logits and teacher logits [N, K] float32, labels [N] int32; every loss returns a scalar.
 * Teacher logits are constants here: the caller computes them with the frozen teacher in inference
 * mode, and differentiates only the student's variables, so no gradient reaches the teacher.
 */
import * as tf from '@tensorflow/tfjs-core'
// tfjs-core alone registers no gradients; tfjs-layers' entry point registers them all. Import it for that
// side effect (not tfjs-core's deep `dist/register_all_gradients`: an ESM file that plain Node cannot
// load, and a second copy of the engine next to the CommonJS one).
import '@tensorflow/tfjs-layers'
import { VARIANT_IDS, type VariantId } from '../../shared/types'
import { dkdTerm, dkdWarmup, distTerm, standardizeLogits, type TrainingProgress } from './logit-baselines'
import {
  resolveVariantParams,
  VARIANTS,
  type TeacherKind,
  type KlReduction,
  type VariantParams,
  type VariantParamsInput,
} from '../../shared/variants'

export interface LossInputs {
  /** Student logits [N, K]. */
  logits: tf.Tensor2D
  /** Integer labels [N]. */
  labels: tf.Tensor1D
  numClasses: number
  /** Frozen teacher's logits [N, K] on the same (augmented) batch; required by every variant with a teacher. */
  teacherLogits?: tf.Tensor2D
  /** How far training is (DKD's warm-up reads it); absent outside training: the steady state. */
  progress?: TrainingProgress
}

/** A variant's loss with its resolved hyperparameters. Call it inside tf.tidy / optimizer.minimize. */
export interface DistillLoss<Id extends string = VariantId, P extends object = VariantParams> {
  (args: LossInputs): tf.Scalar
  readonly variant: Id
  readonly params: Readonly<P>
  readonly needsTeacher: boolean
}

/** Mean softmax cross-entropy over the batch, from integer labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, numClasses: number): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits)
    const onehot = tf.oneHot(labels, numClasses)
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), -1))) as tf.Scalar
  })
}

/** -mean_i sum_k target_ik log softmax(z)_ik for a soft target [N, K]. */
function softCrossEntropy(logits: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1))) as tf.Scalar
}

/**
 * KL(P || Q) with P = exp(logP), Q = exp(logQ), both [N, K] log-probabilities, summed then divided by
 * N*K (`elementwise_mean`) or N (`batchmean`). Using log-probabilities for P avoids 0 * log 0 when a
 * softmax underflows in float32; P's term is constant for the student but kept so the value is a KL.
 */
export function klDivergence(logP: tf.Tensor2D, logQ: tf.Tensor2D, reduction: KlReduction): tf.Scalar {
  return tf.tidy(() => {
    const [n, k] = logP.shape
    const total = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)))
    return tf.div(total, reduction === 'batchmean' ? n : n * k) as tf.Scalar
  })
}

/**
 * The virtual teacher of tfkd-reg as log-probabilities [N, K]: p_d = a on the label and (1-a)/(K-1)
 * elsewhere, then v = softmax(p_d / T) (the repository treats the probabilities as logits).
 */
export function virtualTeacherLogProbs(
  labels: tf.Tensor1D,
  numClasses: number,
  correctProb: number,
  temperature: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const off = (1 - correctProb) / (numClasses - 1)
    const onehot = tf.cast(tf.oneHot(labels, numClasses), 'float32')
    const pd = tf.add(tf.mul(onehot, correctProb - off), off)
    return tf.logSoftmax(tf.div(pd, temperature)) as tf.Tensor2D
  })
}

/** Smoothed one-hot targets of lsr: 1-eps on the label, eps/(K-1) on every other class. */
function smoothedTargets(labels: tf.Tensor1D, numClasses: number, epsilon: number): tf.Tensor2D {
  const off = epsilon / (numClasses - 1)
  return tf.add(
    tf.mul(tf.cast(tf.oneHot(labels, numClasses), 'float32'), 1 - epsilon - off),
    off,
  ) as tf.Tensor2D
}

function checkShapes(variant: string, { logits, labels, numClasses, teacherLogits }: LossInputs): void {
  if (logits.rank !== 2 || logits.shape[1] !== numClasses) {
    throw new Error(
      `${variant} loss: expected logits [N, ${numClasses}], received [${logits.shape.join(', ')}]`,
    )
  }
  if (labels.shape[0] !== logits.shape[0]) {
    throw new Error(
      `${variant} loss: expected ${logits.shape[0]} labels (one per logit row), received ${labels.shape[0]}`,
    )
  }
  if (
    teacherLogits &&
    (teacherLogits.shape[0] !== logits.shape[0] || teacherLogits.shape[1] !== numClasses)
  ) {
    throw new Error(
      `${variant} loss: expected teacher logits [${logits.shape.join(', ')}], received [${teacherLogits.shape.join(', ')}]`,
    )
  }
}

function requireTeacher(variant: string, teacherLogits: tf.Tensor2D | undefined): tf.Tensor2D {
  if (!teacherLogits) {
    throw new Error(`${variant} loss: needs teacherLogits [N, K] from the frozen teacher, received none`)
  }
  return teacherLogits
}

type Impl<V extends VariantId> = (p: VariantParams<V>, a: LossInputs, v: V) => tf.Scalar

/** Student and teacher logits of a distillation term: z-scored per row when `standardize` is on. */
function distillLogits(
  a: LossInputs,
  t: tf.Tensor2D,
  standardize: boolean | undefined,
): [tf.Tensor2D, tf.Tensor2D] {
  return standardize ? [standardizeLogits(a.logits), standardizeLogits(t)] : [a.logits, t]
}

/**
 * Shared by kd, re-kd, de-kd, tfkd-self and kd-std: (1-a) CE + a T^2 m KL(softmax_T(t) || softmax_T(z)),
 * on z-scored logits in the KL term when `standardize` is on (CE keeps the raw logits).
 */
function teacherKd(
  p: {
    alpha: number
    temperature: number
    reduction: KlReduction
    multiplier?: number
    standardize?: boolean
  },
  a: LossInputs,
  variant: VariantId,
): tf.Scalar {
  const [z, t] = distillLogits(a, requireTeacher(variant, a.teacherLogits), p.standardize)
  const T = p.temperature
  const kl = klDivergence(
    tf.logSoftmax(tf.div(t, T)) as tf.Tensor2D,
    tf.logSoftmax(tf.div(z, T)) as tf.Tensor2D,
    p.reduction,
  )
  const ce = crossEntropy(a.logits, a.labels, a.numClasses)
  return tf.add(tf.mul(ce, 1 - p.alpha), tf.mul(kl, p.alpha * T * T * (p.multiplier ?? 1))) as tf.Scalar
}

const IMPLS: { [V in VariantId]: Impl<V> } = {
  baseline: (_p, a) => crossEntropy(a.logits, a.labels, a.numClasses),
  lsr: (p, a) => softCrossEntropy(a.logits, smoothedTargets(a.labels, a.numClasses, p.epsilon)),
  kd: teacherKd,
  're-kd': teacherKd,
  'de-kd': teacherKd,
  'tfkd-self': teacherKd,
  'tfkd-reg': (p, a) => {
    // Teacher logits, if given, are ignored: the teacher is hand-made (as in the repository).
    const T = p.temperature
    const logV = virtualTeacherLogProbs(a.labels, a.numClasses, p.correctProb, T)
    const student = p.studentTemperature === 'tau' ? tf.div(a.logits, T) : a.logits
    const kl = klDivergence(logV, tf.logSoftmax(student) as tf.Tensor2D, p.reduction)
    const ce = crossEntropy(a.logits, a.labels, a.numClasses)
    return tf.add(tf.mul(ce, 1 - p.alpha), tf.mul(kl, p.alpha * p.multiplier)) as tf.Scalar
  },
  dkd: (p, a, v) => {
    const [z, t] = distillLogits(a, requireTeacher(v, a.teacherLogits), p.standardize)
    const kd = dkdTerm(z, t, a.labels, p)
    const ce = crossEntropy(a.logits, a.labels, a.numClasses)
    return tf.add(ce, tf.mul(kd, dkdWarmup(p.warmupEpochs, a.progress))) as tf.Scalar
  },
  dist: (p, a, v) => {
    const kd = distTerm(a.logits, requireTeacher(v, a.teacherLogits), p)
    return tf.add(crossEntropy(a.logits, a.labels, a.numClasses), kd) as tf.Scalar
  },
  'kd-std': teacherKd,
}

/**
 * One variant as the loss registry holds it: its declared teacher kind (`VARIANTS`), how its
 * hyperparameters are validated and completed (`VARIANT_PARAMS` through `resolveVariantParams`) and
 * its loss (`IMPLS`). `makeLossIn` takes a table of these so a test can follow docs/extending.md's
 * variant recipe with a test-only variant.
 */
export interface LossEntry<Id extends string = VariantId, P extends object = VariantParams> {
  teacher: TeacherKind
  resolve(input: unknown, model?: string): P
  // Method syntax on purpose: each real impl takes its own variant's params (a narrower P).
  impl(params: P, args: LossInputs, variant: Id): tf.Scalar
}

const lossEntryOf = <V extends VariantId>(v: V): LossEntry<V, VariantParams<V>> => ({
  teacher: VARIANTS[v].teacher,
  resolve: (input, model) => resolveVariantParams(v, input, model),
  impl: IMPLS[v],
})

/** The real loss registry: every registered variant (the table `makeLoss` reads). */
// Built from VARIANT_IDS, the one list of ids: a new variant needs its IMPLS entry (a compile error
// until it has one) and nothing here.
export const LOSS_REGISTRY = Object.fromEntries(VARIANT_IDS.map((v) => [v, lossEntryOf(v)])) as {
  readonly [V in VariantId]: LossEntry<V, VariantParams<V>>
}

/**
 * Builds the loss of `variant` with its hyperparameters validated and completed with the defaults of
 * src/shared/variants.ts (and the repository's per-model values when `model` is given).
 */
export function makeLoss<V extends VariantId>(
  variant: V,
  params: VariantParamsInput<V> | Record<string, unknown> = {},
  model?: string,
): DistillLoss {
  return makeLossIn(LOSS_REGISTRY, variant, params, model)
}

/**
 * `makeLoss` over `table` (the path `makeLoss` takes with `LOSS_REGISTRY`): resolves the
 * hyperparameters, checks shapes on every call, runs the loss inside `tf.tidy`, and says whether it
 * needs teacher logits from its declared teacher kind.
 */
export function makeLossIn<
  T extends { readonly [id: string]: LossEntry<string, object> },
  Id extends keyof T & string,
>(
  table: T,
  variant: Id,
  params: unknown = {},
  model?: string,
): DistillLoss<Id, ReturnType<T[Id]['resolve']>> {
  const entry = table[variant]
  if (!entry)
    throw new Error(`unknown variant "${variant}"; expected one of ${Object.keys(table).join(', ')}`)
  const resolved = entry.resolve(params, model)
  const fn = (args: LossInputs): tf.Scalar => {
    checkShapes(variant, args)
    return tf.tidy(() => entry.impl(resolved, args, variant))
  }
  return Object.assign(fn, {
    variant,
    params: Object.freeze({ ...resolved }),
    needsTeacher: entry.teacher !== 'none',
  }) as DistillLoss<Id, ReturnType<T[Id]['resolve']>>
}
