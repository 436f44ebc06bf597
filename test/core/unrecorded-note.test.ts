/**
 * Issue 25 item 7: a run whose end cannot be recorded (a full disk, a read-only remount) was
 * reported as "retrying every 2 s" although the CLI exits at once (the retry timer does not keep a
 * process alive). The note now says both outcomes. A real trainer and a real SQLite file; the
 * database stops taking writes mid-run (SQLite's query_only, as a read-only remount does).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { resolveRunConfig } from '../../src/shared/schemas'
import { requireBuiltTrainer, tempHome } from '../helpers'

let core: AppCore | undefined
const home = tempHome('tfkd-unrecorded-')
afterEach(async () => {
  await core?.close()
  home.cleanup()
})

describe('a run whose end cannot be recorded', () => {
  it('says it is retried while the process runs, and what happens if it exits first', async () => {
    const c = createAppCore({
      dataHome: home.dir,
      host: 'cli',
      spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
    })
    core = c
    let err = ''
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true))
    try {
      const run = c.runs.start(resolveRunConfig({ model: 'mlp', epochs: 2, maxTrainSamples: 128 }))
      await new Promise<void>((resolve) => {
        const off = c.on('runs:status', (s) => {
          if (s.runId === run.id && s.status === 'running') {
            off()
            resolve()
          }
        })
      })
      c.store.db.pragma('query_only = ON')
      await c.runs.waitFor(run.id)
      c.store.db.pragma('query_only = OFF')
    } finally {
      spy.mockRestore()
    }
    const line = err.split('\n').find((l) => /run 1 ended \w+ but /.test(l))
    expect(line, err).toBeDefined()
    expect(line).toContain('cannot write to the run database')
    expect(line).toMatch(
      /it is retried every 2 s while this process runs; if it exits first, the next start records the run as interrupted$/,
    )
  }, 60_000)
})
