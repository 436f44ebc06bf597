/**
 * Queues runs and drives one trainer child per run. The host is the only database writer: every
 * event the trainer reports is committed here as it arrives, so a crash of the trainer loses at most
 * the epoch in flight.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '../../shared/errors'
import type { Pushes } from '../../shared/contract'
import type { TrainerOnnxTeacher, TrainerStart, TrainerToHost } from '../../shared/trainer-protocol'
import type { BackendReport, RunConfig, RunSummary } from '../../shared/types'
import { needsTeacher } from '../../shared/variants'
import { isModelId } from '../models/catalog'
import type { DataPaths } from '../paths'
import type { DatasetRecord, Store } from '../store/store'
import { trainerEnv } from '../train/trainer-env'
import { checkImportedTeacher, onnxTeacherStart } from './teacher-service'
import type { SpawnTrainer, TrainerHandle } from './trainer-handle'

export type Emit = <K extends keyof Pushes>(channel: K, payload: Pushes[K]) => void

export interface RunServiceDeps {
  store: Store
  paths: DataPaths
  spawnTrainer: SpawnTrainer
  emit: Emit
  env?: NodeJS.ProcessEnv
  /** How long a cancelled trainer may take to stop at a batch boundary before it is killed. */
  cancelGraceMs?: number
}

interface Active {
  runId: number
  trainer: TrainerHandle
  terminal: boolean
  sawBackend: boolean
  cancelTimer?: NodeJS.Timeout
}

export function createRunService(deps: RunServiceDeps) {
  const { store, paths, spawnTrainer, emit } = deps
  const queue: number[] = []
  const waiters = new Map<number, ((run: RunSummary) => void)[]>()
  let active: Active | null = null
  let lastBackend: BackendReport | null = null
  let nativeDisabled = false

  function resolveDataset(ref: string): DatasetRecord {
    const byId = /^\d+$/.test(ref) ? store.datasets.get(Number(ref)) : undefined
    const ds = byId ?? store.datasets.byName(ref)
    if (!ds) {
      const known = store.datasets.list().map((d) => `${d.id} (${d.name})`)
      throw new AppError('not_found', `dataset "${ref}" not found; known datasets: ${known.join(', ')}`)
    }
    return ds
  }

  function settle(runId: number): void {
    const run = store.runs.get(runId)
    if (!run) return
    emit('runs:status', {
      runId,
      status: run.status,
      failureReason: run.failureReason,
      testAccuracy: run.testAccuracy,
    })
    if (['completed', 'failed', 'cancelled', 'interrupted'].includes(run.status)) {
      for (const w of waiters.get(runId) ?? []) w(run)
      waiters.delete(runId)
    }
  }

  function onMessage(a: Active, msg: TrainerToHost): void {
    switch (msg.type) {
      case 'backend':
        a.sawBackend = true
        lastBackend = msg.report
        emit('diagnostics:backend', msg.report)
        break
      case 'started':
        store.runs.markRunning(a.runId, msg.backend, msg.device)
        settle(a.runId)
        break
      case 'progress':
        emit('runs:progress', msg.progress)
        break
      case 'epoch':
        store.runs.recordEpoch(a.runId, msg.metrics)
        emit('runs:epoch', { runId: a.runId, metrics: msg.metrics })
        break
      case 'checkpoint':
        store.checkpoints.insert({
          runId: a.runId,
          epoch: msg.epoch,
          kind: 'epoch',
          path: msg.path,
          bytes: msg.bytes,
        })
        break
      case 'completed':
        a.terminal = true
        store.runs.complete(a.runId, msg.result)
        settle(a.runId)
        a.trainer.send({ type: 'shutdown' })
        break
      case 'cancelled':
        a.terminal = true
        store.runs.finish(a.runId, 'cancelled', null)
        settle(a.runId)
        a.trainer.send({ type: 'shutdown' })
        break
      case 'failed':
        a.terminal = true
        store.runs.finish(a.runId, 'failed', msg.reason)
        settle(a.runId)
        a.trainer.send({ type: 'shutdown' })
        break
      case 'ready':
      case 'log':
        break
    }
  }

  function launch(runId: number, teacher?: TrainerStart['teacher'], onnxTeacher?: TrainerOnnxTeacher): void {
    const run = store.runs.detail(runId)
    if (!run) return
    const ds = store.datasets.get(run.datasetId)!
    const checkpointDir = join(paths.checkpoints, String(runId))
    mkdirSync(checkpointDir, { recursive: true })
    const trainer = spawnTrainer({
      env: trainerEnv(deps.env ?? process.env, { disableNative: nativeDisabled }),
    })
    const a: Active = { runId, trainer, terminal: false, sawBackend: false }
    active = a
    trainer.onMessage((msg) => {
      try {
        onMessage(a, msg)
      } catch (err) {
        // A write that fails must not leave the run looking alive.
        a.terminal = true
        store.runs.finish(runId, 'failed', `host could not record trainer event: ${String(err)}`)
        settle(runId)
        trainer.kill('SIGKILL')
      }
    })
    trainer.onExit(({ code, signal }) => {
      if (a.cancelTimer) clearTimeout(a.cancelTimer)
      if (!a.terminal) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
        if (!a.sawBackend && !nativeDisabled && signal && signal !== 'SIGKILL' && signal !== 'SIGTERM') {
          // A native TF.js backend can abort the whole process while loading (no AVX, CUDA
          // abort). Retry once with only the JS/wasm rungs.
          nativeDisabled = true
          active = null
          launch(runId, teacher, onnxTeacher)
          return
        }
        const crashed = signal && ['SIGSEGV', 'SIGILL', 'SIGBUS', 'SIGABRT', 'SIGFPE'].includes(signal)
        store.runs.finish(
          runId,
          'failed',
          `trainer process ${how} before the run finished${
            crashed
              ? '; native code crashed: resume the run with TFKD_DISABLE_NATIVE_KERNELS=1 (or another backend) to avoid it'
              : ''
          }`,
        )
        settle(runId)
      }
      active = null
      pump()
    })
    // A run cut off after some epochs continues from its last checkpoint.
    const last = store.checkpoints.latest(runId)
    const resumeFrom =
      last && last.epoch < run.config.epochs && existsSync(last.path)
        ? { path: last.path, epoch: last.epoch }
        : undefined
    const start: TrainerStart = {
      type: 'start',
      runId,
      config: run.config,
      checkpointDir,
      teacher,
      ...(onnxTeacher ? { onnxTeacher } : {}),
      ...(resumeFrom ? { resumeFrom } : {}),
      dataset:
        ds.format === 'bundled'
          ? { kind: 'bundled', name: 'mnist-10k' }
          : { kind: 'cache', path: ds.cachePath ?? '' },
    }
    trainer.send(start)
  }

  /**
   * Where a queued run's teacher stands: ready (with its checkpoint), still to come, or never (the
   * student then fails with the reason).
   */
  function teacherState(
    runId: number,
  ):
    | { ready: true; start?: TrainerStart['teacher']; onnx?: TrainerOnnxTeacher }
    | { ready: false; wait: true }
    | { ready: false; reason: string } {
    const config = store.runs.detail(runId)?.config
    if (config?.importedTeacher) {
      const o = onnxTeacherStart(store, config.importedTeacher)
      return o.ok ? { ready: true, onnx: o.start } : { ready: false, reason: o.reason }
    }
    if (!config?.teacher) return { ready: true }
    const t = store.runs.get(config.teacher.runId)
    if (!t) return { ready: false, reason: `teacher run ${config.teacher.runId} no longer exists` }
    if (t.status === 'queued' || t.status === 'running') return { ready: false, wait: true }
    if (t.status !== 'completed' && config.teacher.epoch === null) {
      return {
        ready: false,
        reason: `teacher run ${t.id} ended ${t.status}${t.failureReason ? `: ${t.failureReason}` : ''}`,
      }
    }
    let epoch = config.teacher.epoch
    if (epoch === null && config.teacher.targetAccuracy) {
      // The first snapshot that reached the target on validation, else the teacher's best.
      const metrics = store.runs.metrics(t.id)
      const target = config.teacher.targetAccuracy
      const hit = metrics.find((m) => m.valAccuracy >= target)
      const best = metrics.reduce<(typeof metrics)[number] | undefined>(
        (b, m) => (!b || m.valAccuracy > b.valAccuracy ? m : b),
        undefined,
      )
      epoch = (hit ?? best)?.epoch ?? null
      if (epoch === null) return { ready: false, reason: `teacher run ${t.id} has no recorded epochs` }
    }
    const ckpt = epoch === null ? store.checkpoints.latest(t.id) : store.checkpoints.atEpoch(t.id, epoch)
    if (!ckpt) {
      return {
        ready: false,
        reason: `teacher run ${t.id} has no checkpoint${epoch === null ? '' : ` at epoch ${epoch}`}`,
      }
    }
    store.runs.setTeacherCheckpoint(runId, ckpt.id)
    return {
      ready: true,
      start: { checkpointPath: ckpt.path, model: t.model, runId: t.id, epoch: ckpt.epoch },
    }
  }

  function pump(): void {
    if (active) return
    for (let i = 0; i < queue.length; i++) {
      const runId = queue[i]!
      const state = teacherState(runId)
      if (!state.ready && 'wait' in state) continue
      queue.splice(i, 1)
      if (!state.ready) {
        store.runs.finish(runId, 'failed', state.reason)
        settle(runId)
        i = -1 // the queue changed; rescan (a failed teacher may fail more students)
        continue
      }
      launch(runId, state.start, state.onnx)
      return
    }
  }

  return {
    /** Validates and queues a run; resolves once it is stored (not when it ends). */
    start(config: RunConfig, opts: { experimentId?: number } = {}): RunSummary {
      if (!isModelId(config.model)) {
        throw new AppError('invalid_input', `unknown model "${config.model}"`, { field: 'model' })
      }
      const ds = resolveDataset(config.dataset)
      if (config.importedTeacher) {
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
        config = { ...config, importedTeacher: checkImportedTeacher(store, config.importedTeacher, ds) }
      } else if (needsTeacher(config.variant)) {
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
            { field: 'teacher.runId' },
          )
        }
        if (['failed', 'cancelled'].includes(t.status)) {
          throw new AppError('invalid_input', `teacher run ${t.id} is ${t.status}`, {
            field: 'teacher.runId',
          })
        }
        if (config.teacher.epoch !== null && config.teacher.epoch > t.epochsPlanned) {
          throw new AppError(
            'invalid_input',
            `teacher.epoch ${config.teacher.epoch} is past the teacher run's ${t.epochsPlanned} epochs`,
            { field: 'teacher.epoch' },
          )
        }
      }
      const run = store.runs.insert({
        experimentId: opts.experimentId ?? null,
        datasetId: ds.id,
        config,
        teacherRunId: config.teacher?.runId ?? null,
      })
      queue.push(run.id)
      settle(run.id)
      pump()
      return run
    },
    /**
     * Queues runs already stored (a plan's runs, or a resume/rerun of an ended one). A run that was
     * cut off resumes from its last epoch checkpoint.
     */
    enqueue(runIds: number[]): void {
      for (const id of runIds) {
        const r = store.runs.get(id)
        if (!r) throw new AppError('not_found', `run ${id} not found`)
        if (r.status === 'running' || queue.includes(id) || active?.runId === id) continue
        if (r.status !== 'queued') store.runs.requeue(id)
        queue.push(id)
        settle(id)
      }
      pump()
    },
    /** Resolves when the run reaches a final state. */
    waitFor(runId: number): Promise<RunSummary> {
      const run = store.runs.get(runId)
      if (!run) return Promise.reject(new AppError('not_found', `run ${runId} not found`))
      if (!['queued', 'running'].includes(run.status)) return Promise.resolve(run)
      return new Promise((resolve) => {
        waiters.set(runId, [...(waiters.get(runId) ?? []), resolve])
      })
    },
    cancel(runId: number): boolean {
      const i = queue.indexOf(runId)
      if (i >= 0) {
        queue.splice(i, 1)
        store.runs.finish(runId, 'cancelled', null)
        settle(runId)
        pump() // students waiting on this run now fail, and the queue moves on
        return true
      }
      if (active?.runId === runId && !active.terminal) {
        const a = active
        a.trainer.send({ type: 'cancel' })
        a.cancelTimer = setTimeout(() => {
          if (!a.terminal) {
            a.terminal = true
            store.runs.finish(runId, 'cancelled', 'trainer did not stop in time and was killed')
            settle(runId)
            a.trainer.kill('SIGKILL')
          }
        }, deps.cancelGraceMs ?? 15_000)
        return true
      }
      return false
    },
    lastBackend: () => lastBackend,
    /** Spawns a trainer only to climb the backend ladder and report it. */
    probe(): Promise<BackendReport> {
      return new Promise((resolve, reject) => {
        const t = spawnTrainer({
          env: trainerEnv(deps.env ?? process.env, { disableNative: nativeDisabled }),
        })
        let done = false
        t.onMessage((m) => {
          if (m.type === 'backend') {
            done = true
            lastBackend = m.report
            emit('diagnostics:backend', m.report)
            resolve(m.report)
            t.send({ type: 'shutdown' })
          }
        })
        t.onExit(({ code, signal }) => {
          if (!done) reject(new AppError('trainer_crashed', `backend probe exited (${signal ?? code})`))
        })
        t.send({ type: 'probe' })
      })
    },
    /** Stops the running trainer (the run is marked interrupted) and empties the queue. */
    async shutdown(): Promise<void> {
      for (const id of queue.splice(0)) store.runs.finish(id, 'cancelled', 'host shut down')
      const a = active
      if (a && !a.terminal) {
        a.terminal = true
        store.runs.finish(a.runId, 'interrupted', 'host shut down while the run was training')
        await new Promise<void>((resolve) => {
          a.trainer.onExit(() => resolve())
          a.trainer.kill('SIGTERM')
        })
      }
    },
  }
}

export type RunService = ReturnType<typeof createRunService>
