/**
 * A cluster job's folder on the shared file system, and its array tasks' folders inside it:
 *
 *   job.json        the job: name, Slurm options, every submission (array job id -> rows)
 *   manifest.json   one row per run (uuid, config, teacher uuid); array task N trains row N
 *   plan.json       the resolved plan
 *   scripts/        one sbatch script per job array;  logs/  Slurm's output per task
 *   dataset/        an imported dataset's cache file (the bundled sample ships with the install)
 *   tasks/<uuid>/   one folder per run: events.jsonl, checkpoints/, then `done` or `failed`
 *
 * No SQLite file lives here: SQLite's locking and WAL are not safe over NFS and the like. Each
 * task writes only its own folder, appending JSON lines, and writes its `done` marker last by an
 * atomic rename; the submitting host is the only writer of job.json.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { AppError } from '../../shared/errors'
import type { TestResult } from '../../shared/trainer-protocol'
import type { EpochMetrics, RunDevice } from '../../shared/types'
import { parseManifest, type Manifest } from './manifest'
import type { SlurmOptions, Submission, TaskMarker } from '../../shared/cluster'

export type { Submission, TaskMarker }

export interface JobFile {
  version: 1
  uuid: string
  name: string
  slug: string
  scheduler: 'slurm'
  createdAt: number
  options: SlurmOptions
  submissions: Submission[]
}

/** Written under a temporary name, flushed, then renamed: readers never see half a file. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w')
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
}

export const jobPaths = (jobDir: string) => ({
  job: join(jobDir, 'job.json'),
  manifest: join(jobDir, 'manifest.json'),
  plan: join(jobDir, 'plan.json'),
  scripts: join(jobDir, 'scripts'),
  logs: join(jobDir, 'logs'),
  dataset: join(jobDir, 'dataset'),
  tasks: join(jobDir, 'tasks'),
})

export const taskPaths = (jobDir: string, uuid: string) => {
  const dir = join(jobDir, 'tasks', uuid)
  return {
    dir,
    events: join(dir, 'events.jsonl'),
    checkpoints: join(dir, 'checkpoints'),
    done: join(dir, 'done'),
    failed: join(dir, 'failed'),
  }
}

function readJson(file: string, what: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new AppError('not_found', `${file}: cannot read the ${what} (${(err as Error).message})`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new AppError('invalid_input', `${file}: not valid JSON (${(err as Error).message})`)
  }
}

export function readManifest(jobDir: string): Manifest {
  const file = jobPaths(jobDir).manifest
  if (!existsSync(file)) {
    throw new AppError('not_found', `${jobDir} is not a tfkd cluster job folder (no manifest.json)`)
  }
  return parseManifest(readFileSync(file, 'utf8'), file)
}

export function readJobFile(jobDir: string): JobFile {
  const file = jobPaths(jobDir).job
  const j = readJson(file, 'job file') as Partial<JobFile>
  if (j.version !== 1 || typeof j.uuid !== 'string' || !Array.isArray(j.submissions)) {
    throw new AppError(
      'invalid_input',
      `${file}: expected a tfkd cluster job file (version 1 with uuid and submissions)`,
    )
  }
  return j as JobFile
}

export function writeJobFile(jobDir: string, job: JobFile): void {
  writeFileAtomic(jobPaths(jobDir).job, `${JSON.stringify(job, null, 2)}\n`)
}

/** The latest submission of a row (a retry supersedes the first). */
export function latestSubmission(job: JobFile, row: number): Submission | undefined {
  let found: Submission | undefined
  for (const s of job.submissions) if (s.rows.includes(row)) found = s
  return found
}

// ---- what a task writes --------------------------------------------------------------------

/** One line of a task's events.jsonl. Checkpoint paths are relative to the task folder. */
export type TaskEvent =
  | { type: 'task'; at: number; node: string; slurmJob: string | null; pid: number; attempt: string | null }
  | { type: 'teacher'; at: number; uuid: string; epoch: number; checkpoint: string }
  /** An imported ONNX teacher, its job-folder copy checked against this sha256 before use. */
  | { type: 'onnx-teacher'; at: number; id: number; sha256: string; file: string }
  | { type: 'started'; at: number; backend: string; device: string; deviceInfo?: RunDevice }
  | { type: 'epoch'; at: number; metrics: EpochMetrics }
  | { type: 'checkpoint'; at: number; epoch: number; path: string; bytes: number }
  | { type: 'completed'; at: number; result: TestResult }
  | { type: 'failed'; at: number; reason: string }

/**
 * Reads a task's events. A torn last line (the task was killed mid-write) is dropped; a bad line
 * anywhere else is an error naming the file and line.
 */
export function readEvents(file: string): TaskEvent[] {
  if (!existsSync(file)) return []
  const lines = readFileSync(file, 'utf8').split('\n')
  const out: TaskEvent[] = []
  lines.forEach((line, i) => {
    if (!line.trim()) return
    try {
      out.push(JSON.parse(line) as TaskEvent)
    } catch {
      const isLast = lines.slice(i + 1).every((l) => !l.trim())
      if (!isLast) throw new AppError('invalid_input', `${file}:${i + 1}: not a JSON line`)
    }
  })
  return out
}

export function readMarker(jobDir: string, uuid: string): TaskMarker | null {
  const t = taskPaths(jobDir, uuid)
  for (const file of [t.done, t.failed]) {
    if (!existsSync(file)) continue
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as TaskMarker
    } catch (err) {
      throw new AppError('invalid_input', `${file}: not valid JSON (${(err as Error).message})`)
    }
  }
  return null
}

/**
 * Moves a failed attempt's folder aside so a retry starts clean (it stays for the post-mortem, as
 * tasks/<uuid>.attempt-N).
 */
export function archiveAttempt(jobDir: string, uuid: string): void {
  const t = taskPaths(jobDir, uuid)
  if (!existsSync(t.dir)) return
  const taken = new Set(readdirSync(jobPaths(jobDir).tasks))
  let n = 1
  while (taken.has(`${uuid}.attempt-${n}`)) n++
  renameSync(t.dir, `${t.dir}.attempt-${n}`)
}

/** Creates the job folder's skeleton; the folder must not exist yet. */
export function createJobFolder(jobDir: string): void {
  if (existsSync(jobDir)) throw new AppError('conflict', `${jobDir} already exists`)
  const p = jobPaths(jobDir)
  for (const d of [p.scripts, p.logs, p.tasks]) mkdirSync(d, { recursive: true })
}

/** Checks that `dir` exists, is a directory and is writable (by writing and removing a file). */
export function checkWorkdir(dir: string): void {
  if (!existsSync(dir)) {
    throw new AppError(
      'invalid_input',
      `--workdir ${dir}: no such folder; create it on a file system the cluster nodes see`,
      {
        field: 'workdir',
      },
    )
  }
  if (/[\s'"\\$`]/.test(dir)) {
    throw new AppError(
      'invalid_input',
      `--workdir ${dir}: Slurm's #SBATCH lines cannot carry spaces, quotes or $ in paths; choose another folder`,
      {
        field: 'workdir',
      },
    )
  }
  const probe = join(dir, `.tfkd-write-test-${process.pid}`)
  try {
    writeFileAtomic(probe, 'ok')
    rmSync(probe, { force: true })
  } catch (err) {
    throw new AppError('invalid_input', `--workdir ${dir}: not writable (${(err as Error).message})`, {
      field: 'workdir',
    })
  }
}
