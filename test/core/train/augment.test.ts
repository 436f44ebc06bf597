import { describe, expect, it } from 'vitest'
import {
  augmentBatch,
  augmentIsOff,
  drawTransform,
  IDENTITY,
  transformSample,
  type SampleTransform,
} from '../../../src/core/train/augment'
import { createRng, deriveSeed } from '../../../src/core/random'
import type { AugmentConfig } from '../../../src/shared/types'

function randomImages(n: number, shape: [number, number, number], seed = 1): Uint8Array {
  const rng = createRng(seed)
  return Uint8Array.from({ length: n * shape[0] * shape[1] * shape[2] }, () => Math.floor(rng() * 256))
}

const shapes: [number, number, number][] = [
  [28, 28, 1],
  [32, 32, 3],
  [5, 7, 2],
]

function apply(src: Uint8Array, shape: [number, number, number], t: SampleTransform): Uint8Array {
  const out = new Uint8Array(src.length).fill(77)
  transformSample(src, 0, out, 0, shape, t)
  return out
}

describe('augmentation', () => {
  it.each(shapes)('identity transforms copy the image exactly (%i x %i x %i)', (h, w, c) => {
    const shape: [number, number, number] = [h, w, c]
    const img = randomImages(1, shape)
    expect(apply(img, shape, IDENTITY)).toEqual(img)
  })

  it.each(shapes)('flip twice is the identity (%i x %i x %i)', (h, w, c) => {
    const shape: [number, number, number] = [h, w, c]
    const img = randomImages(1, shape)
    const flip = { ...IDENTITY, flip: true }
    const once = apply(img, shape, flip)
    expect(once).not.toEqual(img)
    expect(apply(once, shape, flip)).toEqual(img)
    // the left column becomes the right one
    expect(Array.from(once.subarray((w - 1) * c, w * c))).toEqual(Array.from(img.subarray(0, c)))
  })

  it('crop with padding 0 is the identity, and a shift fills zeros and moves pixels', () => {
    const shape: [number, number, number] = [32, 32, 3]
    const imgs = randomImages(4, shape)
    const cfg: AugmentConfig = { cropPadding: 0, horizontalFlip: false, rotationDegrees: 0 }
    expect(augmentIsOff(cfg)).toBe(true)
    const out = new Uint8Array(imgs.length)
    augmentBatch(imgs, [0, 1, 2, 3], shape, cfg, createRng(3), out)
    expect(out).toEqual(imgs)
    const img = imgs.subarray(0, 32 * 32 * 3)
    const shifted = apply(img, shape, { ...IDENTITY, dx: 2, dy: -1 })
    // out(x, y) = in(x + 2, y - 1): row 0 is zero, the last two columns are zero
    expect(shifted.subarray(0, 32 * 3).every((v) => v === 0)).toBe(true)
    const px = (a: Uint8Array, x: number, y: number, k: number) => a[(y * 32 + x) * 3 + k]
    expect(px(shifted, 5, 4, 1)).toBe(px(img, 7, 3, 1))
    expect(px(shifted, 30, 10, 0)).toBe(0)
    expect(px(shifted, 29, 10, 2)).toBe(px(img, 31, 9, 2))
  })

  it('rotation 0 is the identity; four rotations by 90 degrees are the identity', () => {
    const shape: [number, number, number] = [28, 28, 1]
    const imgs = randomImages(2, shape)
    const cfg: AugmentConfig = { cropPadding: 0, horizontalFlip: false, rotationDegrees: 0 }
    const out = new Uint8Array(imgs.length)
    augmentBatch(imgs, [1, 0], shape, cfg, createRng(3), out)
    expect(out.subarray(0, 784)).toEqual(imgs.subarray(784))
    let img: Uint8Array = imgs.subarray(0, 784)
    const quarter = { ...IDENTITY, angle: Math.PI / 2 }
    const r1 = apply(img, shape, quarter)
    expect(r1).not.toEqual(img)
    for (let i = 0; i < 4; i++) img = apply(img, shape, quarter)
    expect(img).toEqual(imgs.subarray(0, 784))
    // a small rotation keeps the centre pixel and leaves the value range as it was (nearest)
    const small = apply(imgs.subarray(0, 784), shape, { ...IDENTITY, angle: 0.2 })
    const values = new Set(imgs.subarray(0, 784))
    expect(Array.from(small).every((v) => v === 0 || values.has(v))).toBe(true)
  })

  it('the same seed gives the same augmented batch; another seed does not', () => {
    const shape: [number, number, number] = [32, 32, 3]
    const imgs = randomImages(16, shape, 9)
    const cfg: AugmentConfig = { cropPadding: 4, horizontalFlip: true, rotationDegrees: 15 }
    const idx = Int32Array.from({ length: 16 }, (_, i) => (i * 7) % 16)
    const run = (seed: number, epoch: number) => {
      const out = new Uint8Array(imgs.length)
      augmentBatch(imgs, idx, shape, cfg, createRng(deriveSeed(seed, `augment-epoch-${epoch}`)), out)
      return out
    }
    expect(run(230, 1)).toEqual(run(230, 1))
    expect(run(230, 1)).not.toEqual(run(230, 2))
    expect(run(230, 1)).not.toEqual(run(231, 1))
  })

  it('draws transforms within the configured ranges', () => {
    const rng = createRng(5)
    const cfg: AugmentConfig = { cropPadding: 4, horizontalFlip: true, rotationDegrees: 15 }
    let flips = 0
    const seen = new Set<number>()
    for (let i = 0; i < 2000; i++) {
      const t = drawTransform(cfg, rng)
      expect(Math.abs(t.dx)).toBeLessThanOrEqual(4)
      expect(Math.abs(t.dy)).toBeLessThanOrEqual(4)
      expect(Math.abs(t.angle)).toBeLessThanOrEqual((15 * Math.PI) / 180)
      seen.add(t.dx)
      if (t.flip) flips++
    }
    expect(seen.size).toBe(9)
    expect(flips / 2000).toBeGreaterThan(0.45)
    expect(flips / 2000).toBeLessThan(0.55)
    const off = drawTransform({ cropPadding: 0, horizontalFlip: false, rotationDegrees: 0 }, rng)
    expect(off).toEqual(IDENTITY)
  })
})
