/**
 * Security-sensitive: reads an image's declared dimensions from its first bytes, without decoding,
 * so a decompression bomb (a tiny file declaring a huge image) is refused in microseconds, before any
 * decoder allocates. Every read is bounds-checked; every loop advances or stops.
 */
import { ImportError } from './types'

export type ImageType = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp'

export interface ImageHeader {
  type: ImageType
  width: number
  height: number
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

function ascii(b: Uint8Array, at: number, len: number): string {
  let s = ''
  for (let i = at; i < at + len && i < b.length; i++) s += String.fromCharCode(b[i]!)
  return s
}

function u16be(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!
}
function u16le(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8)
}
function u24le(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)
}
function u32be(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!)
}
function i32le(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)
}

function need(b: Uint8Array, len: number, what: string): void {
  if (b.length < len) throw new ImportError(`truncated ${what} header (${b.length} bytes)`)
}

/** The image type from the magic bytes, or null. */
export function sniffImageType(b: Uint8Array): ImageType | null {
  if (b.length >= 8 && PNG_SIG.every((v, i) => b[i] === v)) return 'png'
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg'
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return 'gif'
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp'
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp'
  return null
}

function jpegSize(b: Uint8Array): { width: number; height: number } {
  let i = 2
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw new ImportError(`JPEG marker expected at byte ${i}`)
    let m = b[i + 1]!
    // fill bytes
    while (m === 0xff && i + 2 < b.length) {
      i++
      m = b[i + 1]!
    }
    i += 2
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue
    if (m === 0xd9 || m === 0xda) break
    if (i + 2 > b.length) break
    const len = u16be(b, i)
    if (len < 2) throw new ImportError(`JPEG segment 0x${m.toString(16)} has length ${len} at byte ${i}`)
    const isSof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc
    if (isSof) {
      need(b, i + 7, 'JPEG SOF')
      return { height: u16be(b, i + 3), width: u16be(b, i + 5) }
    }
    i += len
  }
  throw new ImportError('JPEG has no frame header (SOF) before the image data')
}

function webpSize(b: Uint8Array): { width: number; height: number } {
  need(b, 30, 'WebP')
  const chunk = ascii(b, 12, 4)
  if (chunk === 'VP8X') return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) throw new ImportError('WebP VP8L signature byte missing')
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 }
  }
  if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a)
      throw new ImportError('WebP VP8 start code missing')
    return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff }
  }
  throw new ImportError(`WebP first chunk "${chunk}" is not VP8, VP8L or VP8X`)
}

/**
 * Declared type and size from the header bytes (the first 64 KB are plenty: JPEG EXIF blocks sit
 * before the SOF and are capped at 64 KB). Throws an ImportError saying what was expected.
 */
export function readImageHeader(b: Uint8Array): ImageHeader {
  const type = sniffImageType(b)
  if (!type) {
    const head = Array.from(b.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ')
    throw new ImportError(`not a PNG, JPEG, GIF, WebP or BMP image (first bytes: ${head || 'empty file'})`)
  }
  let size: { width: number; height: number }
  switch (type) {
    case 'png':
      need(b, 24, 'PNG')
      if (ascii(b, 12, 4) !== 'IHDR') throw new ImportError('PNG does not start with an IHDR chunk')
      size = { width: u32be(b, 16), height: u32be(b, 20) }
      break
    case 'jpeg':
      size = jpegSize(b)
      break
    case 'gif':
      need(b, 10, 'GIF')
      size = { width: u16le(b, 6), height: u16le(b, 8) }
      break
    case 'webp':
      size = webpSize(b)
      break
    case 'bmp': {
      need(b, 26, 'BMP')
      const dib = i32le(b, 14)
      if (dib === 12) size = { width: u16le(b, 18), height: u16le(b, 20) }
      else size = { width: i32le(b, 18), height: Math.abs(i32le(b, 22)) }
      break
    }
  }
  if (!(size.width > 0 && size.height > 0)) {
    throw new ImportError(`${type.toUpperCase()} declares an empty image (${size.width}x${size.height})`)
  }
  return { type, ...size }
}

/** Header check against the pixel cap; returns the header. */
export function checkImageHeader(b: Uint8Array, maxPixels: number): ImageHeader {
  const h = readImageHeader(b)
  const px = h.width * h.height
  if (px > maxPixels) {
    throw new ImportError(
      `${h.type.toUpperCase()} declares ${h.width}x${h.height} = ${px} pixels, over the limit of ${maxPixels} (refused before decoding)`,
    )
  }
  return h
}
