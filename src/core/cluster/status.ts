/**
 * Where each row of a cluster job stands, from what the task folders' markers say (authoritative:
 * a `done` marker is written only after everything else), then `squeue` (pending and running),
 * `scontrol show job` (recently ended, for MinJobAge) and `sacct` (where the cluster keeps
 * accounting). `combineRowStatus` is pure.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ClusterJobStatus, RowState, RowStatus } from '../../shared/cluster'
import {
  latestSubmission,
  readJobFile,
  readManifest,
  readMarker,
  taskPaths,
  type JobFile,
  type TaskMarker,
} from './job-folder'
import type { Manifest } from './manifest'
import type { SlurmClient, SlurmTaskInfo } from './slurm-client'

const ACTIVE = new Set(['PENDING', 'CONFIGURING', 'REQUEUED', 'RESIZING', 'SUSPENDED'])
const RUNNING = new Set(['RUNNING', 'COMPLETING', 'STAGE_OUT', 'SIGNALING'])

/**
 * One row's state. Markers win; then Slurm's word; a task that Slurm no longer knows and that left
 * no marker ended without saying how (killed outright, or its node died).
 */
export function combineRowStatus(args: {
  marker: TaskMarker | null
  submitted: boolean
  slurm: SlurmTaskInfo | undefined
  /** Whether Slurm could be asked at all (false: squeue failed, so nothing is concluded). */
  slurmAnswered: boolean
  teacher: { key: string; state: RowState; reason: string | null } | null
}): { state: RowState; reason: string | null } {
  const { marker, slurm, teacher } = args
  const slurmText = slurm ? `Slurm: ${slurm.state}${slurm.reason ? ` (${slurm.reason})` : ''}` : null
  if (marker?.status === 'completed') return { state: 'completed', reason: null }
  // The task said it failed, but Slurm has not finished ending it: wait for Slurm's final state.
  if (marker?.status === 'failed' && slurm && RUNNING.has(slurm.state)) {
    return { state: 'running', reason: `ending: ${marker.reason ?? 'failed'}` }
  }
  if (marker?.status === 'failed') {
    return { state: 'failed', reason: [marker.reason, slurmText].filter(Boolean).join('; ') || 'failed' }
  }
  if (!args.submitted) return { state: 'unsubmitted', reason: null }
  if (!args.slurmAnswered) return { state: 'unknown', reason: 'Slurm did not answer' }
  if (!slurm) {
    return {
      state: 'failed',
      reason:
        'ended without a done marker, and Slurm no longer reports the task (it forgets ended jobs after MinJobAge; sacct has no accounting here)',
    }
  }
  if (ACTIVE.has(slurm.state)) return { state: 'pending', reason: slurm.reason }
  if (RUNNING.has(slurm.state)) return { state: 'running', reason: null }
  const teacherFailed = teacher?.state === 'failed'
  const prefix = teacherFailed ? `not started: its teacher ${teacher.key} failed; ` : ''
  if (slurm.state === 'COMPLETED') {
    return { state: 'failed', reason: `${prefix}the task left no done marker (${slurmText})` }
  }
  return { state: 'failed', reason: `${prefix}${slurmText}` }
}

function readProgress(dir: string): RowStatus['progress'] {
  const file = join(dir, 'progress.json')
  if (!existsSync(file)) return null
  try {
    const p = JSON.parse(readFileSync(file, 'utf8')) as { epoch: number; epochs: number; fraction: number }
    return { epoch: p.epoch, epochs: p.epochs, fraction: p.fraction }
  } catch {
    return null
  }
}

/** Asks Slurm about every submission of the job: squeue, then scontrol and sacct for the rest. */
async function slurmView(
  client: SlurmClient,
  job: JobFile,
): Promise<{ tasks: Map<string, SlurmTaskInfo>; answered: boolean }> {
  const ids = [...new Set(job.submissions.map((s) => s.jobId))]
  const tasks = new Map<string, SlurmTaskInfo>()
  if (!ids.length) return { tasks, answered: true }
  try {
    for (const t of await client.squeue(ids)) tasks.set(t.id, t)
    const wanted = job.submissions
      .flatMap((s) => s.rows.map((r) => `${s.jobId}_${r}`))
      .filter((id) => !tasks.has(id))
    if (wanted.length) {
      for (const jobId of ids)
        for (const t of await client.scontrol(jobId)) if (!tasks.has(t.id)) tasks.set(t.id, t)
      const missing = wanted.filter((id) => !tasks.has(id))
      if (missing.length) {
        const acct = await client.sacct(ids)
        for (const t of acct ?? []) if (!tasks.has(t.id)) tasks.set(t.id, t)
      }
    }
    return { tasks, answered: true }
  } catch {
    return { tasks, answered: false }
  }
}

export type JobStatus = Omit<ClusterJobStatus, 'experimentId'>

export async function jobStatus(
  jobDir: string,
  client: SlurmClient,
  pre?: { manifest: Manifest; job: JobFile },
): Promise<JobStatus> {
  const manifest = pre?.manifest ?? readManifest(jobDir)
  const job = pre?.job ?? readJobFile(jobDir)
  const { tasks, answered } = await slurmView(client, job)
  const rows: RowStatus[] = []
  const byUuid = new Map<string, RowStatus>()
  // Teachers come first in the manifest, so a student sees its teacher's state.
  for (const r of manifest.rows) {
    const sub = latestSubmission(job, r.index)
    const slurmId = sub ? `${sub.jobId}_${r.index}` : null
    const slurm = slurmId ? tasks.get(slurmId) : undefined
    const marker = readMarker(jobDir, r.uuid)
    const t = r.teacher ? byUuid.get(r.teacher.uuid) : undefined
    const { state, reason } = combineRowStatus({
      marker,
      submitted: Boolean(sub),
      slurm,
      slurmAnswered: answered,
      teacher: t ? { key: t.key, state: t.state, reason: t.reason } : null,
    })
    const status: RowStatus = {
      index: r.index,
      uuid: r.uuid,
      key: r.key,
      role: r.role,
      model: r.config.model,
      variant: r.config.variant,
      seed: r.config.seed,
      state,
      slurmId,
      slurmState: slurm?.state ?? null,
      reason,
      node: marker?.node ?? slurm?.node ?? null,
      progress: state === 'running' ? readProgress(taskPaths(jobDir, r.uuid).dir) : null,
      marker,
    }
    rows.push(status)
    byUuid.set(r.uuid, status)
  }
  const counts = Object.fromEntries(
    (['unsubmitted', 'pending', 'running', 'completed', 'failed', 'unknown'] as const).map((s) => [
      s,
      rows.filter((r) => r.state === s).length,
    ]),
  ) as Record<RowState, number>
  return { uuid: job.uuid, name: job.name, jobDir, submissions: job.submissions, rows, counts }
}
