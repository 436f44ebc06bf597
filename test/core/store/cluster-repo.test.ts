/** Migration 006 on a real SQLite file: run uuids and origins, cluster jobs. */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../../../src/core/store/db'
import { createStore } from '../../../src/core/store/store'
import { createClusterRepo } from '../../../src/core/store/repos/cluster'
import { ensureBundledDatasets } from '../../../src/core/app/app-core'
import { resolveRunConfig } from '../../../src/shared/schemas'
import { tempHome } from '../../helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

function open() {
  const t = tempHome()
  cleanup = t.cleanup
  const store = createStore(openDatabase(join(t.dir, 'tfkd.sqlite')))
  ensureBundledDatasets(store)
  let clock = 1000
  return { store, repo: createClusterRepo({ db: store.db, now: () => clock++ }) }
}

describe('migration 006: cluster jobs and synced runs', () => {
  it('keys synced runs by uuid: a second run with the same uuid is refused', () => {
    const { store, repo } = open()
    const ds = store.datasets.byName('mnist-10k')!
    const a = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    const b = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    const origin = { uuid: 'u-1', node: 'gpu07', job: '12_3', startedAt: 5, finishedAt: 9 }
    repo.runs.setOrigin(a.id, origin)
    expect(repo.runs.byUuid('u-1')).toEqual({ id: a.id, status: 'queued' })
    expect(() => repo.runs.setOrigin(b.id, origin)).toThrow(/UNIQUE/)
    expect(repo.runs.origins([a.id, b.id])).toEqual([
      { runId: a.id, uuid: 'u-1', origin: 'slurm', node: 'gpu07', job: '12_3' },
    ])
    // Local runs keep no uuid, and many of them may.
    expect(store.runs.get(b.id)!.startedAt).toBeNull()
    store.close()
  })

  it('registers a job folder once; a moved folder updates its path and keeps its experiment', () => {
    const { store, repo } = open()
    const ds = store.datasets.byName('mnist-10k')!
    const exp = store.experiments.insert({ name: 'e', datasetId: ds.id, plan: {} })
    repo.jobs.upsert({ uuid: 'j', name: 'plan', jobDir: '/scratch/a' })
    repo.jobs.setExperiment('j', exp)
    repo.jobs.upsert({ uuid: 'j', name: 'plan', jobDir: '/scratch/b' })
    expect(repo.jobs.list()).toEqual([
      expect.objectContaining({ uuid: 'j', jobDir: '/scratch/b', experimentId: exp, syncedAt: null }),
    ])
    repo.jobs.markSynced('j')
    expect(repo.jobs.get('j')!.syncedAt).not.toBeNull()
    store.close()
  })
})
