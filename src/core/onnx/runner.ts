/**
 * ONNX Runtime in a worker thread. onnxruntime-node's `session.run` executes on the calling thread
 * (its promise only defers the call with setImmediate), so a teacher run on the trainer's main
 * thread would stop the student's step for its whole forward pass. In a worker the two overlap:
 * the train loop hands the next batch to the worker and runs the current step meanwhile.
 *
 * The worker's code is a short CommonJS string (no bundle entry to ship beside each host's trainer
 * bundle); it `require`s onnxruntime-node by the path resolved here. onnxruntime-node is an optional
 * dependency: when it is absent, `createOnnxRunner` fails with a message saying how to install it.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { AppError } from '../../shared/errors'
import type { OnnxExecutionProvider } from '../../shared/onnx'
import { neutralTeacherFieldNames, type TeacherFieldNamer } from '../../shared/teacher-fields'

/** A model input or output as ONNX Runtime reports it; string dimensions are symbolic (e.g. batch). */
export interface OnnxValueInfo {
  name: string
  isTensor: boolean
  type?: string
  shape?: (number | string)[]
}

export interface OnnxRunResult {
  data: Float32Array
  dims: number[]
  /** Wall time of `session.run` inside the worker. */
  ms: number
}

export interface OnnxRunner {
  readonly inputs: OnnxValueInfo[]
  readonly outputs: OnnxValueInfo[]
  /** The execution provider the session runs on (cpu when the chosen one was unavailable). */
  readonly executionProvider: OnnxExecutionProvider
  /** Where ONNX Runtime runs, in words, with why a chosen GPU provider was not used. */
  readonly device: string
  /** Runs the model on one float32 input; the input's buffer is transferred (the caller loses it). */
  run(input: { name: string; data: Float32Array; dims: number[] }, output: string): Promise<OnnxRunResult>
  close(): Promise<void>
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const ort = require(workerData.ortPath)
let session = null
const fail = (id, err) => parentPort.postMessage({ id, ok: false, error: String((err && err.message) || err) })
parentPort.on('message', async (m) => {
  try {
    if (m.type === 'open') {
      // A chosen GPU provider this install or platform lacks is an error, never a quiet CPU run:
      // the user asked for that device, and the run's timings and record would say otherwise.
      const ep = m.provider
      const supported = ort.listSupportedBackends ? ort.listSupportedBackends().map((b) => b.name) : null
      if (ep !== 'cpu' && supported && !supported.includes(ep)) {
        parentPort.postMessage({ id: m.id, ok: false, epUnavailable: true, error: 'it is not an execution provider of this onnxruntime-node build on ' + process.platform + '-' + process.arch + ' (it has: ' + supported.join(', ') + ')' })
        return
      }
      // ONNX Runtime prints a missing provider library to stderr; the rejection below says it in our words.
      if (ep !== 'cpu') ort.env.logLevel = 'fatal'
      try {
        session = await ort.InferenceSession.create(m.path, { ...m.options, executionProviders: ep === 'cpu' ? ['cpu'] : [ep, 'cpu'] })
      } catch (err) {
        if (ep === 'cpu') throw err
        // Tell a missing provider library from a bad model: the model loads on the CPU.
        let cpuLoads = false
        try {
          const probe = await ort.InferenceSession.create(m.path, { executionProviders: ['cpu'] })
          await probe.release()
          cpuLoads = true
        } catch {}
        if (!cpuLoads) throw err
        parentPort.postMessage({ id: m.id, ok: false, epUnavailable: true, error: String((err && err.message) || err).trim().split(String.fromCharCode(10))[0] })
        return
      }
      const info = (list) => list.map((v) => ({ name: v.name, isTensor: v.isTensor, type: v.type, shape: v.shape ? Array.from(v.shape) : undefined }))
      parentPort.postMessage({ id: m.id, ok: true, inputs: info(session.inputMetadata), outputs: info(session.outputMetadata) })
    } else if (m.type === 'run') {
      const t0 = performance.now()
      const feeds = { [m.input]: new ort.Tensor('float32', m.data, m.dims) }
      const out = await session.run(feeds, [m.output])
      const ms = performance.now() - t0
      const v = out[m.output]
      if (v.type !== 'float32') throw new Error('output "' + m.output + '" is ' + v.type + ', expected float32')
      const data = Float32Array.from(v.data)
      parentPort.postMessage({ id: m.id, ok: true, data, dims: Array.from(v.dims, Number), ms }, [data.buffer])
    } else if (m.type === 'close') {
      if (session) await session.release()
      session = null
      parentPort.postMessage({ id: m.id, ok: true })
    }
  } catch (err) {
    fail(m.id, err)
  }
})
`

const INSTALL_HINT =
  'onnxruntime-node is not installed (an optional dependency): install it with ' +
  '`ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node` (skip = the CPU binaries in the package, no CUDA download)'

/**
 * The error for a chosen execution provider that cannot run here. No CPU fallback: a run that
 * asked for a GPU must not train on the CPU under the GPU's name (or silently, at CPU speed).
 */
export function executionProviderUnavailable(
  ep: OnnxExecutionProvider,
  why: string,
  fieldName: TeacherFieldNamer = neutralTeacherFieldNames,
): AppError {
  return new AppError(
    'backend_unavailable',
    `ONNX Runtime's ${ep} execution provider is not available on this machine (${why}); ` +
      `choose the cpu ${fieldName('device')}, or install an onnxruntime-node with ${ep} support (for cuda: npm install onnxruntime-node without ONNXRUNTIME_NODE_INSTALL=skip, with CUDA 12 and cuDNN 9 installed)`,
    { field: 'executionProvider' },
  )
}

/** The resolved path of onnxruntime-node, or an AppError saying how to install it. */
export function resolveOrt(): string {
  const req = createRequire(import.meta.url)
  try {
    return req.resolve('onnxruntime-node')
  } catch {
    throw new AppError('backend_unavailable', INSTALL_HINT)
  }
}

/** True when onnxruntime-node can be loaded (the package and its native binding). */
export function isOrtAvailable(): boolean {
  try {
    resolveOrt()
    return true
  } catch {
    return false
  }
}

interface Reply {
  id: number
  ok: boolean
  error?: string
  inputs?: OnnxValueInfo[]
  outputs?: OnnxValueInfo[]
  data?: Float32Array
  dims?: number[]
  ms?: number
  epUnavailable?: boolean
}

/**
 * Opens `path` in ONNX Runtime in a worker thread. Rejects with ONNX Runtime's own message when
 * the file cannot be loaded (callers prefix the file and what it meant); `executionProvider` other
 * than cpu is tried first with the CPU as ONNX Runtime's fallback for the ops it lacks, and rejects
 * with executionProviderUnavailable() when that provider cannot start here (no silent CPU run).
 */
export async function createOnnxRunner(
  path: string,
  opts: {
    executionProvider?: OnnxExecutionProvider
    threads?: number
    /** How messages name a setting (the CLI adds its flags); neutral when not given. */
    fieldName?: TeacherFieldNamer
  } = {},
): Promise<OnnxRunner> {
  const ortPath = resolveOrt()
  const executionProvider = opts.executionProvider ?? 'cpu'
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath } })
  worker.unref()
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>()
  let nextId = 1
  let dead: Error | null = null
  const failAll = (err: Error): void => {
    dead = err
    for (const p of pending.values()) p.reject(err)
    pending.clear()
  }
  worker.on('message', (r: Reply) => {
    const p = pending.get(r.id)
    if (!p) return
    pending.delete(r.id)
    if (r.ok) p.resolve(r)
    else if (r.epUnavailable)
      p.reject(executionProviderUnavailable(executionProvider, r.error ?? '', opts.fieldName))
    else p.reject(new Error(r.error ?? 'ONNX Runtime failed'))
  })
  worker.on('error', (err) => failAll(err))
  worker.on('exit', (code) => failAll(new Error(`the ONNX Runtime worker exited (code ${code})`)))
  const call = (msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> => {
    if (dead) return Promise.reject(dead)
    const id = nextId++
    return new Promise<Reply>((resolve, reject) => {
      pending.set(id, { resolve, reject })
      worker.postMessage({ ...msg, id }, transfer)
    })
  }
  let opened: Reply
  try {
    opened = await call({
      type: 'open',
      path,
      provider: executionProvider,
      options: {
        graphOptimizationLevel: 'all',
        ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
      },
    })
  } catch (err) {
    await worker.terminate()
    throw err
  }
  return {
    inputs: opened.inputs ?? [],
    outputs: opened.outputs ?? [],
    executionProvider,
    device: `onnxruntime ${executionProvider}`,
    async run(input, output) {
      const r = await call({ type: 'run', input: input.name, data: input.data, dims: input.dims, output }, [
        input.data.buffer as ArrayBuffer,
      ])
      return { data: r.data!, dims: r.dims!, ms: r.ms! }
    },
    async close() {
      if (!dead) await call({ type: 'close' }).catch(() => undefined)
      await worker.terminate()
    },
  }
}
