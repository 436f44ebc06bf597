/**
 * The app as every host sees it: handlers for each invoke channel, validated at the boundary and
 * answered as an Envelope, plus typed push events. Electron IPC and the web server both call
 * `dispatch`; the CLI calls the services directly.
 */
import { EventEmitter } from 'node:events'
import { mkdirSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { AppError, type Envelope } from '../../shared/errors'
import {
  invokeChannels,
  type Handlers,
  type InvokeChannel,
  type Pushes,
  type PushChannel,
} from '../../shared/contract'
import { inputSchemas, resolveRunConfig } from '../../shared/schemas'
import type { AppInfo, DatasetSummary } from '../../shared/types'
import type { DatasetRecord } from '../store/store'
import { describeDataset, importDataset } from './dataset-service'
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
import { reproducePlan } from '../../shared/reproduce'
import { buildReport } from '../report/report'
import { renderReport } from '../report/render'

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
  /** Dataset imports in flight, by the caller's job id. */
  const imports = new Map<string, AbortController>()
  const toSummary = (d: DatasetRecord): DatasetSummary => ({
    id: d.id,
    name: d.name,
    format: d.format,
    classNames: d.classNames,
    inputShape: d.inputShape,
    counts: d.counts,
    createdAt: d.createdAt,
  })
  const datasetOf = (datasetId: number): DatasetRecord => {
    const d = store.datasets.get(datasetId)
    if (!d) throw new AppError('not_found', `dataset ${datasetId} not found`)
    return d
  }
  const runsOfDataset = (datasetId: number): number =>
    (store.db.prepare('SELECT COUNT(*) AS n FROM runs WHERE dataset_id = ?').get(datasetId) as { n: number })
      .n
  const readTags = (raw: unknown): string[] => {
    try {
      const v = JSON.parse(String(raw)) as unknown
      return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : []
    } catch {
      return []
    }
  }

  const version = opts.version ?? '0.0.0'
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
    'reproduce:start': (req) => plans.start(reproducePlan(req)),
    'report:get': ({ experimentId, marginPp }) =>
      buildReport(store, experimentId, { appVersion: version, margin: (marginPp ?? 0.5) / 100 }),
    'report:render': ({ experimentId, format, marginPp }) => ({
      fileName: `tfkd-report-${experimentId}.${format === 'latex' ? 'tex' : format}`,
      content: renderReport(
        buildReport(store, experimentId, { appVersion: version, margin: (marginPp ?? 0.5) / 100 }),
        format,
      ),
    }),
    'variants:list': () =>
      VARIANT_IDS.map((id) => ({
        id,
        name: VARIANTS[id].name,
        tests: VARIANTS[id].tests,
        teacher: VARIANTS[id].teacher,
        defaults: resolveVariantParams(id, {}) as Record<string, unknown>,
      })),
    'presets:list': () =>
      PRESET_IDS.map((id) => ({
        id,
        description: PRESETS[id].description,
        plan: PRESETS[id].plan,
        requires: PRESETS[id].requires ?? null,
      })),
    'datasets:import': async ({ jobId, path, ...options }) => {
      if (imports.has(jobId)) throw new AppError('conflict', `import job "${jobId}" is already running`)
      const controller = new AbortController()
      imports.set(jobId, controller)
      let skipped = 0
      let lastEmit = 0
      try {
        const result = await importDataset({
          store,
          paths,
          source: path,
          options,
          signal: controller.signal,
          onSkip: () => void skipped++,
          onProgress: (p) => {
            // At most ~10 pushes a second: progress is for eyes, not for bookkeeping.
            const now = Date.now()
            if (now - lastEmit < 100 && p.done < p.total) return
            lastEmit = now
            emit('datasets:progress', { jobId, ...p, skipped })
          },
        })
        return { dataset: toSummary(result.dataset), skipped: result.skipped, notes: result.notes }
      } finally {
        imports.delete(jobId)
      }
    },
    'datasets:cancel': ({ jobId }) => {
      const c = imports.get(jobId)
      c?.abort()
      return { cancelled: c !== undefined }
    },
    'datasets:preview': async ({ datasetId }) => {
      const d = datasetOf(datasetId)
      const details = await describeDataset({ store, paths, idOrName: String(d.id) })
      let sampleGridDataUrl: string | null = null
      try {
        sampleGridDataUrl = `data:image/png;base64,${readFileSync(details.gridPath).toString('base64')}`
      } catch {
        sampleGridDataUrl = null
      }
      return {
        dataset: toSummary(d),
        ...details.preview,
        validationFraction: details.validationFraction,
        sampleGridDataUrl,
        runCount: runsOfDataset(d.id),
      }
    },
    'datasets:rename': ({ datasetId, name }) => {
      const d = datasetOf(datasetId)
      if (d.format === 'bundled')
        throw new AppError('conflict', `the bundled dataset "${d.name}" keeps its name`)
      const other = store.datasets.byName(name)
      if (other && other.id !== d.id)
        throw new AppError('conflict', `a dataset named "${name}" already exists`)
      store.db.prepare('UPDATE datasets SET name = ? WHERE id = ?').run(name, d.id)
      return toSummary(datasetOf(d.id))
    },
    'datasets:delete': async ({ datasetId }) => {
      const d = datasetOf(datasetId)
      if (d.format === 'bundled')
        throw new AppError('conflict', `the bundled dataset "${d.name}" cannot be deleted`)
      const n = runsOfDataset(d.id)
      if (n > 0) {
        throw new AppError(
          'conflict',
          `dataset "${d.name}" is used by ${n} run${n === 1 ? '' : 's'}; delete those runs first`,
          { runCount: n },
        )
      }
      const experiments = (
        store.db.prepare('SELECT COUNT(*) AS n FROM experiments WHERE dataset_id = ?').get(d.id) as {
          n: number
        }
      ).n
      store.db.transaction(() => {
        if (experiments > 0) store.db.prepare('DELETE FROM experiments WHERE dataset_id = ?').run(d.id)
        store.db.prepare('DELETE FROM datasets WHERE id = ?').run(d.id)
      })()
      if (d.cachePath) await rm(d.cachePath, { force: true })
      await rm(join(paths.datasets, 'previews', `${d.id}-samples.png`), { force: true })
      return { deleted: true }
    },
    'runs:delete': async ({ runIds }) => {
      const ids = [...new Set(runIds)]
      const doomed = new Set(ids)
      for (const runId of ids) {
        const r = store.runs.get(runId)
        if (!r) throw new AppError('not_found', `run ${runId} not found`)
        if (r.status === 'running' || r.status === 'queued') {
          throw new AppError('conflict', `run ${runId} is ${r.status}; cancel it before deleting`)
        }
        const students = (
          store.db.prepare('SELECT id FROM runs WHERE teacher_run_id = ?').all(runId) as { id: number }[]
        ).filter((s) => !doomed.has(s.id))
        if (students.length > 0) {
          throw new AppError(
            'conflict',
            `run ${runId} taught run${students.length === 1 ? '' : 's'} ${students.map((s) => s.id).join(', ')}; delete ${students.length === 1 ? 'it' : 'them'} too or first`,
            { students: students.map((s) => s.id) },
          )
        }
      }
      store.db.transaction(() => {
        // Students first: their teacher_checkpoint_id points at the teachers' checkpoints.
        const del = store.db.prepare('DELETE FROM runs WHERE id = ?')
        const clear = store.db.prepare(
          'UPDATE runs SET teacher_checkpoint_id = NULL, teacher_run_id = NULL WHERE id = ?',
        )
        for (const runId of ids) clear.run(runId)
        for (const runId of ids) del.run(runId)
      })()
      for (const runId of ids)
        await rm(join(paths.checkpoints, String(runId)), { recursive: true, force: true })
      return { deleted: ids }
    },
    'runs:tag': ({ runId, tags }) => {
      if (!store.runs.get(runId)) throw new AppError('not_found', `run ${runId} not found`)
      const clean = [...new Set(tags.map((t) => t.trim()))].filter(Boolean)
      store.db.prepare('UPDATE runs SET tags = ? WHERE id = ?').run(JSON.stringify(clean), runId)
      return { runId, tags: clean }
    },
    'runs:tags': () => {
      const rows = store.db.prepare(`SELECT id, tags FROM runs WHERE tags != '[]'`).all() as {
        id: number
        tags: string
      }[]
      return Object.fromEntries(rows.map((r) => [r.id, readTags(r.tags)]))
    },
    'runs:details': ({ runIds }) =>
      runIds.map((runId) => {
        const d = store.runs.detail(runId)
        if (!d) throw new AppError('not_found', `run ${runId} not found`)
        return d
      }),
    'throughput:get': () => {
      // Median samples/s of each model's last 20 measured epochs (any backend this machine used).
      const rows = store.db
        .prepare(
          `SELECT r.model AS model, m.samples_per_sec AS sps FROM epoch_metrics m JOIN runs r ON r.id = m.run_id
           WHERE m.samples_per_sec > 0 ORDER BY m.run_id DESC, m.epoch DESC`,
        )
        .all() as { model: string; sps: number }[]
      const by = new Map<string, number[]>()
      for (const r of rows) {
        const list = by.get(r.model) ?? []
        if (list.length < 20) list.push(r.sps)
        by.set(r.model, list)
      }
      return Object.fromEntries(
        [...by].map(([model, list]) => {
          const sorted = list.sort((a, b) => a - b)
          return [model, sorted[Math.floor(sorted.length / 2)]!]
        }),
      )
    },
    'dialog:openPath': () => {
      throw new AppError('not_found', 'the open dialog exists only in the desktop app; type the path instead')
    },
    ...opts.hostHandlers,
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
