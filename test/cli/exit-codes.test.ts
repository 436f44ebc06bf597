/**
 * Exit codes and leftovers (issue 25), with real `tfkd` processes and a real data folder:
 * - a plan or an experiment resume with a failed run exits 1 (it printed {"failed":1} and exited 0);
 * - bad input exits 2 whichever layer refuses it (commander's flag parsing, the plan, the config);
 * - `tfkd --help` lists the exit codes;
 * - opening the data folder removes what a killed process left (import folders, checkpoint temp
 *   files of a writer that is gone) and names what it removed; a live writer's files stay;
 * - `tfkd serve` exits within 1 s of SIGTERM (143), with a run training, which ends `cancelled`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../helpers'

/** A frozen copy of the build may stand in (`TFKD_CRASH_CLI=/copy/bin/tfkd.js`), as in crash.test.ts. */
const CLI = process.env.TFKD_CRASH_CLI ?? CLI_ENTRY
const tmp = tempHome('tfkd-exit-')
afterAll(() => tmp.cleanup())
beforeAll(() => void requireBuiltTrainer())

function tfkd(home: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, TFKD_HOME: home },
    encoding: 'utf8',
    timeout: 240_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

function statuses(home: string): string[] {
  const db = new Database(join(home, 'tfkd.sqlite'), { readonly: true, fileMustExist: true })
  try {
    return (db.prepare('SELECT status FROM runs ORDER BY id').all() as { status: string }[]).map(
      (r) => r.status,
    )
  } finally {
    db.close()
  }
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  })
  return Number(r.stdout)
}

describe('exit codes', () => {
  it('a plan with a failed run exits 1, and so does its resume while the run still fails', () => {
    const home = join(tmp.dir, 'plan-fails')
    // A file where run 2's checkpoint folder goes: run 2 fails ("cannot create the checkpoint folder").
    mkdirSync(join(home, 'checkpoints'), { recursive: true })
    writeFileSync(join(home, 'checkpoints', '2'), 'not a folder')
    const plan = ['--variants', 'baseline,lsr', '--seeds', '1', '--model', 'mlp', '--epochs', '1']
    const r = tfkd(home, ['run', ...plan, '--max-train', '128', '--no-progress'])
    expect(r.out).toContain('{"completed":1,"failed":1}')
    expect(r.code, r.out + r.err).toBe(1)
    expect(statuses(home)).toEqual(['completed', 'failed'])

    const resumed = tfkd(home, ['experiments', 'resume', '1'])
    expect(resumed.out).toMatch(/run 2: failed \(cannot create the checkpoint folder/)
    expect(resumed.code, resumed.out + resumed.err).toBe(1)
  }, 300_000)

  it('bad input exits 2 whichever layer refuses it', () => {
    const home = join(tmp.dir, 'bad-input')
    // commander's own parsing of a flag's value (the core's validation: cli.test.ts) ...
    expect(tfkd(home, ['run', '--epochs', 'two']).code).toBe(2)
    // ... and a value parsed inside the command.
    const variants = tfkd(home, ['run', '--variants', 'baseline,nope', '--seeds', '1'])
    expect(variants.err).toMatch(/--variants: unknown variant "nope"/)
    expect(variants.code).toBe(2)
  })

  it('tfkd --help lists the exit codes', () => {
    const help = tfkd(join(tmp.dir, 'help'), ['--help'])
    expect(help.code).toBe(0)
    expect(help.out).toMatch(/Exit codes:\n\s+0\s+every run completed/)
    expect(help.out).toMatch(/\n\s+1\s+a run failed/)
    expect(help.out).toMatch(/\n\s+2\s+bad input/)
    expect(help.out).toMatch(/\n\s+130\s+stopped by SIGINT \(Ctrl-C\)/)
    expect(help.out).toMatch(/\n\s+143\s+stopped by SIGTERM/)
  })
})

describe('leftovers of killed processes', () => {
  it('opening the data folder removes what a dead writer left, says what, and keeps a live writer’s files', () => {
    const home = join(tmp.dir, 'leftovers')
    mkdirSync(join(home, 'datasets'), { recursive: true })
    const dead = deadPid()
    const importDir = join(home, 'datasets', `.import-${dead}-Ab12Cd`)
    mkdirSync(importDir)
    writeFileSync(join(importDir, 'train.images'), Buffer.alloc(3 * 1024 * 1024))
    const legacy = join(home, 'datasets', '.import-Zy98Xw') // an older build's name: no pid
    mkdirSync(legacy)
    writeFileSync(join(legacy, 'train.labels'), Buffer.alloc(1000))
    const old = (Date.now() - 2 * 3_600_000) / 1000
    utimesSync(legacy, old, old)
    const runDir = join(home, 'checkpoints', '7')
    mkdirSync(runDir, { recursive: true })
    const deadTmp = join(runDir, `epoch-0002.tfkd.tmp-${dead}`)
    writeFileSync(deadTmp, Buffer.alloc(2048))
    // A writer that is alive (this test process) keeps its files.
    const liveImport = join(home, 'datasets', `.import-${process.pid}-Qq11Ww`)
    mkdirSync(liveImport)
    const liveTmp = join(runDir, `epoch-0003.tfkd.tmp-${process.pid}`)
    writeFileSync(liveTmp, 'x')
    const complete = join(runDir, 'epoch-0001.tfkd')
    writeFileSync(complete, 'a complete checkpoint')

    const r = tfkd(home, ['runs'])
    expect(r.code, r.err).toBe(0)
    expect(r.err).toContain(`tfkd: removed what a killed tfkd process left in ${home}`)
    expect(r.err).toContain(`datasets/.import-${dead}-Ab12Cd (3.0 MB)`)
    expect(r.err).toContain('datasets/.import-Zy98Xw (1000 B)')
    expect(r.err).toContain(`checkpoints/7/epoch-0002.tfkd.tmp-${dead} (2.0 kB)`)
    for (const p of [importDir, legacy, deadTmp]) expect(existsSync(p), p).toBe(false)
    for (const p of [liveImport, liveTmp, complete]) expect(existsSync(p), p).toBe(true)
    // Nothing left: the next start says nothing.
    expect(tfkd(home, ['runs']).err).not.toContain('removed what a killed')
  })
})

describe('tfkd serve', () => {
  it('exits within 1 s of SIGTERM (143), the run it was training cancelled with its checkpoint', async () => {
    const home = join(tmp.dir, 'serve')
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
      env: { ...process.env, TFKD_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    const url = await new Promise<URL>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString()
        const m = /http:\/\/\S+\?token=\S+/.exec(out)
        if (m) resolve(new URL(m[0]))
      })
      child.once('exit', () => reject(new Error(`serve exited: ${err}`)))
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const started = await fetch(new URL('/api/invoke/runs:start', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tfkd-token': url.searchParams.get('token')! },
      body: JSON.stringify({ model: 'mlp', epochs: 8, maxTrainSamples: 1000 }),
    })
    expect(started.status).toBe(200)
    const db = new Database(join(home, 'tfkd.sqlite'), { readonly: true, fileMustExist: true })
    try {
      const epochs = () => (db.prepare('SELECT COUNT(*) AS n FROM epoch_metrics').get() as { n: number }).n
      const t0 = Date.now()
      while (epochs() < 1 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20))
    } finally {
      db.close()
    }
    const sentAt = Date.now()
    process.kill(child.pid!, 'SIGTERM')
    const code = await exited
    const tookMs = Date.now() - sentAt
    expect(code, err).toBe(143)
    expect(tookMs, err).toBeLessThan(1000)
    expect(statuses(home)).toEqual(['cancelled'])
  }, 180_000)
})
