/**
 * The K-dependence of the repository's hyperparameters: the effective weights the picker shows, the
 * K-matched values, and a check against the real TF.js losses that Tf-KD reg is label smoothing with
 * the stated eps (its gradient is that of CE against the smoothed target, scaled).
 */
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/core/backend/ladder'
import { makeLoss } from '../../src/core/distill/losses'
import {
  describeK,
  effectiveDistillWeight,
  effectiveSmoothing,
  kDependenceWarnings,
  kMatchedParams,
  virtualTeacherTrueProb,
} from '../../src/shared/k-dependence'
import { resolveVariantParams } from '../../src/shared/variants'

beforeAll(async () => {
  await loadBackend({ pin: 'cpu' })
})

describe('K-dependence of the repository hyperparameters', () => {
  it('gives the issue figures: KD weight 38 at K = 10 (3.8 at 100); Tf-KD reg eps 0.59 (0.16 at 100)', () => {
    const kd = resolveVariantParams('kd', {})
    expect(effectiveDistillWeight('kd', kd, 10)).toBeCloseTo(38, 10)
    expect(effectiveDistillWeight('kd', kd, 100)).toBeCloseTo(3.8, 10)
    const reg = resolveVariantParams('tfkd-reg', {}, 'mobilenetv2') // T = 40
    expect(effectiveSmoothing('tfkd-reg', reg, 10)).toBeCloseTo(0.588, 3)
    expect(effectiveSmoothing('tfkd-reg', reg, 100)).toBeCloseTo(0.158, 3)
    expect(effectiveSmoothing('lsr', resolveVariantParams('lsr', {}), 10)).toBe(0.1)
    expect(virtualTeacherTrueProb(0.99, 20, 100)).toBeCloseTo(0.010502, 6) // the spec's figure
    expect(effectiveDistillWeight('kd', { ...kd, reduction: 'batchmean' }, 10)).toBeCloseTo(380, 9)
  })

  it('K-matched values keep the weights of K = 100, one click from the repository form', () => {
    const kd = resolveVariantParams('kd', {})
    const matched = kMatchedParams('kd', kd, 10)
    expect(matched.multiplier).toBeCloseTo(0.1, 12)
    expect(effectiveDistillWeight('kd', matched, 10)).toBeCloseTo(3.8, 10)
    const reg = resolveVariantParams('tfkd-reg', {}, 'mobilenetv2')
    const d = describeK('tfkd-reg', kMatchedParams('tfkd-reg', reg, 10), 10)
    expect(d.weight).toBeCloseTo(describeK('tfkd-reg', reg, 100).weight!, 12)
    expect(d.smoothing!).toBeGreaterThan(0.13)
    expect(d.smoothing!).toBeLessThan(0.16)
    expect(kMatchedParams('lsr', { epsilon: 0.1 }, 10)).toEqual({ epsilon: 0.1 })
  })

  it("Tf-KD reg's gradient is CE's against the eps-smoothed target (real TF.js loss)", () => {
    const k = 10
    const p = resolveVariantParams('tfkd-reg', {}, 'mobilenetv2')
    const loss = makeLoss('tfkd-reg', p)
    const logits = tf.tensor2d([[0.3, -1.2, 2.0, 0.1, 0.0, -0.5, 1.1, 0.7, -2.0, 0.4]])
    const labels = tf.tensor1d([2], 'int32')
    const g = tf.grad((z: tf.Tensor) => loss({ logits: z as tf.Tensor2D, labels, numClasses: k }))(logits)
    const grad = g.arraySync() as number[][]
    const prob = tf.softmax(logits).arraySync()[0]!
    const alpha = p.alpha
    const w = effectiveDistillWeight('tfkd-reg', p, k)!
    const eps = effectiveSmoothing('tfkd-reg', p, k)!
    // target: 1 - eps on the label; the rest spread as the virtual teacher spreads it (uniformly)
    const target = prob.map((_, j) => (j === 2 ? 1 - eps : eps / (k - 1)))
    prob.forEach((pj, j) => expect(grad[0]![j]!).toBeCloseTo((1 - alpha + w) * (pj - target[j]!), 6))
    tf.dispose([logits, labels, g])
  })

  it('warns when a comparison mixes very different smoothing strengths or weight forms', () => {
    const reg = resolveVariantParams('tfkd-reg', {}, 'mobilenetv2')
    const lsr = resolveVariantParams('lsr', {})
    const kd = resolveVariantParams('kd', {})
    const w = kDependenceWarnings(
      [
        { variant: 'tfkd-reg', variantParams: reg },
        { variant: 'lsr', variantParams: lsr },
      ],
      10,
    )
    expect(w.join(' ')).toMatch(
      /Tf-KD reg acts as label smoothing with eps = 0\.59 while LSR uses eps = 0\.10/,
    )
    expect(
      kDependenceWarnings(
        [
          { variant: 'tfkd-reg', variantParams: reg },
          { variant: 'lsr', variantParams: lsr },
        ],
        100,
      ),
    ).toEqual([])
    const mixed = kDependenceWarnings(
      [
        { variant: 'kd', variantParams: kd },
        {
          variant: 'tfkd-self',
          variantParams: kMatchedParams('tfkd-self', resolveVariantParams('tfkd-self', {}), 10),
        },
      ],
      10,
    )
    expect(mixed.join(' ')).toMatch(/mix the repository's multipliers with rescaled \(K-matched\) ones/)
  })
})
