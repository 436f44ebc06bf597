/**
 * The app as every host sees it: handlers for each invoke channel, validated at the boundary and
 * answered as an Envelope, plus typed push events. Electron IPC and the web server both call
 * `dispatch`; the CLI calls the services directly.
 */
import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { AppError, type Envelope } from '../../shared/errors'
import {
  invokeChannels,
  type Handlers,
  type InvokeChannel,
  type Pushes,
  type PushChannel,
} from '../../shared/contract'
import { inputSchemas, resolveRunConfig } from '../../shared/schemas'
import type { AppInfo } from '../../shared/types'
import { BUNDLED_DATASETS } from '../data/bundled'
import { MODEL_CATALOG } from '../models/catalog'
import { dataPaths } from '../paths'
import { openDatabase } from '../store/db'
import { createStore, type Store } from '../store/store'
import { createPlanService, type PlanService } from './plan-service'
import { createRunService, type RunService } from './run-service'
import { PRESET_IDS, PRESETS } from '../../shared/plan'
import { resolveVariantParams, VARIANTS } from '../../shared/variants'
import { VARIANT_IDS } from '../../shared/types'
import type { SpawnTrainer } from './trainer-handle'

export interface AppCoreOptions {
  dataHome: string
  host: AppInfo['host']
  spawnTrainer: SpawnTrainer
  /** better_sqlite3.node built for Electron's ABI, when running inside Electron. */
  nativeBinding?: string
  version?: string
  env?: NodeJS.ProcessEnv
  cancelGraceMs?: number
}

export interface AppCore {
  store: Store
  runs: RunService
  plans: PlanService
  handlers: Handlers
  dispatch(channel: string, input: unknown): Promise<Envelope<unknown>>
  on<K extends PushChannel>(channel: K, listener: (payload: Pushes[K]) => void): () => void
  close(): Promise<void>
}

export function ensureBundledDatasets(store: Store): void {
  for (const d of BUNDLED_DATASETS) if (!store.datasets.byName(d.name)) store.datasets.insert(d)
}

export function createAppCore(opts: AppCoreOptions): AppCore {
  const paths = dataPaths(opts.dataHome)
  mkdirSync(paths.checkpoints, { recursive: true })
  mkdirSync(paths.datasets, { recursive: true })
  const store = createStore(openDatabase(paths.database, { nativeBinding: opts.nativeBinding }))
  store.runs.interruptOrphans()
  ensureBundledDatasets(store)

  const events = new EventEmitter()
  events.setMaxListeners(100)
  const emit = <K extends PushChannel>(channel: K, payload: Pushes[K]): void => {
    events.emit(channel, payload)
  }
  const runs = createRunService({
    store,
    paths,
    spawnTrainer: opts.spawnTrainer,
    emit,
    env: opts.env,
    cancelGraceMs: opts.cancelGraceMs,
  })

  const plans = createPlanService({ store, runs })

  const handlers: Handlers = {
    'app:info': () => ({
      version: opts.version ?? '0.0.0',
      dataHome: opts.dataHome,
      host: opts.host,
      platform: `${process.platform}-${process.arch}`,
      versions: Object.fromEntries(
        Object.entries(process.versions).filter((e): e is [string, string] => typeof e[1] === 'string'),
      ),
    }),
    'runs:list': (input) => store.runs.list(input),
    'runs:get': ({ runId }) => {
      const run = store.runs.detail(runId)
      if (!run) throw new AppError('not_found', `run ${runId} not found`)
      return run
    },
    'runs:start': (input) => ({ runId: runs.start(resolveRunConfig(input)).id }),
    'runs:cancel': ({ runId }) => {
      if (!store.runs.get(runId)) throw new AppError('not_found', `run ${runId} not found`)
      return { cancelled: runs.cancel(runId) }
    },
    'datasets:list': () => store.datasets.list(),
    'models:list': () => Object.entries(MODEL_CATALOG).map(([id, m]) => ({ id, description: m.description })),
    'diagnostics:backends': async ({ refresh }) => {
      if (refresh || !runs.lastBackend()) return await runs.probe()
      return runs.lastBackend()
    },
    'runs:resume': ({ runId }) => {
      const r = store.runs.get(runId)
      if (!r) throw new AppError('not_found', `run ${runId} not found`)
      if (!['interrupted', 'cancelled', 'failed'].includes(r.status)) {
        throw new AppError(
          'conflict',
          `run ${runId} is ${r.status}; only interrupted, cancelled or failed runs resume`,
        )
      }
      runs.enqueue([runId])
      return store.runs.get(runId)!
    },
    'experiments:start': (plan) => plans.start(plan),
    'experiments:list': () => plans.list(),
    'experiments:get': ({ experimentId }) => plans.get(experimentId),
    'experiments:cancel': ({ experimentId }) => plans.cancel(experimentId),
    'experiments:resume': ({ experimentId }) => plans.resume(experimentId),
    'compare:get': (opts) => plans.compare(opts),
    'variants:list': () =>
      VARIANT_IDS.map((id) => ({
        id,
        name: VARIANTS[id].name,
        tests: VARIANTS[id].tests,
        teacher: VARIANTS[id].teacher,
        defaults: resolveVariantParams(id, {}) as Record<string, unknown>,
      })),
    'presets:list': () =>
      PRESET_IDS.map((id) => ({ id, description: PRESETS[id].description, plan: PRESETS[id].plan })),
  }

  async function dispatch(channel: string, input: unknown): Promise<Envelope<unknown>> {
    try {
      if (!Object.hasOwn(invokeChannels, channel)) {
        throw new AppError('not_found', `unknown channel "${channel}"`)
      }
      const ch = channel as InvokeChannel
      const parsed = inputSchemas[ch].safeParse(input ?? {})
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({
          path: i.path.join('.'),
          message: i.message,
        }))
        const first = issues[0]
        throw new AppError(
          'invalid_input',
          `invalid input for ${ch}: ${first?.path ? `${first.path}: ` : ''}${first?.message ?? 'bad value'}`,
          { issues },
        )
      }
      const handler = handlers[ch] as (i: unknown) => unknown
      return { ok: true, value: await handler(parsed.data) }
    } catch (err) {
      return { ok: false, error: AppError.from(err).toJSON() }
    }
  }

  return {
    store,
    runs,
    plans,
    handlers,
    dispatch,
    on(channel, listener) {
      events.on(channel, listener as (p: unknown) => void)
      return () => events.off(channel, listener as (p: unknown) => void)
    },
    async close() {
      await runs.shutdown()
      store.close()
    },
  }
}
