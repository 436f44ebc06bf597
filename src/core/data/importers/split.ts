import { createRng, deriveSeed } from '../../random'
import type { SplitId } from './types'

/**
 * Assigns exactly round(n * testFraction) of n items, in order, to test (selection sampling,
 * Knuth's Algorithm S): streaming, O(1) memory, deterministic for a seed. Items past n go to train.
 */
export function createTestSplitter(n: number, testFraction: number, seed: number): () => SplitId {
  const rng = createRng(deriveSeed(seed, 'import-test-split'))
  let want = Math.round(n * Math.min(Math.max(testFraction, 0), 1))
  let left = n
  return () => {
    if (left <= 0) return 'train'
    const pick = rng() * left < want
    left--
    if (pick) want--
    return pick ? 'test' : 'train'
  }
}
