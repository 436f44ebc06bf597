/**
 * In-memory datasets as flat typed arrays: images stay uint8 (a quarter of the memory of float32)
 * and are normalised per batch, so training never decodes or re-allocates per sample.
 */
import { permutation, createRng, deriveSeed } from '../random'

export interface ImageSet {
  /** uint8 pixels, NHWC, length n * h * w * c. */
  images: Uint8Array
  /** class index per sample, length n. */
  labels: Int32Array
  n: number
  shape: [number, number, number]
}

export interface DatasetSplits {
  train: ImageSet
  validation: ImageSet
  test: ImageSet
  numClasses: number
  classNames: string[]
  /** Per-channel mean and std of the training split, in [0, 1] units. */
  mean: number[]
  std: number[]
}

export function take(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const [h, w, c] = set.shape
  const size = h * w * c
  const images = new Uint8Array(indices.length * size)
  const labels = new Int32Array(indices.length)
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i]!
    images.set(set.images.subarray(src * size, (src + 1) * size), i * size)
    labels[i] = set.labels[src]!
  }
  return { images, labels, n: indices.length, shape: set.shape }
}

/** Carves a validation split from train by seed; optionally keeps only `maxTrain` training samples. */
export function carveValidation(
  train: ImageSet,
  opts: { fraction: number; seed: number; maxTrain?: number },
): { train: ImageSet; validation: ImageSet } {
  const perm = permutation(train.n, createRng(deriveSeed(opts.seed, 'validation-split')))
  const nVal = Math.round(train.n * opts.fraction)
  let trainIdx = perm.subarray(nVal)
  if (opts.maxTrain && opts.maxTrain > 0 && opts.maxTrain < trainIdx.length) {
    trainIdx = trainIdx.subarray(0, opts.maxTrain)
  }
  return { train: take(train, trainIdx), validation: take(train, perm.subarray(0, nVal)) }
}

export function channelStats(set: ImageSet): { mean: number[]; std: number[] } {
  const c = set.shape[2]
  const sum = new Float64Array(c)
  const sq = new Float64Array(c)
  const px = set.images
  for (let i = 0; i < px.length; i++) {
    const v = px[i]! / 255
    const k = i % c
    sum[k] = sum[k]! + v
    sq[k] = sq[k]! + v * v
  }
  const count = px.length / c
  const mean = Array.from(sum, (s) => s / count)
  const std = Array.from(sq, (s, k) => Math.sqrt(Math.max(s / count - mean[k]! ** 2, 1e-12)))
  return { mean, std }
}
