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
import type { SpawnTrainer } from '../services/trainer-handle'
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
  const t = taskPaths(deps.jobDir, row.uuid)
  const prior = readMarker(deps.jobDir, row.uuid)
  if (prior?.status === 'completed') {
    log(`${row.key} (${row.uuid}) is already done`)
    return 0
  }
  // A requeued task (node failure, preemption) starts over in a clean folder.
  if (existsSync(t.dir)) archiveAttempt(deps.jobDir, row.uuid)
  mkdirSync(t.checkpoints, { recursive: true })
  const append = (e: TaskEvent) => appendFileSync(t.events, `${JSON.stringify(e)}\n`)
  let startedAt: number | null = null
  let backend: string | null = null
  let device: string | null = null
  let ended = false
  const finish = (status: TaskMarker['status'], reason: string | null): number => {
    if (ended) return status === 'completed' ? 0 : 1
    ended = true
    const marker: TaskMarker = {
      uuid: row.uuid,
      status,
      reason,
      node: deps.node,
      slurmJob: deps.slurmJob,
      backend,
      device,
      startedAt,
      finishedAt: now(),
    }
    if (status === 'failed') append({ type: 'failed', at: now(), reason: reason ?? 'failed' })
    // The marker is the last thing written: a reader that sees it sees every event before it.
    writeFileAtomic(status === 'completed' ? t.done : t.failed, `${JSON.stringify(marker)}\n`)
    log(`${row.key}: ${status}${reason ? ` (${reason})` : ''}`)
    return status === 'completed' ? 0 : 1
  }
  append({
    type: 'task',
    at: now(),
    node: deps.node,
    slurmJob: deps.slurmJob,
    pid: process.pid,
    attempt: null,
  })

  let teacher: TrainerStart['teacher']
  if (row.teacher) {
    const tRow = manifest.rows.find((r) => r.uuid === row.teacher!.uuid)
    const tMarker = readMarker(deps.jobDir, row.teacher.uuid)
    if (!tRow || tMarker?.status !== 'completed') {
      return finish(
        'failed',
        `not started: its teacher ${tRow?.key ?? row.teacher.uuid} has not completed${tMarker?.reason ? ` (${tMarker.reason})` : ''}`,
      )
    }
    const tDir = taskPaths(deps.jobDir, tRow.uuid).dir
    const pick = pickTeacherCheckpoint(readEvents(taskPaths(deps.jobDir, tRow.uuid).events), row.teacher)
    if ('error' in pick) return finish('failed', `teacher ${tRow.key}: ${pick.error}`)
    append({
      type: 'teacher',
      at: now(),
      uuid: tRow.uuid,
      epoch: pick.epoch,
      checkpoint: join(relative(t.dir, tDir), pick.path),
    })
    teacher = {
      checkpointPath: join(tDir, pick.path),
      model: tRow.config.model,
      runId: tRow.index + 1,
      epoch: pick.epoch,
    }
  }

  const trainer = deps.spawnTrainer({ env: trainerEnv(deps.env ?? process.env) })
  return await new Promise<number>((resolve) => {
    const onAbort = () => {
      if (ended) return
      resolve(finish('failed', 'stopped by a signal from Slurm (scancel, the time limit or preemption)'))
      trainer.kill('SIGTERM')
    }
    deps.signal?.addEventListener('abort', onAbort, { once: true })
    let lastProgress = 0
    trainer.onMessage((msg: TrainerToHost) => {
      if (ended) return
      try {
        switch (msg.type) {
          case 'started':
            startedAt = now()
            backend = msg.backend
            device = msg.device
            append({ type: 'started', at: startedAt, backend: msg.backend, device: msg.device })
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
      } catch (err) {
        resolve(finish('failed', `could not record the trainer's ${msg.type} event: ${String(err)}`))
        trainer.kill('SIGKILL')
      }
    })
    trainer.onExit(({ code, signal }) => {
      deps.signal?.removeEventListener('abort', onAbort)
      if (!ended) {
        resolve(
          finish(
            'failed',
            `trainer process ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before the run finished`,
          ),
        )
      }
    })
    trainer.send({
      type: 'start',
      runId: row.index + 1,
      config: { ...row.config, teacher: null },
      checkpointDir: t.checkpoints,
      dataset: datasetOf(manifest, deps.jobDir),
      ...(teacher ? { teacher } : {}),
    })
  })
}
