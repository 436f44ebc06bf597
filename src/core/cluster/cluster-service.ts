/**
 * Cluster jobs: a plan handed to Slurm as job arrays (teachers, then each teacher's students with
 * afterok on that teacher's array task), watched, synced into the local history, retried and
 * cancelled. Slurm is the scheduler; this only writes the job folder, calls sbatch/squeue/scontrol/
 * sacct/scancel, and reads back what the tasks wrote.
 */
import { randomUUID } from 'node:crypto'
import { copyFileSync, existsSync, writeFileSync } from 'node:fs'
import { basename, isAbsolute, join, resolve } from 'node:path'
import type { ClusterSubmitResult as SubmitResult, ScriptPreview } from '../../shared/cluster'
import { AppError } from '../../shared/errors'
import type { ExperimentPlanInput } from '../../shared/plan'
import type { DataPaths } from '../paths'
import type { PlanService, PreparedPlan } from '../services/plan-service'
import type { ClusterRepo } from '../store/repos/cluster'
import type { Store } from '../store/store'
import {
  archiveAttempt,
  checkWorkdir,
  createJobFolder,
  jobPaths,
  latestSubmission,
  readJobFile,
  readManifest,
  writeFileAtomic,
  writeJobFile,
  type JobFile,
  type Submission,
} from './job-folder'
import { buildManifest, groupRows, type ArrayGroup, type Manifest, type ManifestDataset } from './manifest'
import { checkOnnxTeachers, copyOnnxTeachers } from './onnx-teachers'
import type { SlurmClient } from './slurm-client'
import {
  checkSlurmOptions,
  renderScript,
  sbatchArgs,
  type SlurmOptions,
  type TfkdInstall,
} from './slurm-scripts'
import { jobStatus, type JobStatus } from './status'
import { syncJob, type SyncResult } from './sync'

export interface ClusterServiceDeps {
  store: Store
  cluster: ClusterRepo
  paths: DataPaths
  plans: Pick<PlanService, 'prepare'>
  slurm: SlurmClient
  install: TfkdInstall
  uuid?: () => string
  now?: () => number
}

export interface SubmitRequest {
  plan: ExperimentPlanInput
  workdir: string
  options: SlurmOptions
  dryRun?: boolean
}

function slugOf(uuid: string, at: number): string {
  const d = new Date(at).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `${d}-${uuid.slice(0, 8)}`
}

/** What every step of the service shares: its dependencies with the clock and uuid source filled in. */
interface ClusterCtx {
  deps: ClusterServiceDeps
  uuid: () => string
  now: () => number
}

/** A queued sbatch: the script, its array group, and its dependencies once teachers have job ids. */
interface GroupItem {
  preview: ScriptPreview
  group: ArrayGroup
  after: (teacherJobs: Map<number, string>) => string[]
}

/** Everything a submit has decided before touching the disk (all a dry run reports). */
interface PlannedJob {
  prepared: PreparedPlan
  dataset: ManifestDataset
  onnxTeachers: Awaited<ReturnType<typeof checkOnnxTeachers>>
  manifest: Manifest
  job: JobFile
  groups: ArrayGroup[]
  result: SubmitResult
}

function previews(
  ctx: ClusterCtx,
  jobDir: string,
  job: Pick<JobFile, 'uuid' | 'name' | 'slug' | 'options'>,
  groups: ArrayGroup[],
): ScriptPreview[] {
  return groups.map((group) => {
    const file = join(jobPaths(jobDir).scripts, `${group.id}.sbatch`)
    const text = renderScript({
      jobDir,
      jobUuid: job.uuid,
      jobName: job.name,
      jobSlug: job.slug,
      group,
      options: job.options,
      install: ctx.deps.install,
    })
    const after = group.teacherRow === null ? [] : [`<teachers>_${group.teacherRow}`]
    return {
      group: group.id,
      label: group.label,
      rows: group.rows,
      file,
      text,
      sbatch: sbatchArgs({ rows: group.rows, maxParallel: job.options.maxParallel, after, script: file }),
    }
  })
}

/** Submits previews in order, teachers first; records each submission as soon as sbatch answers. */
async function submitGroups(
  ctx: ClusterCtx,
  jobDir: string,
  job: JobFile,
  items: GroupItem[],
  attempt: number,
): Promise<Submission[]> {
  const teacherJob = new Map<number, string>()
  const done: Submission[] = []
  for (const { preview, group, after } of items) {
    if (!existsSync(preview.file)) writeFileAtomic(preview.file, preview.text)
    const deps_ = after(teacherJob)
    const args = sbatchArgs({
      rows: group.rows,
      maxParallel: job.options.maxParallel,
      after: deps_,
      script: preview.file,
    })
    let jobId: string
    try {
      jobId = await ctx.deps.slurm.sbatch(args)
    } catch (err) {
      const e = AppError.from(err)
      const sent = done.map((s) => `${s.group} (job ${s.jobId})`).join(', ')
      throw new AppError(
        e.code,
        `${e.message}${sent ? `; already submitted: ${sent} (\`tfkd cluster retry\` submits the rest)` : ''}`,
      )
    }
    if (group.id === 'teachers') for (const r of group.rows) teacherJob.set(r, jobId)
    const sub: Submission = {
      jobId,
      group: group.id,
      rows: group.rows,
      after: deps_,
      script: preview.file,
      submittedAt: ctx.now(),
      attempt,
    }
    job.submissions.push(sub)
    writeJobFile(jobDir, job)
    done.push(sub)
  }
  return done
}

/** A job folder path, a uuid prefix or folder name of a known job, or (none given) the latest job. */
function resolveJobDir(ctx: ClusterCtx, ref: string | undefined): string {
  if (ref && (ref.includes('/') || ref.includes('\\') || existsSync(ref))) {
    const dir = isAbsolute(ref) ? ref : resolve(ref)
    if (!existsSync(join(dir, 'manifest.json'))) {
      throw new AppError('not_found', `${dir} is not a tfkd cluster job folder (no manifest.json)`)
    }
    return dir
  }
  const jobs = ctx.deps.cluster.jobs.list(1000)
  if (!ref) {
    if (!jobs[0])
      throw new AppError('not_found', 'no cluster jobs yet; submit one with `tfkd cluster submit`')
    return jobs[0].jobDir
  }
  const hits = jobs.filter(
    (j) => j.uuid.startsWith(ref) || basename(j.jobDir) === ref || basename(j.jobDir) === `tfkd-${ref}`,
  )
  if (hits.length !== 1) {
    throw new AppError(
      hits.length ? 'conflict' : 'not_found',
      hits.length
        ? `"${ref}" matches ${hits.length} cluster jobs; give more of the uuid`
        : `no cluster job "${ref}"; give its job folder`,
    )
  }
  return hits[0]!.jobDir
}

/** The manifest's dataset entry: bundled by name, or the imported dataset's cache file (which must exist). */
function manifestDataset(ds: PreparedPlan['ds']): ManifestDataset {
  if (ds.format === 'bundled') return { id: ds.id, name: ds.name, kind: 'bundled', bundled: 'mnist-10k' }
  if (!ds.cachePath || !existsSync(ds.cachePath)) {
    throw new AppError(
      'not_found',
      `dataset "${ds.name}": its cache file ${ds.cachePath ?? '(none)'} is missing; import it again`,
    )
  }
  return { id: ds.id, name: ds.name, kind: 'cache', file: basename(ds.cachePath) }
}

/** Validates the request and decides the job (manifest, job file, scripts) without writing anything. */
async function planJob(ctx: ClusterCtx, req: SubmitRequest): Promise<PlannedJob> {
  checkSlurmOptions(req.options)
  // Before anything else: a dry run also says when the folder cannot be used.
  const workdir = isAbsolute(req.workdir) ? req.workdir : resolve(req.workdir)
  checkWorkdir(workdir)
  // prepare parses: the CLI calls this service with a plan its flags built (not through the contract).
  const prepared = ctx.deps.plans.prepare(req.plan)
  const jobUuid = ctx.uuid()
  const createdAt = ctx.now()
  const slug = slugOf(jobUuid, createdAt)
  const jobDir = join(workdir, `tfkd-${slug}`)
  const dataset = manifestDataset(prepared.ds)
  // Imported ONNX teachers travel in the job folder, checked against their hash (a dry run too).
  const onnxTeachers = await checkOnnxTeachers(ctx.deps.store, prepared.configs)
  const manifest = buildManifest({
    jobUuid,
    name: prepared.plan.name,
    createdAt,
    dataset,
    plan: prepared.plan,
    planned: prepared.planned,
    configs: prepared.configs,
    uuid: ctx.uuid,
    onnxTeachers,
  })
  const job: JobFile = {
    version: 1,
    uuid: jobUuid,
    name: manifest.name,
    slug,
    scheduler: 'slurm',
    createdAt,
    options: req.options,
    submissions: [],
  }
  const groups = groupRows(manifest)
  const result: SubmitResult = {
    uuid: jobUuid,
    name: manifest.name,
    jobDir,
    rows: manifest.rows.length,
    scripts: previews(ctx, jobDir, job, groups),
    submissions: [],
  }
  return { prepared, dataset, onnxTeachers, manifest, job, groups, result }
}

/** Writes the job folder (plan, dataset cache, ONNX teachers, manifest, scripts, job file) and records the job. */
function writeJobFolder(ctx: ClusterCtx, planned: PlannedJob): void {
  const { prepared, dataset, onnxTeachers, manifest, job, result } = planned
  const { jobDir } = result
  createJobFolder(jobDir)
  const p = jobPaths(jobDir)
  writeFileSync(p.plan, `${JSON.stringify(prepared.plan, null, 2)}\n`)
  if (dataset.kind === 'cache') copyFileSync(prepared.ds.cachePath!, join(p.dataset, dataset.file))
  copyOnnxTeachers(ctx.deps.store, onnxTeachers, jobDir)
  writeFileAtomic(p.manifest, `${JSON.stringify(manifest, null, 2)}\n`)
  for (const s of result.scripts) writeFileAtomic(s.file, s.text)
  writeJobFile(jobDir, job)
  ctx.deps.cluster.jobs.upsert({ uuid: job.uuid, name: manifest.name, jobDir })
}

async function submitJob(ctx: ClusterCtx, req: SubmitRequest): Promise<SubmitResult> {
  const planned = await planJob(ctx, req)
  const { job, groups, result } = planned
  if (req.dryRun) return result
  writeJobFolder(ctx, planned)
  result.submissions = await submitGroups(
    ctx,
    result.jobDir,
    job,
    groups.map((group, i) => ({
      group,
      preview: result.scripts[i]!,
      after: (teacherJob) =>
        group.teacherRow === null ? [] : [`${teacherJob.get(group.teacherRow)}_${group.teacherRow}`],
    })),
    0,
  )
  return result
}

/** Merges every finished task into the local history (idempotent). */
async function syncCluster(ctx: ClusterCtx, ref?: string): Promise<SyncResult & { status: JobStatus }> {
  const jobDir = resolveJobDir(ctx, ref)
  const manifest = readManifest(jobDir)
  const st = await jobStatus(jobDir, ctx.deps.slurm, { manifest, job: readJobFile(jobDir) })
  ctx.deps.cluster.jobs.upsert({ uuid: manifest.jobUuid, name: manifest.name, jobDir })
  return { ...syncJob(ctx.deps, manifest, st), status: st }
}

/**
 * What a retried student waits for: its teacher's new array task when the teacher is retried too,
 * nothing when the teacher already completed, else the teacher's latest submitted task.
 */
function retryAfter(
  group: ArrayGroup,
  again: Set<number>,
  st: JobStatus,
  job: JobFile,
  teacherJob: Map<number, string>,
): string[] {
  if (group.teacherRow === null) return []
  const t = group.teacherRow
  if (again.has(t)) return [`${teacherJob.get(t)}_${t}`]
  if (st.rows[t]!.state === 'completed') return []
  const sub = latestSubmission(job, t)
  return sub ? [`${sub.jobId}_${t}`] : []
}

/** Resubmits only the failed (and never submitted) rows; students wait for a retried teacher. */
async function retryJob(
  ctx: ClusterCtx,
  ref?: string,
): Promise<{ rows: number[]; submissions: Submission[] }> {
  const jobDir = resolveJobDir(ctx, ref)
  const manifest = readManifest(jobDir)
  const job = readJobFile(jobDir)
  const st = await jobStatus(jobDir, ctx.deps.slurm, { manifest, job })
  if (st.rows.some((r) => r.state === 'unknown')) {
    throw new AppError(
      'backend_unavailable',
      'Slurm did not answer, so which tasks failed is not known; try again',
    )
  }
  const todo = st.rows.filter((r) => r.state === 'failed' || r.state === 'unsubmitted').map((r) => r.index)
  if (!todo.length) return { rows: [], submissions: [] }
  for (const i of todo) archiveAttempt(jobDir, manifest.rows[i]!.uuid)
  const again = new Set(todo)
  const groups = groupRows(manifest, again)
  const scripts = previews(ctx, jobDir, job, groups)
  const attempt = Math.max(0, ...job.submissions.map((s) => s.attempt)) + 1
  const submissions = await submitGroups(
    ctx,
    jobDir,
    job,
    groups.map((group, i) => ({
      group,
      preview: scripts[i]!,
      after: (teacherJob) => retryAfter(group, again, st, job, teacherJob),
    })),
    attempt,
  )
  return { rows: todo, submissions }
}

/** scancel of the job's pending and running tasks (or of the given rows only). */
async function cancelJob(ctx: ClusterCtx, ref?: string, rows?: number[]): Promise<{ cancelled: string[] }> {
  const st = await jobStatus(resolveJobDir(ctx, ref), ctx.deps.slurm)
  const ids = st.rows
    .filter(
      (r) =>
        (r.state === 'pending' || r.state === 'running') && (!rows || rows.includes(r.index)) && r.slurmId,
    )
    .map((r) => r.slurmId!)
  await ctx.deps.slurm.scancel(ids)
  return { cancelled: ids }
}

export function createClusterService(deps: ClusterServiceDeps) {
  const ctx: ClusterCtx = { deps, uuid: deps.uuid ?? randomUUID, now: deps.now ?? Date.now }
  return {
    submit: (req: SubmitRequest) => submitJob(ctx, req),
    status: async (ref?: string): Promise<JobStatus> => jobStatus(resolveJobDir(ctx, ref), deps.slurm),
    resolveJobDir: (ref: string | undefined) => resolveJobDir(ctx, ref),
    list: () => deps.cluster.jobs.list(),
    sync: (ref?: string) => syncCluster(ctx, ref),
    retry: (ref?: string) => retryJob(ctx, ref),
    cancel: (ref?: string, rows?: number[]) => cancelJob(ctx, ref, rows),
  }
}

export type ClusterService = ReturnType<typeof createClusterService>
