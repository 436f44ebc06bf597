/**
 * Classification metrics in plain TypeScript, on logits or probabilities read back from the model
 * (row-major Float32Array, n x numClasses) and integer labels. Everything is computed in float64 and
 * can be accumulated batch by batch (`MetricsAccumulator`), so an evaluation never holds the whole
 * split's outputs.
 *
 * Definitions:
 * - top-1: the prediction is the first index of the largest score (argmax); accuracy = mean(pred == y).
 * - top-k (k = 5, or numClasses if smaller): y counts as a hit when fewer than k classes score strictly
 *   higher than y (ties favour the label; top-1 hits are always top-k hits).
 * - NLL: mean of -log softmax(logits)[y] (log-sum-exp, stable); from probabilities, -log max(p[y], 1e-12).
 * - Confidence: the largest softmax probability of a sample.
 * - ECE: 15 equal-width confidence bins (0, 1/15], (1/15, 2/15], ..., (14/15, 1] (confidence 0 goes to the
 *   first bin), ECE = sum_b (n_b / n) |accuracy_b - mean confidence_b| (Guo et al., 2017).
 * - Reliability bins: the same bins' counts, mean confidence and accuracy; an empty bin reports 0
 *   for both (its count says it is empty).
 * - Per-class accuracy: recall of each true class; a class absent from the split reports 0 (its
 *   confusion row sums to 0).
 * - confusion[true][predicted] = count.
 * With n = 0, loss, accuracy, top5 and ece are NaN.
 */

export const DEFAULT_ECE_BINS = 15

import type { ClassificationMetrics, ReliabilityBins } from '../../shared/types'

export type { ClassificationMetrics, ReliabilityBins }

export type ScoreKind = 'logits' | 'probabilities'

export class MetricsAccumulator {
  private n = 0
  private nllSum = 0
  private top1 = 0
  private topK = 0
  private readonly k: number
  private readonly confusion: Float64Array
  private readonly binCount: Float64Array
  private readonly binConf: Float64Array
  private readonly binHits: Float64Array

  constructor(
    readonly numClasses: number,
    readonly bins = DEFAULT_ECE_BINS,
    k = 5,
  ) {
    if (!(numClasses >= 1)) throw new Error(`numClasses must be >= 1, got ${numClasses}`)
    if (!(bins >= 1)) throw new Error(`bins must be >= 1, got ${bins}`)
    this.k = Math.min(k, numClasses)
    this.confusion = new Float64Array(numClasses * numClasses)
    this.binCount = new Float64Array(bins)
    this.binConf = new Float64Array(bins)
    this.binHits = new Float64Array(bins)
  }

  /**
   * Adds `n` rows (default labels.length) of scores. Labels outside [0, numClasses) throw.
   */
  add(
    scores: ArrayLike<number>,
    labels: ArrayLike<number>,
    kind: ScoreKind = 'logits',
    n = labels.length,
  ): void {
    const C = this.numClasses
    if (scores.length < n * C) throw new Error(`scores has ${scores.length} values, expected ${n} x ${C}`)
    for (let i = 0; i < n; i++) {
      const y = labels[i]!
      if (!(y >= 0 && y < C && Number.isInteger(y))) throw new Error(`label ${y} out of range [0, ${C})`)
      const row = i * C
      // Argmax (first of ties) and the rank of the label.
      let pred = 0
      let best = scores[row]!
      for (let j = 1; j < C; j++) {
        const s = scores[row + j]!
        if (s > best) {
          best = s
          pred = j
        }
      }
      const sy = scores[row + y]!
      let above = 0
      for (let j = 0; j < C; j++) if (scores[row + j]! > sy) above++
      let conf: number
      let nll: number
      if (kind === 'logits') {
        let sum = 0
        for (let j = 0; j < C; j++) sum += Math.exp(scores[row + j]! - best)
        conf = 1 / sum
        nll = Math.log(sum) - (sy - best)
      } else {
        conf = best
        nll = -Math.log(Math.max(sy, 1e-12))
      }
      const hit = pred === y ? 1 : 0
      this.n++
      this.nllSum += nll
      this.top1 += hit
      if (above < this.k) this.topK++
      this.confusion[y * C + pred]!++
      const b = Math.min(this.bins - 1, Math.max(0, Math.ceil(conf * this.bins) - 1))
      this.binCount[b]!++
      this.binConf[b]! += conf
      this.binHits[b]! += hit
    }
  }

  result(): ClassificationMetrics {
    const C = this.numClasses
    const n = this.n
    const confusion: number[][] = []
    const perClassAccuracy: number[] = []
    for (let t = 0; t < C; t++) {
      const row = Array.from(this.confusion.subarray(t * C, (t + 1) * C))
      const total = row.reduce((a, b) => a + b, 0)
      confusion.push(row)
      perClassAccuracy.push(total > 0 ? row[t]! / total : 0)
    }
    const counts = Array.from(this.binCount)
    const confidence = counts.map((c, b) => (c > 0 ? this.binConf[b]! / c : 0))
    const accuracy = counts.map((c, b) => (c > 0 ? this.binHits[b]! / c : 0))
    let ece = 0
    for (let b = 0; b < this.bins; b++) {
      if (counts[b]! > 0) ece += (counts[b]! / n) * Math.abs(accuracy[b]! - confidence[b]!)
    }
    return {
      n,
      loss: n > 0 ? this.nllSum / n : NaN,
      accuracy: n > 0 ? this.top1 / n : NaN,
      top5: n > 0 ? this.topK / n : NaN,
      ece: n > 0 ? ece : NaN,
      perClassAccuracy,
      confusion,
      reliability: { bins: this.bins, counts, confidence, accuracy },
    }
  }
}

/** All metrics of `n` rows of scores at once. */
export function classificationMetrics(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
  opts: { kind?: ScoreKind; bins?: number } = {},
): ClassificationMetrics {
  const acc = new MetricsAccumulator(numClasses, opts.bins ?? DEFAULT_ECE_BINS)
  acc.add(scores, labels, opts.kind ?? 'logits')
  return acc.result()
}

/** Row-wise softmax of n x numClasses logits (float64 maths, float32 out). */
export function softmax(logits: ArrayLike<number>, numClasses: number): Float32Array {
  const n = logits.length / numClasses
  const out = new Float32Array(logits.length)
  for (let i = 0; i < n; i++) {
    const row = i * numClasses
    let max = -Infinity
    for (let j = 0; j < numClasses; j++) max = Math.max(max, logits[row + j]!)
    let sum = 0
    for (let j = 0; j < numClasses; j++) sum += Math.exp(logits[row + j]! - max)
    for (let j = 0; j < numClasses; j++) out[row + j] = Math.exp(logits[row + j]! - max) / sum
  }
  return out
}

export const top1Accuracy = (
  s: ArrayLike<number>,
  y: ArrayLike<number>,
  c: number,
  kind?: ScoreKind,
): number => classificationMetrics(s, y, c, { kind }).accuracy
export const top5Accuracy = (
  s: ArrayLike<number>,
  y: ArrayLike<number>,
  c: number,
  kind?: ScoreKind,
): number => classificationMetrics(s, y, c, { kind }).top5
export const negativeLogLikelihood = (
  s: ArrayLike<number>,
  y: ArrayLike<number>,
  c: number,
  kind?: ScoreKind,
): number => classificationMetrics(s, y, c, { kind }).loss
export const expectedCalibrationError = (
  s: ArrayLike<number>,
  y: ArrayLike<number>,
  c: number,
  opts: { kind?: ScoreKind; bins?: number } = {},
): number => classificationMetrics(s, y, c, opts).ece
