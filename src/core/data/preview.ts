/**
 * Dataset previews: class counts and imbalance per split, shape, per-channel mean/std, and a PNG
 * grid of sample images per class (one row per class).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import sharp from 'sharp'
import { channelStats, type ImageSet } from './arrays'
import { readCacheHeader } from './cache'

export interface SplitPreview {
  n: number
  /** Samples per class, in class order. */
  classCounts: number[]
  /** Largest class count over the smallest non-empty one (1 = balanced); null when empty. */
  imbalance: number | null
}

export interface DatasetPreview {
  shape: [number, number, number]
  classNames: string[]
  train: SplitPreview
  test: SplitPreview
  /** Per-channel mean and std of the train split, in [0, 1] units. */
  mean: number[]
  std: number[]
}

function splitPreview(classCounts: number[]): SplitPreview {
  const n = classCounts.reduce((a, b) => a + b, 0)
  const nonEmpty = classCounts.filter((c) => c > 0)
  const imbalance = nonEmpty.length ? Math.max(...nonEmpty) / Math.min(...nonEmpty) : null
  return { n, classCounts, imbalance }
}

export function countClasses(set: ImageSet, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0)
  for (let i = 0; i < set.n; i++) counts[set.labels[i]!]!++
  return counts
}

/** Preview of in-memory splits (the bundled dataset, tests). */
export function previewFromSets(d: {
  train: ImageSet
  test: ImageSet
  classNames: string[]
}): DatasetPreview {
  const { mean, std } = channelStats(d.train)
  return {
    shape: d.train.shape,
    classNames: d.classNames,
    train: splitPreview(countClasses(d.train, d.classNames.length)),
    test: splitPreview(countClasses(d.test, d.classNames.length)),
    mean,
    std,
  }
}

/** Preview from a cache file's header alone (no pixel data is read). */
export function previewFromCache(path: string): DatasetPreview {
  const h = readCacheHeader(path)
  return {
    shape: h.shape,
    classNames: h.classNames,
    train: splitPreview(h.splits.train.classCounts),
    test: splitPreview(h.splits.test.classCounts),
    mean: h.mean,
    std: h.std,
  }
}

export interface GridOptions {
  /** Samples per class (columns). */
  perClass?: number
  /** Most classes shown (rows). */
  maxClasses?: number
  /** Smallest cell side in pixels; small images are scaled up by nearest neighbour. */
  minCellPx?: number
}

/** Renders a PNG with one row per class and the first `perClass` samples of each. */
export async function renderSampleGrid(
  set: ImageSet,
  numClasses: number,
  opts: GridOptions = {},
): Promise<Buffer> {
  const perClass = opts.perClass ?? 8
  const rows = Math.min(numClasses, opts.maxClasses ?? 100)
  const [h, w, c] = set.shape
  const scale = Math.max(1, Math.ceil((opts.minCellPx ?? 32) / Math.max(1, Math.min(h, w))))
  const cellH = h * scale
  const cellW = w * scale
  const gap = 2
  const width = perClass * (cellW + gap) + gap
  const height = rows * (cellH + gap) + gap
  const out = new Uint8Array(width * height * c).fill(64)
  const size = h * w * c
  const placed = new Array<number>(rows).fill(0)
  for (let i = 0; i < set.n; i++) {
    const label = set.labels[i]!
    if (label >= rows || placed[label]! >= perClass) continue
    const col = placed[label]!++
    const x0 = gap + col * (cellW + gap)
    const y0 = gap + label * (cellH + gap)
    for (let y = 0; y < cellH; y++) {
      for (let x = 0; x < cellW; x++) {
        const src = i * size + (Math.floor(y / scale) * w + Math.floor(x / scale)) * c
        const dst = ((y0 + y) * width + x0 + x) * c
        for (let k = 0; k < c; k++) out[dst + k] = set.images[src + k]!
      }
    }
    if (placed.every((p) => p >= perClass)) break
  }
  return sharp(out, { raw: { width, height, channels: c as 1 | 3 } })
    .png()
    .toBuffer()
}

/** Writes the sample grid atomically (temp name, then rename); returns the path. */
export async function writeSampleGrid(
  set: ImageSet,
  numClasses: number,
  outPath: string,
  opts: GridOptions = {},
): Promise<string> {
  await mkdir(dirname(outPath), { recursive: true })
  const tmp = `${outPath}.${process.pid}.tmp`
  await writeFile(tmp, await renderSampleGrid(set, numClasses, opts))
  await rename(tmp, outPath)
  return outPath
}
