/**
 * A teacher's logits on the whole (unaugmented) training split, kept on disk beside the teacher's
 * checkpoint so that every student of that teacher reads them instead of running the teacher again.
 *
 * File `<checkpoint>.logits-<key>`: the magic `TFKDLGT1`, a uint32 LE header length, the JSON header,
 * zero padding to a multiple of 4 bytes, then n x numClasses float32 LE. The header repeats the key
 * and holds the body's size and SHA-256: a file whose header, size or hash does not match is never
 * used (the caller recomputes and rewrites it). Written under a temp name and renamed.
 *
 * The key is everything the logits depend on: the teacher checkpoint file's SHA-256 and architecture,
 * the backend that computes them (kernels differ in their last bits), and the training split exactly
 * as the trainer holds it: the SHA-256 of its pixels in order (so the dataset, max-train, the
 * validation carve and the order of the indices), its shape, the normalisation (mean, std) and the
 * number of classes.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import type { ImageSet } from '../data/arrays'
import { writeFileAtomic } from './checkpoint'

const MAGIC = 'TFKDLGT1'
/** Bump when the layout or the meaning of the numbers changes. */
const FORMAT = 1

export interface LogitsCacheKey {
  format: number
  teacherSha256: string
  teacherModel: string
  backend: string
  trainSha256: string
  n: number
  shape: [number, number, number]
  mean: number[]
  std: number[]
  numClasses: number
}

interface Header {
  key: LogitsCacheKey
  bodyBytes: number
  bodySha256: string
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

/** The SHA-256 of the split's pixels in order (labels do not change a teacher's logits). */
export function sha256Pixels(set: ImageSet): string {
  const [h, w, c] = set.shape
  return createHash('sha256')
    .update(set.images.subarray(0, set.n * h * w * c))
    .digest('hex')
}

export function logitsCacheKey(a: {
  teacherSha256: string
  teacherModel: string
  backend: string
  train: ImageSet
  mean: number[]
  std: number[]
  numClasses: number
}): LogitsCacheKey {
  return {
    format: FORMAT,
    teacherSha256: a.teacherSha256,
    teacherModel: a.teacherModel,
    backend: a.backend,
    trainSha256: sha256Pixels(a.train),
    n: a.train.n,
    shape: [...a.train.shape],
    mean: [...a.mean],
    std: [...a.std],
    numClasses: a.numClasses,
  }
}

/** A short digest of the key, for the file name. */
export function keyDigest(key: LogitsCacheKey): string {
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16)
}

/** The cache file of a key, beside the teacher's checkpoint. */
export function logitsCachePath(checkpointPath: string, key: LogitsCacheKey): string {
  return `${checkpointPath}.logits-${keyDigest(key)}`
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export type CacheRead = { ok: true; table: Float32Array; bodySha256: string } | { ok: false; reason: string }

/** Reads a cache file; any mismatch (key, size, hash, layout) is a miss with its reason. */
export function readLogitsCache(file: string, key: LogitsCacheKey): CacheRead {
  if (!existsSync(file)) return { ok: false, reason: 'no cache file' }
  let buf: Buffer
  try {
    buf = readFileSync(file)
  } catch (err) {
    return { ok: false, reason: `unreadable: ${(err as Error).message}` }
  }
  if (buf.byteLength < 12 || buf.toString('latin1', 0, 8) !== MAGIC)
    return { ok: false, reason: 'not a logits cache' }
  const headerLen = buf.readUInt32LE(8)
  if (12 + headerLen > buf.byteLength) return { ok: false, reason: 'truncated header' }
  let header: Header
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLen)) as Header
  } catch {
    return { ok: false, reason: 'unreadable header' }
  }
  if (JSON.stringify(header.key) !== JSON.stringify(key)) return { ok: false, reason: 'made for another key' }
  const bodyStart = align4(12 + headerLen)
  const expected = key.n * key.numClasses * 4
  if (header.bodyBytes !== expected || buf.byteLength !== bodyStart + expected) {
    return { ok: false, reason: `size ${buf.byteLength} bytes, expected ${bodyStart + expected}` }
  }
  const body = new Uint8Array(expected)
  body.set(buf.subarray(bodyStart, bodyStart + expected))
  const digest = sha256(body)
  if (digest !== header.bodySha256) return { ok: false, reason: 'SHA-256 of the logits does not match' }
  return { ok: true, table: new Float32Array(body.buffer, 0, key.n * key.numClasses), bodySha256: digest }
}

const align4 = (n: number): number => (n + 3) & ~3

/** Writes the table under a temp name and renames it over `file`; returns the logits' SHA-256. */
export function writeLogitsCache(file: string, key: LogitsCacheKey, table: Float32Array): string {
  const body = new Uint8Array(table.buffer, table.byteOffset, table.byteLength)
  const bodySha256 = sha256(body)
  const header: Header = { key, bodyBytes: body.byteLength, bodySha256 }
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const head = Buffer.alloc(align4(12 + json.byteLength))
  head.write(MAGIC, 0, 'latin1')
  head.writeUInt32LE(json.byteLength, 8)
  json.copy(head, 12)
  writeFileAtomic(file, [head, body])
  return bodySha256
}
