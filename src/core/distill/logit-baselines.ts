/**
 * The logit-distillation baselines published after Tf-KD, as TF.js ops (any backend): DKD (Zhao et
 * al., CVPR 2022, mdistiller), DIST (Huang et al., NeurIPS 2022, torchdistill) and logit
 * standardization (Sun et al., CVPR 2024), which the KD family and DKD take as a switch.
 *
 * Each follows its reference code's formula (restated in src/shared/variants.ts and checked against
 * PyTorch float64 values by test/core/distill/losses.test.ts), computed from log-probabilities where
 * the reference takes the log of a softmax, so that float32 underflow gives 0 * finite, never 0 * -inf.
 */
import * as tf from '@tensorflow/tfjs-core'
import { DKD_REFERENCE_EPOCHS } from '../../shared/variants'

/** The offset the reference subtracts from the target logit to leave it out of a softmax. */
const MASK = 1000

/**
 * Logit standardization: each row's z-score, (x - mean) / (std + 1e-7), with the unbiased standard
 * deviation (PyTorch's `std` default, as in the reference).
 */
export function standardizeLogits(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const k = x.shape[1]
    const centred = tf.sub(x, tf.mean(x, -1, true))
    const std = tf.sqrt(tf.div(tf.sum(tf.square(centred), -1, true), Math.max(k - 1, 1)))
    return tf.div(centred, tf.add(std, 1e-7)) as tf.Tensor2D
  })
}

/** How far training is: `epoch` epochs done counting the current step (fractional), of `epochs`. */
export interface TrainingProgress {
  epoch: number
  epochs: number
}

/**
 * DKD's warm-up factor w = min(e / W, 1), W = warmupEpochs x min(1, E / 240) (the reference's
 * warm-up as the same fraction of a shorter schedule). Without progress (a loss evaluated outside
 * training, the golden cases) w = 1.
 */
export function dkdWarmup(warmupEpochs: number, progress: TrainingProgress | undefined): number {
  if (!progress || warmupEpochs <= 0) return 1
  const w = warmupEpochs * Math.min(1, progress.epochs / DKD_REFERENCE_EPOCHS)
  return w > 0 ? Math.min(progress.epoch / w, 1) : 1
}

/**
 * DKD's distillation term alpha TCKD + beta NCKD (without CE and warm-up). With p = softmax(z / T),
 * q = softmax(t / T) and the binary split b = (p_y, 1 - p_y): TCKD = T^2 KL(b_q || b_p), NCKD = T^2
 * KL(softmax(t / T - 1000 onehot) || softmax(z / T - 1000 onehot)), each summed over its entries and
 * averaged over the batch.
 */
export function dkdTerm(
  z: tf.Tensor2D,
  t: tf.Tensor2D,
  labels: tf.Tensor1D,
  p: { alpha: number; beta: number; temperature: number },
): tf.Scalar {
  return tf.tidy(() => {
    const T = p.temperature
    const [n, k] = z.shape
    const onehot = tf.cast(tf.oneHot(labels, k), 'float32')
    const zs = tf.div(z, T)
    const ts = tf.div(t, T)
    const zMasked = tf.sub(zs, tf.mul(onehot, MASK))
    const tMasked = tf.sub(ts, tf.mul(onehot, MASK))
    // log p_y and log (1 - p_y) = logsumexp over the other classes - logsumexp over all.
    const split = (all: tf.Tensor, masked: tf.Tensor) => {
      const lseAll = tf.logSumExp(all, -1)
      const target = tf.sub(tf.sum(tf.mul(onehot, all), -1), lseAll)
      const other = tf.sub(tf.logSumExp(masked, -1), lseAll)
      return [target, other] as const
    }
    const [sT, sO] = split(zs, zMasked)
    const [tT, tO] = split(ts, tMasked)
    const tckd = tf.add(tf.mul(tf.exp(tT), tf.sub(tT, sT)), tf.mul(tf.exp(tO), tf.sub(tO, sO)))
    const logQ2 = tf.logSoftmax(tMasked)
    const nckd = tf.sum(tf.mul(tf.exp(logQ2), tf.sub(logQ2, tf.logSoftmax(zMasked))), -1)
    const perSample = tf.add(tf.mul(tckd, p.alpha), tf.mul(nckd, p.beta))
    return tf.mul(tf.div(tf.sum(perSample), n), T * T) as tf.Scalar
  })
}

/**
 * Mean Pearson correlation between the rows of a and b [N, K], as the reference computes it: the
 * cosine of the mean-centred rows with eps 1e-8 in the denominator. The norms carry 1e-30 under the
 * root so that a constant row (a batch of one, for the columns) has gradient 0, as in PyTorch, not NaN.
 */
function meanPearson(a: tf.Tensor2D, b: tf.Tensor2D): tf.Scalar {
  const ca = tf.sub(a, tf.mean(a, 1, true))
  const cb = tf.sub(b, tf.mean(b, 1, true))
  const norm = (x: tf.Tensor) => tf.sqrt(tf.add(tf.sum(tf.square(x), 1), 1e-30))
  const cos = tf.div(tf.sum(tf.mul(ca, cb), 1), tf.add(tf.mul(norm(ca), norm(cb)), 1e-8))
  return tf.mean(cos)
}

/**
 * DIST's distillation term T^2 (beta inter + gamma intra): inter = 1 - mean Pearson over the rows of
 * softmax(z / T) and softmax(t / T), intra = the same over the columns (each class across the batch).
 */
export function distTerm(
  z: tf.Tensor2D,
  t: tf.Tensor2D,
  p: { beta: number; gamma: number; temperature: number },
): tf.Scalar {
  return tf.tidy(() => {
    const T = p.temperature
    const ys = tf.softmax(tf.div(z, T)) as tf.Tensor2D
    const yt = tf.softmax(tf.div(t, T)) as tf.Tensor2D
    const inter = tf.sub(1, meanPearson(ys, yt))
    const intra = tf.sub(1, meanPearson(tf.transpose(ys), tf.transpose(yt)))
    return tf.mul(tf.add(tf.mul(inter, p.beta), tf.mul(intra, p.gamma)), T * T) as tf.Scalar
  })
}
