/** DTOs shared by every process. Plain data only: they cross IPC, HTTP and child-process pipes. */
import type { ImportedTeacherRef, TeacherLogitsMode } from './onnx'
import type { BackendId } from './backends'

export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

export const VARIANT_IDS = [
  'baseline',
  'lsr',
  'kd',
  're-kd',
  'de-kd',
  'tfkd-self',
  'tfkd-reg',
  'dkd',
  'dist',
  'kd-std',
] as const
export type VariantId = (typeof VARIANT_IDS)[number]
/** The seven variants of the Tf-KD paper (its four claims need all of them); the rest are later baselines. */
export const PAPER_VARIANT_IDS = [
  'baseline',
  'lsr',
  'kd',
  're-kd',
  'de-kd',
  'tfkd-self',
  'tfkd-reg',
] as const satisfies readonly VariantId[]

/** Rungs of the backend ladder, fastest first: the registry is src/shared/backends.ts. */
export { BACKEND_IDS, type BackendId } from './backends'

export const OPTIMIZER_IDS = ['sgd', 'adam'] as const
export type OptimizerId = (typeof OPTIMIZER_IDS)[number]

export const LR_SCHEDULES = ['multistep', 'cosine', 'constant'] as const
export type LrSchedule = (typeof LR_SCHEDULES)[number]

export const RUN_ROLES = ['student', 'teacher'] as const
export type RunRole = (typeof RUN_ROLES)[number]

/** Seeded data augmentation applied to training batches (never to validation or test). */
export interface AugmentConfig {
  /** Random crop of the original size after zero-padding by this many pixels (0 = off). */
  cropPadding: number
  horizontalFlip: boolean
  /** Random rotation in [-deg, +deg] (0 = off). */
  rotationDegrees: number
}

/** Everything one training run needs; stored verbatim (resolved, with defaults) with the run. */
export interface RunConfig {
  /** Dataset id or name (the bundled one is `mnist-10k`). */
  dataset: string
  /** Model id from the model registry. */
  model: string
  variant: VariantId
  epochs: number
  batchSize: number
  optimizer: OptimizerId
  /** Base learning rate, before scaling by batchSize / 128. */
  learningRate: number
  /** Learning-rate schedule after warm-up: x gamma at each milestone epoch, cosine to 0, or constant. */
  lrSchedule: LrSchedule
  /** Epochs (may be fractional) of per-iteration linear warm-up from 0 (repository: 1). */
  warmupEpochs: number
  /**
   * 0-based epoch indices at which a multistep schedule multiplies the rate by lrGamma, as PyTorch's
   * MultiStepLR stepped with the epoch index (repository: 60, 120, 160, so the 61st epoch is the first at x0.2).
   */
  lrMilestones: number[]
  lrGamma: number
  augment: AugmentConfig
  momentum: number
  weightDecay: number
  seed: number
  /** Fraction of the training split held out for validation (chosen by seed). */
  validationFraction: number
  /** Use only the first N training samples after shuffling by seed (0 = all); for quick tries. */
  maxTrainSamples: number
  /**
   * Seed of the validation split and of the maxTrainSamples subset; null or absent (runs stored before
   * it existed) = `seed`. A plan gives a teacher and its students the same one.
   */
  splitSeed?: number | null
  /** Pin a backend, or let the trainer climb the ladder. */
  backend: BackendId | 'auto'
  /** The variant's hyperparameters, resolved with their defaults (see src/shared/variants.ts). */
  variantParams: Record<string, unknown>
  /** The frozen teacher for kd, re-kd, de-kd and tfkd-self: a run, at its final or a given epoch. */
  teacher: TeacherRef | null
  /** Or an imported ONNX teacher (`tfkd teachers import`); then `teacher` is null. */
  importedTeacher?: ImportedTeacherRef | null
  /** How the teacher's logits are computed (default per-batch, on the augmented batch). */
  teacherLogits?: TeacherLogitsMode
}

/**
 * What the teacher cost a distilling run, measured by the trainer: the teacher's own forward time
 * per step (null for a TF.js teacher, evaluated inside the student's step graph), how long the loop
 * waited for it (the part not hidden behind the student's step), and the student's step time.
 */
export interface TeacherCost {
  kind: 'tfjs-run' | 'onnx'
  logits: TeacherLogitsMode
  device: string
  steps: number
  teacherForwardMsPerStep: number | null
  teacherWaitMsPerStep: number
  studentStepMsPerStep: number
  /** SHA-256 of an imported teacher's file. */
  sha256?: string
  /**
   * The logits came from the cache file beside the teacher's checkpoint: read (`hit`) or computed
   * once and written there for the next student.
   */
  cache?: { file: string; teacherSha256: string; logitsSha256: string; hit: boolean }
}

export interface TeacherRef {
  runId: number
  /** Snapshot epoch (de-kd); null = the teacher's last checkpoint. */
  epoch: number | null
  /**
   * Snapshot by accuracy (de-kd): the first epoch whose validation accuracy reached this (0..1), or
   * the teacher's best epoch if none did. Used when epoch is null.
   */
  targetAccuracy: number | null
}

/** Reliability diagram: per confidence bin, the count, mean confidence and accuracy. */
export interface ReliabilityBins {
  bins: number
  counts: number[]
  confidence: number[]
  accuracy: number[]
}

/** Classification metrics of one split (core/analysis/metrics.ts computes them). */
export interface ClassificationMetrics {
  /** Samples evaluated. */
  n: number
  /** Mean negative log-likelihood (cross-entropy). */
  loss: number
  accuracy: number
  top5: number
  ece: number
  /** Per-class accuracy, by class index. */
  perClassAccuracy: number[]
  /** confusion[trueClass][predictedClass] = count. */
  confusion: number[][]
  reliability: ReliabilityBins
}

/**
 * The end-of-run evaluation on the test split, at the best (by validation) and the last epoch: the
 * split's metrics (less the sample count) at that epoch.
 */
export interface EvalReport extends Omit<ClassificationMetrics, 'n'> {
  epoch: number
}

export interface RunResultDetails {
  best: EvalReport
  last: EvalReport
  /** How the best epoch was chosen. */
  selection: 'validation' | 'test (no validation split)'
  /** Distilling runs: what the teacher's logits cost per step (see TeacherCost). */
  teacherCost?: TeacherCost
}

export interface RunSummary {
  id: number
  experimentId: number | null
  role: RunRole
  status: RunStatus
  failureReason: string | null
  datasetId: number
  datasetName: string
  model: string
  variant: VariantId
  seed: number
  backend: string | null
  device: string | null
  /** What the run really trained on (null for runs recorded before this was stored). */
  deviceInfo?: RunDevice | null
  teacherRunId: number | null
  epochsPlanned: number
  epochsDone: number
  bestEpoch: number | null
  bestValAccuracy: number | null
  testAccuracy: number | null
  testLoss: number | null
  createdAt: number
  startedAt: number | null
  finishedAt: number | null
  /**
   * Training time: the sum of the recorded epochs' durations (ms). Unlike finishedAt - startedAt it
   * leaves out time queued, time the host was stopped before a resume, data loading and the final
   * test evaluation. Absent on rows built outside the store.
   */
  trainingMs?: number
  /** When the run last joined a queue (stored, or resumed): queued runs start in this order. */
  queuedAt?: number | null
  /** The run whose config this run repeats (History's Rerun), if any. */
  rerunOf?: number | null
}

/** A checkpoint file of a run, as the run detail lists it. */
export interface RunCheckpointInfo {
  epoch: number
  kind: 'epoch' | 'best' | 'final' | 'snapshot'
  bytes: number
  createdAt: number
}

export interface EpochMetrics {
  epoch: number
  trainLoss: number
  trainAccuracy: number
  /** Validation cross-entropy (NLL). */
  valLoss: number
  valAccuracy: number
  valTop5?: number
  /** Expected calibration error on validation (15 equal-width bins). */
  valEce?: number
  learningRate: number
  durationMs: number
  samplesPerSec: number
}

export interface RunDetail extends RunSummary {
  config: RunConfig
  metrics: EpochMetrics[]
  /** Test evaluation at the best and last epochs, once completed. */
  result: RunResultDetails | null
  /** The checkpoint (epoch) of the teacher that taught this run, if any. */
  teacherEpoch: number | null
  /** The run's checkpoint files (absent on rows built outside the store). */
  checkpoints?: RunCheckpointInfo[]
  /** Runs that repeat this one's config (History's Rerun). */
  reruns?: number[]
}

export interface RunFilter {
  status?: RunStatus
  experimentId?: number
  limit?: number
}

export interface DatasetSummary {
  id: number
  name: string
  format: string
  classNames: string[]
  inputShape: [number, number, number]
  counts: { train: number; test: number }
  createdAt: number
}

export interface RunProgress {
  runId: number
  epoch: number
  epochs: number
  step: number
  stepsPerEpoch: number
  /** Fraction of the whole run done, 0..1. */
  fraction: number
  loss: number
  samplesPerSec: number
  etaMs: number | null
}

export interface RungReport {
  id: BackendId
  ok: boolean
  /** Why the rung did not load, in plain words (absent when ok). */
  reason?: string
  /** Said before the rung was tried (e.g. a GPU newer than libtensorflow's kernels). */
  warning?: string
  loadMs: number
}

/** The device a run really trained on, stored with the run (shown in history, compare, reports). */
export interface RunDevice {
  backend: BackendId
  kind: 'gpu' | 'cpu'
  /** GPU name (nvidia-smi, the WebGPU adapter) or CPU model. */
  name: string
  /** CPU threads the backend computes with; null on GPU rungs or where unknown. */
  threads: number | null
  /** More: driver, compute capability, Dawn backend, SIMD ISA. */
  detail?: string
}

export interface BackendReport {
  chosen: BackendId
  device: string
  isGpu: boolean
  /** The device in structured form (absent in reports of older versions). */
  deviceInfo?: RunDevice
  rungs: RungReport[]
  tfjsVersion: string
}

export interface RunStatusEvent {
  runId: number
  status: RunStatus
  failureReason: string | null
  testAccuracy: number | null
}

export interface AppInfo {
  version: string
  dataHome: string
  host: 'electron' | 'web' | 'cli'
  platform: string
  versions: Record<string, string>
}

export interface ExperimentSummary {
  id: number
  name: string
  datasetId: number
  datasetName: string
  status: 'active' | 'cancelled'
  /** The resolved plan (see src/shared/plan.ts). */
  plan: unknown
  createdAt: number
  /** Runs of the experiment by status. */
  runCounts: Record<string, number>
}

export interface ExperimentDetail extends ExperimentSummary {
  runs: RunSummary[]
}

/**
 * A command from the desktop app's native menu (or a file dropped on its window) to the UI: open a
 * view, or fill the import form with a path. Only the Electron host sends it.
 */
export type AppCommand =
  | {
      kind: 'navigate'
      view: 'datasets' | 'new' | 'runs' | 'history' | 'compare' | 'exports' | 'diagnostics'
    }
  | { kind: 'import'; path: string }

export const MODEL_FAMILIES = ['mlp', 'cnn', 'resnet', 'mobilenet', 'shufflenet'] as const
export type ModelFamily = (typeof MODEL_FAMILIES)[number]

/** A model of the registry (core/models/catalog.ts), as hosts and the UI list it. */
export interface ModelInfo {
  id: string
  description: string
  family: ModelFamily
  /** Expected-accuracy rank: higher is stronger. */
  strength: number
  /** Total weights at 32x32x3, 10 classes (batch-norm moving statistics included). */
  params: number
  /** Forward MACs per sample at 32x32x3, 10 classes (conv, depthwise conv and dense layers). */
  macs: number
  /**
   * The smallest input [height, width] the model accepts, where valid-padded pooling shrinks each
   * side (cnn-small: 4x4). Absent: any size, every layer keeps at least one row and column.
   */
  minInput?: readonly [number, number]
}

/** The web host's answer to a dataset archive upload (POST /api/upload): the folder to import. */
export interface ArchiveUpload {
  kind: 'zip' | 'tar' | 'tar.gz'
  path: string
  files: number
  bytes: number
  skipped: { entry: string; reason: string }[]
}
