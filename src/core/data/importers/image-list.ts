/**
 * Shared by the image-folder and CSV-manifest importers: decodes a list of image files into the
 * sink, in list order, a few at a time. A bad file is skipped with its reason; a limit crossed by
 * the whole import (total pixels) stops it.
 */
import { basename } from 'node:path'
import { readRegularFile } from './fs-safe'
import { checkImageHeader } from './image-header'
import { decodeImage, looksGrayscale, type DecodeTarget } from './image-decode'
import { createStratifiedSplitter } from './split'
import {
  ImportError,
  ImportLimitError,
  throwIfAborted,
  type ImportContext,
  type ImportOptions,
  type SplitId,
  changeHint,
} from './types'

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif'])

/** Longest side of the default size, when --size is not given and the first image is larger. */
const DEFAULT_MAX_SIDE = 64
const CONCURRENCY = 4

export interface ImageItem {
  /** Real path to read. */
  path: string
  /** Name shown to the user in skip reasons. */
  rel: string
  /** `null`: no split in the source; test is carved at import. */
  split: SplitId | null
  label: number
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : `non-Error thrown: ${String(err)}`
}

/** Picks size and channels from the first image that decodes, unless the options fix them. */
async function chooseTarget(
  items: ImageItem[],
  options: ImportOptions,
  ctx: ImportContext,
  notes: string[],
): Promise<DecodeTarget | { reasons: string[] }> {
  const { maxPixelsPerImage, maxFileBytes } = options.limits
  const reasons: string[] = []
  for (const item of items.slice(0, 50)) {
    throwIfAborted(ctx.signal)
    try {
      const bytes = await readRegularFile(item.path, maxFileBytes)
      const header = checkImageHeader(bytes, maxPixelsPerImage)
      let [height, width] = options.size ?? [header.height, header.width]
      if (!options.size) {
        const scale = Math.min(1, DEFAULT_MAX_SIDE / Math.max(height, width))
        height = Math.max(1, Math.round(height * scale))
        width = Math.max(1, Math.round(width * scale))
        notes.push(
          `images resized to ${height}x${width} (from the first image, ${item.rel})${changeHint(options, 'size')}`,
        )
      }
      let channels: 1 | 3
      if (options.color) channels = options.color === 'grayscale' ? 1 : 3
      else {
        channels = (await looksGrayscale(bytes, maxPixelsPerImage)) ? 1 : 3
        notes.push(
          `${channels === 1 ? 'grayscale' : 'RGB'} chosen from the first image (${item.rel})${changeHint(options, 'color')}`,
        )
      }
      return { height, width, channels }
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err
      reasons.push(`${item.rel}: ${message(err)}`)
    }
  }
  return { reasons }
}

export async function importImageList(
  items: ImageItem[],
  source: string,
  options: ImportOptions,
  ctx: ImportContext,
  notes: string[],
): Promise<void> {
  const { maxPixelsPerImage, maxFileBytes, maxTotalPixels } = options.limits
  const target = await chooseTarget(items, options, ctx, notes)
  if ('reasons' in target) {
    const shown = target.reasons.slice(0, 10)
    const more = target.reasons.length - shown.length
    throw new ImportError(
      `${source}: none of the first ${target.reasons.length} image files could be read or decoded; nothing to import:\n` +
        shown.map((r) => `  ${r}`).join('\n') +
        (more > 0 ? `\n  ... and ${more} more` : ''),
    )
  }
  await ctx.sink.begin({ shape: [target.height, target.width, target.channels] })
  const perClass: number[] = []
  for (const i of items) if (i.split === null) perClass[i.label] = (perClass[i.label] ?? 0) + 1
  const carve = createStratifiedSplitter(
    Array.from(perClass, (c) => c ?? 0),
    options.testFraction,
    options.seed,
  )
  const splits: SplitId[] = items.map((i) => i.split ?? carve(i.label))
  let totalPixels = 0
  let added = 0
  const decodeOne = async (item: ImageItem): Promise<Uint8Array | null> => {
    try {
      const bytes = await readRegularFile(item.path, maxFileBytes)
      const header = checkImageHeader(bytes, maxPixelsPerImage)
      totalPixels += header.width * header.height
      if (totalPixels > maxTotalPixels) {
        throw new ImportLimitError(
          `${item.rel}: the images so far declare ${totalPixels} pixels in total, over the limit of ${maxTotalPixels}`,
        )
      }
      return await decodeImage(bytes, target, maxPixelsPerImage, header)
    } catch (err) {
      if (err instanceof ImportLimitError) throw err
      ctx.skip(item.rel, message(err))
      return null
    }
  }
  for (let i = 0; i < items.length; i += CONCURRENCY) {
    throwIfAborted(ctx.signal)
    const batch = items.slice(i, i + CONCURRENCY)
    const decoded = await Promise.all(batch.map(decodeOne))
    for (let k = 0; k < batch.length; k++) {
      const px = decoded[k]
      if (px) {
        await ctx.sink.add(splits[i + k]!, px, batch[k]!.label)
        added++
      }
    }
    ctx.onProgress({
      phase: 'importing',
      done: Math.min(i + CONCURRENCY, items.length),
      total: items.length,
      unit: 'files',
    })
  }
  if (added === 0) {
    throw new ImportError(
      `${source}: none of the ${items.length} image files could be imported (see the skipped files)`,
    )
  }
}

export function isImageName(name: string): boolean {
  const dot = basename(name).lastIndexOf('.')
  return dot > 0 && IMAGE_EXTENSIONS.has(basename(name).slice(dot).toLowerCase())
}
