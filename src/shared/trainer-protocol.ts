/**
 * Messages between a host and its trainer child process (Electron utilityProcess or a forked Node
 * process). The host is the only database writer: the trainer reports, the host records.
 */
import type { GpuCountersPerStep } from './gpu-counters'
import type {
  BackendId,
  BackendReport,
  EpochMetrics,
  RunConfig,
  RunProgress,
  RunDevice,
  RunResultDetails,
} from './types'
import type {
  ModelExportFormat,
  ModelExportResult,
  OnnxExecutionProvider,
  TeacherPreprocessing,
  TensorLayout,
} from './onnx'

/** Where a trainer reads a dataset from: the bundled sample, or a cache file written at import. */
export type TrainerDataset = { kind: 'bundled'; name: 'mnist-10k' } | { kind: 'cache'; path: string }

/** An imported ONNX teacher, as the trainer opens it. */
export interface TrainerOnnxTeacher {
  id: number
  path: string
  sha256: string
  preprocessing: TeacherPreprocessing
  executionProvider: OnnxExecutionProvider
}

/** Check an ONNX teacher against a dataset and evaluate it on the test split (`tfkd teachers import`). */
export interface OnnxEvalRequest {
  type: 'onnx-eval'
  file: string
  dataset: TrainerDataset
  datasetName: string
  options: {
    layout?: TensorLayout
    mean?: number[]
    std?: number[]
    inputSize?: [number, number]
    classMap?: number[] | null
  }
  /** How the host names each setting in messages (the CLI adds its flags); neutral when absent. */
  fieldNames?: TeacherFieldTable
  executionProvider: OnnxExecutionProvider
}

export interface OnnxEvalResult {
  preprocessing: TeacherPreprocessing
  producer: string
  opset: number | null
  correct: number
  n: number
  accuracy: number
  chance: number
  ms: number
  device: string
}

/** Export a run's checkpoint as TF.js Layers or ONNX, and check it on test images. */
export interface ModelExportRequest {
  type: 'export-model'
  runId: number
  config: RunConfig
  dataset: TrainerDataset
  checkpointPath: string
  checkpoint: 'best' | 'last'
  epoch: number
  format: ModelExportFormat
  outDir: string
  /** What a storage failure's message tells the user to do, when `outDir` is theirs (not the data folder's). */
  storageWayOut?: string
}
import type { WebGpuAdapterFacts } from './doctor'
import type { TeacherFieldTable } from './teacher-fields'

export interface TrainerStart {
  type: 'start'
  runId: number
  config: RunConfig
  /** Where the trainer writes checkpoints (files; the host records them). */
  checkpointDir: string
  /** Where a dataset is read from: the bundled sample, or a cache file written at import. */
  dataset: TrainerDataset
  /** The frozen teacher's checkpoint and architecture, for variants that need one. */
  teacher?: { checkpointPath: string; model: string; runId: number; epoch: number }
  /** Or an imported ONNX teacher. */
  onnxTeacher?: TrainerOnnxTeacher
  /** Resume from this checkpoint (epoch already done), if any. */
  resumeFrom?: { path: string; epoch: number }
}

/** Measure training throughput on random data (the `npm run bench` worker). */
export interface BenchRequest {
  type: 'bench'
  model: string
  inputShape: [number, number, number]
  numClasses: number
  batchSize: number
  seconds: number
  backend: BackendId
  /** Also profile one step and report the kernels that took longest. */
  profile?: boolean
  /** Count what each steady-state step asks of the GPU (webgpu only). */
  counters?: boolean
  /** Measure at least this many steps (after the 3 warm-up steps), however long they take. */
  minSteps?: number
  /** Steps between loss readbacks (default: the training loop's, 1 on CPU backends, 16 on WebGPU). */
  readEvery?: number
}

export interface BenchResult {
  model: string
  backend: BackendId
  device: string
  batchSize: number
  steps: number
  samplesPerSec: number
  msPerStep: number
  peakRssMb: number
  leakedTensorsPerStep: number
  /** Top kernels of one profiled step: [name, total ms], longest first. */
  profile?: [string, number][]
  /** With `counters`: dispatches, submits, readbacks, buffers per step; pipelines created after warm-up. */
  counters?: GpuCountersPerStep
}

export type HostToTrainer =
  | TrainerStart
  | BenchRequest
  | OnnxEvalRequest
  | ModelExportRequest
  | { type: 'cancel' }
  | { type: 'probe' }
  /** The doctor's probe: report the WebGPU adapter, then climb the ladder (as 'probe'). */
  | { type: 'doctor' }
  | { type: 'shutdown' }

export interface TestResult {
  /** Test loss and accuracy at the last epoch (the headline figure; `details.best` has the best epoch's). */
  testLoss: number
  testAccuracy: number
  bestEpoch: number
  bestValAccuracy: number
  details?: RunResultDetails
}

export type TrainerToHost =
  | { type: 'ready'; pid: number }
  | { type: 'backend'; report: BackendReport }
  | { type: 'started'; runId: number; backend: BackendId; device: string; deviceInfo?: RunDevice }
  | { type: 'webgpu-adapter'; adapter: WebGpuAdapterFacts | null; reason: string | null }
  | { type: 'progress'; progress: RunProgress }
  | { type: 'epoch'; runId: number; metrics: EpochMetrics }
  | { type: 'checkpoint'; runId: number; epoch: number; path: string; bytes: number }
  | { type: 'completed'; runId: number; result: TestResult }
  | { type: 'cancelled'; runId: number }
  | { type: 'failed'; runId: number; reason: string }
  | { type: 'bench-result'; result: BenchResult }
  | { type: 'bench-failed'; reason: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'job-progress'; done: number; total: number }
  | { type: 'onnx-eval-result'; result: OnnxEvalResult }
  | { type: 'export-result'; result: ModelExportResult }
  /** `code` when the failure is not the input's fault (e.g. `storage`: the output folder is read-only). */
  | { type: 'job-failed'; reason: string; code?: 'storage' }
