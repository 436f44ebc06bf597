/**
 * The ONNX protobuf schema, from the `onnx-proto` package: onnx.proto compiled to static
 * protobufjs code (typed encode/decode of ModelProto), so neither reading an imported teacher's
 * header nor writing an exported student hand-rolls the wire format. Loaded with createRequire: the
 * package is CommonJS with no named ESM exports.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { onnx as OnnxNs } from 'onnx-proto'

const req = createRequire(import.meta.url)
export const onnx = (req('onnx-proto') as { onnx: typeof OnnxNs }).onnx
export type { OnnxNs }

/** What the file says about itself, before ONNX Runtime sees it. */
export interface OnnxFileInfo {
  irVersion: number
  /** Default-domain opset version (the ONNX operator set the model was exported with). */
  opset: number | null
  producer: string
  nodeCount: number
  opTypes: string[]
  metadata: Record<string, string>
}

/**
 * Decodes an ONNX file's ModelProto. Throws a message naming the file when the bytes are not an
 * ONNX model (no graph, or not protobuf) or end early (a truncated download or copy).
 */
export function inspectOnnxFile(path: string, bytes: Uint8Array = readFileSync(path)): OnnxFileInfo {
  let model: OnnxNs.ModelProto
  try {
    model = onnx.ModelProto.decode(bytes)
  } catch (err) {
    const msg = (err as Error).message
    const truncated = /index out of range/i.test(msg)
    throw new Error(
      truncated
        ? `${path} is truncated or not an ONNX file: the protobuf data ends early (${msg}); copy or export it again`
        : `${path} is not an ONNX model: its bytes are not an ONNX protobuf (${msg})`,
    )
  }
  const irVersion = Number(model.irVersion)
  if (!model.graph || !(irVersion > 0)) {
    throw new Error(
      `${path} is not an ONNX model: expected a ModelProto with an IR version and a graph, found ${
        model.graph ? 'no IR version' : 'no graph'
      }`,
    )
  }
  const nodes = model.graph.node ?? []
  const def = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')
  const producer = [model.producerName, model.producerVersion].filter(Boolean).join(' ') || 'unknown producer'
  return {
    irVersion,
    opset: def ? Number(def.version) : null,
    producer,
    nodeCount: nodes.length,
    opTypes: [...new Set(nodes.map((n) => (n.domain ? `${n.domain}:${n.opType}` : String(n.opType))))],
    metadata: Object.fromEntries(model.metadataProps.map((p) => [String(p.key), String(p.value)])),
  }
}
