import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { migrate, openDatabase } from '../../src/core/store/db'
import { MIGRATIONS } from '../../src/core/store/migrations/index'
import { createStore } from '../../src/core/store/store'
import { ensureBundledDatasets } from '../../src/core/app/app-core'
import { resolveRunConfig } from '../../src/shared/schemas'
import { tempHome } from '../helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

function fresh() {
  const t = tempHome()
  cleanup = t.cleanup
  const file = join(t.dir, 'tfkd.sqlite')
  const store = createStore(openDatabase(file))
  ensureBundledDatasets(store)
  return { store, file }
}

const metrics = (epoch: number, over: object = {}) => ({
  epoch,
  trainLoss: 0.5,
  trainAccuracy: 0.8,
  valLoss: 0.4,
  valAccuracy: 0.85,
  learningRate: 0.05,
  durationMs: 1000,
  samplesPerSec: 500,
  ...over,
})

describe('run store', () => {
  it('opens in WAL mode with synchronous=FULL, a busy timeout and the latest schema', () => {
    const { store } = fresh()
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2) // FULL
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000)
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
    store.close()
  })

  it('stores NaN and +-Infinity metrics faithfully', () => {
    const { store } = fresh()
    const ds = store.datasets.byName('mnist-10k')!
    const run = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    store.runs.recordEpoch(run.id, metrics(1, { trainLoss: NaN, valLoss: Infinity, valAccuracy: -Infinity }))
    store.runs.markRunning(run.id, 'wasm', 'cpu')
    store.runs.complete(run.id, { testAccuracy: NaN, testLoss: Infinity, bestEpoch: 1, bestValAccuracy: 0.5 })
    const [m] = store.runs.metrics(run.id)
    expect(m!.trainLoss).toBeNaN()
    expect(m!.valLoss).toBe(Infinity)
    expect(m!.valAccuracy).toBe(-Infinity)
    expect(m!.trainAccuracy).toBe(0.8)
    const r = store.runs.get(run.id)!
    expect(r.testAccuracy).toBeNaN()
    expect(r.testLoss).toBe(Infinity)
    store.close()
  })

  it('keeps the resolved config, seed and lineage with the run', () => {
    const { store } = fresh()
    const ds = store.datasets.byName('mnist-10k')!
    const teacher = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    const config = resolveRunConfig({ seed: 7, epochs: 3, model: 'mlp' })
    const run = store.runs.insert({ experimentId: null, datasetId: ds.id, config, teacherRunId: teacher.id })
    const d = store.runs.detail(run.id)!
    expect(d.config).toEqual(config)
    expect(d.seed).toBe(7)
    expect(d.teacherRunId).toBe(teacher.id)
    expect(d.status).toBe('queued')
    expect(d.epochsPlanned).toBe(3)
    store.close()
  })

  it('settles runs left queued or running at start-up as interrupted, each with its reason', () => {
    const { store, file } = fresh()
    const ds = store.datasets.byName('mnist-10k')!
    const a = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    const b = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    const c = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    store.runs.markRunning(a.id, 'wasm', 'cpu')
    store.runs.finish(c.id, 'cancelled', null)
    store.close()
    const again = createStore(openDatabase(file))
    expect(again.runs.settleOrphans().sort()).toEqual([a.id, b.id].sort())
    expect(again.runs.get(a.id)!.status).toBe('interrupted')
    expect(again.runs.get(a.id)!.failureReason).toMatch(/stopped while this run was training/)
    // Queued by a host that died between storing the run and starting its trainer (issue 11).
    expect(again.runs.get(b.id)!.status).toBe('interrupted')
    expect(again.runs.get(b.id)!.failureReason).toMatch(/stopped before this run started/)
    expect(again.runs.get(c.id)!.status).toBe('cancelled')
    again.close()
  })

  it('enforces the one table of run transitions, writing nothing on a forbidden move', () => {
    const { store } = fresh()
    const ds = store.datasets.byName('mnist-10k')!
    const r = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    const result = { testAccuracy: 0.9, testLoss: 0.3, bestEpoch: 1, bestValAccuracy: 0.9 }
    // queued cannot complete without running, nor be queued again.
    expect(() => store.runs.complete(r.id, result)).toThrow(
      /run \d+ is queued; a queued run cannot become completed/,
    )
    expect(() => store.runs.requeue(r.id)).toThrow(/queued run cannot become queued/)
    store.runs.markRunning(r.id, 'wasm', 'cpu')
    store.runs.complete(r.id, result)
    // completed is final for good: no cancel, no fail, no resume.
    for (const move of [
      () => store.runs.finish(r.id, 'cancelled', null),
      () => store.runs.finish(r.id, 'failed', 'x'),
      () => store.runs.requeue(r.id),
      () => store.runs.markRunning(r.id, 'wasm', 'cpu'),
    ])
      expect(move).toThrow(/completed run cannot become/)
    expect(store.runs.get(r.id)!.status).toBe('completed')
    expect(store.runs.get(r.id)!.testAccuracy).toBe(0.9)
    expect(() => store.runs.finish(9999, 'failed', 'x')).toThrow(/run 9999 not found/)
    store.close()
  })

  it('records a checkpoint file once, however often a resumed run reports it', () => {
    const { store } = fresh()
    const ds = store.datasets.byName('mnist-10k')!
    const r = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    const c = { runId: r.id, epoch: 2, kind: 'epoch' as const, path: '/x/epoch-0002.tfkd', bytes: 10 }
    const first = store.checkpoints.insert(c)
    const again = store.checkpoints.insert({ ...c, bytes: 12 })
    expect(again.id).toBe(first.id)
    const n = store.db.prepare('SELECT COUNT(*) AS n FROM checkpoints WHERE run_id = ?').get(r.id) as {
      n: number
    }
    expect(n.n).toBe(1)
    expect(store.checkpoints.latest(r.id)!.bytes).toBe(12)
    store.close()
  })

  it('leaves alone runs that another live host is driving (the app and a CLI share the folder)', () => {
    const { store, file } = fresh()
    const ds = store.datasets.byName('mnist-10k')!
    const mine = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    const other = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    const gone = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    store.runs.markRunning(mine.id, 'wasm', 'cpu') // this process: it restarted, so it is cut off
    store.runs.markRunning(other.id, 'wasm', 'cpu', process.ppid) // a live process
    store.runs.markRunning(gone.id, 'wasm', 'cpu', 2 ** 22 + 12345) // no such process
    const queuedElsewhere = store.runs.insert({
      experimentId: null,
      datasetId: ds.id,
      config: resolveRunConfig({}),
    })
    store.db.prepare('UPDATE runs SET host_pid = ? WHERE id = ?').run(process.ppid, queuedElsewhere.id)
    store.close()
    const again = createStore(openDatabase(file))
    expect(again.runs.settleOrphans().sort()).toEqual([mine.id, gone.id].sort())
    expect(again.runs.get(queuedElsewhere.id)!.status).toBe('queued')
    expect(again.runs.get(other.id)!.status).toBe('running')
    expect(again.runs.get(gone.id)!.status).toBe('interrupted')
    again.close()
  })

  it('rolls a failing migration back whole, version included', () => {
    const t = tempHome()
    cleanup = t.cleanup
    const db = new Database(join(t.dir, 'x.sqlite'))
    const broken = [
      ...MIGRATIONS,
      { id: '999_broken', sql: 'ALTER TABLE runs ADD COLUMN tag TEXT; CREATE TABLE runs (x);' },
    ]
    expect(() => migrate(db, broken)).toThrow(/already exists/)
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
    const cols = (db.prepare('PRAGMA table_info(runs)').all() as { name: string }[]).map((c) => c.name)
    expect(cols).not.toContain('tag')
    db.close()
  })

  it('refuses a database written by a newer app', () => {
    const t = tempHome()
    cleanup = t.cleanup
    const file = join(t.dir, 'x.sqlite')
    const db = new Database(file)
    db.pragma(`user_version = ${MIGRATIONS.length + 5}`)
    db.close()
    expect(() => openDatabase(file)).toThrow(/newer than this app knows/)
  })

  it('rejects a status outside the six run states', () => {
    const { store } = fresh()
    const ds = store.datasets.byName('mnist-10k')!
    const run = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    expect(() => store.db.prepare(`UPDATE runs SET status = 'paused' WHERE id = ?`).run(run.id)).toThrow(
      /CHECK constraint/,
    )
    store.close()
  })
})
