/**
 * Writers (and readers, for the tests) for the two icon containers the installers need. Both are
 * small, documented formats, so they are written here rather than pulled in: the npm writers
 * (@fiahfy/ico, @fiahfy/icns 0.0.x, png2icons 2.0.1) are unmaintained for years, and icon-gen 5
 * would bring a second, older sharp (0.33) next to ours.
 *
 * ICO (Windows): ICONDIR + one 16-byte ICONDIRENTRY per image. 256 px is stored as PNG (Vista+);
 * smaller sizes as classic 32-bit BGRA DIBs with an AND mask, which every consumer reads (NSIS's
 * makensis and old shell versions included).
 * ICNS (macOS): 'icns' + big-endian length, then (OSType, length, PNG bytes) elements; the OSTypes
 * are the PNG-capable ones iconutil writes.
 */

/** ICNS element types for each PNG size; the @2x types reuse the next size up. */
export const ICNS_TYPES = [
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
  ['ic11', 32],
  ['ic12', 64],
  ['ic13', 256],
  ['ic14', 512],
]

/** The sizes the .ico carries. */
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256]

/**
 * @param {Map<number, Buffer>} pngBySize PNG bytes for every size in ICNS_TYPES
 * @returns {Buffer}
 */
export function writeIcns(pngBySize) {
  const elements = ICNS_TYPES.map(([type, size]) => {
    const png = pngBySize.get(size)
    if (!png) throw new Error(`icns: no ${size}px PNG for ${type}`)
    const head = Buffer.alloc(8)
    head.write(type, 0, 'ascii')
    head.writeUInt32BE(8 + png.length, 4)
    return Buffer.concat([head, png])
  })
  const body = Buffer.concat(elements)
  const head = Buffer.alloc(8)
  head.write('icns', 0, 'ascii')
  head.writeUInt32BE(8 + body.length, 4)
  return Buffer.concat([head, body])
}

/** @returns {{ type: string, data: Buffer }[]} */
export function readIcns(buf) {
  if (buf.toString('ascii', 0, 4) !== 'icns') throw new Error('icns: bad magic')
  if (buf.readUInt32BE(4) !== buf.length) throw new Error('icns: length field does not match the file')
  const out = []
  for (let at = 8; at < buf.length;) {
    const len = buf.readUInt32BE(at + 4)
    if (len < 8 || at + len > buf.length) throw new Error(`icns: bad element length at ${at}`)
    out.push({ type: buf.toString('ascii', at, at + 4), data: buf.subarray(at + 8, at + len) })
    at += len
  }
  return out
}

/**
 * A 32-bit DIB for an ICO entry: BITMAPINFOHEADER (height doubled: XOR + AND mask), bottom-up BGRA
 * rows, then the 1-bit AND mask (all zero: alpha decides), rows padded to 4 bytes.
 * @param {Buffer} rgba raw RGBA pixels, size*size*4
 */
function dib(rgba, size) {
  const header = Buffer.alloc(40)
  header.writeUInt32LE(40, 0)
  header.writeInt32LE(size, 4)
  header.writeInt32LE(size * 2, 8)
  header.writeUInt16LE(1, 12) // planes
  header.writeUInt16LE(32, 14) // bits per pixel
  header.writeUInt32LE(0, 16) // BI_RGB
  header.writeUInt32LE(size * size * 4, 20)
  const pixels = Buffer.alloc(size * size * 4)
  for (let y = 0; y < size; y++) {
    const src = (size - 1 - y) * size * 4
    for (let x = 0; x < size; x++) {
      const s = src + x * 4
      const d = (y * size + x) * 4
      pixels[d] = rgba[s + 2]
      pixels[d + 1] = rgba[s + 1]
      pixels[d + 2] = rgba[s]
      pixels[d + 3] = rgba[s + 3]
    }
  }
  const maskRow = Math.ceil(size / 32) * 4
  return Buffer.concat([header, pixels, Buffer.alloc(maskRow * size)])
}

/**
 * @param {{ size: number, png: Buffer, rgba: Buffer }[]} images one per ICO_SIZES entry
 * @returns {Buffer}
 */
export function writeIco(images) {
  const payloads = images.map((im) => (im.size >= 256 ? im.png : dib(im.rgba, im.size)))
  const dir = Buffer.alloc(6 + 16 * images.length)
  dir.writeUInt16LE(0, 0)
  dir.writeUInt16LE(1, 2) // 1 = icon
  dir.writeUInt16LE(images.length, 4)
  let offset = dir.length
  images.forEach((im, i) => {
    const e = 6 + 16 * i
    dir.writeUInt8(im.size >= 256 ? 0 : im.size, e) // 0 means 256
    dir.writeUInt8(im.size >= 256 ? 0 : im.size, e + 1)
    dir.writeUInt8(0, e + 2) // no palette
    dir.writeUInt8(0, e + 3)
    dir.writeUInt16LE(1, e + 4) // planes
    dir.writeUInt16LE(32, e + 6) // bits per pixel
    dir.writeUInt32LE(payloads[i].length, e + 8)
    dir.writeUInt32LE(offset, e + 12)
    offset += payloads[i].length
  })
  return Buffer.concat([dir, ...payloads])
}

/** @returns {{ size: number, kind: 'png' | 'dib', data: Buffer }[]} */
export function readIco(buf) {
  if (buf.readUInt16LE(0) !== 0 || buf.readUInt16LE(2) !== 1) throw new Error('ico: bad header')
  const count = buf.readUInt16LE(4)
  const out = []
  for (let i = 0; i < count; i++) {
    const e = 6 + 16 * i
    const size = buf.readUInt8(e) || 256
    const len = buf.readUInt32LE(e + 8)
    const at = buf.readUInt32LE(e + 12)
    if (at + len > buf.length) throw new Error(`ico: entry ${i} runs past the end of the file`)
    const data = buf.subarray(at, at + len)
    const kind = data.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])) ? 'png' : 'dib'
    if (kind === 'dib' && (data.readUInt32LE(0) !== 40 || data.readInt32LE(4) !== size)) {
      throw new Error(`ico: entry ${i} is not a ${size}px BITMAPINFOHEADER`)
    }
    out.push({ size, kind, data })
  }
  return out
}
