/**
 * Migration 009 on a real SQLite file: a rerun's link to its original, the time a run joined the
 * queue (queue order), and training time as the sum of epoch durations.
 */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { migrate, openDatabase } from '../../../src/core/store/db'
import { MIGRATIONS } from '../../../src/core/store/migrations/index'
import { createStore } from '../../../src/core/store/store'
import { ensureBundledDatasets } from '../../../src/core/app/app-core'
import { inExecutionOrder } from '../../../src/shared/run-states'
import { resolveRunConfig } from '../../../src/shared/schemas'
import type { EpochMetrics } from '../../../src/shared/types'
import { tempHome } from '../../helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

const epoch = (n: number, durationMs: number): EpochMetrics => ({
  epoch: n,
  trainLoss: 1,
  trainAccuracy: 0.5,
  valLoss: 1,
  valAccuracy: 0.5,
  learningRate: 0.1,
  durationMs,
  samplesPerSec: 100,
})

describe('migration 009: rerun links, queue time, training time', () => {
  it('queue order follows when runs joined the queue; training time ignores downtime', () => {
    const t = tempHome()
    cleanup = t.cleanup
    let clock = 1_000
    const store = createStore(openDatabase(join(t.dir, 'tfkd.sqlite')), () => clock)
    ensureBundledDatasets(store)
    const ds = store.datasets.byName('mnist-10k')!
    const insert = (rerunOf?: number) =>
      store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}), rerunOf })
    const a = insert()
    store.runs.markRunning(a.id, 'wasm', 'cpu')
    store.runs.recordEpoch(a.id, epoch(1, 4_000))
    clock = 10_000
    store.runs.finish(a.id, 'interrupted', 'host stopped')
    clock = 20_000
    const b = insert()
    clock = 30_000
    // Resumed after b was queued: it runs after b, whatever the ids say.
    store.runs.requeue(a.id)
    expect(store.runs.get(a.id)!.queuedAt).toBe(30_000)
    expect(inExecutionOrder(store.runs.list()).map((r) => r.id)).toEqual([b.id, a.id])
    store.runs.markRunning(a.id, 'wasm', 'cpu')
    store.runs.recordEpoch(a.id, epoch(2, 3_000))
    // A diverged epoch's NaN duration is stored as text: not summed, and not a NaN total.
    store.runs.recordEpoch(a.id, epoch(3, NaN))
    clock = 100_000
    store.runs.complete(a.id, { testAccuracy: 0.9, testLoss: 0.3, bestEpoch: 2, bestValAccuracy: 0.9 })
    const done = store.runs.get(a.id)!
    expect(done.trainingMs).toBe(7_000)
    expect(done.finishedAt! - done.startedAt!).toBe(99_000)

    const r = insert(a.id)
    expect(store.runs.get(r.id)!.rerunOf).toBe(a.id)
    expect(store.runs.detail(a.id)!.reruns).toEqual([r.id])
    store.runs.deleteMany([a.id])
    expect(store.runs.get(r.id)!.rerunOf).toBeNull()
    store.close()
  })

  it('upgrades a database of the previous schema: queued_at from created_at, no rerun links', () => {
    const t = tempHome()
    cleanup = t.cleanup
    const file = join(t.dir, 'old.sqlite')
    const db = new Database(file)
    migrate(
      db,
      MIGRATIONS.slice(
        0,
        MIGRATIONS.findIndex((m) => m.id === '009_run_lineage'),
      ),
    )
    db.prepare(
      `INSERT INTO datasets (name, format, class_names, input_shape, counts, created_at) VALUES ('d', 'x', '[]', '[1,1,1]', '{}', 0)`,
    ).run()
    db.prepare(
      `INSERT INTO runs (dataset_id, model, variant, seed, config, status, epochs_planned, created_at)
       VALUES (1, 'mlp', 'baseline', 1, '{}', 'completed', 1, 1234)`,
    ).run()
    db.close()
    const store = createStore(openDatabase(file))
    expect(store.runs.get(1)).toMatchObject({ queuedAt: 1234, rerunOf: null, trainingMs: 0 })
    store.close()
  })
})
