/**
 * Cluster jobs (a plan run on Slurm as job arrays) as plain data: what the hosts and the UI
 * exchange. The work is done in src/core/cluster.
 */
import { z } from 'zod'
import { experimentPlanInput } from './plan'
import type { RunRole } from './types'

/** sbatch options of a cluster job (the `tfkd cluster submit` flags). */
export const slurmOptionsInput = z
  .object({
    partition: z.string().min(1).max(200).optional(),
    /** Slurm time limit: minutes, HH:MM:SS or D-HH:MM:SS. */
    time: z.string().min(1).max(40).optional(),
    cpusPerTask: z.number().int().min(1).max(1024).optional(),
    gpusPerTask: z.number().int().min(0).max(64).optional(),
    /** Memory per node, e.g. 8G or 4000M. */
    mem: z.string().min(1).max(40).optional(),
    /** At most this many tasks of each array run at once (`%K`). */
    maxParallel: z.number().int().min(1).max(100_000).optional(),
    /** Extra `#SBATCH` options, verbatim (e.g. `--account=proj42`). */
    sbatchArgs: z.array(z.string().min(1).max(500)).max(50).optional(),
    /** Shell lines run before the task, e.g. `module load cuda/11.8 cudnn/8.x`. */
    setup: z.array(z.string().min(1).max(500)).max(50).optional(),
  })
  .strict()

export type SlurmOptions = z.infer<typeof slurmOptionsInput>

export const clusterSubmitInput = z
  .object({
    plan: experimentPlanInput,
    /** A folder the cluster nodes see (shared file system); the job folder is created inside. */
    workdir: z.string().min(1).max(4096),
    options: slurmOptionsInput.default({}),
    /** Only render the scripts; write and submit nothing. */
    dryRun: z.boolean().optional(),
  })
  .strict()

/** A cluster job: its folder, or a registered job's uuid (prefix); none = the latest. */
export const clusterJobRef = z.object({ job: z.string().min(1).max(4096).optional() }).strict()

export interface ScriptPreview {
  /** `teachers`, `students-of-<teacher row>` or `students`. */
  group: string
  label: string
  rows: number[]
  file: string
  text: string
  /** sbatch's arguments; `<teachers>` stands for the teachers' array job id until it is known. */
  sbatch: string[]
}

export interface Submission {
  /** Slurm's array job id. */
  jobId: string
  group: string
  rows: number[]
  /** Array tasks it waited for (afterok). */
  after: string[]
  script: string
  submittedAt: number
  /** 0 = the first submission; n = the n-th retry. */
  attempt: number
}

export interface ClusterSubmitResult {
  uuid: string
  name: string
  jobDir: string
  rows: number
  scripts: ScriptPreview[]
  /** Empty for a dry run. */
  submissions: Submission[]
}

export const ROW_STATES = ['unsubmitted', 'pending', 'running', 'completed', 'failed', 'unknown'] as const
export type RowState = (typeof ROW_STATES)[number]

/** The `done` or `failed` marker a task writes last. */
export interface TaskMarker {
  uuid: string
  status: 'completed' | 'failed'
  reason: string | null
  node: string
  slurmJob: string | null
  backend: string | null
  device: string | null
  startedAt: number | null
  finishedAt: number
}

export interface RowStatus {
  index: number
  uuid: string
  key: string
  role: RunRole
  model: string
  variant: string
  seed: number
  state: RowState
  /** Slurm's id of the task (`1234_5`), its state and reason, when known. */
  slurmId: string | null
  slurmState: string | null
  reason: string | null
  node: string | null
  /** Latest progress a running task wrote, if any. */
  progress: { epoch: number; epochs: number; fraction: number } | null
  marker: TaskMarker | null
}

export interface ClusterJobStatus {
  uuid: string
  name: string
  jobDir: string
  /** The local experiment its runs are synced into, once synced. */
  experimentId: number | null
  submissions: Submission[]
  rows: RowStatus[]
  counts: Record<RowState, number>
}

export interface ClusterSyncResult {
  experimentId: number
  /** Rows newly recorded (completed or failed). */
  added: number
  /** Failed runs that a retry has since completed. */
  updated: number
  /** Rows already in the history as they are. */
  unchanged: number
  /** Rows still pending or running (or Slurm could not say). */
  notFinished: number
}

export interface ClusterJobSummary {
  uuid: string
  name: string
  jobDir: string
  experimentId: number | null
  createdAt: number
  syncedAt: number | null
}

export interface ClusterAvailability {
  available: boolean
  /** Why not, when not. */
  reason: string | null
}
