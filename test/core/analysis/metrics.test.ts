import { describe, expect, it } from 'vitest'
import {
  classificationMetrics,
  expectedCalibrationError,
  MetricsAccumulator,
  negativeLogLikelihood,
  softmax,
  top1Accuracy,
  top5Accuracy,
} from '../../../src/core/analysis/metrics'
import { createRng } from '../../../src/core/random'

describe('classification metrics', () => {
  it('top-1, top-5, per-class accuracy and confusion on a hand-made case', () => {
    // 6 classes, 3 samples
    const logits = Float32Array.from([
      // label 0, predicted 0
      5, 1, 0, 0, 0, 0,
      // label 1, predicted 0; label is 2nd: top-5 hit
      3, 2, 0, 0, 0, 0,
      // label 5, ranked last (5 classes above): top-5 miss
      6, 5, 4, 3, 2, 1,
    ])
    const labels = Int32Array.from([0, 1, 5])
    const m = classificationMetrics(logits, labels, 6)
    expect(m.n).toBe(3)
    expect(m.accuracy).toBeCloseTo(1 / 3, 12)
    expect(m.top5).toBeCloseTo(2 / 3, 12)
    expect(m.perClassAccuracy).toEqual([1, 0, 0, 0, 0, 0])
    expect(m.confusion[0]![0]).toBe(1)
    expect(m.confusion[1]![0]).toBe(1)
    expect(m.confusion[5]![0]).toBe(1)
    expect(m.confusion.flat().reduce((a, b) => a + b, 0)).toBe(3)
    expect(top1Accuracy(logits, labels, 6)).toBeCloseTo(1 / 3, 12)
    expect(top5Accuracy(logits, labels, 6)).toBeCloseTo(2 / 3, 12)
  })

  it('top-5 with fewer than 5 classes counts every sample', () => {
    const m = classificationMetrics(Float32Array.from([0, 1, 2, 3, 2, 1]), [0, 2], 3)
    expect(m.top5).toBe(1)
  })

  it('NLL equals the mean -log softmax, also from probabilities', () => {
    const rng = createRng(4)
    const n = 50
    const C = 7
    const logits = Float32Array.from({ length: n * C }, () => (rng() - 0.5) * 10)
    const labels = Int32Array.from({ length: n }, () => Math.floor(rng() * C))
    const probs = softmax(logits, C)
    let expected = 0
    for (let i = 0; i < n; i++) expected -= Math.log(probs[i * C + labels[i]!]!)
    expected /= n
    expect(negativeLogLikelihood(logits, labels, C)).toBeCloseTo(expected, 5)
    expect(negativeLogLikelihood(probs, labels, C, 'probabilities')).toBeCloseTo(expected, 5)
    const fromProbs = classificationMetrics(probs, labels, C, { kind: 'probabilities' })
    const fromLogits = classificationMetrics(logits, labels, C)
    expect(fromProbs.accuracy).toBe(fromLogits.accuracy)
    expect(fromProbs.ece).toBeCloseTo(fromLogits.ece, 5)
    // stable for huge logits
    expect(negativeLogLikelihood([1000, 0], [1], 2)).toBeCloseTo(1000, 6)
  })

  it('ECE with 15 equal-width bins: hand-computed', () => {
    // probabilities of 2 classes; confidences 0.95 (two samples, one right) and 0.6 (right)
    const probs = [0.95, 0.05, 0.95, 0.05, 0.4, 0.6]
    const labels = [0, 1, 1]
    const m = classificationMetrics(probs, labels, 2, { kind: 'probabilities' })
    // bin (14/15, 1]: conf 0.95, acc 0.5 ; bin (8/15, 9/15]: conf 0.6, acc 1
    const expected = (2 / 3) * Math.abs(0.5 - 0.95) + (1 / 3) * Math.abs(1 - 0.6)
    expect(m.ece).toBeCloseTo(expected, 12)
    expect(m.reliability.bins).toBe(15)
    expect(m.reliability.counts[14]).toBe(2)
    expect(m.reliability.counts[8]).toBe(1)
    expect(m.reliability.counts.reduce((a, b) => a + b, 0)).toBe(3)
    expect(m.reliability.confidence[14]).toBeCloseTo(0.95, 12)
    expect(m.reliability.accuracy[14]).toBeCloseTo(0.5, 12)
    expect(m.reliability.confidence[0]).toBe(0)
    expect(expectedCalibrationError(probs, labels, 2, { kind: 'probabilities' })).toBeCloseTo(expected, 12)
  })

  it('a perfectly calibrated confident model has ECE 0', () => {
    const m = classificationMetrics([1, 0, 0, 1], [0, 1], 2, { kind: 'probabilities' })
    expect(m.ece).toBe(0)
    expect(m.accuracy).toBe(1)
  })

  it('batch-wise accumulation equals one pass; empty gives NaN', () => {
    const rng = createRng(8)
    const n = 97
    const C = 10
    const logits = Float32Array.from({ length: n * C }, () => rng() * 4)
    const labels = Int32Array.from({ length: n }, () => Math.floor(rng() * C))
    const acc = new MetricsAccumulator(C)
    for (let s = 0; s < n; s += 20) {
      const e = Math.min(n, s + 20)
      acc.add(logits.subarray(s * C, e * C), labels.subarray(s, e))
    }
    const a = acc.result()
    const b = classificationMetrics(logits, labels, C)
    expect(a.accuracy).toBe(b.accuracy)
    expect(a.confusion).toEqual(b.confusion)
    expect(a.loss).toBeCloseTo(b.loss, 12)
    expect(a.ece).toBeCloseTo(b.ece, 12)
    const empty = new MetricsAccumulator(3).result()
    expect(empty.n).toBe(0)
    expect(empty.accuracy).toBeNaN()
    expect(empty.loss).toBeNaN()
    expect(empty.top5).toBeNaN()
    expect(empty.ece).toBeNaN()
    expect(empty.perClassAccuracy).toEqual([0, 0, 0])
  })

  it('rejects labels out of range', () => {
    expect(() => classificationMetrics([0, 1], [2], 2)).toThrow('out of range')
  })
})
