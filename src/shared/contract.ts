/**
 * The typed contract between the UI and a host (Electron main or the web server). Every channel
 * takes one object and answers an Envelope; pushes flow host -> UI only.
 *
 * Non-finite numbers: metrics may be NaN or ±Infinity (a diverged run). Electron's IPC carries them
 * as they are. Over JSON (the web host's HTTP and WebSocket, `tfkd ... --json`) each one is written
 * as `{ "nonFinite": "NaN" | "Infinity" | "-Infinity" }` in place of the number, never as `null`;
 * `parseWire` in ./wire-json.ts (used by the renderer's API client) turns them back into numbers.
 * CSV exports write them as `NaN`, `Infinity`, `-Infinity`.
 */
import type { z } from 'zod'
import type { Envelope } from './errors'
import type { inputSchemas } from './schemas'
import type {
  AppCommand,
  AppInfo,
  BackendReport,
  DatasetSummary,
  EpochMetrics,
  RunDetail,
  RunProgress,
  RunStatusEvent,
  RunSummary,
  ExperimentDetail,
  ExperimentSummary,
  ModelInfo,
  VariantId,
} from './types'
import type { DoctorReport } from './doctor'
import type { ExperimentPlanInput, PresetDataRequirement, PresetId } from './plan'
import type { ReproReport } from './reproduce'
import type { StudyPower } from './study-power'
import type { ModelExportResult, OnnxTeacherSummary } from './onnx'
import type {
  ClusterAvailability,
  ClusterJobStatus,
  ClusterJobSummary,
  ClusterSubmitResult,
  ClusterSyncResult,
  Submission,
} from './cluster'
import type { ComparisonTable } from './comparison'
import type { ImportFormatInfo } from './import-fields'

export type { ModelInfo }

type In<K extends keyof typeof inputSchemas> = z.input<(typeof inputSchemas)[K]>

export interface Invokes {
  'app:info': { input: In<'app:info'>; output: AppInfo }
  'runs:list': { input: In<'runs:list'>; output: RunSummary[] }
  'runs:get': { input: In<'runs:get'>; output: RunDetail }
  'runs:start': { input: In<'runs:start'>; output: { runId: number } }
  'runs:cancel': { input: In<'runs:cancel'>; output: { cancelled: boolean } }
  'datasets:list': { input: In<'datasets:list'>; output: DatasetSummary[] }
  'models:list': { input: In<'models:list'>; output: ModelInfo[] }
  'diagnostics:backends': { input: In<'diagnostics:backends'>; output: BackendReport | null }
  'runs:resume': { input: In<'runs:resume'>; output: RunSummary }
  /** A new run with an ended run's config, recorded as its rerun. */
  'runs:rerun': { input: In<'runs:rerun'>; output: RunSummary }
  'experiments:start': { input: In<'experiments:start'>; output: ExperimentDetail }
  'experiments:list': { input: In<'experiments:list'>; output: ExperimentSummary[] }
  'experiments:get': { input: In<'experiments:get'>; output: ExperimentDetail }
  'experiments:cancel': { input: In<'experiments:cancel'>; output: ExperimentDetail }
  'experiments:resume': { input: In<'experiments:resume'>; output: ExperimentDetail }
  /** The experiment's plan as a plan file (what `experiments:start` and `tfkd run --plan` accept). */
  'experiments:plan': { input: In<'experiments:plan'>; output: ExperimentPlanInput }
  'compare:get': { input: In<'compare:get'>; output: ComparisonTable }
  /** Plans and queues the reproduction study (the four claims) on a dataset. */
  'reproduce:start': { input: In<'reproduce:start'>; output: ExperimentDetail }
  /** Before a study: the power its seeds give (pilot or assumed spread) and the seeds it suggests. */
  'reproduce:power': { input: In<'reproduce:power'>; output: StudyPower }
  /** The reproduction report of an experiment, as data. */
  'report:get': { input: In<'report:get'>; output: ReproReport }
  /** The same report as Markdown, LaTeX or self-contained HTML, with a file name. */
  'report:render': { input: In<'report:render'>; output: { fileName: string; content: string } }
  'variants:list': { input: In<'variants:list'>; output: VariantInfo[] }
  'presets:list': { input: In<'presets:list'>; output: PresetInfo[] }
  /** Desktop app only: the OS's open dialog (the browser host types a path instead). */
  'dialog:openPath': { input: In<'dialog:openPath'>; output: { path: string | null } }
  'datasets:import': { input: In<'datasets:import'>; output: DatasetImportOutcome }
  'datasets:cancel': { input: In<'datasets:cancel'>; output: { cancelled: boolean } }
  /** The importer registry's formats, for the import form's format menu and per-format fields. */
  'datasets:formats': { input: In<'datasets:formats'>; output: ImportFormatInfo[] }
  'datasets:preview': { input: In<'datasets:preview'>; output: DatasetPreviewInfo }
  'datasets:rename': { input: In<'datasets:rename'>; output: DatasetSummary }
  'datasets:delete': { input: In<'datasets:delete'>; output: { deleted: boolean } }
  'runs:delete': { input: In<'runs:delete'>; output: { deleted: number[] } }
  'runs:tag': { input: In<'runs:tag'>; output: { runId: number; tags: string[] } }
  'runs:tags': { input: In<'runs:tags'>; output: Record<number, string[]> }
  'runs:details': { input: In<'runs:details'>; output: RunDetail[] }
  'throughput:get': { input: In<'throughput:get'>; output: Record<string, number> }
  'teachers:list': { input: In<'teachers:list'>; output: OnnxTeacherSummary[] }
  /** Check an ONNX teacher against a dataset, evaluate it on the test split, store it. */
  'teachers:import': {
    input: In<'teachers:import'>
    output: { teacher: OnnxTeacherSummary; warnings: string[] }
  }
  'teachers:cancel': { input: In<'teachers:cancel'>; output: { cancelled: boolean } }
  'teachers:delete': { input: In<'teachers:delete'>; output: { deleted: boolean; runs: number[] } }
  /** A run's model as ONNX or TF.js, checked against the app's logits. */
  'exports:model': { input: In<'exports:model'>; output: ModelExportResult }
  /** Whether this host can submit to Slurm (sbatch on its PATH, and a tfkd install to run). */
  'cluster:available': { input: In<'cluster:available'>; output: ClusterAvailability }
  /** A plan as Slurm job arrays; `dryRun` only renders the scripts. */
  'cluster:submit': { input: In<'cluster:submit'>; output: ClusterSubmitResult }
  'cluster:jobs': { input: In<'cluster:jobs'>; output: ClusterJobSummary[] }
  'cluster:status': { input: In<'cluster:status'>; output: ClusterJobStatus }
  'cluster:sync': { input: In<'cluster:sync'>; output: ClusterSyncResult }
  'cluster:retry': { input: In<'cluster:retry'>; output: { rows: number[]; submissions: Submission[] } }
  'cluster:cancel': { input: In<'cluster:cancel'>; output: { cancelled: string[] } }
  /** `tfkd doctor`: the machine, NVIDIA GPUs, CUDA libraries, WebGPU adapter, a verdict per rung. */
  'diagnostics:doctor': { input: In<'diagnostics:doctor'>; output: DoctorReport }
  /** The CUDA library folders set in Settings (searched first by the doctor). */
  'diagnostics:cudaFolders': { input: In<'diagnostics:cudaFolders'>; output: { dirs: string[] } }
}

/** A finished import: the new dataset, and what was left out and why. */
export interface DatasetImportOutcome {
  dataset: DatasetSummary
  skipped: { file: string; reason: string }[]
  notes: string[]
}

/** Preview stats of a dataset and its sample grid as a PNG data URL. */
export interface DatasetPreviewInfo {
  dataset: DatasetSummary
  shape: [number, number, number]
  classNames: string[]
  train: { n: number; classCounts: number[]; imbalance: number | null }
  test: { n: number; classCounts: number[]; imbalance: number | null }
  mean: number[]
  std: number[]
  validationFraction: number
  sampleGridDataUrl: string | null
  /** Runs that train on this dataset (it cannot be deleted while any exist). */
  runCount: number
}

/** Progress of one dataset import (`jobId` is chosen by the caller of datasets:import). */
export interface DatasetImportProgress {
  jobId: string
  phase: 'hashing' | 'scanning' | 'importing' | 'writing'
  done: number
  total: number
  unit: 'bytes' | 'files' | 'rows' | 'samples'
  skipped: number
}

export interface VariantInfo {
  id: VariantId
  name: string
  /** One line: what the variant tests. */
  tests: string
  teacher: string
  /** Default hyperparameters. */
  defaults: Record<string, unknown>
}

export interface PresetInfo {
  id: PresetId
  description: string
  plan: unknown
  /** The data the preset's recipe needs; it refuses any other dataset. */
  requires: PresetDataRequirement | null
}

export interface Pushes {
  'runs:progress': RunProgress
  'runs:epoch': { runId: number; metrics: EpochMetrics }
  'runs:status': RunStatusEvent
  'diagnostics:backend': BackendReport
  'datasets:progress': DatasetImportProgress
  'teachers:progress': { jobId: string; done: number; total: number }
  /** A trainer's warning or error that is not a run's end (e.g. a GPU newer than libtensorflow). */
  'runs:log': { runId: number | null; level: 'warn' | 'error'; message: string }
  /** Desktop app only: a native menu command (types.ts AppCommand). */
  'app:command': AppCommand
}

export type InvokeChannel = keyof Invokes
export type PushChannel = keyof Pushes
export type InvokeInput<K extends InvokeChannel> = Invokes[K]['input']
export type InvokeOutput<K extends InvokeChannel> = Invokes[K]['output']

/** Runtime lists of the channels; the mapped types make a missing or extra key a compile error. */
export const invokeChannels: { [K in InvokeChannel]: true } = {
  'app:info': true,
  'runs:list': true,
  'runs:get': true,
  'runs:start': true,
  'runs:cancel': true,
  'datasets:list': true,
  'models:list': true,
  'diagnostics:backends': true,
  'runs:resume': true,
  'runs:rerun': true,
  'experiments:start': true,
  'experiments:list': true,
  'experiments:get': true,
  'experiments:cancel': true,
  'experiments:resume': true,
  'experiments:plan': true,
  'compare:get': true,
  'reproduce:start': true,
  'reproduce:power': true,
  'report:get': true,
  'report:render': true,
  'variants:list': true,
  'presets:list': true,
  'dialog:openPath': true,
  'datasets:import': true,
  'datasets:cancel': true,
  'datasets:formats': true,
  'datasets:preview': true,
  'datasets:rename': true,
  'datasets:delete': true,
  'runs:delete': true,
  'runs:tag': true,
  'runs:tags': true,
  'runs:details': true,
  'throughput:get': true,
  'teachers:list': true,
  'teachers:import': true,
  'teachers:cancel': true,
  'teachers:delete': true,
  'exports:model': true,
  'cluster:available': true,
  'cluster:submit': true,
  'cluster:jobs': true,
  'cluster:status': true,
  'cluster:sync': true,
  'cluster:retry': true,
  'cluster:cancel': true,
  'diagnostics:doctor': true,
  'diagnostics:cudaFolders': true,
}
export const pushChannels: { [K in PushChannel]: true } = {
  'runs:progress': true,
  'runs:epoch': true,
  'runs:status': true,
  'diagnostics:backend': true,
  'datasets:progress': true,
  'teachers:progress': true,
  'runs:log': true,
  'app:command': true,
}
export const INVOKE_CHANNELS = Object.keys(invokeChannels) as InvokeChannel[]
export const PUSH_CHANNELS = Object.keys(pushChannels) as PushChannel[]

/** What the preload exposes as `window.api`: one function per invoke channel, plus `on`. */
export type Api = {
  [K in InvokeChannel]: (input: InvokeInput<K>) => Promise<Envelope<InvokeOutput<K>>>
} & {
  on<K extends PushChannel>(channel: K, listener: (payload: Pushes[K]) => void): () => void
}

/** What a handler receives: the input after validation (defaults applied). */
export type HandlerInput<K extends InvokeChannel> = z.output<(typeof inputSchemas)[K]>

export type Handlers = {
  [K in InvokeChannel]: (input: HandlerInput<K>) => Promise<InvokeOutput<K>> | InvokeOutput<K>
}
