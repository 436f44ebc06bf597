/**
 * Every run reaches a final state (issue 11), with real trainer processes and a real SQLite file:
 * - runs a dead host left queued or running are cancelled, deleted or resumed by another host;
 *   one a live host drives is refused with its pid;
 * - a run cut off during its final evaluation resumes there: no epoch retrained, no duplicate
 *   checkpoint row, and the result of an uninterrupted run;
 * - a database that stops taking writes mid-run (SQLite's query_only, as a read-only remount does)
 *   leaves the host alive: the run's failure is reported at once and recorded once writes work.
 */
import { spawnSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import type { SpawnTrainer, TrainerHandle } from '../../src/core/train/trainer-handle'
import { resolveRunConfig } from '../../src/shared/schemas'
import { requireBuiltTrainer, tempHome } from '../helpers'

let core: AppCore | undefined
let cleanup: (() => void) | undefined
afterEach(async () => {
  await core?.close()
  core = undefined
  cleanup?.()
})

function setup() {
  const home = tempHome()
  cleanup = home.cleanup
  const handles: TrainerHandle[] = []
  const fork = createForkSpawner(requireBuiltTrainer(), { silent: true })
  const spawnTrainer: SpawnTrainer = (o) => {
    const h = fork(o)
    handles.push(h)
    return h
  }
  core = createAppCore({ dataHome: home.dir, host: 'cli', spawnTrainer })
  return { core, handles }
}

/** The pid of a process that has exited (a host that is gone). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  })
  return Number(r.stdout)
}

function insertOwned(c: AppCore, pid: number, status: 'queued' | 'running') {
  const ds = c.store.datasets.byName('mnist-10k')!
  const run = c.store.runs.insert({
    experimentId: null,
    datasetId: ds.id,
    config: resolveRunConfig({ model: 'mlp', epochs: 1, maxTrainSamples: 128 }),
  })
  if (status === 'running') c.store.runs.markRunning(run.id, 'wasm', 'cpu', pid)
  c.store.db.prepare('UPDATE runs SET host_pid = ? WHERE id = ?').run(pid, run.id)
  return run.id
}

describe('run lifecycle', () => {
  it("cancels, deletes and resumes runs a dead host left queued or running; refuses a live host's", async () => {
    const { core: c } = setup()
    const gone = deadPid()
    const queuedCancel = insertOwned(c, gone, 'queued')
    const queuedDelete = insertOwned(c, gone, 'queued')
    const runningResume = insertOwned(c, gone, 'running')
    const livesElsewhere = insertOwned(c, process.ppid, 'queued')

    expect(await c.dispatch('runs:cancel', { runId: queuedCancel })).toEqual({
      ok: true,
      value: { cancelled: true },
    })
    expect(c.store.runs.get(queuedCancel)!.status).toBe('cancelled')
    expect(await c.dispatch('runs:delete', { runIds: [queuedDelete] })).toEqual({
      ok: true,
      value: { deleted: [queuedDelete] },
    })
    const resumed = await c.dispatch('runs:resume', { runId: runningResume })
    expect(resumed.ok).toBe(true)
    const done = await c.runs.waitFor(runningResume)
    expect(done.status).toBe('completed')
    expect(done.epochsDone).toBe(1)

    const refused = await c.dispatch('runs:cancel', { runId: livesElsewhere })
    expect(!refused.ok && refused.error.message).toContain(
      `queued in another tfkd process (pid ${process.ppid})`,
    )
    const notResumed = await c.dispatch('runs:resume', { runId: livesElsewhere })
    expect(!notResumed.ok && notResumed.error.code).toBe('conflict')
    expect(c.store.runs.get(livesElsewhere)!.status).toBe('queued')
  })

  it('a run killed during its final evaluation resumes there: no retraining, no duplicate rows, same result', async () => {
    const { core: c, handles } = setup()
    const config = resolveRunConfig({ model: 'mlp', epochs: 2, maxTrainSamples: 256, seed: 5 })
    const reference = await c.runs.waitFor(c.runs.start(config).id)
    expect(reference.status).toBe('completed')

    const run = c.runs.start(config)
    // The last epoch's checkpoint is recorded: the trainer is now evaluating on the test split.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (c.store.checkpoints.latest(run.id)?.epoch === 2) {
          clearInterval(timer)
          resolve()
        }
      }, 1)
    })
    process.kill(handles[handles.length - 1]!.pid!, 'SIGKILL')
    const killed = await c.runs.waitFor(run.id)
    expect(killed.status).toBe('failed')
    const metricsBefore = c.store.runs.metrics(run.id)
    expect(metricsBefore.map((m) => m.epoch)).toEqual([1, 2])

    let epochsDuringResume = 0
    c.on('runs:epoch', (e) => void (e.runId === run.id && epochsDuringResume++))
    expect((await c.dispatch('runs:resume', { runId: run.id })).ok).toBe(true)
    const done = await c.runs.waitFor(run.id)
    expect(done.status).toBe('completed')
    expect(epochsDuringResume).toBe(0)
    expect(c.store.runs.metrics(run.id)).toEqual(metricsBefore)
    const rows = c.store.db
      .prepare('SELECT epoch FROM checkpoints WHERE run_id = ? ORDER BY epoch')
      .all(run.id)
    expect(rows).toEqual([{ epoch: 1 }, { epoch: 2 }])
    expect(done.testAccuracy).toBe(reference.testAccuracy)
    expect(done.testLoss).toBe(reference.testLoss)
    expect(done.bestEpoch).toBe(reference.bestEpoch)
  })

  it('a database that stops taking writes mid-run: the host lives, the failure is reported, then recorded', async () => {
    const { core: c } = setup()
    const run = c.runs.start(resolveRunConfig({ model: 'mlp', epochs: 3, maxTrainSamples: 256 }))
    await new Promise<void>((resolve) => {
      const off = c.on('runs:status', (s) => {
        if (s.runId === run.id && s.status === 'running') {
          off()
          resolve()
        }
      })
    })
    c.store.db.pragma('query_only = ON')
    const seen = await c.runs.waitFor(run.id)
    expect(seen.status).toBe('failed')
    expect(seen.failureReason).toMatch(
      /could not record the trainer's epoch event: cannot write to the run database .*tfkd\.sqlite/,
    )
    expect(seen.failureReason).toMatch(/not recorded yet: cannot write to the run database .*tfkd\.sqlite/)
    // The host is alive and still answers.
    const listed = await c.dispatch('runs:list', {})
    expect(listed.ok).toBe(true)
    expect(c.store.runs.get(run.id)!.status).toBe('running') // not written yet
    c.store.db.pragma('query_only = OFF')
    await new Promise((r) => setTimeout(r, 2500))
    const recorded = c.store.runs.get(run.id)!
    expect(recorded.status).toBe('failed')
    expect(recorded.failureReason).toMatch(/could not record the trainer's epoch event/)
  })
})
