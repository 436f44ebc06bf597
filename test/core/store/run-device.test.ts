/** Migration 005 on a real SQLite file: the device a run trained on, and host settings. */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { migrate, openDatabase } from '../../../src/core/store/db'
import { MIGRATIONS } from '../../../src/core/store/migrations/index'
import { createStore } from '../../../src/core/store/store'
import { ensureBundledDatasets } from '../../../src/core/app/app-core'
import { resolveRunConfig } from '../../../src/shared/schemas'
import { tempHome } from '../../helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

describe('migration 005: run devices and settings', () => {
  it('stores the device a run trained on and lists it with the run', () => {
    const t = tempHome()
    cleanup = t.cleanup
    const store = createStore(openDatabase(join(t.dir, 'tfkd.sqlite')))
    ensureBundledDatasets(store)
    const ds = store.datasets.byName('mnist-10k')!
    const run = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    expect(store.runs.get(run.id)!.deviceInfo).toBeNull()
    const device = {
      backend: 'webgpu' as const,
      kind: 'gpu' as const,
      name: 'NVIDIA H100 80GB HBM3',
      threads: null,
      detail: 'Dawn vulkan',
    }
    store.runDevices.set(run.id, device)
    expect(store.runs.get(run.id)!.deviceInfo).toEqual(device)
    expect(store.runs.list({})[0]!.deviceInfo).toEqual(device)
    expect(store.runs.detail(run.id)!.deviceInfo).toEqual(device)
    store.close()
  })

  it('keeps settings as JSON by key', () => {
    const t = tempHome()
    cleanup = t.cleanup
    const store = createStore(openDatabase(join(t.dir, 'tfkd.sqlite')))
    expect(store.settings.get('cudaLibraryDirs')).toBeUndefined()
    store.settings.set('cudaLibraryDirs', ['/opt/cuda11/lib'])
    store.settings.set('cudaLibraryDirs', ['/a', '/b'])
    expect(store.settings.get<string[]>('cudaLibraryDirs')).toEqual(['/a', '/b'])
    store.close()
  })

  it('upgrades a database of the previous schema without losing its runs', () => {
    const t = tempHome()
    cleanup = t.cleanup
    const file = join(t.dir, 'old.sqlite')
    const db = new Database(file)
    const i = MIGRATIONS.findIndex((m) => m.id === '005_run_device')
    migrate(db, MIGRATIONS.slice(0, i))
    db.prepare(
      `INSERT INTO datasets (name, format, class_names, input_shape, counts, created_at) VALUES ('d', 'x', '[]', '[1,1,1]', '{}', 0)`,
    ).run()
    db.prepare(
      `INSERT INTO runs (dataset_id, model, variant, seed, config, status, backend, device, epochs_planned, created_at)
       VALUES (1, 'mlp', 'baseline', 1, '{}', 'completed', 'wasm', 'CPU (wasm)', 1, 0)`,
    ).run()
    migrate(db)
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
    const store = createStore(db)
    expect(store.runs.get(1)).toMatchObject({ backend: 'wasm', device: 'CPU (wasm)', deviceInfo: null })
    store.close()
  })
})
