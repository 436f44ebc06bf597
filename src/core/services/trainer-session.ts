/**
 * One trainer child driving one run: it spawns the process, records every event the trainer reports
 * as it arrives (the host is the only database writer), and turns every way the child can end
 * (completed, failed, cancelled, killed, crashed) into exactly one final state. The queue
 * (run-service.ts) decides what runs next.
 */
import { mkdirSync, readdirSync, rmSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Pushes } from '../../shared/contract'
import type { TestResult, TrainerStart, TrainerToHost } from '../../shared/trainer-protocol'
import type { BackendReport, RunConfig } from '../../shared/types'
import { onnxTeacherStart } from './teacher-service'
import type { DataPaths } from '../paths'
import { explainStorageError, StorageError, storageTrouble } from '../storage-errors'
import type { Store } from '../store/store'
import { trainerEnv, type TrainerEnvOptions } from '../train/trainer-env'
import type { SpawnTrainer, TrainerHandle } from '../train/trainer-handle'

export type Emit = <K extends keyof Pushes>(channel: K, payload: Pushes[K]) => void

/** How a run ended, as the session reports it to be recorded. */
export type FinalOutcome =
  | { status: 'completed'; result: TestResult }
  | { status: 'failed' | 'cancelled' | 'interrupted'; reason: string | null }

export interface SessionContext {
  store: Store
  paths: DataPaths
  spawnTrainer: SpawnTrainer
  emit: Emit
  env: NodeJS.ProcessEnv
  /** Records a final state and announces it; never throws (see run-service's `finalize`). */
  finalize(runId: number, outcome: FinalOutcome): void
  /** The run's (non-final) status changed: tell the listeners. */
  announce(runId: number): void
  onBackend(report: BackendReport): void
  /** What the doctor found for the trainer's environment (CUDA library folders, GPUs), if anything. */
  gpuEnv?: () => Pick<TrainerEnvOptions, 'libraryDirs' | 'gpus'>
}

export interface TrainerSession {
  readonly runId: number
  /** Whether the run's final state is already decided (recorded or being recorded). */
  isTerminal(): boolean
  /**
   * Asks the trainer to stop at a batch boundary (the run ends `cancelled`, with `reason` when
   * given, its last epoch checkpoint kept); kills it after `graceMs`.
   */
  cancel(graceMs: number, reason?: string): void
  /** Stops at once: records the run `cancelled` with `reason` and kills the trainer. */
  kill(reason: string): void
  /** Resolves when the trainer process is gone. */
  readonly ended: Promise<void>
  /** Host shutdown: records the run interrupted and stops the trainer. */
  interrupt(reason: string): Promise<void>
}

const CRASH_SIGNALS = ['SIGSEGV', 'SIGILL', 'SIGBUS', 'SIGABRT', 'SIGFPE']

/**
 * The trainer's start message: dataset, teacher and, for a run cut off after some epochs, the
 * checkpoint to continue from. A run whose last epoch is checkpointed resumes at its final
 * evaluation (the trainer's epoch loop then runs zero times). Creates the checkpoint folder, so it
 * throws a StorageError when that folder cannot be written.
 */
export function buildTrainerStart(
  store: Store,
  paths: DataPaths,
  runId: number,
  teacher?: TrainerStart['teacher'],
): TrainerStart | undefined {
  const run = store.runs.detail(runId)
  if (!run) return undefined
  const ds = store.datasets.get(run.datasetId)!
  const checkpointDir = join(paths.checkpoints, String(runId))
  try {
    mkdirSync(checkpointDir, { recursive: true })
    removeStaleTempFiles(checkpointDir)
  } catch (err) {
    throw new StorageError(err, 'cannot create the checkpoint folder', checkpointDir)
  }
  const last = store.checkpoints.latest(runId)
  const resumeFrom =
    last && last.epoch <= run.config.epochs && existsSync(last.path)
      ? { path: last.path, epoch: last.epoch }
      : undefined
  return {
    type: 'start',
    runId,
    config: run.config,
    checkpointDir,
    teacher,
    ...onnxTeacherOf(store, run.config),
    ...(resumeFrom ? { resumeFrom } : {}),
    dataset:
      ds.format === 'bundled'
        ? { kind: 'bundled', name: 'mnist-10k' }
        : { kind: 'cache', path: ds.cachePath ?? '' },
  }
}

/** The imported ONNX teacher a run's trainer opens (teacherState checked it is there). */
function onnxTeacherOf(store: Store, config: RunConfig): Pick<TrainerStart, 'onnxTeacher'> {
  if (!config.importedTeacher) return {}
  const o = onnxTeacherStart(store, config.importedTeacher)
  if (!o.ok) throw new Error(o.reason)
  return { onnxTeacher: o.start }
}

/** Temp files of checkpoint writes a killed trainer never finished (`*.tmp-<pid>`). */
function removeStaleTempFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (/\.tmp-\d+$/.test(name)) rmSync(join(dir, name), { force: true })
  }
}

function removeStaleTempFilesQuietly(dir: string): void {
  try {
    removeStaleTempFiles(dir)
  } catch {
    // The folder is gone or unreadable: the next start of this run sweeps it again.
  }
}

/** Records one trainer event; returns the final outcome when the event ends the run. */
function recordEvent(ctx: SessionContext, runId: number, msg: TrainerToHost): FinalOutcome | null {
  const { store, emit } = ctx
  switch (msg.type) {
    case 'backend':
      ctx.onBackend(msg.report)
      emit('diagnostics:backend', msg.report)
      return null
    case 'started':
      store.runs.markRunning(runId, msg.backend, msg.device)
      if (msg.deviceInfo) store.runDevices.set(runId, msg.deviceInfo)
      ctx.announce(runId)
      return null
    case 'log':
      // Warnings such as a GPU newer than libtensorflow's kernels, said before the rung is tried.
      if (msg.level !== 'info') emit('runs:log', { runId, level: msg.level, message: msg.message })
      return null
    case 'progress':
      emit('runs:progress', msg.progress)
      return null
    case 'epoch':
      store.runs.recordEpoch(runId, msg.metrics)
      emit('runs:epoch', { runId, metrics: msg.metrics })
      return null
    case 'checkpoint':
      store.checkpoints.insert({ runId, epoch: msg.epoch, kind: 'epoch', path: msg.path, bytes: msg.bytes })
      return null
    case 'completed':
      return { status: 'completed', result: msg.result }
    case 'cancelled':
      return { status: 'cancelled', reason: null }
    case 'failed':
      return { status: 'failed', reason: msg.reason }
    default:
      return null
  }
}

/** Records an event; a write that fails (disk full, read-only) ends the run `failed` with why. */
function recordOrFail(ctx: SessionContext, runId: number, msg: TrainerToHost): FinalOutcome | null {
  try {
    return recordEvent(ctx, runId, msg)
  } catch (err) {
    const why = storageTrouble(err)
      ? explainStorageError(err, 'cannot write to the run database', ctx.paths.database)
      : err instanceof Error
        ? err.message
        : String(err)
    return { status: 'failed', reason: `the host could not record the trainer's ${msg.type} event: ${why}` }
  }
}

/** Why a trainer that exited on its own, without a final message, ended the run. */
function exitReason(code: number | null, signal: string | null): string {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
  const crashed = signal !== null && CRASH_SIGNALS.includes(signal)
  return `trainer process ${how} before the run finished${
    crashed
      ? '; native code crashed: resume the run with TFKD_DISABLE_NATIVE_KERNELS=1 (or another backend) to avoid it'
      : ''
  }`
}

export interface SessionOptions {
  disableNative: boolean
  /** CPU threads of this trainer (TFKD_THREADS) when several train at once; unset: all of them. */
  threads?: number
  /** The child is gone. `retryWithoutNative`: it died loading a backend; nothing was recorded. */
  onEnd(info: { retryWithoutNative: boolean }): void
}

function sessionEnv(ctx: SessionContext, opts: SessionOptions) {
  const threads = opts.threads ? { threads: opts.threads } : {}
  return trainerEnv(ctx.env, { ...ctx.gpuEnv?.(), disableNative: opts.disableNative, ...threads })
}

export function startTrainerSession(
  ctx: SessionContext,
  start: TrainerStart,
  opts: SessionOptions,
): TrainerSession {
  const { runId } = start
  const trainer: TrainerHandle = ctx.spawnTrainer({
    env: sessionEnv(ctx, opts),
  })
  let terminal = false
  let sawBackend = false
  let cancelTimer: NodeJS.Timeout | undefined
  let cancelReason: string | null = null
  let markEnded: () => void = () => undefined
  const ended = new Promise<void>((resolve) => (markEnded = resolve))

  const end = (outcome: FinalOutcome): void => {
    terminal = true
    ctx.finalize(runId, outcome)
  }

  trainer.onMessage((msg) => {
    if (terminal) return
    if (msg.type === 'backend') sawBackend = true
    let outcome = recordOrFail(ctx, runId, msg)
    if (!outcome) return
    if (outcome.status === 'cancelled' && cancelReason)
      outcome = { status: 'cancelled', reason: cancelReason }
    end(outcome)
    // A failed write leaves the trainer with nothing to report to: stop it hard.
    if (outcome.status === 'failed' && msg.type !== 'failed') trainer.kill('SIGKILL')
    else trainer.send({ type: 'shutdown' })
  })

  trainer.onExit(({ code, signal }) => {
    if (cancelTimer) clearTimeout(cancelTimer)
    markEnded()
    // A trainer stopped hard (a failed write on the host's side, a cancel past its grace, a crash)
    // may die inside a checkpoint write: its temp file must not outlive it.
    if (start.checkpointDir) removeStaleTempFilesQuietly(start.checkpointDir)
    if (terminal) {
      opts.onEnd({ retryWithoutNative: false })
      return
    }
    // A native TF.js backend can abort the whole process while loading (no AVX, CUDA abort):
    // the queue retries once with only the JS/wasm rungs.
    if (!sawBackend && !opts.disableNative && signal && signal !== 'SIGKILL' && signal !== 'SIGTERM') {
      opts.onEnd({ retryWithoutNative: true })
      return
    }
    end({ status: 'failed', reason: exitReason(code, signal) })
    opts.onEnd({ retryWithoutNative: false })
  })

  trainer.send(start)

  return {
    runId,
    isTerminal: () => terminal,
    ended,
    cancel(graceMs, reason) {
      if (terminal) return
      cancelReason ??= reason ?? null
      trainer.send({ type: 'cancel' })
      cancelTimer ??= setTimeout(() => {
        if (terminal) return
        end({
          status: 'cancelled',
          reason: `${cancelReason ? `${cancelReason}; the ` : ''}trainer did not stop in time and was killed`,
        })
        trainer.kill('SIGKILL')
      }, graceMs)
    },
    kill(reason) {
      if (!terminal) end({ status: 'cancelled', reason })
      trainer.kill('SIGKILL')
    },
    async interrupt(reason) {
      if (terminal) return
      end({ status: 'interrupted', reason })
      await new Promise<void>((resolve) => {
        trainer.onExit(() => resolve())
        trainer.kill('SIGTERM')
      })
    },
  }
}
