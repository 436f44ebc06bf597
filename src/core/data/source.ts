/** A dataset's train and test splits as a trainer reads them: the bundled sample or an import's cache. */
import type { TrainerDataset } from '../../shared/trainer-protocol'
import type { ImageSet } from './arrays'
import { loadDatasetCache } from './cache'
import { loadMnist10k } from './mnist10k'

const MNIST_CLASSES = Array.from({ length: 10 }, (_, i) => String(i))

export function loadSource(dataset: TrainerDataset): {
  train: ImageSet
  test: ImageSet
  classNames: string[]
} {
  return dataset.kind === 'bundled'
    ? { ...loadMnist10k(), classNames: MNIST_CLASSES }
    : loadDatasetCache(dataset.path)
}
