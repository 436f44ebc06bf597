/**
 * Merges a cluster job's finished task folders into the local history. Keyed by each row's UUID, so
 * a second sync adds nothing; a failed or cancelled task becomes a failed run with Slurm's state as
 * the reason, and a row that a retry later completed replaces its failed run. Each run is written in
 * one transaction, through the run repository's usual transitions (queued -> running -> completed or
 * failed), so synced runs are like local ones to compare, reports and resume. Lineage (teacher run
 * and checkpoint) is rebuilt from the teachers' UUIDs.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { ClusterSyncResult, RowStatus } from '../../shared/cluster'
import { AppError } from '../../shared/errors'
import type { RunConfig } from '../../shared/types'
import type { DataPaths } from '../paths'
import type { ClusterRepo } from '../store/repos/cluster'
import type { Store } from '../store/store'
import { readEvents, taskPaths, type TaskEvent } from './job-folder'
import type { Manifest, ManifestRow } from './manifest'
import type { JobStatus } from './status'

export type SyncResult = ClusterSyncResult

export interface SyncDeps {
  store: Store
  cluster: ClusterRepo
  paths: DataPaths
}

/**
 * Copies the checkpoints a run keeps into a staging folder of the data folder, before its
 * transaction: copying can be slow (large models), and the database's write lock must not wait on
 * it. Teachers keep every epoch (students may use any snapshot); students their last one.
 */
function stageCheckpoints(
  events: TaskEvent[],
  taskDir: string,
  role: ManifestRow['role'],
  staging: string,
): Map<number, string> {
  const ckpts = events.filter((e): e is Extract<TaskEvent, { type: 'checkpoint' }> => e.type === 'checkpoint')
  const lastEpoch = ckpts.reduce((m, c) => Math.max(m, c.epoch), 0)
  const staged = new Map<number, string>()
  for (const c of ckpts) {
    if (role !== 'teacher' && c.epoch !== lastEpoch) continue
    const src = join(taskDir, c.path)
    if (!existsSync(src)) continue
    mkdirSync(staging, { recursive: true })
    const dst = join(staging, basename(src))
    copyFileSync(src, `${dst}.tmp`)
    renameSync(`${dst}.tmp`, dst)
    staged.set(c.epoch, dst)
  }
  return staged
}

function ensureExperiment(deps: SyncDeps, manifest: Manifest, jobDir: string, datasetId: number): number {
  const existing = deps.cluster.jobs.get(manifest.jobUuid)
  if (existing?.experimentId && deps.store.experiments.get(existing.experimentId))
    return existing.experimentId
  const experimentId = deps.store.experiments.insert({ name: manifest.name, datasetId, plan: manifest.plan })
  deps.cluster.jobs.upsert({ uuid: manifest.jobUuid, name: manifest.name, jobDir })
  deps.cluster.jobs.setExperiment(manifest.jobUuid, experimentId)
  return experimentId
}

/**
 * An imported teacher's ref in this history: ids are per history, so a job synced into another one
 * points at the teacher imported there from the same file (same sha256 and dataset), if any; else
 * the ref keeps the submitter's id and the hash, which the comparison shows as not in this history.
 */
function importedTeacherHere(
  store: Store,
  config: RunConfig,
  datasetId: number,
): Pick<RunConfig, 'importedTeacher'> {
  const ref = config.importedTeacher
  if (!ref?.sha256) return {}
  if (store.onnxTeachers.get(ref.id)?.sha256 === ref.sha256) return {}
  const same = store.onnxTeachers.list({ datasetId }).find((t) => t.sha256 === ref.sha256)
  return same ? { importedTeacher: { ...ref, id: same.id } } : {}
}

/** Records one finished row as a run (new, or replacing a failed attempt). */
function recordRow(
  deps: SyncDeps,
  ctx: { jobDir: string; experimentId: number; datasetId: number; manifest: Manifest },
  row: ManifestRow,
  status: RowStatus,
  existingId: number | null,
): void {
  const { store, cluster } = deps
  const t = taskPaths(ctx.jobDir, row.uuid)
  const events: TaskEvent[] = status.state === 'completed' || existsSync(t.events) ? readEvents(t.events) : []
  const teacherRow = row.teacher ? ctx.manifest.rows.find((r) => r.uuid === row.teacher!.uuid) : undefined
  const teacherLocal = teacherRow ? cluster.runs.byUuid(teacherRow.uuid) : undefined
  const config: RunConfig = {
    ...row.config,
    ...importedTeacherHere(deps.store, row.config, ctx.datasetId),
    dataset: String(ctx.datasetId),
    teacher:
      row.teacher && teacherLocal
        ? { runId: teacherLocal.id, epoch: row.teacher.epoch, targetAccuracy: row.teacher.targetAccuracy }
        : null,
  }
  const completed = events.find((e): e is Extract<TaskEvent, { type: 'completed' }> => e.type === 'completed')
  if (status.state === 'completed' && !completed) {
    throw new AppError('invalid_input', `${t.events}: the task is marked done but recorded no result`)
  }
  const staging = join(deps.paths.checkpoints, `.sync-${row.uuid}-${process.pid}`)
  const staged = stageCheckpoints(events, t.dir, row.role, staging)
  try {
    store.db.transaction(() => {
      let runId: number
      if (existingId !== null) {
        runId = existingId
        cluster.runs.clearAttempt(runId)
        store.runs.requeue(runId)
      } else {
        runId = store.runs.insert({
          experimentId: ctx.experimentId,
          datasetId: ctx.datasetId,
          config,
          teacherRunId: config.teacher?.runId ?? null,
          role: row.role,
        }).id
      }
      const started = events.find((e): e is Extract<TaskEvent, { type: 'started' }> => e.type === 'started')
      if (started) store.runs.markRunning(runId, started.backend, started.device)
      if (started?.deviceInfo) store.runDevices.set(runId, started.deviceInfo)
      const ckDir = join(deps.paths.checkpoints, String(runId))
      for (const e of events) {
        if (e.type === 'epoch') store.runs.recordEpoch(runId, e.metrics)
        const file = e.type === 'checkpoint' ? staged.get(e.epoch) : undefined
        if (e.type === 'checkpoint' && file) {
          // A rename within the data folder: quick, under the lock.
          mkdirSync(ckDir, { recursive: true })
          const path = join(ckDir, basename(file))
          renameSync(file, path)
          store.checkpoints.insert({ runId, epoch: e.epoch, kind: 'epoch', path, bytes: e.bytes })
        }
        if (e.type === 'teacher' && teacherLocal) {
          const ck = store.checkpoints.atEpoch(teacherLocal.id, e.epoch)
          if (ck) store.runs.setTeacherCheckpoint(runId, ck.id)
        }
      }
      if (status.state === 'completed' && completed) store.runs.complete(runId, completed.result)
      else store.runs.finish(runId, 'failed', status.reason ?? 'failed on the cluster')
      cluster.runs.setOrigin(runId, {
        uuid: row.uuid,
        node: status.node,
        job: status.marker?.slurmJob ?? status.slurmId,
        startedAt: status.marker?.startedAt ?? null,
        finishedAt: status.marker?.finishedAt ?? null,
      })
    })()
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

export function syncJob(deps: SyncDeps, manifest: Manifest, status: JobStatus): SyncResult {
  const ds = deps.store.datasets.byName(manifest.dataset.name)
  if (!ds) {
    throw new AppError(
      'not_found',
      `the job trained on dataset "${manifest.dataset.name}", which is not in this history; import it (same name) and sync again`,
    )
  }
  const experimentId = ensureExperiment(deps, manifest, status.jobDir, ds.id)
  const result: SyncResult = { experimentId, added: 0, updated: 0, unchanged: 0, notFinished: 0 }
  const ctx = { jobDir: status.jobDir, experimentId, datasetId: ds.id, manifest }
  // Manifest order: teachers before their students, so lineage finds the teacher's local run.
  for (const row of manifest.rows) {
    const s = status.rows[row.index]!
    if (s.state !== 'completed' && s.state !== 'failed') {
      result.notFinished++
      continue
    }
    const existing = deps.cluster.runs.byUuid(row.uuid)
    if (existing && (existing.status === 'completed' || s.state === 'failed')) {
      result.unchanged++
      continue
    }
    recordRow(deps, ctx, row, s, existing?.id ?? null)
    if (existing) result.updated++
    else result.added++
  }
  deps.cluster.jobs.markSynced(manifest.jobUuid)
  return result
}
