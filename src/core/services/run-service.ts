/**
 * The run queue: validates and stores new runs, starts trainer sessions (trainer-session.ts drives
 * each child; one at a time by default, several at once with `parallel`, parallel.ts), and makes sure every run it owns reaches a final state,
 * even when the database cannot be written (a full or read-only disk): a final state that cannot be
 * recorded is reported, kept in memory and retried, and the host keeps going.
 *
 * Ownership: a `queued` or `running` run belongs to the host process whose pid is stored with it.
 * This host cancels, deletes or resumes such a run of another host only once that host is gone.
 */
import { AppError } from '../../shared/errors'
import type { TrainerStart } from '../../shared/trainer-protocol'
import type { BackendReport, RunConfig, RunSummary } from '../../shared/types'
import { isActiveRunStatus } from '../../shared/run-states'
import { resolveRunConfig } from '../../shared/schemas'
import { needsTeacher } from '../../shared/variants'
import { isModelId, modelInputProblem, type ModelId } from '../models/catalog'
import type { DataPaths } from '../paths'
import { explainStorageError, storageTrouble } from '../storage-errors'
import type { DatasetRecord, Store } from '../store/store'
import { isProcessAlive } from '../process-alive'
import { trainerEnv } from '../train/trainer-env'
import type { GpuSetup } from '../doctor/doctor'
import { rungInfo } from '../../shared/backends'
import type { SpawnTrainer } from '../train/trainer-handle'
import { checkImportedTeacher, onnxTeacherStart } from './teacher-service'
import {
  PARALLEL_SETTING_KEY,
  parallelFor,
  parseParallel,
  threadsPerRun,
  usableCpuCount,
  type ParallelSetting,
} from './parallel'
import {
  buildTrainerStart,
  startTrainerSession,
  type Emit,
  type FinalOutcome,
  type SessionContext,
  type TrainerSession,
} from './trainer-session'

export type { Emit } from './trainer-session'

export interface RunServiceDeps {
  store: Store
  paths: DataPaths
  spawnTrainer: SpawnTrainer
  emit: Emit
  env?: NodeJS.ProcessEnv
  /** How long a cancelled trainer may take to stop at a batch boundary before it is killed. */
  cancelGraceMs?: number
  /** Where problems nobody asked about go (a final state that could not be recorded). */
  log?: (message: string) => void
  /** Why the data folder cannot be written (a read-only snapshot is open), or null. */
  readOnly?: string | null
  /** Whether a host process is alive (tests stand in for other hosts). */
  isHostAlive?: (pid: number) => boolean
  /**
   * The doctor's GPU setup (CUDA library folders, GPUs): probed once before the first run that may
   * train on a GPU, then given to every trainer's environment.
   */
  gpu?: { current(): GpuSetup | null; ensure(): Promise<unknown> }
}

/** How often a final state that could not be written is retried. */
const RECORD_RETRY_MS = 2000
/**
 * What happens to a run whose end could not be recorded. The retry timer does not keep a process
 * alive (the CLI exits when its work is done), so the message says both outcomes.
 */
export const UNRECORDED_NOTE =
  `it is retried every ${RECORD_RETRY_MS / 1000} s while this process runs; ` +
  'if it exits first, the next start records the run as interrupted'

interface QueueState {
  deps: RunServiceDeps
  queue: number[]
  waiters: Map<number, ((run: RunSummary) => void)[]>
  /** The runs training now, and how many runs at once each of them allows. */
  active: Map<number, { session: TrainerSession; limit: number }>
  /** `tfkd run --parallel` for this process; null: the stored setting (default 1). */
  parallel: ParallelSetting | null
  lastBackend: BackendReport | null
  nativeDisabled: boolean
  /** Final states decided but not yet in the database (disk full, read-only). */
  unrecorded: Map<number, { outcome: FinalOutcome; error: string }>
  retryTimer: NodeJS.Timeout | null
  /** The doctor's host probes are running (runs that may use a GPU wait for them). */
  gpuProbing: boolean
  /** Why this host stops taking runs (a signal), once `stop` was called. */
  stopping: string | null
}

/** Who drives a non-final run: this host, another live host, or nobody (its host is gone). */
export type RunOwner = { kind: 'this-host' } | { kind: 'other-host'; pid: number } | { kind: 'none' }

/** A database write that fails for storage reasons becomes an AppError naming the file and the fix. */
export function storageGuard<T>(paths: DataPaths, action: string, write: () => T): T {
  try {
    return write()
  } catch (err) {
    if (storageTrouble(err)) throw new AppError('storage', explainStorageError(err, action, paths.database))
    throw err
  }
}

/** The run as listeners should see it: the stored row, or the in-memory final state not yet written. */
function currentView(q: QueueState, runId: number): RunSummary | undefined {
  const run = q.deps.store.runs.get(runId)
  const pending = q.unrecorded.get(runId)
  if (!run || !pending) return run
  const o = pending.outcome
  return {
    ...run,
    status: o.status,
    failureReason: `${o.status === 'completed' ? '' : `${o.reason ?? o.status}; `}not recorded yet: ${pending.error}`,
    ...(o.status === 'completed' ? { testAccuracy: o.result.testAccuracy, testLoss: o.result.testLoss } : {}),
  }
}

/** Tells listeners about a run's state; wakes its waiters once it is final. */
function settle(q: QueueState, runId: number): void {
  let run: RunSummary | undefined
  try {
    run = currentView(q, runId)
  } catch (err) {
    q.deps.log?.(`run ${runId}: could not read its state back: ${(err as Error).message}`)
    return
  }
  if (!run) return
  q.deps.emit('runs:status', {
    runId,
    status: run.status,
    failureReason: run.failureReason,
    testAccuracy: run.testAccuracy,
  })
  if (!isActiveRunStatus(run.status)) {
    for (const w of q.waiters.get(runId) ?? []) w(run)
    q.waiters.delete(runId)
  }
}

function writeFinal(store: Store, runId: number, o: FinalOutcome): void {
  if (o.status === 'completed') store.runs.complete(runId, o.result)
  else store.runs.finish(runId, o.status, o.reason)
}

/**
 * Records a run's final state. A failure to record it (the disk filled up, the folder turned
 * read-only) is caught: reported, kept in memory for listeners and waiters, and retried, so the host
 * never dies of it and the run is recorded once space is back (or settled at the next start-up).
 */
function finalize(q: QueueState, runId: number, outcome: FinalOutcome): void {
  try {
    writeFinal(q.deps.store, runId, outcome)
    q.unrecorded.delete(runId)
  } catch (err) {
    if (err instanceof AppError && err.code !== 'storage') {
      // The state table refused the move (the run was settled elsewhere): nothing to retry.
      q.deps.log?.(`run ${runId}: could not record it ${outcome.status}: ${err.message}`)
      settle(q, runId)
      return
    }
    const error = explainStorageError(err, 'cannot write to the run database', q.deps.paths.database)
    q.unrecorded.set(runId, { outcome, error })
    q.deps.log?.(`run ${runId} ended ${outcome.status} but ${error}; ${UNRECORDED_NOTE}`)
    scheduleRecordRetry(q)
  }
  settle(q, runId)
}

function retryUnrecorded(q: QueueState): void {
  for (const [runId, { outcome }] of [...q.unrecorded]) {
    try {
      writeFinal(q.deps.store, runId, outcome)
      q.unrecorded.delete(runId)
      settle(q, runId)
    } catch (err) {
      // Still no room: the next tick tries again. A refused move will never succeed: drop it.
      if (err instanceof AppError && err.code !== 'storage') q.unrecorded.delete(runId)
    }
  }
}

function scheduleRecordRetry(q: QueueState): void {
  if (q.retryTimer) return
  q.retryTimer = setInterval(() => {
    retryUnrecorded(q)
    if (q.unrecorded.size === 0 && q.retryTimer) {
      clearInterval(q.retryTimer)
      q.retryTimer = null
    }
  }, RECORD_RETRY_MS)
  q.retryTimer.unref()
}

type TeacherState =
  | { ready: true; start?: TrainerStart['teacher'] }
  | { ready: false; wait: true }
  | { ready: false; reason: string }

/** The teacher epoch a student uses: the given one, the first reaching the target, else the best. */
function teacherEpoch(
  store: Store,
  teacherRunId: number,
  t: NonNullable<RunConfig['teacher']>,
): number | null {
  if (t.epoch !== null || !t.targetAccuracy) return t.epoch
  const metrics = store.runs.metrics(teacherRunId)
  const target = t.targetAccuracy
  const hit = metrics.find((m) => m.valAccuracy >= target)
  const best = metrics.reduce<(typeof metrics)[number] | undefined>(
    (b, m) => (!b || m.valAccuracy > b.valAccuracy ? m : b),
    undefined,
  )
  return (hit ?? best)?.epoch ?? null
}

/**
 * Where a queued run's teacher stands: ready (with its checkpoint), still to come, or never (the
 * student then fails with the reason).
 */
function teacherState(store: Store, runId: number, isOrphan: (id: number) => boolean): TeacherState {
  const config = store.runs.detail(runId)?.config
  if (config?.importedTeacher) {
    // An imported ONNX teacher is ready when it (the same file) is still there.
    const o = onnxTeacherStart(store, config.importedTeacher)
    return o.ok ? { ready: true } : { ready: false, reason: o.reason }
  }
  if (!config?.teacher) return { ready: true }
  const t = store.runs.get(config.teacher.runId)
  if (!t) return { ready: false, reason: `teacher run ${config.teacher.runId} no longer exists` }
  if (isActiveRunStatus(t.status)) {
    // A teacher left queued or running by a host that is gone would be waited for forever.
    if (!isOrphan(t.id)) return { ready: false, wait: true }
    return {
      ready: false,
      reason: `teacher run ${t.id} was left ${t.status} by a tfkd process that is gone; resume it first`,
    }
  }
  if (t.status !== 'completed' && config.teacher.epoch === null) {
    return {
      ready: false,
      reason: `teacher run ${t.id} ended ${t.status}${t.failureReason ? `: ${t.failureReason}` : ''}`,
    }
  }
  const epoch = teacherEpoch(store, t.id, config.teacher)
  if (epoch === null && config.teacher.targetAccuracy) {
    return { ready: false, reason: `teacher run ${t.id} has no recorded epochs` }
  }
  const ckpt = epoch === null ? store.checkpoints.latest(t.id) : store.checkpoints.atEpoch(t.id, epoch)
  if (!ckpt) {
    return {
      ready: false,
      reason: `teacher run ${t.id} has no checkpoint${epoch === null ? '' : ` at epoch ${epoch}`}`,
    }
  }
  store.runs.setTeacherCheckpoint(runId, ckpt.id)
  return { ready: true, start: { checkpointPath: ckpt.path, model: t.model, runId: t.id, epoch: ckpt.epoch } }
}

function sessionContext(q: QueueState): SessionContext {
  const { store, paths, spawnTrainer, emit } = q.deps
  return {
    store,
    paths,
    spawnTrainer,
    emit,
    env: q.deps.env ?? process.env,
    finalize: (runId, outcome) => finalize(q, runId, outcome),
    announce: (runId) => settle(q, runId),
    onBackend: (report) => void (q.lastBackend = report),
    gpuEnv: () => gpuEnv(q),
  }
}

function gpuEnv(q: QueueState): { libraryDirs?: string[]; gpus?: GpuSetup['gpus'] } {
  const gpu = q.deps.gpu?.current()
  return gpu ? { libraryDirs: gpu.libraryDirs, gpus: gpu.gpus } : {}
}

/**
 * A run that may land on a GPU rung waits for the doctor's host probes (once per host, a few
 * seconds at most), so its trainer starts with the CUDA library folders they found.
 */
function awaitingGpuSetup(q: QueueState, runId: number): boolean {
  const gpu = q.deps.gpu
  if (!gpu || gpu.current()) return false
  const backend = q.deps.store.runs.detail(runId)?.config.backend ?? 'auto'
  if (backend !== 'auto' && !rungInfo(backend).isGpu) return false
  if (!q.gpuProbing) {
    q.gpuProbing = true
    void gpu.ensure().finally(() => {
      q.gpuProbing = false
      pump(q)
    })
  }
  return true
}

function parallelSetting(q: QueueState): ParallelSetting {
  if (q.parallel !== null) return q.parallel
  try {
    const stored = q.deps.store.settings.get<unknown>(PARALLEL_SETTING_KEY)
    return stored === undefined ? 1 : parseParallel(stored, PARALLEL_SETTING_KEY)
  } catch (err) {
    q.deps.log?.(`${(err as Error).message}; training one run at a time`)
    return 1
  }
}

function onGpu(q: QueueState, runId: number): boolean {
  const backend = q.deps.store.runs.detail(runId)?.config.backend ?? 'auto'
  const rung = backend === 'auto' ? q.lastBackend?.chosen : backend
  return rung !== undefined && rungInfo(rung).isGpu
}

/**
 * How many runs may train at once with `runId` among them (null: no room now). The CPUs are
 * counted once per host (TFKD_THREADS in the host's env pins them).
 */
function roomFor(q: QueueState, runId: number): number | null {
  const model = q.deps.store.runs.get(runId)?.model ?? ''
  const cpus = usableCpuCount(q.deps.env ?? process.env)
  const setting = parallelSetting(q)
  // auto packs CPU work: a run that trains (or whose host last trained) on a GPU goes alone.
  if (setting === 'auto' && onGpu(q, runId)) return q.active.size === 0 ? 1 : null
  const limit = Math.min(parallelFor(setting, model, cpus), ...[...q.active.values()].map((a) => a.limit))
  return q.active.size < limit ? limit : null
}

/** Starts a trainer for the run; a run that cannot even start fails with the reason. */
function launch(q: QueueState, runId: number, limit: number, teacher?: TrainerStart['teacher']): void {
  let start: TrainerStart | undefined
  try {
    start = buildTrainerStart(q.deps.store, q.deps.paths, runId, teacher)
  } catch (err) {
    finalize(q, runId, { status: 'failed', reason: (err as Error).message })
    return
  }
  if (!start) return
  const begin = start
  // Several trainers at once split the CPUs; one alone keeps today's count (all of them).
  const env = q.deps.env ?? process.env
  const threads = limit > 1 ? threadsPerRun(usableCpuCount(env), limit) : undefined
  const session = startTrainerSession(sessionContext(q), begin, {
    disableNative: q.nativeDisabled,
    ...(threads ? { threads } : {}),
    onEnd: ({ retryWithoutNative }) => {
      q.active.delete(runId)
      if (retryWithoutNative && q.stopping) {
        finalize(q, runId, { status: 'interrupted', reason: `${q.stopping} before this run started` })
      } else if (retryWithoutNative) {
        q.nativeDisabled = true
        launch(q, runId, limit, teacher)
        return
      }
      pump(q)
    },
  })
  // onEnd comes from the child's exit event, always after this line.
  q.active.set(runId, { session, limit })
}

/** Starts the first queued run whose teacher is ready; fails students whose teacher never will be. */
function pump(q: QueueState): void {
  if (q.unrecorded.size > 0) retryUnrecorded(q)
  if (q.stopping) return
  for (let i = 0; i < q.queue.length; i++) {
    const runId = q.queue[i]!
    let state: TeacherState
    try {
      state = teacherState(q.deps.store, runId, (id) => ownerOf(q, id).kind === 'none')
    } catch (err) {
      state = {
        ready: false,
        reason: explainStorageError(err, 'cannot prepare the run in', q.deps.paths.database),
      }
    }
    if (!state.ready && 'wait' in state) continue
    const limit = state.ready ? roomFor(q, runId) : 1
    if (limit === null) return
    if (state.ready && awaitingGpuSetup(q, runId)) return
    q.queue.splice(i, 1)
    if (!state.ready) {
      finalize(q, runId, { status: 'failed', reason: state.reason })
      i = -1 // the queue changed; rescan (a failed teacher may fail more students)
      continue
    }
    launch(q, runId, limit, state.start)
    i = -1 // more room, or the launch failed: rescan
  }
}

function ownerOf(q: QueueState, runId: number): RunOwner {
  if (q.queue.includes(runId) || q.active.has(runId)) return { kind: 'this-host' }
  const pid = q.deps.store.runs.hostPid(runId)
  const alive = q.deps.isHostAlive ?? isProcessAlive
  if (pid !== null && pid !== process.pid && alive(pid)) return { kind: 'other-host', pid }
  return { kind: 'none' }
}

/** A run with an imported ONNX teacher: checked, its file's hash recorded in the config. */
function withImportedTeacher(store: Store, config: RunConfig, ds: DatasetRecord): RunConfig {
  if (!needsTeacher(config.variant)) {
    throw new AppError('invalid_input', `variant ${config.variant} takes no teacher`, {
      field: 'importedTeacher',
    })
  }
  if (config.teacher) {
    throw new AppError('invalid_input', 'give a teacher run or an imported ONNX teacher, not both', {
      field: 'teacher',
    })
  }
  return { ...config, importedTeacher: checkImportedTeacher(store, config.importedTeacher!, ds) }
}

function checkTeacher(store: Store, config: RunConfig, ds: DatasetRecord): void {
  if (!config.teacher) {
    throw new AppError(
      'invalid_input',
      `variant ${config.variant} needs a teacher: give teacher.runId (a run on the same dataset) or importedTeacher.id (tfkd teachers import), or run a plan, which trains one`,
      { field: 'teacher' },
    )
  }
  const t = store.runs.get(config.teacher.runId)
  if (!t)
    throw new AppError('not_found', `teacher run ${config.teacher.runId} not found`, {
      field: 'teacher.runId',
    })
  if (t.datasetId !== ds.id) {
    throw new AppError(
      'invalid_input',
      `teacher run ${t.id} was trained on dataset ${t.datasetName}, not ${ds.name}`,
      {
        field: 'teacher.runId',
      },
    )
  }
  if (['failed', 'cancelled'].includes(t.status)) {
    throw new AppError('invalid_input', `teacher run ${t.id} is ${t.status}`, { field: 'teacher.runId' })
  }
  if (config.teacher.epoch !== null && config.teacher.epoch > t.epochsPlanned) {
    throw new AppError(
      'invalid_input',
      `teacher.epoch ${config.teacher.epoch} is past the teacher run's ${t.epochsPlanned} epochs`,
      { field: 'teacher.epoch' },
    )
  }
}

/** Queues stored runs: new, resumed, or left behind by a host that is gone. */
function enqueueRuns(q: QueueState, runIds: number[]): void {
  const { store, paths } = q.deps
  if (q.deps.readOnly) throw new AppError('storage', q.deps.readOnly)
  refuseWhileStopping(q)
  for (const id of runIds) {
    const r = store.runs.get(id)
    if (!r) throw new AppError('not_found', `run ${id} not found`)
    if (r.status === 'completed') continue
    const owner = ownerOf(q, id)
    if (owner.kind !== 'none') continue // already ours, or another live host drives it
    storageGuard(paths, 'cannot queue the run in', () => store.runs.adopt(id))
    q.queue.push(id)
    settle(q, id)
  }
  pump(q)
}

function refuseWhileStopping(q: QueueState): void {
  if (q.stopping)
    throw new AppError('conflict', `this tfkd process is stopping (${q.stopping}); start runs elsewhere`)
}

/**
 * A host told to stop (a signal): the queued runs are interrupted (they never started; resume
 * trains them) and the running one is cancelled at its next batch, its last epoch checkpoint kept,
 * or killed after `graceMs`. Resolves once its trainer is gone.
 */
/** The queued runs never started: each is recorded interrupted, `why` saying what stopped them. */
function interruptQueued(q: QueueState, why: string): void {
  for (const id of q.queue.splice(0)) {
    finalize(q, id, {
      status: 'interrupted',
      reason: `${why} before this run started; resume it to train it`,
    })
  }
}

/**
 * Stops the running trainer and empties the queue. Both the running run and the queued ones are
 * marked interrupted (nobody cancelled them; a host stop cut them off), so that the plan reads
 * "stopped" with the runs to resume, as after a crash (settleOrphans).
 */
async function shutdownHost(q: QueueState): Promise<void> {
  interruptQueued(q, 'the host shut down')
  await Promise.all(
    [...q.active.values()].map((a) => a.session.interrupt('host shut down while the run was training')),
  )
  retryUnrecorded(q)
  if (q.retryTimer) clearInterval(q.retryTimer)
  q.retryTimer = null
}

async function stopHost(q: QueueState, opts: { why: string; graceMs: number }): Promise<void> {
  q.stopping ??= opts.why
  interruptQueued(q, opts.why)
  const active = [...q.active.values()].map((a) => a.session)
  for (const a of active)
    a.cancel(opts.graceMs, `${opts.why}; resume it to continue from its last checkpoint`)
  await Promise.all(active.map((a) => a.ended))
}

/** Stops at once (a second signal): the running run is recorded `cancelled` and its trainer killed. */
async function stopHostNow(q: QueueState, why: string): Promise<void> {
  q.stopping ??= why
  interruptQueued(q, why)
  const active = [...q.active.values()].map((a) => a.session)
  if (active.length === 0) return
  for (const a of active) a.kill(`stopped at once: ${why}; resume it to continue from its last checkpoint`)
  await Promise.race([
    Promise.all(active.map((a) => a.ended)),
    new Promise((resolve) => setTimeout(resolve, 1000).unref()),
  ])
}

/** Cancels a run this host queued or drives, or settles one whose host is gone. */
function cancelRun(q: QueueState, runId: number): boolean {
  const i = q.queue.indexOf(runId)
  if (i >= 0) {
    q.queue.splice(i, 1)
    finalize(q, runId, { status: 'cancelled', reason: null })
    pump(q) // students waiting on this run now fail, and the queue moves on
    return true
  }
  const active = q.active.get(runId)?.session
  if (active) {
    if (active.isTerminal()) return false
    active.cancel(q.deps.cancelGraceMs ?? 15_000)
    return true
  }
  const run = q.deps.store.runs.get(runId)
  if (!run || !isActiveRunStatus(run.status)) return false
  const owner = ownerOf(q, runId)
  if (owner.kind === 'other-host') {
    throw new AppError(
      'conflict',
      `run ${runId} is ${run.status} in another tfkd process (pid ${owner.pid}); cancel it there, or stop that process`,
    )
  }
  finalize(q, runId, { status: 'cancelled', reason: `its host process was gone when it was cancelled` })
  return true
}

/** The model takes the dataset's input shape: refused before the run is stored, naming both. */
function checkModelInput(model: ModelId, ds: DatasetRecord): void {
  const problem = modelInputProblem(model, ds)
  if (problem) throw new AppError('invalid_input', problem, { field: 'model' })
}
export function createRunService(deps: RunServiceDeps) {
  const q: QueueState = {
    deps: { log: (m) => process.stderr.write(`tfkd: ${m}\n`), ...deps },
    queue: [],
    waiters: new Map(),
    active: new Map(),
    parallel: null,
    lastBackend: null,
    nativeDisabled: false,
    gpuProbing: false,
    stopping: null,
    unrecorded: new Map(),
    retryTimer: null,
  }
  const { store } = deps

  const service = {
    /** Validates and queues a run; resolves once it is stored (not when it ends). */
    start(
      config: RunConfig,
      opts: { experimentId?: number; rerunOf?: number; role?: RunSummary['role'] } = {},
    ): RunSummary {
      if (!isModelId(config.model)) {
        throw new AppError('invalid_input', `unknown model "${config.model}"`, { field: 'model' })
      }
      if (deps.readOnly) throw new AppError('storage', deps.readOnly)
      refuseWhileStopping(q)
      const ds = store.datasets.require(config.dataset)
      checkModelInput(config.model, ds)
      if (config.importedTeacher) config = withImportedTeacher(store, config, ds)
      else if (needsTeacher(config.variant)) checkTeacher(store, config, ds)
      const run = storageGuard(deps.paths, 'cannot record the run in', () =>
        store.runs.insert({
          experimentId: opts.experimentId ?? null,
          datasetId: ds.id,
          config,
          teacherRunId: config.teacher?.runId ?? null,
          rerunOf: opts.rerunOf ?? null,
          ...(opts.role ? { role: opts.role } : {}),
        }),
      )
      q.queue.push(run.id)
      settle(q, run.id)
      pump(q)
      return run
    },
    /**
     * A new run with the stored config of an ended run (completed, failed, cancelled or
     * interrupted), recorded as its rerun; outside any experiment, so the plan's counts and
     * comparisons stay as they were. The teacher (a run or an imported ONNX file) is checked again.
     */
    rerun(runId: number): RunSummary {
      const d = store.runs.detail(runId)
      if (!d) throw new AppError('not_found', `run ${runId} not found`)
      if (isActiveRunStatus(d.status)) {
        throw new AppError(
          'conflict',
          `run ${runId} is ${d.status}; rerun it once it has ended, or cancel it first`,
        )
      }
      return service.start(resolveRunConfig(d.config), { rerunOf: runId, role: d.role })
    },
    /**
     * Queues runs already stored (a plan's runs, or a resume of an ended one, or one left queued or
     * running by a host that is gone). A run that was cut off resumes from its last epoch checkpoint.
     * Completed runs and runs another live host drives are left as they are.
     */
    enqueue: (runIds: number[]): void => enqueueRuns(q, runIds),
    /** Resolves when the run reaches a final state. */
    waitFor(runId: number): Promise<RunSummary> {
      const run = currentView(q, runId)
      if (!run) return Promise.reject(new AppError('not_found', `run ${runId} not found`))
      if (!isActiveRunStatus(run.status)) return Promise.resolve(run)
      return new Promise((resolve) => {
        q.waiters.set(runId, [...(q.waiters.get(runId) ?? []), resolve])
      })
    },
    /**
     * Cancels a queued or running run: this host's (at the next batch), or one whose host is gone
     * (at once). Refuses one another live host drives. False when the run is already final.
     */
    cancel: (runId: number): boolean => cancelRun(q, runId),
    /** Who drives a run (for delete and resume checks). */
    ownerOf: (runId: number): RunOwner => ownerOf(q, runId),
    /** A signal: queued runs interrupted, the running one cancelled at its next batch (stopHost). */
    stop: (opts: { why: string; graceMs: number }): Promise<void> => stopHost(q, opts),
    stopNow: (why: string): Promise<void> => stopHostNow(q, why),
    ...parallelControls(q),
    lastBackend: () => q.lastBackend,
    /** Spawns a trainer only to climb the backend ladder and report it. */
    probe: (): Promise<BackendReport> => probeBackend(q),
    /** A host stop: running and queued runs interrupted (shutdownHost). */
    shutdown: (): Promise<void> => shutdownHost(q),
  }
  return service
}

/** How many runs train at once: this process's override, and the stored setting. */
function parallelControls(q: QueueState) {
  return {
    /**
     * How many runs train at once for this process (`tfkd run --parallel`), over the stored
     * setting; null goes back to the setting. Queued runs start at once if there is room.
     */
    setParallel(value: ParallelSetting | null): void {
      q.parallel = value
      pump(q)
    },
    /** How many runs train at once here: the --parallel override, else the stored setting (1). */
    parallel: (): ParallelSetting => parallelSetting(q),
    /** The stored setting every host reads when no --parallel was given. */
    storeParallel(value: ParallelSetting): void {
      storageGuard(q.deps.paths, 'cannot store the setting in', () =>
        q.deps.store.settings.set(PARALLEL_SETTING_KEY, parseParallel(value, PARALLEL_SETTING_KEY)),
      )
      pump(q)
    },
  }
}

function probeBackend(q: QueueState): Promise<BackendReport> {
  return new Promise((resolve, reject) => {
    const t = q.deps.spawnTrainer({
      env: trainerEnv(q.deps.env ?? process.env, { ...gpuEnv(q), disableNative: q.nativeDisabled }),
    })
    let done = false
    t.onMessage((m) => {
      if (m.type === 'backend') {
        done = true
        q.lastBackend = m.report
        q.deps.emit('diagnostics:backend', m.report)
        resolve(m.report)
        t.send({ type: 'shutdown' })
      }
    })
    t.onExit(({ code, signal }) => {
      if (!done) reject(new AppError('trainer_crashed', `backend probe exited (${signal ?? code})`))
    })
    t.send({ type: 'probe' })
  })
}

export type RunService = ReturnType<typeof createRunService>
