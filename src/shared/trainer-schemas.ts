/**
 * Schemas of the messages between a host and its trainer child (trainer-protocol.ts), checked where
 * they arrive: the trainer parses what the host sends, the host what the trainer reports. A malformed
 * message never crashes the receiver nor leaves a run waiting: it becomes the failure its waiting
 * party understands (the run's `failed`, a job's `job-failed`, a bench's `bench-failed`), naming the
 * run and the field. Deep results built by the trainer's own code (a backend report, a bench, an
 * ONNX evaluation, an export) are checked to be objects; what the host stores is checked in full.
 */
import { z } from 'zod'
import type { WebGpuAdapterFacts } from './doctor'
import {
  MODEL_EXPORT_FORMATS,
  ONNX_EXECUTION_PROVIDERS,
  TENSOR_LAYOUTS,
  type ModelExportResult,
} from './onnx'
import {
  epochMetricsRecord,
  real,
  runConfigRecord,
  runDeviceRecord,
  runResultRecord,
  teacherPreprocessingRecord,
} from './record-schemas'
import type { TeacherFieldTable } from './teacher-fields'
import type { BenchResult, HostToTrainer, OnnxEvalResult, TrainerToHost } from './trainer-protocol'
import { BACKEND_IDS } from './backends'
import type { BackendReport } from './types'

const int = z.number().int()
const objectOf = <T>(what: string) =>
  z.custom<T>((v) => typeof v === 'object' && v !== null, { message: `expected ${what} (an object)` })

const trainerDataset = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bundled'), name: z.literal('mnist-10k') }),
  z.object({ kind: z.literal('cache'), path: z.string() }),
])

const trainerStart = z.object({
  type: z.literal('start'),
  runId: int,
  config: runConfigRecord,
  checkpointDir: z.string(),
  dataset: trainerDataset,
  teacher: z.object({ checkpointPath: z.string(), model: z.string(), runId: int, epoch: int }).optional(),
  onnxTeacher: z
    .object({
      id: int,
      path: z.string(),
      sha256: z.string(),
      preprocessing: teacherPreprocessingRecord,
      executionProvider: z.enum(ONNX_EXECUTION_PROVIDERS),
    })
    .optional(),
  resumeFrom: z.object({ path: z.string(), epoch: int }).optional(),
})

const benchRequest = z.object({
  type: z.literal('bench'),
  model: z.string(),
  inputShape: z.tuple([int, int, int]),
  numClasses: int,
  batchSize: int,
  seconds: z.number(),
  backend: z.enum(BACKEND_IDS),
  profile: z.boolean().optional(),
})

const onnxEvalRequest = z.object({
  type: z.literal('onnx-eval'),
  file: z.string(),
  dataset: trainerDataset,
  datasetName: z.string(),
  options: z.object({
    layout: z.enum(TENSOR_LAYOUTS).optional(),
    mean: z.array(z.number()).optional(),
    std: z.array(z.number()).optional(),
    inputSize: z.tuple([int, int]).optional(),
    classMap: z.array(int).nullable().optional(),
  }),
  fieldNames: objectOf<TeacherFieldTable>('field names').optional(),
  executionProvider: z.enum(ONNX_EXECUTION_PROVIDERS),
})

const modelExportRequest = z.object({
  type: z.literal('export-model'),
  runId: int,
  config: runConfigRecord,
  dataset: trainerDataset,
  checkpointPath: z.string(),
  checkpoint: z.enum(['best', 'last']),
  epoch: int,
  format: z.enum(MODEL_EXPORT_FORMATS),
  outDir: z.string(),
})

export const hostToTrainerSchema = z.discriminatedUnion('type', [
  trainerStart,
  benchRequest,
  onnxEvalRequest,
  modelExportRequest,
  z.object({ type: z.literal('cancel') }),
  z.object({ type: z.literal('probe') }),
  z.object({ type: z.literal('doctor') }),
  z.object({ type: z.literal('shutdown') }),
])

const testResult = z.object({
  testLoss: real,
  testAccuracy: real,
  bestEpoch: int,
  bestValAccuracy: real,
  details: runResultRecord.optional(),
})

export const trainerToHostSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: int }),
  z.object({ type: z.literal('backend'), report: objectOf<BackendReport>('a backend report') }),
  z.object({
    type: z.literal('started'),
    runId: int,
    backend: z.enum(BACKEND_IDS),
    device: z.string(),
    deviceInfo: runDeviceRecord.optional(),
  }),
  z.object({
    type: z.literal('webgpu-adapter'),
    adapter: objectOf<WebGpuAdapterFacts>('adapter facts').nullable(),
    reason: z.string().nullable(),
  }),
  z.object({
    type: z.literal('progress'),
    progress: z.object({
      runId: int,
      epoch: int,
      epochs: int,
      step: int,
      stepsPerEpoch: int,
      fraction: real,
      loss: real,
      samplesPerSec: real,
      etaMs: real.nullable(),
    }),
  }),
  z.object({ type: z.literal('epoch'), runId: int, metrics: epochMetricsRecord }),
  z.object({ type: z.literal('checkpoint'), runId: int, epoch: int, path: z.string(), bytes: int }),
  z.object({ type: z.literal('completed'), runId: int, result: testResult }),
  z.object({ type: z.literal('cancelled'), runId: int }),
  z.object({ type: z.literal('failed'), runId: int, reason: z.string() }),
  z.object({ type: z.literal('bench-result'), result: objectOf<BenchResult>('a bench result') }),
  z.object({ type: z.literal('bench-failed'), reason: z.string() }),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  z.object({ type: z.literal('job-progress'), done: int, total: int }),
  z.object({ type: z.literal('onnx-eval-result'), result: objectOf<OnnxEvalResult>('an evaluation') }),
  z.object({ type: z.literal('export-result'), result: objectOf<ModelExportResult>('an export result') }),
  z.object({ type: z.literal('job-failed'), reason: z.string() }),
])

/** What is wrong with a message, in words: its type, its run (when it names one) and the field. */
function describeIssue(from: string, m: unknown, error: z.ZodError): string {
  const o = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>
  const type = typeof o.type === 'string' ? `"${o.type}" ` : ''
  const run = typeof o.runId === 'number' ? ` for run ${o.runId}` : ''
  const issue = error.issues[0]!
  const field = issue.path.length ? `${issue.path.join('.')}: ` : ''
  return `malformed ${type}message from the ${from}${run}: ${field}${issue.message}`
}

/** Job answers a host waits for, and the failure that answers in their place. */
const FAILURE_OF: Record<string, 'job-failed' | 'bench-failed'> = {
  'onnx-eval-result': 'job-failed',
  'export-result': 'job-failed',
  'job-progress': 'job-failed',
  'bench-result': 'bench-failed',
}

/** The host's side: a trainer's message, or the failure that stands for a malformed one. */
export function parseTrainerToHost(m: unknown): TrainerToHost {
  const parsed = trainerToHostSchema.safeParse(m)
  if (parsed.success) return parsed.data
  const reason = describeIssue('trainer', m, parsed.error)
  const o = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>
  if (typeof o.runId === 'number' && Number.isInteger(o.runId))
    return { type: 'failed', runId: o.runId, reason }
  const failure = typeof o.type === 'string' ? FAILURE_OF[o.type] : undefined
  if (failure) return { type: failure, reason }
  return { type: 'log', level: 'error', message: reason }
}

/** The trainer's side: the host's message, or the reply that reports a malformed one. */
export function parseHostToTrainer(
  m: unknown,
): { ok: true; msg: HostToTrainer } | { ok: false; reply: TrainerToHost } {
  const parsed = hostToTrainerSchema.safeParse(m)
  if (parsed.success) return { ok: true, msg: parsed.data }
  const reason = describeIssue('host', m, parsed.error)
  const o = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>
  if (o.type === 'bench') return { ok: false, reply: { type: 'bench-failed', reason } }
  if (o.type === 'onnx-eval' || o.type === 'export-model')
    return { ok: false, reply: { type: 'job-failed', reason } }
  if (typeof o.runId === 'number' && Number.isInteger(o.runId)) {
    return { ok: false, reply: { type: 'failed', runId: o.runId, reason } }
  }
  return { ok: false, reply: { type: 'log', level: 'error', message: reason } }
}

type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
/** Compile-time: the schemas' outputs are the protocol's types. */
export const trainerSchemasMatchTypes: [
  Mutual<z.output<typeof hostToTrainerSchema>, HostToTrainer>,
  Mutual<z.output<typeof trainerToHostSchema>, TrainerToHost>,
] = [true, true]
