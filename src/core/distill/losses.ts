/**
 * Training losses by variant. The foundation ships `baseline` (cross-entropy); the distillation
 * variants plug in here without touching the training loop.
 */
import * as tf from '@tensorflow/tfjs-core'
import type { VariantId } from '../../shared/types'

/** logits [N, K] float32, labels [N] int32 -> scalar mean loss. */
export type LossFn = (logits: tf.Tensor2D, labels: tf.Tensor1D, numClasses: number) => tf.Scalar

/** Mean softmax cross-entropy over the batch, from integer labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, numClasses: number): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits)
    const onehot = tf.oneHot(labels, numClasses)
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), -1))) as tf.Scalar
  })
}

export const LOSSES: Partial<Record<VariantId, LossFn>> = {
  baseline: crossEntropy,
}

export function lossFor(variant: VariantId): LossFn {
  const fn = LOSSES[variant]
  if (!fn) throw new Error(`variant "${variant}" is not available yet in this build (available: ${Object.keys(LOSSES).join(', ')})`)
  return fn
}
