/**
 * A real one-node Slurm cluster for tests: writes slurm.conf in a temp folder (its own ports, so a
 * cluster already running on this machine is left alone), starts munged (unless one answers),
 * slurmctld and slurmd as root, waits until the node is idle, and stops what it started by PID.
 * Debian's packages: `apt-get install -y slurmctld slurmd slurm-client munge`.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SystemPart } from './system-parts'

const BINARIES = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch', '/usr/sbin/munged']

export const slurmPart: SystemPart = {
  name: 'Slurm (slurmctld, slurmd, sbatch, munged) run as root',
  isPresent: BINARIES.every((b) => existsSync(b)) && process.getuid?.() === 0,
  install: 'apt-get install -y slurmctld slurmd slurm-client munge (and run the tests as root)',
}

export interface TestCluster {
  dir: string
  conf: string
  stop(): Promise<void>
}

function mungeAnswers(): boolean {
  const enc = spawnSync('munge', ['-n'], { encoding: 'utf8' })
  if (enc.status !== 0) return false
  return spawnSync('unmunge', [], { input: enc.stdout }).status === 0
}

function readPid(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim())
    return Number.isInteger(n) && n > 0 ? n : null
  } catch {
    return null
  }
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (ok()) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function startSlurm(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tfkd-slurm-'))
  for (const d of ['spool', 'state', 'log']) mkdirSync(join(dir, d))
  const host = hostname().split('.')[0]!
  const port = 20000 + Math.floor(Math.random() * 20000)
  const conf = join(dir, 'slurm.conf')
  writeFileSync(
    conf,
    [
      'ClusterName=tfkdtest',
      `SlurmctldHost=${host}`,
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      'AuthType=auth/munge',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SchedulerType=sched/backfill',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'ReturnToService=2',
      `SlurmdSpoolDir=${dir}/spool`,
      `StateSaveLocation=${dir}/state`,
      `SlurmctldLogFile=${dir}/log/ctld.log`,
      `SlurmdLogFile=${dir}/log/d.log`,
      `SlurmctldPidFile=${dir}/ctld.pid`,
      `SlurmdPidFile=${dir}/d.pid`,
      'SlurmUser=root',
      'JobAcctGatherType=jobacct_gather/none',
      'MpiDefault=none',
      `NodeName=${host} CPUs=${Math.max(2, availableParallelism())} RealMemory=2000 State=UNKNOWN`,
      `PartitionName=main Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  )
  const started: number[] = []
  const stop = async () => {
    // slurmd, then slurmctld, then munged if this helper started it: by PID, never by name.
    for (const pid of [...started].reverse()) if (alive(pid)) process.kill(pid, 'SIGTERM')
    const end = Date.now() + 10_000
    while (Date.now() < end && started.some(alive)) await new Promise((r) => setTimeout(r, 100))
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL')
    if (process.env.SLURM_CONF === conf) delete process.env.SLURM_CONF
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    if (!mungeAnswers()) {
      if (!existsSync('/etc/munge/munge.key')) execFileSync('mungekey', ['-c'])
      mkdirSync('/run/munge', { recursive: true })
      execFileSync('chown', ['munge:munge', '/run/munge'])
      // munged refuses root-owned runs of a munge-owned log folder: run it as its own user.
      execFileSync('runuser', ['-u', 'munge', '--', '/usr/sbin/munged'])
      await waitFor('munged', mungeAnswers, 10_000)
      const pid = readPid('/run/munge/munged.pid')
      if (pid) started.push(pid)
    }
    execFileSync('/usr/sbin/slurmctld', ['-f', conf])
    await waitFor('slurmctld pid file', () => readPid(join(dir, 'ctld.pid')) !== null, 10_000)
    started.push(readPid(join(dir, 'ctld.pid'))!)
    execFileSync('/usr/sbin/slurmd', ['-f', conf])
    await waitFor('slurmd pid file', () => readPid(join(dir, 'd.pid')) !== null, 10_000)
    started.push(readPid(join(dir, 'd.pid'))!)
    process.env.SLURM_CONF = conf
    await waitFor(
      'the node to be idle (sinfo)',
      () =>
        spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', env: process.env }).stdout.trim() ===
        'idle',
      30_000,
    )
  } catch (err) {
    const logs = ['ctld.log', 'd.log']
      .map((f) => join(dir, 'log', f))
      .filter((f) => existsSync(f))
      .map((f) => `${f}:\n${readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}`)
      .join('\n')
    await stop()
    throw new Error(`could not start a test Slurm cluster: ${(err as Error).message}\n${logs}`)
  }
  return { dir, conf, stop }
}
