/**
 * One array task of a cluster job, on a compute node: trains its manifest row in a trainer child
 * (the same trainer as local runs, so the same seed gives the same metrics) and records every
 * event as a JSON line in its own task folder. The outcome marker (`done` or `failed`) is written
 * last, by an atomic rename; a folder without one is a task that has not finished (or was killed
 * outright, which Slurm's state then tells).
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { TrainerStart, TrainerToHost } from '../../shared/trainer-protocol'
import type { EpochMetrics } from '../../shared/types'
import { trainerEnv } from '../train/trainer-env'
import type { SpawnTrainer } from '../train/trainer-handle'
import {
  archiveAttempt,
  jobPaths,
  readEvents,
  readManifest,
  readMarker,
  taskPaths,
  writeFileAtomic,
  type TaskEvent,
  type TaskMarker,
} from './job-folder'
import type { Manifest, ManifestRow, ManifestTeacher } from './manifest'
import { resolveOnnxTeacher } from './onnx-teachers'

/**
 * The teacher checkpoint a student uses, chosen from the teacher task's events as the local
 * planner chooses it: a given epoch, the first epoch reaching a target validation accuracy (else
 * the best), or the last checkpoint.
 */
export function pickTeacherCheckpoint(
  events: TaskEvent[],
  ref: ManifestTeacher,
): { epoch: number; path: string } | { error: string } {
  const ckpts = events.filter((e): e is Extract<TaskEvent, { type: 'checkpoint' }> => e.type === 'checkpoint')
  let epoch = ref.epoch
  if (epoch === null && ref.targetAccuracy !== null) {
    const metrics = events
      .filter((e): e is Extract<TaskEvent, { type: 'epoch' }> => e.type === 'epoch')
      .map((e) => e.metrics)
    const hit = metrics.find((m) => m.valAccuracy >= ref.targetAccuracy!)
    const best = metrics.reduce<EpochMetrics | undefined>(
      (b, m) => (!b || m.valAccuracy > b.valAccuracy ? m : b),
      undefined,
    )
    epoch = (hit ?? best)?.epoch ?? null
    if (epoch === null) return { error: 'the teacher has no recorded epochs' }
  }
  const c =
    epoch === null
      ? ckpts.reduce<(typeof ckpts)[number] | undefined>(
          (b, x) => (!b || x.epoch >= b.epoch ? x : b),
          undefined,
        )
      : [...ckpts].reverse().find((x) => x.epoch === epoch)
  if (!c) return { error: `the teacher has no checkpoint${epoch === null ? '' : ` at epoch ${epoch}`}` }
  return { epoch: c.epoch, path: c.path }
}

export interface TaskRunnerDeps {
  jobDir: string
  row: number
  spawnTrainer: SpawnTrainer
  env?: NodeJS.ProcessEnv
  /** This node's host name. */
  node: string
  /** `<array job id>_<task id>` from Slurm's environment, when run by Slurm. */
  slurmJob: string | null
  log?: (line: string) => void
  /** Aborted when the task is told to stop (SIGTERM from scancel, a time limit, preemption). */
  signal?: AbortSignal
  now?: () => number
}

function datasetOf(m: Manifest, jobDir: string): TrainerStart['dataset'] {
  return m.dataset.kind === 'bundled'
    ? { kind: 'bundled', name: 'mnist-10k' }
    : { kind: 'cache', path: join(jobPaths(jobDir).dataset, m.dataset.file) }
}

/** A task's own record: its events, then the marker, written once. */
function createRecorder(deps: TaskRunnerDeps, row: ManifestRow, now: () => number, log: (l: string) => void) {
  const t = taskPaths(deps.jobDir, row.uuid)
  const state = {
    startedAt: null as number | null,
    backend: null as string | null,
    device: null as string | null,
    ended: false,
  }
  const append = (e: TaskEvent) => appendFileSync(t.events, `${JSON.stringify(e)}\n`)
  const finish = (status: TaskMarker['status'], reason: string | null): number => {
    if (state.ended) return status === 'completed' ? 0 : 1
    state.ended = true
    const marker: TaskMarker = {
      uuid: row.uuid,
      status,
      reason,
      node: deps.node,
      slurmJob: deps.slurmJob,
      backend: state.backend,
      device: state.device,
      startedAt: state.startedAt,
      finishedAt: now(),
    }
    if (status === 'failed') append({ type: 'failed', at: now(), reason: reason ?? 'failed' })
    // The marker is the last thing written: a reader that sees it sees every event before it.
    writeFileAtomic(status === 'completed' ? t.done : t.failed, `${JSON.stringify(marker)}\n`)
    log(`${row.key}: ${status}${reason ? ` (${reason})` : ''}`)
    return status === 'completed' ? 0 : 1
  }
  return { t, state, append, finish }
}
type Recorder = ReturnType<typeof createRecorder>

/** The teacher's checkpoint for the trainer, from the teacher task's folder; or why not. */
function resolveTeacher(
  manifest: Manifest,
  jobDir: string,
  row: ManifestRow,
  rec: Recorder,
  now: () => number,
): { teacher?: TrainerStart['teacher'] } | { error: string } {
  if (!row.teacher) return {}
  const ref = row.teacher
  const tRow = manifest.rows.find((r) => r.uuid === ref.uuid)
  const tMarker = readMarker(jobDir, ref.uuid)
  if (!tRow || tMarker?.status !== 'completed') {
    return {
      error: `not started: its teacher ${tRow?.key ?? ref.uuid} has not completed${tMarker?.reason ? ` (${tMarker.reason})` : ''}`,
    }
  }
  const tPaths = taskPaths(jobDir, tRow.uuid)
  const pick = pickTeacherCheckpoint(readEvents(tPaths.events), ref)
  if ('error' in pick) return { error: `teacher ${tRow.key}: ${pick.error}` }
  rec.append({
    type: 'teacher',
    at: now(),
    uuid: tRow.uuid,
    epoch: pick.epoch,
    checkpoint: join(relative(rec.t.dir, tPaths.dir), pick.path),
  })
  return {
    teacher: {
      checkpointPath: join(tPaths.dir, pick.path),
      model: tRow.config.model,
      runId: tRow.index + 1,
      epoch: pick.epoch,
    },
  }
}

/** Drives one trainer child through the run, recording each event; resolves with the exit code. */
// eslint-disable-next-line max-lines-per-function -- one promise over the trainer protocol: the abort handler, each message and the exit share its resolve() and the recorder; the switch is the protocol's message table
function driveTrainer(
  deps: TaskRunnerDeps,
  start: TrainerStart,
  rec: Recorder,
  now: () => number,
): Promise<number> {
  const { t, state, append, finish } = rec
  const trainer = deps.spawnTrainer({ env: trainerEnv(deps.env ?? process.env) })
  return new Promise<number>((resolve) => {
    const onAbort = () => {
      if (state.ended) return
      resolve(finish('failed', 'stopped by a signal from Slurm (scancel, the time limit or preemption)'))
      trainer.kill('SIGTERM')
    }
    deps.signal?.addEventListener('abort', onAbort, { once: true })
    let lastProgress = 0
    const record = (msg: TrainerToHost): void => {
      switch (msg.type) {
        case 'started':
          state.startedAt = now()
          state.backend = msg.backend
          state.device = msg.device
          append({
            type: 'started',
            at: state.startedAt,
            backend: msg.backend,
            device: msg.device,
            ...(msg.deviceInfo ? { deviceInfo: msg.deviceInfo } : {}),
          })
          break
        case 'epoch':
          append({ type: 'epoch', at: now(), metrics: msg.metrics })
          break
        case 'checkpoint':
          append({
            type: 'checkpoint',
            at: now(),
            epoch: msg.epoch,
            path: relative(t.dir, msg.path),
            bytes: msg.bytes,
          })
          break
        case 'progress':
          // For `tfkd cluster status`: at most one small write every few seconds.
          if (now() - lastProgress > 5000) {
            lastProgress = now()
            writeFileAtomic(
              join(t.dir, 'progress.json'),
              JSON.stringify({ at: lastProgress, ...msg.progress }),
            )
          }
          break
        case 'completed':
          append({ type: 'completed', at: now(), result: msg.result })
          resolve(finish('completed', null))
          trainer.send({ type: 'shutdown' })
          break
        case 'failed':
        case 'cancelled':
          resolve(finish('failed', msg.type === 'failed' ? msg.reason : 'the trainer was cancelled'))
          trainer.send({ type: 'shutdown' })
          break
        default:
          break
      }
    }
    trainer.onMessage((msg: TrainerToHost) => {
      if (state.ended) return
      try {
        record(msg)
      } catch (err) {
        resolve(finish('failed', `could not record the trainer's ${msg.type} event: ${String(err)}`))
        trainer.kill('SIGKILL')
      }
    })
    trainer.onExit(({ code, signal }) => {
      deps.signal?.removeEventListener('abort', onAbort)
      if (!state.ended) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
        resolve(finish('failed', `trainer process ${how} before the run finished`))
      }
    })
    trainer.send(start)
  })
}

/** Runs the task to its end; resolves with the process exit code (0 = done). */
export async function runClusterTask(deps: TaskRunnerDeps): Promise<number> {
  const now = deps.now ?? Date.now
  const log = deps.log ?? (() => {})
  const manifest = readManifest(deps.jobDir)
  const row: ManifestRow | undefined = manifest.rows[deps.row]
  if (!row) {
    log(`row ${deps.row} is not in ${jobPaths(deps.jobDir).manifest} (it has ${manifest.rows.length} rows)`)
    return 2
  }
  if (readMarker(deps.jobDir, row.uuid)?.status === 'completed') {
    log(`${row.key} (${row.uuid}) is already done`)
    return 0
  }
  const rec = createRecorder(deps, row, now, log)
  // A requeued task (node failure, preemption) starts over in a clean folder.
  if (existsSync(rec.t.dir)) archiveAttempt(deps.jobDir, row.uuid)
  mkdirSync(rec.t.checkpoints, { recursive: true })
  rec.append({
    type: 'task',
    at: now(),
    node: deps.node,
    slurmJob: deps.slurmJob,
    pid: process.pid,
    attempt: null,
  })
  const teacher = resolveTeacher(manifest, deps.jobDir, row, rec, now)
  if ('error' in teacher) return rec.finish('failed', teacher.error)
  // An imported ONNX teacher: the job folder's copy, used only if its sha256 is the recorded one.
  const onnx = await resolveOnnxTeacher(manifest, deps.jobDir, row)
  if ('error' in onnx) return rec.finish('failed', onnx.error)
  if (onnx.onnxTeacher) {
    rec.append({
      type: 'onnx-teacher',
      at: now(),
      id: onnx.onnxTeacher.id,
      sha256: onnx.onnxTeacher.sha256,
      file: relative(deps.jobDir, onnx.onnxTeacher.path),
    })
  }
  return driveTrainer(
    deps,
    {
      type: 'start',
      runId: row.index + 1,
      config: { ...row.config, teacher: null },
      checkpointDir: rec.t.checkpoints,
      dataset: datasetOf(manifest, deps.jobDir),
      ...(teacher.teacher ? { teacher: teacher.teacher } : {}),
      ...(onnx.onnxTeacher ? { onnxTeacher: onnx.onnxTeacher } : {}),
    },
    rec,
    now,
  )
}
