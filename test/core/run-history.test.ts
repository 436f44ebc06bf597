/**
 * What History and Live runs show after a host stop, with real trainer processes and a real SQLite
 * file (issue 14):
 * - a host stop marks the running run and the queued ones interrupted (nobody cancelled them), and
 *   the plan reads "stopped", not "done";
 * - a resumed run joins the end of the queue, and the stored queue order says so;
 * - training time is the sum of epoch durations: the time the host was down is not in it;
 * - a rerun is a new run with the same config, recorded as a rerun of the original.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { inExecutionOrder } from '../../src/shared/run-states'
import { summarizePlan } from '../../src/shared/plan-state'
import type { RunStatusEvent } from '../../src/shared/types'
import { requireBuiltTrainer, tempHome } from '../helpers'

const cores: AppCore[] = []
let cleanup: (() => void) | undefined
afterEach(async () => {
  for (const c of cores.splice(0)) await c.close()
  cleanup?.()
  cleanup = undefined
})

function open(dir: string): AppCore {
  const core = createAppCore({
    dataHome: dir,
    host: 'cli',
    spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
  })
  cores.push(core)
  return core
}

function epochReached(core: AppCore, runId: number, epoch: number): Promise<void> {
  return new Promise((resolve) => {
    const off = core.on('runs:epoch', (e) => {
      if (e.runId === runId && e.metrics.epoch >= epoch) {
        off()
        resolve()
      }
    })
  })
}

describe('runs after a host stop (real trainer)', () => {
  it('stop: interrupted runs and a stopped plan; resume: at the end of the queue, training time without downtime; rerun: recorded', async () => {
    const home = tempHome()
    cleanup = home.cleanup
    let core = open(home.dir)
    // A plan of two baseline runs; the first trains long enough to be stopped mid-run.
    const exp = core.plans.start({
      student: 'mlp',
      variants: ['baseline'],
      seeds: [1, 2],
      training: { epochs: 6, maxTrainSamples: 256, batchSize: 64 },
    })
    const [first, second] = exp.runs.map((r) => r.id) as [number, number]
    await epochReached(core, first, 1)
    await core.close()
    cores.splice(cores.indexOf(core), 1)

    const stopped = open(home.dir)
    core = stopped
    expect(core.store.runs.get(first)!.status).toBe('interrupted')
    // The queued run was cut off by the same stop: interrupted, not "cancelled" (nobody cancelled it).
    const queuedOne = core.store.runs.get(second)!
    expect(queuedOne.status).toBe('interrupted')
    expect(queuedOne.failureReason).toMatch(/shut down before this run started/)
    const plan = summarizePlan(core.store.experiments.get(exp.id)!.runCounts, 'active')
    expect(plan.state).toBe('stopped')
    expect(plan.ended).toBe(0)
    expect(plan.words).toBe('stopped · 2 interrupted · resume to continue')

    // Downtime: the host is "down" a while before the resume; training time must not count it.
    await new Promise((r) => setTimeout(r, 1500))
    const statuses: RunStatusEvent[] = []
    core.on('runs:status', (s) => statuses.push(s))
    const fresh = core.handlers['runs:start']({ model: 'mlp', epochs: 1, maxTrainSamples: 256 }) as {
      runId: number
    }
    core.runs.enqueue([first])
    // Listed in the order the host runs them: the new run (queued first), then the resumed one.
    const order = inExecutionOrder(core.store.runs.list()).map((r) => r.id)
    expect(order).toEqual([fresh.runId, first])
    expect(core.store.runs.get(first)!.queuedAt!).toBeGreaterThanOrEqual(
      core.store.runs.get(fresh.runId)!.queuedAt!,
    )
    const a = await core.runs.waitFor(fresh.runId)
    const b = await core.runs.waitFor(first)
    expect([a.status, b.status]).toEqual(['completed', 'completed'])
    const started = statuses.filter((s) => s.status === 'running').map((s) => s.runId)
    expect(started).toEqual([fresh.runId, first])

    const resumed = core.store.runs.detail(first)!
    const epochSum = resumed.metrics.reduce((s, m) => s + m.durationMs, 0)
    expect(resumed.trainingMs).toBe(Math.round(epochSum))
    expect(resumed.trainingMs!).toBeGreaterThan(0)
    const wall = resumed.finishedAt! - resumed.startedAt!
    expect(wall - resumed.trainingMs!).toBeGreaterThan(1500)
    expect(resumed.checkpoints!.map((c) => c.kind)).toContain('epoch')

    // Rerun of a completed run: a new run, same config, recorded as its rerun, outside the plan.
    const rerun = core.runs.rerun(first)
    expect(rerun.id).not.toBe(first)
    expect(rerun.rerunOf).toBe(first)
    expect(rerun.experimentId).toBeNull()
    expect(() => core.runs.rerun(rerun.id)).toThrow(/is (queued|running); rerun it once it has ended/)
    const done = await core.runs.waitFor(rerun.id)
    expect(done.status).toBe('completed')
    const original = core.store.runs.detail(first)!
    const copy = core.store.runs.detail(rerun.id)!
    expect(copy.config).toEqual(original.config)
    expect(original.reruns).toEqual([rerun.id])
    // The plan still counts its own two runs only.
    expect(summarizePlan(core.store.experiments.get(exp.id)!.runCounts, 'active').words).toBe(
      'stopped · 1 interrupted · resume to continue',
    )
    // Deleting the original leaves the rerun, its link cleared.
    await core.dispatch('runs:delete', { runIds: [first] })
    expect(core.store.runs.get(rerun.id)!.rerunOf).toBeNull()
  }, 120_000)
})
