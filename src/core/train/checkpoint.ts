/**
 * Checkpoint files: one file per checkpoint, written under a temporary name and renamed, so a crash
 * never leaves a torn checkpoint where a complete one is expected. Pure TF.js has no `file://` save
 * handler, so the model's artifacts are serialised here: magic, header length, JSON header, weights.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import type * as tfl from '@tensorflow/tfjs-layers'

const MAGIC = Buffer.from('TFKDCKPT1\n')

export async function saveCheckpoint(model: tfl.LayersModel, file: string, meta: object): Promise<number> {
  let header: object = {}
  let weights = new ArrayBuffer(0)
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      header = { ...meta, modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs }
      weights = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : weights
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    }),
  )
  const json = Buffer.from(JSON.stringify(header))
  const len = Buffer.alloc(4)
  len.writeUInt32LE(json.length)
  const tmp = `${file}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w')
  try {
    for (const part of [MAGIC, len, json, Buffer.from(weights)]) writeSync(fd, part)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
  return MAGIC.length + 4 + json.length + weights.byteLength
}

export interface CheckpointContents {
  meta: Record<string, unknown>
  weightSpecs: tf.io.WeightsManifestEntry[]
  weightData: ArrayBuffer
}

export function readCheckpoint(file: string): CheckpointContents {
  const buf = readFileSync(file)
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${file}: not a tfkd checkpoint`)
  const len = buf.readUInt32LE(MAGIC.length)
  const start = MAGIC.length + 4
  const header = JSON.parse(buf.subarray(start, start + len).toString()) as Record<string, unknown>
  const w = buf.subarray(start + len)
  return {
    meta: header,
    weightSpecs: header.weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer,
  }
}

/**
 * Loads a checkpoint's weights into a model of the same architecture. Weights are matched by
 * position (the order of `model.weights` is fixed by the architecture; auto-generated layer names
 * are not), and every shape is checked.
 */
export function loadWeightsInto(model: tfl.LayersModel, file: string): Record<string, unknown> {
  const c = readCheckpoint(file)
  const named = tf.io.decodeWeights(c.weightData, c.weightSpecs)
  try {
    const values = c.weightSpecs.map((spec) => named[spec.name]!)
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
    model.setWeights(values)
  } finally {
    Object.values(named).forEach((t) => t.dispose())
  }
  return c.meta
}
