/** `tfkd runs --json` keeps NaN and Infinity (issue 11): written as `{ "nonFinite": ... }`, never null. */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/core/store/db'
import { createStore } from '../../src/core/store/store'
import { ensureBundledDatasets } from '../../src/core/services/open-store'
import { resolveRunConfig } from '../../src/shared/schemas'
import type { RunSummary } from '../../src/shared/types'
import { parseWire } from '../../src/shared/wire-json'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../helpers'

const home = tempHome('tfkd-json-')
afterAll(() => home.cleanup())

describe('tfkd runs --json', () => {
  it('writes a diverged run’s NaN and Infinity as { nonFinite }', () => {
    requireBuiltTrainer()
    const store = createStore(openDatabase(join(home.dir, 'tfkd.sqlite')))
    ensureBundledDatasets(store)
    const ds = store.datasets.byName('mnist-10k')!
    const run = store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    store.runs.markRunning(run.id, 'wasm', 'cpu', 2 ** 22 + 7)
    store.runs.complete(run.id, {
      testAccuracy: Number.NaN,
      testLoss: Infinity,
      bestEpoch: 1,
      bestValAccuracy: 0.1,
    })
    store.close()
    const r = spawnSync(process.execPath, [CLI_ENTRY, 'runs', '--json'], {
      env: { ...process.env, TFKD_HOME: home.dir },
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain('"testAccuracy": {\n      "nonFinite": "NaN"\n    }')
    expect(r.stdout).toContain('"nonFinite": "Infinity"')
    expect(r.stdout).not.toContain('"testAccuracy": null')
    const [back] = parseWire(r.stdout) as RunSummary[]
    expect(back!.testAccuracy).toBeNaN()
    expect(back!.testLoss).toBe(Infinity)
  })
})
