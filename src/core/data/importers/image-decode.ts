/**
 * Decodes one image file's bytes to uint8 HWC at a fixed size and channel count. The header is
 * checked against the pixel cap first (bombs are refused before sharp sees them), and sharp's own
 * `limitInputPixels` stays on as a second fence. Alpha is flattened onto black.
 */
import sharp, { type Sharp } from 'sharp'
import { decodeBmp } from './bmp'
import { checkImageHeader, type ImageHeader } from './image-header'
import { ImportError } from './types'

sharp.cache(false)

export interface DecodeTarget {
  height: number
  width: number
  channels: 1 | 3
}

export async function decodeImage(
  bytes: Uint8Array,
  target: DecodeTarget,
  maxPixels: number,
  header: ImageHeader = checkImageHeader(bytes, maxPixels),
): Promise<Uint8Array> {
  let img: Sharp
  try {
    if (header.type === 'bmp') {
      const raw = decodeBmp(bytes)
      img = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } })
    } else {
      img = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', pages: 1, sequentialRead: true })
    }
    img = img
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .resize(target.width, target.height, { fit: 'fill' })
    img = target.channels === 1 ? img.grayscale() : img.toColourspace('srgb')
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true })
    if (info.width !== target.width || info.height !== target.height) {
      throw new ImportError(
        `decoded to ${info.width}x${info.height}, expected ${target.width}x${target.height}`,
      )
    }
    const want = target.width * target.height * target.channels
    if (info.channels === target.channels && data.length === want)
      return new Uint8Array(data.buffer, data.byteOffset, want)
    // sharp may keep extra bands (e.g. grey + alpha); keep the first `channels` of each pixel.
    const out = new Uint8Array(want)
    const px = target.width * target.height
    for (let i = 0; i < px; i++) {
      for (let c = 0; c < target.channels; c++) {
        out[i * target.channels + c] = data[i * info.channels + Math.min(c, info.channels - 1)]!
      }
    }
    return out
  } catch (err) {
    if (err instanceof ImportError) throw err
    const msg = err instanceof Error ? err.message : String(err)
    throw new ImportError(
      `${header.type.toUpperCase()} ${header.width}x${header.height} could not be decoded: ${msg.split('\n')[0]}`,
    )
  }
}

/** Whether an image is grey: decodes a small thumbnail and compares its bands. */
export async function looksGrayscale(bytes: Uint8Array, maxPixels: number): Promise<boolean> {
  const px = await decodeImage(bytes, { height: 16, width: 16, channels: 3 }, maxPixels)
  for (let i = 0; i < px.length; i += 3) {
    if (Math.abs(px[i]! - px[i + 1]!) > 2 || Math.abs(px[i]! - px[i + 2]!) > 2) return false
  }
  return true
}
