/**
 * Checkpoint files: one file per checkpoint, written under a temporary name and renamed, so a crash
 * never leaves a torn checkpoint where a complete one is expected. Pure TF.js has no `file://` save
 * handler, so the model's artifacts are serialised here: magic, header length, JSON header, weights.
 *
 * A checkpoint may also carry the optimizer's state (`optimizer.getWeights()`: the iteration counter
 * first, then its slots, e.g. momentum accumulators or Adam's moments, in variable order), stored
 * after the model's weights; the header's `optimizer` entry says where. Resuming loads both, so a
 * resumed run continues exactly where the interrupted one stopped.
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { dirname } from 'node:path'
import { StorageError } from '../storage-errors'
import * as tf from '@tensorflow/tfjs-core'
import type * as tfl from '@tensorflow/tfjs-layers'

const MAGIC = Buffer.from('TFKDCKPT1\n')

export interface SaveCheckpointOptions {
  /** Also store this optimizer's state (its slots must belong to `model`'s variables). */
  optimizer?: tf.Optimizer
}

interface OptimizerHeader {
  className: string
  /** Bytes of model weights before the optimizer's. */
  modelBytes: number
  specs: tf.io.WeightsManifestEntry[]
}

export async function saveCheckpoint(
  model: tfl.LayersModel,
  file: string,
  meta: object,
  opts: SaveCheckpointOptions = {},
): Promise<number> {
  let header: Record<string, unknown> = {}
  let weights = new ArrayBuffer(0)
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      header = { ...meta, modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs }
      weights = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : weights
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    }),
  )
  const parts: Buffer[] = [Buffer.from(weights)]
  if (opts.optimizer) {
    const named = await opts.optimizer.getWeights()
    try {
      // Positional names: the optimizers match slots to variables by position, and the variables'
      // auto-generated names differ from one process to the next.
      const encoded = await tf.io.encodeWeights(
        named.map((t, i) => ({ name: `optimizer/${String(i).padStart(4, '0')}`, tensor: t.tensor })),
      )
      const opt: OptimizerHeader = {
        className: opts.optimizer.getClassName(),
        modelBytes: weights.byteLength,
        specs: encoded.specs,
      }
      header.optimizer = opt
      parts.push(Buffer.from(encoded.data))
    } finally {
      // getWeights() returns a fresh iteration scalar first; the rest are the optimizer's own variables.
      named[0]?.tensor.dispose()
    }
  }
  const json = Buffer.from(JSON.stringify(header))
  const len = Buffer.alloc(4)
  len.writeUInt32LE(json.length)
  return writeFileAtomic(file, [MAGIC, len, json, ...parts])
}

/**
 * Writes `parts` to `file` so that `file` is either its old self or complete: a temporary file in
 * the same folder, every byte written (a short write is retried, no progress is an error), fsynced,
 * its size checked, then renamed over `file`. Any failure (disk full, read-only, permission denied)
 * removes the temporary file and throws a StorageError naming the path and what to do.
 */
export function writeFileAtomic(file: string, parts: readonly Uint8Array[]): number {
  const tmp = `${file}.tmp-${process.pid}`
  const expected = parts.reduce((n, p) => n + p.byteLength, 0)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'w')
    for (const part of parts) writeFully(fd, part)
    fsyncSync(fd)
    const size = fstatSync(fd).size
    if (size !== expected) {
      throw Object.assign(new Error(`wrote ${size} of ${expected} bytes`), { code: 'ENOSPC' })
    }
    closeSync(fd)
    fd = undefined
    renameSync(tmp, file)
  } catch (err) {
    if (fd !== undefined) closeQuietly(fd)
    rmSync(tmp, { force: true })
    throw new StorageError(err, 'cannot write the checkpoint', file)
  }
  syncFolder(dirname(file))
  return expected
}

function writeFully(fd: number, data: Uint8Array): void {
  let off = 0
  while (off < data.byteLength) {
    const n = writeSync(fd, data, off, data.byteLength - off)
    // A write that makes no progress would loop forever; treat it as a full disk.
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'ENOSPC' })
    off += n
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd)
  } catch {
    // Already failing; the original error is the one to report.
  }
}

/** Makes the rename itself durable; best effort (some file systems refuse fsync on folders). */
function syncFolder(dir: string): void {
  try {
    const fd = openSync(dir, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // Not fatal: the file's own contents were fsynced before the rename.
  }
}

export interface CheckpointContents {
  meta: Record<string, unknown>
  weightSpecs: tf.io.WeightsManifestEntry[]
  weightData: ArrayBuffer
  /** The optimizer's state, when the checkpoint has one. */
  optimizer?: { className: string; specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer }
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 }

/** Bytes the weights of these specs take (unquantized, as `saveCheckpoint` writes them). */
function specBytes(specs: readonly tf.io.WeightsManifestEntry[] | undefined): number {
  let n = 0
  for (const s of specs ?? []) {
    const size = s.quantization
      ? s.quantization.dtype === 'float16'
        ? 2
        : s.quantization.dtype === 'uint16'
          ? 2
          : 1
      : DTYPE_BYTES[s.dtype]
    if (size === undefined) throw new Error(`unsupported weight dtype ${s.dtype}`)
    n += s.shape.reduce((a, b) => a * b, 1) * size
  }
  return n
}

export function readCheckpoint(file: string): CheckpointContents {
  const buf = readFileSync(file)
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${file}: not a tfkd checkpoint`)
  const len = buf.readUInt32LE(MAGIC.length)
  const start = MAGIC.length + 4
  const header = JSON.parse(buf.subarray(start, start + len).toString()) as Record<string, unknown>
  const w = buf.subarray(start + len)
  const slice = (from: number, to: number): ArrayBuffer =>
    w.buffer.slice(w.byteOffset + from, w.byteOffset + to)
  const opt = header.optimizer as OptimizerHeader | undefined
  // A file cut short (written by an older version, or copied badly) is refused, not half-loaded.
  const expected =
    specBytes(header.weightSpecs as tf.io.WeightsManifestEntry[]) + (opt ? specBytes(opt.specs) : 0)
  if (w.byteLength !== expected) {
    throw new Error(`${file}: truncated or damaged checkpoint (${w.byteLength} of ${expected} weight bytes)`)
  }
  const modelBytes = opt ? opt.modelBytes : w.byteLength
  return {
    meta: header,
    weightSpecs: header.weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: slice(0, modelBytes),
    ...(opt
      ? { optimizer: { className: opt.className, specs: opt.specs, data: slice(modelBytes, w.byteLength) } }
      : {}),
  }
}

/**
 * Reads a checkpoint's weights as tensors in `model.weights` order, checking their number and shapes
 * against `model`. The caller owns (disposes) the tensors.
 */
export function readWeightsFor(
  model: tfl.LayersModel,
  file: string,
  c: CheckpointContents = readCheckpoint(file),
): tf.Tensor[] {
  const named = tf.io.decodeWeights(c.weightData, c.weightSpecs)
  const values = c.weightSpecs.map((spec) => named[spec.name]!)
  try {
    if (values.length !== model.weights.length) {
      throw new Error(
        `${file}: checkpoint has ${values.length} weight tensors, the model ${model.name} has ${model.weights.length}`,
      )
    }
    model.weights.forEach((w, i) => {
      const got = values[i]!.shape
      if (got.join(',') !== w.shape.join(',')) {
        throw new Error(`${file}: weight ${i} (${w.name}) has shape [${got}], the model expects [${w.shape}]`)
      }
    })
  } catch (err) {
    Object.values(named).forEach((t) => t.dispose())
    throw err
  }
  return values
}

/**
 * Loads a checkpoint's weights into a model of the same architecture. Weights are matched by
 * position (the order of `model.weights` is fixed by the architecture; auto-generated layer names
 * are not), and every shape is checked.
 */
export function loadWeightsInto(
  model: tfl.LayersModel,
  file: string,
  c: CheckpointContents = readCheckpoint(file),
): Record<string, unknown> {
  const values = readWeightsFor(model, file, c)
  try {
    model.setWeights(values)
  } finally {
    values.forEach((t) => t.dispose())
  }
  return c.meta
}

/** Restores an optimizer's state saved with `saveCheckpoint(..., { optimizer })`. */
export async function loadOptimizerState(
  optimizer: tf.Optimizer,
  c: CheckpointContents,
  file = 'checkpoint',
): Promise<void> {
  if (!c.optimizer) throw new Error(`${file}: the checkpoint has no optimizer state`)
  if (c.optimizer.className !== optimizer.getClassName()) {
    throw new Error(
      `${file}: optimizer state is ${c.optimizer.className}, the run uses ${optimizer.getClassName()}`,
    )
  }
  const named = tf.io.decodeWeights(c.optimizer.data, c.optimizer.specs)
  try {
    // setWeights makes its own variables (sharing the data), so the decoded tensors can go.
    await optimizer.setWeights(c.optimizer.specs.map((s) => ({ name: s.name, tensor: named[s.name]! })))
  } finally {
    Object.values(named).forEach((t) => t.dispose())
  }
}
