/**
 * Full disks, unwritable and read-only folders as ordinary errors (issue 11), through the real
 * `tfkd` process:
 * - an unwritable checkpoint folder ends the run `failed` with a message naming the path and what
 *   to do, never leaves it `queued`, and leaves no file under a final name;
 * - a data folder this user cannot write still answers `tfkd runs --json` and `compare`;
 * - a disk that fills up mid-run (a 4 MB tmpfs) ends the run with a clear message, the host exits
 *   normally (no uncaught exception), the database stays intact, and no checkpoint is truncated.
 *
 * The user switch needs root (setpriv to `nobody`) or a non-root user (plain chmod); the tmpfs
 * needs root (mount). Where neither is possible the test says so and skips.
 */
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { readCheckpoint } from '../../src/core/train/checkpoint'
import type { RunSummary } from '../../src/shared/types'
import { parseWire } from '../../src/shared/wire-json'
import { CLI_ENTRY, ROOT, requireBuiltTrainer, tempHome } from '../helpers'

const NOBODY = 65534
const isRoot = process.getuid?.() === 0
const tmp = tempHome('tfkd-storage-')
chmodSync(tmp.dir, 0o755)
afterAll(() => tmp.cleanup())

/** How to run tfkd as a user for whom chmod means something; null when impossible here. */
function unprivilegedPrefix(): string[] | null {
  if (!isRoot) return []
  const r = spawnSync('setpriv', [
    '--reuid',
    String(NOBODY),
    '--regid',
    String(NOBODY),
    '--clear-groups',
    'true',
  ])
  if (r.status !== 0) return null
  // nobody must be able to read the build and node_modules.
  const probe = spawnSync('setpriv', [
    '--reuid',
    String(NOBODY),
    '--regid',
    String(NOBODY),
    '--clear-groups',
    process.execPath,
    '-e',
    `require('fs').accessSync(${JSON.stringify(CLI_ENTRY)})`,
  ])
  if (probe.status !== 0) return null
  return ['setpriv', '--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups']
}
const asUser = unprivilegedPrefix()
if (!asUser)
  console.warn('skipping the permission tests: cannot switch to an unprivileged user (needs setpriv as root)')

function tfkd(home: string, args: string[], prefix: string[] = []) {
  const cmd = [...prefix, process.execPath, CLI_ENTRY, ...args]
  const r = spawnSync(cmd[0]!, cmd.slice(1), {
    env: { ...process.env, TFKD_HOME: home },
    encoding: 'utf8',
    timeout: 240_000,
    cwd: ROOT,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** A data home owned by the unprivileged user, initialised by it. */
function ownedHome(name: string): string {
  const home = join(tmp.dir, name)
  mkdirSync(home)
  if (isRoot) chownSync(home, NOBODY, NOBODY)
  expect(tfkd(home, ['runs'], asUser!).code).toBe(0)
  return home
}

function runsJson(home: string, prefix: string[] = []): RunSummary[] {
  const r = tfkd(home, ['runs', '--json'], prefix)
  expect(r.code, r.err).toBe(0)
  return parseWire(r.out) as RunSummary[]
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
}

describe.skipIf(!asUser)('unwritable and read-only data folders', () => {
  it('an unwritable checkpoints folder: the run fails naming the path, nothing stays queued', () => {
    requireBuiltTrainer()
    const home = ownedHome('no-checkpoints')
    chmodSync(join(home, 'checkpoints'), 0o555)
    const r = tfkd(
      home,
      ['run', '--model', 'mlp', '--epochs', '2', '--max-train', '128', '--no-progress'],
      asUser!,
    )
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      `run 1 failed: cannot create the checkpoint folder ${join(home, 'checkpoints', '1')}`,
    )
    expect(r.err).toMatch(/permission denied: .*set TFKD_HOME/)
    expect(r.err).not.toMatch(/\n\s+at /) // no stack trace
    const [run] = runsJson(home, asUser!)
    expect(run!.status).toBe('failed')
    expect(run!.failureReason).toContain(join(home, 'checkpoints', '1'))
    expect(filesUnder(join(home, 'checkpoints'))).toEqual([])
  })

  it("an unwritable run folder: the trainer's checkpoint write fails the run, no file under a final name", () => {
    const home = ownedHome('no-run-folder')
    mkdirSync(join(home, 'checkpoints', '1'))
    if (isRoot) chownSync(join(home, 'checkpoints', '1'), NOBODY, NOBODY)
    chmodSync(join(home, 'checkpoints', '1'), 0o555)
    const r = tfkd(
      home,
      ['run', '--model', 'mlp', '--epochs', '2', '--max-train', '128', '--no-progress'],
      asUser!,
    )
    expect(r.code).toBe(1)
    expect(r.err).toMatch(
      /run 1 failed: cannot write the checkpoint .*checkpoints\/1\/(best|epoch-0001)\.tfkd: permission denied/,
    )
    expect(runsJson(home, asUser!)[0]!.status).toBe('failed')
    expect(filesUnder(join(home, 'checkpoints', '1'))).toEqual([])
  })

  it('a data folder this user cannot write: runs --json and compare still work, a new run says why not', () => {
    const home = join(tmp.dir, 'read-only')
    // Written by its owner (this process), then read by another user.
    expect(
      tfkd(home, [
        'run',
        '--variants',
        'baseline,lsr',
        '--seeds',
        '1',
        '--model',
        'mlp',
        '--epochs',
        '1',
        '--max-train',
        '128',
        '--no-progress',
      ]).code,
    ).toBe(0)
    chmodSync(home, 0o755)
    if (!isRoot) chmodSync(home, 0o555)
    const prefix = asUser!
    const runs = runsJson(home, prefix)
    expect(runs.map((x) => x.status)).toEqual(['completed', 'completed'])
    const cmp = tfkd(home, ['compare'], prefix)
    expect(cmp.code, cmp.err).toBe(0)
    expect(cmp.out).toContain('lsr')
    const blocked = tfkd(home, ['run', '--model', 'mlp', '--epochs', '1', '--no-progress'], prefix)
    expect(blocked.code).toBe(1)
    expect(blocked.err).toContain(`cannot write to the data folder ${home}`)
    expect(blocked.err).toContain('TFKD_HOME')
    if (!isRoot) chmodSync(home, 0o755)
  })
})

function canMountTmpfs(dir: string): boolean {
  if (!isRoot) return false
  mkdirSync(dir, { recursive: true })
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir])
  return r.status === 0
}

const fullDir = join(tmp.dir, 'full')
const mounted = canMountTmpfs(fullDir)
if (!mounted) console.warn('skipping the full-disk test: mounting a 4 MB tmpfs needs root (mount -t tmpfs)')
afterAll(() => {
  if (mounted) spawnSync('umount', ['-l', fullDir])
})

describe.skipIf(!mounted)('a disk that fills up mid-run (4 MB tmpfs)', () => {
  it('fails the run with a clear message, exits normally, and keeps the database and checkpoints whole', async () => {
    requireBuiltTrainer()
    const home = fullDir
    expect(tfkd(home, ['runs']).code).toBe(0)
    const child = spawn(
      process.execPath,
      [CLI_ENTRY, 'run', '--model', 'cnn-small', '--epochs', '12', '--max-train', '256', '--no-progress'],
      {
        env: { ...process.env, TFKD_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => void (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => void (err += d.toString()))
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    // Once the first epoch is in, fill every free byte.
    while (!out.includes('epoch 1/12')) {
      if (child.exitCode !== null) break
      await new Promise((r) => setTimeout(r, 20))
    }
    // Write zeros until the disk is full. (A fallocate of the size df reported fails outright, and
    // fills nothing, when the run's own writes shrink the free space in between.)
    // (Free space may reappear right after: the run removes the temp file of a checkpoint it could
    // not finish.)
    spawnSync('dd', ['if=/dev/zero', `of=${join(home, 'filler')}`, 'bs=4096'], { stdio: 'ignore' })
    const code = await exit
    console.log(`full-disk run, exit ${code}:\n${err.trim()}`)
    expect(code, err).toBe(1)
    expect(err).toMatch(/run 1 failed: .*(no space left on the disk holding it|database or disk is full)/)
    expect(err).toMatch(/free some space, or set TFKD_HOME/)
    expect(err).not.toMatch(/\n\s+at /) // no uncaught exception
    // A read-only command works while the disk is still full.
    const listed = tfkd(home, ['runs', '--json'])
    expect(listed.code, listed.err).toBe(0)
    // Space back: the run is final (failed, or interrupted when even that could not be written).
    spawnSync('rm', ['-f', join(home, 'filler')])
    const [run] = runsJson(home)
    expect(['failed', 'interrupted']).toContain(run!.status)
    const db = new Database(join(home, 'tfkd.sqlite'), { readonly: true })
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    db.close()
    // Every checkpoint under its final name is whole; no temp file is left behind.
    const files = filesUnder(join(home, 'checkpoints', '1'))
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([])
    for (const f of files) expect(() => readCheckpoint(join(home, 'checkpoints', '1', f)), f).not.toThrow()
  }, 300_000)
})
