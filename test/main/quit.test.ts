/**
 * How the desktop app's main process stops (src/main/quit.ts), with `electron` mocked, a real core,
 * real trainer processes and a real SQLite file:
 * - SIGTERM / SIGINT: the running run is cancelled at its next batch with its checkpoint kept, the
 *   queued one interrupted, the core closed, and the app exits with 143 / 130;
 * - a second signal stops at once, the run still recorded `cancelled`;
 * - a normal quit (before-quit) waits for the core: runs `interrupted`, then the app quits.
 */
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { resolveRunConfig } from '../../src/shared/schemas'
import { installQuitHandling } from '../../src/main/quit'
import { requireBuiltTrainer, tempHome } from '../helpers'

vi.mock('electron', () => ({ app: {}, utilityProcess: {} }))

let cleanup: (() => void) | undefined
let dispose: (() => void) | undefined
afterEach(() => {
  dispose?.()
  cleanup?.()
})

function setup() {
  const home = tempHome('tfkd-quit-')
  cleanup = home.cleanup
  let core: AppCore | null = createAppCore({
    dataHome: home.dir,
    host: 'electron',
    spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
  })
  const opened = core
  const app = Object.assign(new EventEmitter(), { quit: vi.fn(), exit: vi.fn() })
  const exited = new Promise<number>((resolve) => app.exit.mockImplementation((code = 0) => resolve(code)))
  const signals = new EventEmitter()
  const stop = installQuitHandling({
    app,
    getCore: () => core,
    releaseCore: () => void (core = null),
    closeTimeoutMs: 15_000,
    source: signals,
    log: () => undefined,
  })
  dispose = () => stop.dispose()
  const config = resolveRunConfig({ model: 'mlp', epochs: 8, maxTrainSamples: 1000 })
  const running = opened.runs.start(config)
  const queued = opened.runs.start(config)
  const firstEpoch = new Promise<void>((resolve) => {
    opened.on('runs:epoch', (e) => e.runId === running.id && resolve())
  })
  const rows = () => {
    const db = new Database(join(home.dir, 'tfkd.sqlite'), { readonly: true })
    try {
      return db.prepare('SELECT id, status, failure_reason AS reason FROM runs ORDER BY id').all()
    } finally {
      db.close()
    }
  }
  const checkpoints = () => {
    const db = new Database(join(home.dir, 'tfkd.sqlite'), { readonly: true })
    try {
      return (
        db.prepare('SELECT path FROM checkpoints WHERE run_id = ?').all(running.id) as { path: string }[]
      ).map((c) => c.path)
    } finally {
      db.close()
    }
  }
  return { app, exited, signals, firstEpoch, rows, checkpoints, ids: [running.id, queued.id] }
}

describe('desktop app: signals and quit', () => {
  it('SIGTERM cancels the running run at its next batch, interrupts the queued one, and exits 143', async () => {
    const t = setup()
    await t.firstEpoch
    t.signals.emit('SIGTERM')
    expect(await t.exited).toBe(143)
    expect(t.rows()).toEqual([
      {
        id: t.ids[0],
        status: 'cancelled',
        reason: 'tfkd received SIGTERM; resume it to continue from its last checkpoint',
      },
      {
        id: t.ids[1],
        status: 'interrupted',
        reason: 'tfkd received SIGTERM before this run started; resume it to train it',
      },
    ])
    // Its epoch checkpoints are kept for the resume.
    expect(t.checkpoints().length).toBeGreaterThan(0)
    for (const p of t.checkpoints()) expect(existsSync(p), p).toBe(true)
    // The core was closed before the exit: a quit afterwards has nothing to wait for.
    t.app.emit('before-quit', { preventDefault: () => expect.unreachable() })
  }, 120_000)

  it('a second Ctrl-C stops at once: the run is still recorded cancelled, exit 130', async () => {
    const t = setup()
    await t.firstEpoch
    t.signals.emit('SIGINT')
    t.signals.emit('SIGINT')
    expect(await t.exited).toBe(130)
    const [running] = t.rows() as { status: string; reason: string }[]
    expect(running).toMatchObject({ status: 'cancelled' })
    expect(running!.reason).toMatch(/^stopped at once: tfkd received SIGINT \(Ctrl-C\) twice/)
  }, 120_000)

  it('a normal quit waits for the core: running and queued runs interrupted, then the app quits', async () => {
    const t = setup()
    await t.firstEpoch
    const preventDefault = vi.fn()
    t.app.emit('before-quit', { preventDefault })
    expect(preventDefault).toHaveBeenCalled()
    await vi.waitFor(() => expect(t.app.quit).toHaveBeenCalled(), { timeout: 15_000 })
    expect((t.rows() as { status: string }[]).map((r) => r.status)).toEqual(['interrupted', 'interrupted'])
    expect(t.app.exit).not.toHaveBeenCalled()
  }, 120_000)
})
