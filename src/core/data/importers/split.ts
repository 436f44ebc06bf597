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

/**
 * A stratified test split: every class gives its share of `testFraction` to test, so a class of a
 * few samples is not left out of test (or of train) by chance. The per-class quotas add up to exactly
 * round(n * testFraction) (largest remainders, ties to the larger class, then the lower label), and
 * within a class the items are picked by selection sampling as in createTestSplitter: streaming,
 * deterministic for a seed. `counts[label]` is how many items of each label will be asked for.
 */
export function createStratifiedSplitter(
  counts: readonly number[],
  testFraction: number,
  seed: number,
): (label: number) => SplitId {
  const f = Math.min(Math.max(testFraction, 0), 1)
  const n = counts.reduce((a, b) => a + b, 0)
  const want = counts.map((c) => Math.floor(c * f))
  let rest = Math.round(n * f) - want.reduce((a, b) => a + b, 0)
  const order = counts
    .map((c, label) => ({ label, frac: c * f - Math.floor(c * f), c }))
    .sort((a, b) => b.frac - a.frac || b.c - a.c || a.label - b.label)
  for (const { label } of order) {
    if (rest <= 0) break
    if (want[label]! < counts[label]!) {
      want[label]!++
      rest--
    }
  }
  const left = [...counts]
  const rngs = counts.map((_, label) => createRng(deriveSeed(seed, `import-test-split-${label}`)))
  return (label) => {
    if (!(left[label]! > 0)) return 'train'
    const pick = rngs[label]!() * left[label]! < want[label]!
    left[label]!--
    if (pick) want[label]!--
    return pick ? 'test' : 'train'
  }
}
