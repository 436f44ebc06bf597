/**
 * The store parses its JSON columns with their schemas: a row corrupted behind the app's back (here
 * with SQL on a real file) gives an error naming the record, its id and the field, not a crash or a
 * wrongly typed value travelling on.
 */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../../../src/core/store/db'
import { createStore, type Store } from '../../../src/core/store/store'
import { ensureBundledDatasets } from '../../../src/core/app/app-core'
import { AppError } from '../../../src/shared/errors'
import { resolveRunConfig } from '../../../src/shared/schemas'
import { tempHome } from '../../helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

function withRun(): { store: Store; file: string; runId: number } {
  const t = tempHome()
  cleanup = t.cleanup
  const file = join(t.dir, 'tfkd.sqlite')
  const store = createStore(openDatabase(file))
  ensureBundledDatasets(store)
  const ds = store.datasets.byName('mnist-10k')!
  const run = store.runs.insert({
    experimentId: null,
    datasetId: ds.id,
    config: resolveRunConfig({ seed: 3 }),
  })
  return { store, file, runId: run.id }
}

function caught(f: () => unknown): AppError {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(AppError)
    return e as AppError
  }
  throw new Error('expected an error')
}

describe('stored JSON is parsed where it is read', () => {
  it('names the run and the field of a corrupt config', () => {
    const { store, runId } = withRun()
    store.db
      .prepare(`UPDATE runs SET config = json_set(config, '$.teacher', json('{"runId":"x"}')) WHERE id = ?`)
      .run(runId)
    const e = caught(() => store.runs.detail(runId))
    expect(e.message).toMatch(
      new RegExp(`^run ${runId}: stored config.teacher.runId is unreadable: .*number`),
    )
    expect(e.details).toMatchObject({ record: 'run', id: runId, field: 'config.teacher.runId' })
    // The list (no JSON columns) still reads, so the user can find and delete the run.
    expect(store.runs.list().map((r) => r.id)).toContain(runId)
    store.close()
  })

  it('names the run when a config is not JSON or misses a field', () => {
    const { store, runId } = withRun()
    store.db.prepare(`UPDATE runs SET config = '{"model": ' WHERE id = ?`).run(runId)
    expect(() => store.runs.detail(runId)).toThrow(`run ${runId}: stored config is unreadable: not JSON`)
    store.db
      .prepare(`UPDATE runs SET config = json_remove(?, '$.variant') WHERE id = ?`)
      .run(JSON.stringify(resolveRunConfig({})), runId)
    expect(() => store.runs.detail(runId)).toThrow(`run ${runId}: stored config.variant is unreadable`)
    store.close()
  })

  it('names the run and the field of a corrupt result', () => {
    const { store, runId } = withRun()
    store.db.prepare(`UPDATE runs SET result = '{"best": 1}' WHERE id = ?`).run(runId)
    expect(() => store.runs.detail(runId)).toThrow(`run ${runId}: stored result.best is unreadable`)
    store.close()
  })

  it('reads a config stored before snapshots by accuracy (teacher without targetAccuracy)', () => {
    const { store, runId } = withRun()
    store.db
      .prepare(
        `UPDATE runs SET config = json_set(config, '$.teacher', json('{"runId":1,"epoch":null}')) WHERE id = ?`,
      )
      .run(runId)
    expect(store.runs.detail(runId)!.config.teacher).toEqual({ runId: 1, epoch: null, targetAccuracy: null })
    store.close()
  })

  it('names the dataset and the column of a corrupt shape', () => {
    const { store } = withRun()
    const ds = store.datasets.byName('mnist-10k')!
    store.db.prepare(`UPDATE datasets SET input_shape = '[28, 28]' WHERE id = ?`).run(ds.id)
    expect(() => store.datasets.get(ds.id)).toThrow(`dataset ${ds.id}: stored input_shape is unreadable`)
    store.close()
  })

  it('reads a damaged device as unknown: the device is informational', () => {
    const { store, runId } = withRun()
    store.db.prepare(`UPDATE runs SET device_info = '{"backend": 7}' WHERE id = ?`).run(runId)
    expect(store.runs.get(runId)!.deviceInfo).toBeNull()
    store.close()
  })
})
