/**
 * The composition root: opens the store, builds the services, and wires the handlers of every
 * invoke channel (src/core/handlers, by domain) plus typed push events. Electron IPC and the web
 * server both call `dispatch`; the CLI calls the services directly.
 */
import { EventEmitter } from 'node:events'
import { AppError, type Envelope } from '../../shared/errors'
import type { Handlers, Pushes, PushChannel } from '../../shared/contract'
import type { AppInfo } from '../../shared/types'
import { createDispatch, createHandlers } from '../handlers/index'
import { relative } from 'node:path'
import { dataPaths, type DataPaths } from '../paths'
import type { Store } from '../store/store'
import { openDataStore } from '../services/open-store'
import { errorPath, explainStorageError, storageTrouble } from '../storage-errors'
import { createPlanService, type PlanService } from '../services/plan-service'
import { createRunService, type RunService } from '../services/run-service'
import { createExportService, type ExportService } from '../services/export-service'
import { createTeacherService, type TeacherService } from '../services/teacher-service'
import type { SpawnTrainer } from '../train/trainer-handle'
import { createClusterService, type ClusterService } from '../cluster/cluster-service'
import { createSlurmClient, type Exec } from '../cluster/slurm-client'
import type { TfkdInstall } from '../cluster/slurm-scripts'
import { createClusterRepo } from '../store/repos/cluster'
import type { DoctorOptions } from '../doctor/doctor'
import { createDoctorService, type DoctorService } from '../services/doctor-service'

/**
 * Disk full, read-only, permission denied, a damaged database: say which file and what to do, not
 * just SQLite's or Node's words. An error naming a file outside the data folder (an export's
 * output folder) names that file; anything else names the database (or why the folder is read-only).
 */
function explainFailure(err: unknown, paths: DataPaths, readOnly: string | null): AppError | null {
  const trouble = storageTrouble(err)
  if (!trouble || err instanceof AppError) return null
  const path = errorPath(err)
  if (path && relative(paths.home, path).startsWith('..'))
    return new AppError('storage', explainStorageError(err, 'cannot write', path))
  if (trouble === 'corrupt')
    return new AppError('storage', explainStorageError(err, 'cannot read the run database', paths.database))
  return new AppError('storage', readOnly ?? explainStorageError(err, 'cannot write', path ?? paths.database))
}

export interface AppCoreOptions {
  dataHome: string
  host: AppInfo['host']
  spawnTrainer: SpawnTrainer
  /** better_sqlite3.node built for Electron's ABI, when running inside Electron. */
  nativeBinding?: string
  version?: string
  env?: NodeJS.ProcessEnv
  cancelGraceMs?: number
  /** Channels only this host can serve (the desktop app's OS dialogs), replacing the defaults. */
  hostHandlers?: Partial<Handlers>
  /** Node and bin/tfkd.js of this install, for Slurm array tasks to run (CLI and web host). */
  tfkdInstall?: TfkdInstall
  /** Runs Slurm's commands (tests may wrap it); default: the real commands with timeouts. */
  slurmExec?: Exec
  /** Doctor test seams (fake /proc, system folders, timeouts). */
  doctorOptions?: Partial<DoctorOptions>
}

export interface AppCore {
  store: Store
  runs: RunService
  doctor: DoctorService
  plans: PlanService
  teachers: TeacherService
  modelExport: ExportService
  cluster: ClusterService
  handlers: Handlers
  dispatch(channel: string, input: unknown): Promise<Envelope<unknown>>
  on<K extends PushChannel>(channel: K, listener: (payload: Pushes[K]) => void): () => void
  close(): Promise<void>
}

export { ensureBundledDatasets } from '../services/open-store'

export function createAppCore(opts: AppCoreOptions): AppCore {
  const paths = dataPaths(opts.dataHome)
  // A read-only folder opens a read-only snapshot: the history stays readable (open-store.ts).
  const opened = openDataStore(paths, { nativeBinding: opts.nativeBinding })
  const store = opened.store

  const events = new EventEmitter()
  events.setMaxListeners(100)
  const emit = <K extends PushChannel>(channel: K, payload: Pushes[K]): void => {
    events.emit(channel, payload)
  }
  const doctor = createDoctorService({
    store,
    paths,
    spawnTrainer: opts.spawnTrainer,
    env: opts.env,
    doctorOptions: opts.doctorOptions,
  })
  const runs = createRunService({
    store,
    paths,
    spawnTrainer: opts.spawnTrainer,
    emit,
    env: opts.env,
    cancelGraceMs: opts.cancelGraceMs,
    readOnly: opened.readOnly,
    gpu: doctor,
  })
  const plans = createPlanService({ store, runs })
  const clusterRepo = createClusterRepo({ db: store.db, now: Date.now })
  const slurm = createSlurmClient({ exec: opts.slurmExec })
  const cluster = createClusterService({
    store,
    cluster: clusterRepo,
    paths,
    plans,
    slurm,
    install: opts.tfkdInstall ?? { node: 'node', tfkd: 'tfkd' },
  })
  const app = { version: opts.version ?? '0.0.0', dataHome: opts.dataHome, host: opts.host }
  const jobDeps = { store, paths, spawnTrainer: opts.spawnTrainer, env: opts.env }
  const teachers = createTeacherService(jobDeps)
  const modelExport = createExportService(jobDeps)
  const clusterCtx = {
    service: cluster,
    repo: clusterRepo,
    slurm,
    installMissing: opts.tfkdInstall
      ? null
      : 'this host has no tfkd install for the cluster nodes to run; use `tfkd cluster submit` or `tfkd serve` on the login node',
  }
  const handlers = createHandlers(
    { store, paths, runs, plans, doctor, teachers, modelExport, emit, app, cluster: clusterCtx },
    opts.hostHandlers,
  )

  return {
    store,
    runs,
    doctor,
    plans,
    teachers,
    modelExport,
    cluster,
    handlers,
    dispatch: createDispatch(handlers, (err) => explainFailure(err, paths, opened.readOnly)),
    on(channel, listener) {
      events.on(channel, listener as (p: unknown) => void)
      return () => events.off(channel, listener as (p: unknown) => void)
    },
    async close() {
      await runs.shutdown()
      opened.close()
    },
  }
}
