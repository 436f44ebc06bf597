/**
 * Crash test (issue 11): kill -9 the whole `tfkd` process group (host and trainer) at chosen and
 * random points of an experiment, restart, resume, and check what a user would find:
 * - the database passes `PRAGMA integrity_check`;
 * - after the restart no run is left `queued` or `running` (each is final or resumable);
 * - `tfkd experiments resume` completes every run;
 * - no epoch is lost or recorded twice, no checkpoint row is duplicated;
 * - the resumed runs' metrics equal those of an uninterrupted run of the same plan.
 *
 * Kill points cycle through: right after the runs are stored (before any trainer reports
 * "started"), right after an epoch is recorded (the trainer is writing that epoch's checkpoint),
 * once a run's last epoch is checkpointed (final test evaluation), and a random moment.
 *
 * CI runs 10 iterations; `TFKD_CRASH_ITERATIONS=50` runs the local campaign of the issue.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseWire } from '../../src/shared/wire-json'
import type { RunSummary } from '../../src/shared/types'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../helpers'

const ITERATIONS = Number(process.env.TFKD_CRASH_ITERATIONS ?? 10)
/** A long local campaign may run a frozen copy of the build (`TFKD_CRASH_CLI=/copy/bin/tfkd.js`). */
const CLI = process.env.TFKD_CRASH_CLI ?? CLI_ENTRY
const PLAN = [
  '--variants',
  'baseline,lsr',
  '--seeds',
  '1',
  '--model',
  'mlp',
  '--epochs',
  '2',
  '--max-train',
  '128',
]
const KILL_POINTS = ['after-insert', 'during-checkpoint', 'final-evaluation', 'random'] as const
type KillPoint = (typeof KILL_POINTS)[number]

interface MetricRow {
  run_id: number
  epoch: number
  train_loss: number
  train_accuracy: number
  val_loss: number
  val_accuracy: number
}

const tmp = tempHome('tfkd-crash-')
afterAll(() => tmp.cleanup())

function tfkd(home: string, args: string[], timeoutMs = 300_000) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, TFKD_HOME: home },
    encoding: 'utf8',
    timeout: timeoutMs,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** Reads the database as another process would (read-only, beside the writer). */
function peek<T>(home: string, read: (db: Database.Database) => T): T | undefined {
  const file = join(home, 'tfkd.sqlite')
  if (!existsSync(file)) return undefined
  let db: Database.Database | undefined
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
    db.pragma('busy_timeout = 2000')
    return read(db)
  } catch {
    return undefined // not created yet, or mid-migration
  } finally {
    db?.close()
  }
}

/** Whether the kill point has been reached, judged from what the host has committed. */
function reached(point: KillPoint, home: string, target: { epochs: number; deadline: number }): boolean {
  if (point === 'random') return Date.now() >= target.deadline
  return (
    peek(home, (db) => {
      if (point === 'after-insert') {
        return (db.prepare(`SELECT COUNT(*) AS n FROM runs`).get() as { n: number }).n > 0
      }
      if (point === 'during-checkpoint') {
        return (
          (db.prepare('SELECT COUNT(*) AS n FROM epoch_metrics').get() as { n: number }).n >= target.epochs
        )
      }
      // The last epoch's checkpoint is recorded and the run is not completed: final evaluation.
      return (
        (
          db
            .prepare(
              `SELECT COUNT(*) AS n FROM runs r JOIN checkpoints c ON c.run_id = r.id
               WHERE c.epoch = r.epochs_planned AND r.status != 'completed'`,
            )
            .get() as { n: number }
        ).n > 0
      )
    }) ?? false
  )
}

/**
 * kill -9 of the host's process group and of its trainer, which runs in a process group of its own
 * (so that a terminal's Ctrl-C reaches only the host): a power cut, as far as the data folder knows.
 */
function killGroup(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' })
    const trainers = ps.stdout.split(/\s+/).filter(Boolean).map(Number)
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      resolve()
    }
    for (const pid of trainers) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  })
}

/** Starts the plan in its own process group and kills the group at the kill point. */
async function runAndKill(home: string, point: KillPoint, rand: () => number): Promise<{ killedAt: string }> {
  const child = spawn(process.execPath, [CLI, 'run', ...PLAN, '--no-progress'], {
    env: { ...process.env, TFKD_HOME: home },
    detached: true,
    stdio: 'ignore',
  })
  const target = { epochs: 1 + Math.floor(rand() * 3), deadline: Date.now() + 500 + rand() * 12_000 }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let done = false
  void exited.then(() => (done = true))
  const started = Date.now()
  while (!done && Date.now() - started < 240_000) {
    if (reached(point, home, target)) break
    await new Promise((r) => setTimeout(r, 10))
  }
  const state = peek(home, (db) =>
    (
      db.prepare('SELECT status, COUNT(*) AS n FROM runs GROUP BY status').all() as {
        status: string
        n: number
      }[]
    )
      .map((r) => `${r.n} ${r.status}`)
      .join(', '),
  )
  const killedAt = done
    ? 'after it finished'
    : `${point} +${Date.now() - started} ms, runs: ${state || 'none'}`
  await killGroup(child)
  // Make sure nothing of the trainer is left writing.
  await new Promise((r) => setTimeout(r, 100))
  return { killedAt }
}

function metrics(home: string): Map<string, MetricRow[]> {
  const out = new Map<string, MetricRow[]>()
  peek(home, (db) => {
    const runs = db.prepare('SELECT id, variant, test_accuracy, test_loss FROM runs ORDER BY id').all() as {
      id: number
      variant: string
      test_accuracy: number
      test_loss: number
    }[]
    for (const r of runs) {
      const rows = db
        .prepare(
          'SELECT run_id, epoch, train_loss, train_accuracy, val_loss, val_accuracy FROM epoch_metrics WHERE run_id = ? ORDER BY epoch',
        )
        .all(r.id) as MetricRow[]
      out.set(
        r.variant,
        rows.map((m) => ({ ...m, run_id: 0 })),
      )
      out.set(`${r.variant}:test`, [
        {
          run_id: 0,
          epoch: 0,
          train_loss: r.test_loss,
          train_accuracy: r.test_accuracy,
          val_loss: 0,
          val_accuracy: 0,
        },
      ])
    }
  })
  return out
}

function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe(`crash test: ${ITERATIONS} kill -9s of the host's process group`, () => {
  let reference: Map<string, MetricRow[]>

  beforeAll(() => {
    requireBuiltTrainer()
    const home = join(tmp.dir, 'reference')
    const r = tfkd(home, ['run', ...PLAN, '--no-progress'])
    expect(r.code, r.err).toBe(0)
    reference = metrics(home)
    expect(reference.get('baseline')).toHaveLength(2)
    expect(reference.get('lsr')).toHaveLength(2)
  }, 600_000)

  it(
    'leaves an intact database, no stuck run, and a resume that reproduces the uninterrupted metrics',
    async () => {
      const rand = mulberry32(Number(process.env.TFKD_CRASH_SEED ?? 11))
      const summary: string[] = []
      for (let i = 0; i < ITERATIONS; i++) {
        const home = join(tmp.dir, `kill-${i}`)
        const point = KILL_POINTS[i % KILL_POINTS.length]!
        const { killedAt } = await runAndKill(home, point, rand)
        const label = `iteration ${i} (killed ${killedAt})`

        // Restart: a read-only command settles what the dead host left behind.
        const listed = tfkd(home, ['runs', '--json'])
        expect(listed.code, `${label}: ${listed.err}`).toBe(0)
        const after = existsSync(join(home, 'tfkd.sqlite'))
          ? (parseWire(listed.out.startsWith('[') ? listed.out : '[]') as RunSummary[])
          : []
        for (const r of after) expect(['queued', 'running'], `${label}: run ${r.id}`).not.toContain(r.status)
        expect(peek(home, (db) => db.pragma('integrity_check', { simple: true })) ?? 'ok', label).toBe('ok')

        const exp = peek(
          home,
          (db) => db.prepare('SELECT id FROM experiments').get() as { id: number } | undefined,
        )
        if (exp) {
          const resumed = tfkd(home, ['experiments', 'resume', String(exp.id)])
          expect(resumed.code, `${label}: ${resumed.out}${resumed.err}`).toBe(0)
        }
        const final = peek(home, (db) => ({
          statuses: db.prepare('SELECT status FROM runs').all() as { status: string }[],
          integrity: db.pragma('integrity_check', { simple: true }) as string,
          dupCheckpoints: (
            db
              .prepare(
                'SELECT COUNT(*) AS n FROM (SELECT run_id, epoch, kind, path, COUNT(*) AS c FROM checkpoints GROUP BY 1, 2, 3, 4 HAVING c > 1)',
              )
              .get() as { n: number }
          ).n,
        }))
        if (final) {
          expect(final.integrity, label).toBe('ok')
          expect(final.dupCheckpoints, label).toBe(0)
          // A plan killed before it stored its runs has nothing to resume; every stored run completes.
          expect(
            final.statuses.every((s) => s.status === 'completed'),
            `${label}: ${JSON.stringify(final.statuses)}`,
          ).toBe(true)
          if (final.statuses.length > 0) {
            const got = metrics(home)
            for (const [key, rows] of reference) expect(got.get(key), `${label}: ${key}`).toEqual(rows)
          }
        }
        summary.push(
          `${label}: ${final ? `${final.statuses.length} runs completed, integrity ${final.integrity}` : 'nothing stored'}`,
        )
      }
      console.log(`crash test, ${ITERATIONS} iterations:\n  ${summary.join('\n  ')}`)
    },
    Math.max(600_000, ITERATIONS * 120_000),
  )
})

/**
 * Signals (issue 25): Ctrl-C in a terminal (SIGINT to the whole process group), SIGTERM or SIGHUP
 * to the host alone. The running run ends `cancelled` at its next batch with its last checkpoint
 * kept, queued runs `interrupted`, the trainer (its own process group) is stopped by the host,
 * nothing is left `running`, the exit code is 128 + the signal, and a resume completes every run.
 */
const SIGNAL_PLAN = [
  '--seeds',
  '1',
  '--model',
  'mlp',
  '--epochs',
  '3',
  '--max-train',
  '1000',
  '--no-progress',
]

interface Watched {
  child: ChildProcess
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Every process the host started (its trainers), seen while it ran. */
  children: Set<number>
}

/** Starts `tfkd` in its own process group (as a terminal runs a command), noting its children. */
function startTfkd(home: string, args: string[]): Watched {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, TFKD_HOME: home },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
  const children = new Set<number>()
  const timer = setInterval(() => {
    const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' })
    for (const pid of ps.stdout.split(/\s+/).filter(Boolean)) children.add(Number(pid))
  }, 50)
  // stderr closes once every process holding it (the host and a trainer it left) is gone.
  const stderrClosed = new Promise<void>((resolve) => child.stderr!.once('close', () => resolve()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      clearInterval(timer)
      void Promise.race([stderrClosed, new Promise((r) => setTimeout(r, 5000))]).then(() =>
        resolve({ code, signal }),
      )
    }),
  )
  return { child, stderr: () => err, exited, children }
}

async function until(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function epochsOf(home: string, runId: number): number[] {
  return (
    peek(home, (db) =>
      (
        db.prepare('SELECT epoch FROM epoch_metrics WHERE run_id = ? ORDER BY epoch').all(runId) as {
          epoch: number
        }[]
      ).map((r) => r.epoch),
    ) ?? []
  )
}

function runRows(home: string): { id: number; status: string; failure_reason: string | null }[] {
  return (
    peek(
      home,
      (db) =>
        db.prepare('SELECT id, status, failure_reason FROM runs ORDER BY id').all() as {
          id: number
          status: string
          failure_reason: string | null
        }[],
    ) ?? []
  )
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The state after a signal: run 1 cancelled with its epoch-1 checkpoint, the rest interrupted. */
function expectCancelledAndKept(home: string, signalName: string, w: Watched): void {
  const rows = runRows(home)
  expect(rows[0], w.stderr()).toMatchObject({ id: 1, status: 'cancelled' })
  expect(rows[0]!.failure_reason).toContain(`tfkd received ${signalName}`)
  for (const r of rows.slice(1)) expect(r.status, `run ${r.id}`).toBe('interrupted')
  const ckpt = peek(
    home,
    (db) =>
      db
        .prepare("SELECT epoch, path FROM checkpoints WHERE run_id = 1 AND kind = 'epoch' ORDER BY epoch")
        .all() as {
        epoch: number
        path: string
      }[],
  )!
  expect(ckpt.length).toBeGreaterThanOrEqual(1)
  for (const c of ckpt) expect(existsSync(c.path), c.path).toBe(true)
  expect(peek(home, (db) => db.pragma('integrity_check', { simple: true }))).toBe('ok')
  // The host stopped its trainer; nothing of the run is left behind or printed a stack.
  expect(w.children.size, 'the host started a trainer').toBeGreaterThan(0)
  for (const pid of w.children) expect(alive(pid), `trainer ${pid}`).toBe(false)
  expect(w.stderr()).not.toMatch(/ERR_IPC_CHANNEL_CLOSED|\n\s+at .*(node:internal|\.[cm]?js:\d+)/)
}

describe('signals: Ctrl-C, SIGTERM and SIGHUP cancel cleanly', () => {
  beforeAll(() => requireBuiltTrainer())

  it('Ctrl-C (SIGINT to the process group) during a plan: 130, run cancelled, checkpoint kept, resume completes', async () => {
    const home = join(tmp.dir, 'sigint-group')
    const w = startTfkd(home, ['run', '--variants', 'baseline,lsr', ...SIGNAL_PLAN])
    await until('epoch 1 of run 1', () => epochsOf(home, 1).length >= 1)
    process.kill(-w.child.pid!, 'SIGINT')
    const { code, signal } = await w.exited
    expect({ code, signal }, w.stderr()).toEqual({ code: 130, signal: null })
    expect(w.stderr()).toMatch(/SIGINT \(Ctrl-C\): cancelling the running run at its next batch/)
    expectCancelledAndKept(home, 'SIGINT', w)
    const kept = epochsOf(home, 1)

    const resumed = tfkd(home, ['experiments', 'resume', '1'])
    expect(resumed.code, resumed.err).toBe(0)
    expect(runRows(home).map((r) => r.status)).toEqual(['completed', 'completed'])
    // The cancelled run continued from its checkpoint: no epoch trained twice or lost.
    expect(epochsOf(home, 1)).toEqual([1, 2, 3])
    expect(kept.length).toBeGreaterThanOrEqual(1)
  }, 300_000)

  it('SIGTERM to the host alone: 143, the trainer is stopped by its host, no IPC stack; resume completes', async () => {
    const home = join(tmp.dir, 'sigterm-alone')
    const w = startTfkd(home, ['run', '--variants', 'baseline', ...SIGNAL_PLAN])
    await until('epoch 1 of run 1', () => epochsOf(home, 1).length >= 1)
    process.kill(w.child.pid!, 'SIGTERM')
    const { code, signal } = await w.exited
    expect({ code, signal }, w.stderr()).toEqual({ code: 143, signal: null })
    expectCancelledAndKept(home, 'SIGTERM', w)
    const resumed = tfkd(home, ['experiments', 'resume', '1'])
    expect(resumed.code, resumed.err).toBe(0)
    expect(runRows(home).map((r) => r.status)).toEqual(['completed'])
    expect(epochsOf(home, 1)).toEqual([1, 2, 3])
  }, 300_000)

  it('SIGHUP (the terminal closed) to a single `tfkd run`: 129 and the run cancelled', async () => {
    const home = join(tmp.dir, 'sighup')
    const w = startTfkd(home, [
      'run',
      '--model',
      'mlp',
      '--epochs',
      '3',
      '--max-train',
      '1000',
      '--no-progress',
    ])
    await until('epoch 1', () => epochsOf(home, 1).length >= 1)
    process.kill(w.child.pid!, 'SIGHUP')
    const { code } = await w.exited
    expect(code, w.stderr()).toBe(129)
    expectCancelledAndKept(home, 'SIGHUP', w)
  }, 300_000)

  it('a second Ctrl-C stops at once, still leaving the run cancelled (never running)', async () => {
    const home = join(tmp.dir, 'sigint-twice')
    const w = startTfkd(home, ['run', '--variants', 'baseline,lsr', ...SIGNAL_PLAN])
    await until('epoch 1 of run 1', () => epochsOf(home, 1).length >= 1)
    process.kill(-w.child.pid!, 'SIGINT')
    await until('the first Ctrl-C to be taken', () => /cancelling the running run/.test(w.stderr()), 10_000)
    process.kill(-w.child.pid!, 'SIGINT')
    const { code } = await w.exited
    expect(code, w.stderr()).toBe(130)
    expect(runRows(home).map((r) => r.status)).toEqual(['cancelled', 'interrupted'])
    expectCancelledAndKept(home, 'SIGINT', w)
  }, 300_000)

  it('kill -9 of the host alone: its trainer notices and exits quietly (no ERR_IPC_CHANNEL_CLOSED)', async () => {
    const home = join(tmp.dir, 'sigkill-host')
    const w = startTfkd(home, [
      'run',
      '--model',
      'mlp',
      '--epochs',
      '8',
      '--max-train',
      '1000',
      '--no-progress',
    ])
    await until('epoch 1', () => epochsOf(home, 1).length >= 1)
    process.kill(w.child.pid!, 'SIGKILL')
    await w.exited
    await until('the orphaned trainer to exit', () => [...w.children].every((p) => !alive(p)), 5000)
    expect(w.stderr()).not.toMatch(/ERR_IPC_CHANNEL_CLOSED|\n\s+at .*(node:internal|\.[cm]?js:\d+)/)
  }, 300_000)
})
