/**
 * The host side of training, with real trainer processes (out/node/trainer.js), a real SQLite file
 * and real training on mnist-10k slices.
 */
import { existsSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterEach, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import type { SpawnTrainer, TrainerHandle } from '../../src/core/train/trainer-handle'
import type { RunStatusEvent } from '../../src/shared/types'
import { requireBuiltTrainer, tempHome } from '../helpers'

let core: AppCore | undefined
let cleanup: (() => void) | undefined
afterEach(async () => {
  await core?.close()
  core = undefined
  cleanup?.()
})

function setup(opts: { cancelGraceMs?: number } = {}) {
  const home = tempHome()
  cleanup = home.cleanup
  const handles: TrainerHandle[] = []
  const fork = createForkSpawner(requireBuiltTrainer(), { silent: true })
  const spawnTrainer: SpawnTrainer = (o) => {
    const h = fork(o)
    handles.push(h)
    return h
  }
  core = createAppCore({ dataHome: home.dir, host: 'cli', spawnTrainer, ...opts })
  return { core, handles, home: home.dir }
}

describe('run service with a real trainer process', () => {
  it('trains a tiny run to completion and records it with its epochs, checkpoints and backend', async () => {
    const { core } = setup()
    const statuses: RunStatusEvent[] = []
    core.on('runs:status', (s) => statuses.push(s))
    const res = await core.dispatch('runs:start', { model: 'mlp', epochs: 2, maxTrainSamples: 512 })
    expect(res.ok).toBe(true)
    const runId = (res as { value: { runId: number } }).value.runId
    const done = await core.runs.waitFor(runId)
    expect(done.status).toBe('completed')
    expect(done.testAccuracy).toBeGreaterThan(0.5)
    expect(done.backend).toBe('wasm')
    expect(done.epochsDone).toBe(2)
    expect(statuses.map((s) => s.status)).toEqual(['queued', 'running', 'completed'])
    const detail = core.store.runs.detail(runId)!
    expect(detail.metrics.map((m) => m.epoch)).toEqual([1, 2])
    const ckpt = core.store.checkpoints.latest(runId)!
    expect(ckpt.epoch).toBe(2)
    expect(existsSync(ckpt.path)).toBe(true)
  })

  it('SIGKILL of the trainer mid-run: database intact, epochs kept, run marked failed', async () => {
    const { core, handles } = setup()
    const { runId } = core.handlers['runs:start']({
      model: 'cnn-small',
      epochs: 20,
      maxTrainSamples: 512,
    }) as {
      runId: number
    }
    await new Promise<void>((resolve) => {
      const off = core.on('runs:epoch', (e) => {
        if (e.runId === runId && e.metrics.epoch === 2) {
          off()
          resolve()
        }
      })
    })
    process.kill(handles[0]!.pid!, 'SIGKILL')
    const done = await core.runs.waitFor(runId)
    expect(done.status).toBe('failed')
    expect(done.failureReason).toMatch(/killed by SIGKILL/)
    expect(core.store.db.pragma('integrity_check', { simple: true })).toBe('ok')
    expect(core.store.runs.metrics(runId).length).toBeGreaterThanOrEqual(2)
  })

  it('a native crash mid-run says how to avoid native code on the retry', async () => {
    const { core, handles } = setup()
    const { runId } = core.handlers['runs:start']({ model: 'mlp', epochs: 50, maxTrainSamples: 512 }) as {
      runId: number
    }
    await new Promise<void>((resolve) => {
      const off = core.on('runs:epoch', (e) => {
        if (e.runId === runId) {
          off()
          resolve()
        }
      })
    })
    process.kill(handles[0]!.pid!, 'SIGSEGV')
    const done = await core.runs.waitFor(runId)
    expect(done.status).toBe('failed')
    expect(done.failureReason).toMatch(
      /killed by SIGSEGV.*native code crashed.*TFKD_DISABLE_NATIVE_KERNELS=1/,
    )
  })

  it('cancels a running run between batches and a queued one before it starts', async () => {
    const { core } = setup()
    const a = core.runs.start({ ...(await defaults()), model: 'mlp', epochs: 50, maxTrainSamples: 4000 })
    const b = core.runs.start({ ...(await defaults()), model: 'mlp', epochs: 1 })
    await new Promise<void>((resolve) => {
      const off = core.on('runs:progress', (p) => {
        if (p.runId === a.id) {
          off()
          resolve()
        }
      })
    })
    expect(core.runs.cancel(b.id)).toBe(true)
    expect(core.runs.cancel(a.id)).toBe(true)
    const [da, db] = await Promise.all([core.runs.waitFor(a.id), core.runs.waitFor(b.id)])
    expect(da.status).toBe('cancelled')
    expect(da.failureReason).toBeNull()
    expect(db.status).toBe('cancelled')
    expect(db.startedAt).toBeNull()
  })

  it('fails a run whose trainer cannot start, saying why', async () => {
    const home = tempHome()
    cleanup = home.cleanup
    core = createAppCore({
      dataHome: home.dir,
      host: 'cli',
      spawnTrainer: createForkSpawner('/nonexistent/trainer.js', { silent: true }),
    })
    const run = core.runs.start({ ...(await defaults()) })
    const done = await core.runs.waitFor(run.id)
    expect(done.status).toBe('failed')
    expect(done.failureReason).toMatch(/trainer process exited with code 1/)
  })

  it('keeps the host event loop responsive while a run trains (max delay < 50 ms)', async () => {
    const { core } = setup()
    const h = monitorEventLoopDelay({ resolution: 5 })
    const run = core.runs.start({
      ...(await defaults()),
      model: 'cnn-small',
      epochs: 1,
      maxTrainSamples: 3000,
    })
    await new Promise<void>((resolve) => {
      const off = core.on('runs:status', (s) => {
        if (s.runId === run.id && s.status === 'running') {
          off()
          resolve()
        }
      })
    })
    h.enable()
    const done = await core.runs.waitFor(run.id)
    h.disable()
    expect(done.status).toBe('completed')
    const maxMs = h.max / 1e6
    console.log(
      `host event-loop delay while training: p50 ${(h.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms, max ${maxMs.toFixed(1)} ms`,
    )
    expect(maxMs).toBeLessThan(50)
  })
})

async function defaults() {
  const { resolveRunConfig } = await import('../../src/shared/schemas')
  return resolveRunConfig({})
}
