/**
 * Seeded randomness. TF.js has no global seed and `Math.random` is not seedable, so every random
 * source of a run (init, shuffling, splits, augmentation) derives its own stream from the run's seed
 * and a purpose label: the same seed gives the same run, and two purposes never share a stream.
 */

/** 32-bit FNV-1a of a string, mixed with a base seed. */
export function deriveSeed(base: number, purpose: string): number {
  let h = (0x811c9dc5 ^ (base >>> 0)) >>> 0
  for (let i = 0; i < purpose.length; i++) {
    h ^= purpose.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  // final avalanche (murmur3 fmix32)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b) >>> 0
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35) >>> 0
  h ^= h >>> 16
  return h >>> 0
}

export type Rng = () => number

/** mulberry32: a fast 32-bit PRNG with a full 2^32 period; returns floats in [0, 1). */
export function createRng(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A permutation of 0..n-1 (Fisher-Yates), as an Int32Array. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const t = p[i]!
    p[i] = p[j]!
    p[j] = t
  }
  return p
}
