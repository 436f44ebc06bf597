/**
 * Seeded data augmentation on the uint8 NHWC pixels of a training batch, before normalisation: no
 * tensors, no per-sample allocations, one pass over each output pixel. The repository's pipeline is
 * torchvision's RandomCrop(size, padding) -> RandomHorizontalFlip -> RandomRotation(deg); this applies
 * the same composition as one inverse mapping per output pixel:
 *
 *   out(x, y) = rotate^-1 -> flip -> crop -> original pixel, or 0 where it falls outside.
 *
 * - Crop: the image is zero-padded by `p` pixels on each side and a window of the original size is
 *   cut at a uniform offset in [0, 2p] per axis, i.e. a shift (dx, dy) in [-p, p]; padding is 0 in
 *   pixel units (black, as torchvision pads the PIL image before normalisation).
 * - Flip: left-right with probability 1/2.
 * - Rotation: an angle uniform in [-deg, +deg] about the image centre ((w-1)/2, (h-1)/2), nearest
 *   neighbour (torchvision's default), 0 outside the source. Nearest keeps pixels exact uint8 values
 *   and makes a rotation of 0 an exact identity.
 *
 * Randomness: one mulberry32 stream per epoch (`deriveSeed(seed, 'augment-epoch-N')`, made by the
 * caller), consumed sample by sample in batch order: per sample dx, dy (if padding > 0), flip (if
 * enabled), angle (if deg > 0). Same seed, same epoch, same batches: the same augmented pixels.
 */
import type { AugmentConfig } from '../../shared/types'
import type { Rng } from '../random'

export interface SampleTransform {
  /** Crop shift in pixels: out(x, y) reads in(x + dx, y + dy) (before rotation). */
  dx: number
  dy: number
  flip: boolean
  /** Rotation in radians. */
  angle: number
}

export const IDENTITY: Readonly<SampleTransform> = { dx: 0, dy: 0, flip: false, angle: 0 }

export function augmentIsOff(cfg: AugmentConfig | undefined): boolean {
  return !cfg || (!(cfg.cropPadding > 0) && !cfg.horizontalFlip && !(cfg.rotationDegrees > 0))
}

/** Draws one sample's transform from `rng` (only the enabled parts consume random numbers). */
export function drawTransform(cfg: AugmentConfig, rng: Rng): SampleTransform {
  const p = Math.max(0, Math.floor(cfg.cropPadding))
  const dx = p > 0 ? Math.floor(rng() * (2 * p + 1)) - p : 0
  const dy = p > 0 ? Math.floor(rng() * (2 * p + 1)) - p : 0
  const flip = cfg.horizontalFlip ? rng() < 0.5 : false
  const deg = cfg.rotationDegrees
  const angle = deg > 0 ? ((rng() * 2 - 1) * deg * Math.PI) / 180 : 0
  return { dx, dy, flip, angle }
}

/**
 * Writes one transformed sample: `src` from `srcOffset` and `dst` from `dstOffset` each hold one
 * h x w x c image. `src` and `dst` must not overlap.
 */
export function transformSample(
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
  shape: readonly [number, number, number],
  t: SampleTransform,
): void {
  const [h, w, c] = shape
  const rowLen = w * c
  if (t.angle === 0) {
    for (let y = 0; y < h; y++) {
      const sy = y + t.dy
      const outRow = dstOffset + y * rowLen
      if (sy < 0 || sy >= h) {
        dst.fill(0, outRow, outRow + rowLen)
        continue
      }
      const inRow = srcOffset + sy * rowLen
      if (!t.flip) {
        // A plain shift: one copy of the overlapping run, zeros either side.
        const x0 = Math.max(0, -t.dx)
        const x1 = Math.min(w, w - t.dx)
        if (x1 <= x0) {
          dst.fill(0, outRow, outRow + rowLen)
          continue
        }
        dst.fill(0, outRow, outRow + x0 * c)
        dst.set(src.subarray(inRow + (x0 + t.dx) * c, inRow + (x1 + t.dx) * c), outRow + x0 * c)
        dst.fill(0, outRow + x1 * c, outRow + rowLen)
        continue
      }
      for (let x = 0; x < w; x++) {
        const sx = w - 1 - x + t.dx
        const o = outRow + x * c
        if (sx < 0 || sx >= w) {
          for (let k = 0; k < c; k++) dst[o + k] = 0
        } else {
          const i = inRow + sx * c
          for (let k = 0; k < c; k++) dst[o + k] = src[i + k]!
        }
      }
    }
    return
  }
  const cos = Math.cos(t.angle)
  const sin = Math.sin(t.angle)
  const cx = (w - 1) / 2
  const cy = (h - 1) / 2
  for (let y = 0; y < h; y++) {
    const v = y - cy
    for (let x = 0; x < w; x++) {
      const u = x - cx
      const o = dstOffset + y * rowLen + x * c
      // Inverse rotation to the flipped-and-cropped image, nearest pixel.
      const xr = Math.floor(cos * u + sin * v + cx + 0.5)
      const yr = Math.floor(-sin * u + cos * v + cy + 0.5)
      let inside = xr >= 0 && xr < w && yr >= 0 && yr < h
      let sx = 0
      let sy = 0
      if (inside) {
        sx = (t.flip ? w - 1 - xr : xr) + t.dx
        sy = yr + t.dy
        inside = sx >= 0 && sx < w && sy >= 0 && sy < h
      }
      if (!inside) {
        for (let k = 0; k < c; k++) dst[o + k] = 0
      } else {
        const i = srcOffset + sy * rowLen + sx * c
        for (let k = 0; k < c; k++) dst[o + k] = src[i + k]!
      }
    }
  }
}

/**
 * Augments the samples `idx` of `images` (NHWC uint8) into `out`, contiguously (sample i of the batch
 * at i * h * w * c), drawing each sample's transform from `rng` in batch order.
 */
export function augmentBatch(
  images: Uint8Array,
  idx: ArrayLike<number>,
  shape: readonly [number, number, number],
  cfg: AugmentConfig,
  rng: Rng,
  out: Uint8Array,
): void {
  const size = shape[0] * shape[1] * shape[2]
  for (let i = 0; i < idx.length; i++) {
    transformSample(images, idx[i]! * size, out, i * size, shape, drawTransform(cfg, rng))
  }
}
