/**
 * A CSV's bytes as UTF-8 for the parser, by the file's declared encoding. `utf8` (the default) is
 * checked, not repaired: the first byte that is not part of valid UTF-8 refuses the file, naming its
 * line and byte offset (a file mixing UTF-8 `café` and Latin-1 `caf\xe9` would otherwise import as
 * two classes, one of them `caf\ufffd`). `latin1` maps each byte to one character; `utf16le` is
 * decoded by Node's StringDecoder (its BOM becomes the UTF-8 BOM the parser strips).
 */
import { isUtf8 } from 'node:buffer'
import { Transform } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import type { CsvEncoding } from '../../../shared/import-fields'

/** Bytes a UTF-8 sequence starting with `lead` has in all; 0 for a byte that cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1
  if (lead >= 0xc2 && lead <= 0xdf) return 2
  if (lead >= 0xe0 && lead <= 0xef) return 3
  if (lead >= 0xf0 && lead <= 0xf4) return 4
  return 0
}

/** The second byte's range for leads whose range is narrower than 80..BF (no overlongs, no surrogates). */
function secondOk(lead: number, b: number): boolean {
  if (lead === 0xe0) return b >= 0xa0 && b <= 0xbf
  if (lead === 0xed) return b >= 0x80 && b <= 0x9f
  if (lead === 0xf0) return b >= 0x90 && b <= 0xbf
  if (lead === 0xf4) return b >= 0x80 && b <= 0x8f
  return (b & 0xc0) === 0x80
}

/** Index of the first byte of `buf` that is not valid UTF-8 (a sequence cut by the end counts as bad). */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0
  while (i < buf.length) {
    const n = sequenceLength(buf[i]!)
    if (n === 0 || i + n > buf.length) return i
    if (n > 1 && !secondOk(buf[i]!, buf[i + 1]!)) return i
    for (let k = 2; k < n; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return i
    i += n
  }
  return -1
}

/** Where a chunk may be cut without splitting a sequence: before a lead byte whose sequence is incomplete. */
function completeLength(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back]!
    if ((b & 0xc0) === 0x80) continue // a continuation byte: look further back
    const n = sequenceLength(b)
    return n > back ? buf.length - back : buf.length
  }
  return buf.length
}

function countNewlines(buf: Buffer, end: number): number {
  let n = 0
  for (let i = buf.indexOf(10); i >= 0 && i < end; i = buf.indexOf(10, i + 1)) n++
  return n
}

/**
 * A stream from the file's bytes to UTF-8 bytes. For `utf8`, `invalid(line, offset)` makes the
 * error thrown at the first invalid byte (line 1-based, offset 0-based from the file's start).
 */
export function decodeToUtf8(
  encoding: CsvEncoding,
  invalid: (line: number, offset: number) => Error,
): Transform {
  if (encoding !== 'utf8') {
    const decoder = new StringDecoder(encoding)
    return new Transform({
      transform(chunk: Buffer, _enc, cb) {
        cb(null, Buffer.from(decoder.write(chunk), 'utf8'))
      },
      flush(cb) {
        cb(null, Buffer.from(decoder.end(), 'utf8'))
      },
    })
  }
  let carry = Buffer.alloc(0)
  let offset = 0 // of carry's first byte
  let line = 1
  const check = (buf: Buffer, end: number): Error | null => {
    if (isUtf8(buf.subarray(0, end))) return null
    const bad = firstInvalidUtf8(buf.subarray(0, end))
    return invalid(line + countNewlines(buf, bad), offset + bad)
  }
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk
      const end = completeLength(buf)
      const err = check(buf, end)
      if (err) return cb(err)
      line += countNewlines(buf, end)
      offset += end
      carry = Buffer.from(buf.subarray(end))
      cb(null, buf.subarray(0, end))
    },
    flush(cb) {
      // A sequence cut off by the end of the file.
      cb(carry.length ? check(carry, carry.length) : null)
    },
  })
}
