/**
 * A small BMP decoder (libvips in sharp's prebuilt binaries has no BMP loader). Supports the
 * uncompressed kinds that image tools write: 1/4/8-bit palette, 24-bit BGR, 32-bit BGRX/BGRA.
 * Every offset is checked against the buffer before it is read; the pixel cap is applied by the
 * caller from the header before this allocates.
 */
import { ImportError } from './types'

export interface RawImage {
  data: Uint8Array
  width: number
  height: number
  channels: 3
}

export function decodeBmp(b: Uint8Array): RawImage {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  if (b.length < 54 || b[0] !== 0x42 || b[1] !== 0x4d)
    throw new ImportError('BMP: truncated or missing "BM" header')
  const dataOffset = dv.getUint32(10, true)
  const dib = dv.getUint32(14, true)
  if (dib < 40)
    throw new ImportError(`BMP: header version with ${dib}-byte info header is not supported (need >= 40)`)
  const width = dv.getInt32(18, true)
  const rawHeight = dv.getInt32(22, true)
  const bpp = dv.getUint16(28, true)
  const compression = dv.getUint32(30, true)
  const topDown = rawHeight < 0
  const height = Math.abs(rawHeight)
  if (width <= 0 || height <= 0) throw new ImportError(`BMP: bad size ${width}x${rawHeight}`)
  if (![1, 4, 8, 24, 32].includes(bpp)) throw new ImportError(`BMP: ${bpp} bits per pixel is not supported`)
  if (!(compression === 0 || (compression === 3 && bpp === 32))) {
    throw new ImportError(`BMP: compression ${compression} is not supported (only uncompressed)`)
  }
  if (compression === 3) {
    if (b.length < 66) throw new ImportError('BMP: truncated bit-field masks')
    const [r, g, bl] = [dv.getUint32(54, true), dv.getUint32(58, true), dv.getUint32(62, true)]
    if (r !== 0xff0000 || g !== 0xff00 || bl !== 0xff)
      throw new ImportError('BMP: only BGRA bit-field masks are supported')
  }
  const rowBytes = Math.ceil((width * bpp) / 32) * 4
  if (dataOffset + rowBytes * height > b.length) {
    throw new ImportError(
      `BMP: pixel data needs ${rowBytes * height} bytes from offset ${dataOffset}, file has ${b.length}`,
    )
  }
  let palette: Uint8Array | null = null
  if (bpp <= 8) {
    const declared = dv.getUint32(46, true)
    const colors = declared === 0 ? 1 << bpp : Math.min(declared, 1 << bpp)
    const at = 14 + dib
    if (at + colors * 4 > dataOffset || at + colors * 4 > b.length)
      throw new ImportError('BMP: palette overlaps pixel data')
    palette = b.subarray(at, at + colors * 4)
  }
  const out = new Uint8Array(width * height * 3)
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * rowBytes
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3
      if (bpp >= 24) {
        const p = row + x * (bpp / 8)
        out[o] = b[p + 2]!
        out[o + 1] = b[p + 1]!
        out[o + 2] = b[p]!
      } else {
        const bit = x * bpp
        const byte = b[row + (bit >> 3)]!
        const idx = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1)
        const p = idx * 4
        if (p + 2 >= palette!.length) throw new ImportError(`BMP: palette index ${idx} out of range`)
        out[o] = palette![p + 2]!
        out[o + 1] = palette![p + 1]!
        out[o + 2] = palette![p]!
      }
    }
  }
  return { data: out, width, height, channels: 3 }
}

/** Encodes 24-bit BMP (tests and fixtures). */
export function encodeBmp(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const rowBytes = Math.ceil((width * 24) / 32) * 4
  const size = 54 + rowBytes * height
  const b = new Uint8Array(size)
  const dv = new DataView(b.buffer)
  b[0] = 0x42
  b[1] = 0x4d
  dv.setUint32(2, size, true)
  dv.setUint32(10, 54, true)
  dv.setUint32(14, 40, true)
  dv.setInt32(18, width, true)
  dv.setInt32(22, height, true)
  dv.setUint16(26, 1, true)
  dv.setUint16(28, 24, true)
  dv.setUint32(34, rowBytes * height, true)
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * rowBytes
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3
      b[row + x * 3] = rgb[i + 2]!
      b[row + x * 3 + 1] = rgb[i + 1]!
      b[row + x * 3 + 2] = rgb[i]!
    }
  }
  return b
}
