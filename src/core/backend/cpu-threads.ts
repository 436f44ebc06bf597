/**
 * How many threads CPU work should use: the CPUs this process may actually run on, not the
 * machine's count. Two things limit it: the process's affinity mask (taskset, cpusets, a Slurm
 * allocation; Node's `os.availableParallelism()` reads it) and a cgroup CPU quota (a container's
 * `--cpus`, a systemd `CPUQuota=`: cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us`), which leaves every
 * CPU visible but lets the process run only `quota / period` CPUs' worth of time. On a 64-core host
 * with a 4-CPU quota, 64 threads would spend most of their time throttled.
 */
import { existsSync, readFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { dirname, join, sep } from 'node:path'

export interface CpuBudget {
  threads: number
  /** Where the count came from, in words (the backend's device string shows it). */
  source: string
}

export interface CgroupCpuLimit {
  /** CPUs' worth of time per period (may be fractional, e.g. 1.5). */
  cpus: number
  source: string
}

export interface CpuBudgetOptions {
  /** Filesystem root holding proc/ and sys/ (tests point it at a fake tree). */
  root?: string
  env?: NodeJS.ProcessEnv
  /** CPUs in the affinity mask (default os.availableParallelism()). */
  affinity?: number
  /** CPUs in the machine (default os.cpus().length). */
  hardware?: number
}

const MAX_THREADS = 1024

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return null
  }
}

/** The directories from `dir` up to `top` (inclusive): a parent cgroup's quota caps its children. */
function upTo(dir: string, top: string): string[] {
  const out: string[] = []
  for (let d = dir; d === top || d.startsWith(top + sep); d = dirname(d)) {
    out.push(d)
    if (d === top || dirname(d) === d) break
  }
  return out
}

function tighter(a: CgroupCpuLimit | null, b: CgroupCpuLimit | null): CgroupCpuLimit | null {
  if (!a) return b
  if (!b) return a
  return b.cpus < a.cpus ? b : a
}

const fmt = (cpus: number) => String(Math.round(cpus * 100) / 100)

/** The cgroup's own directory under the mount, or the mount itself where the path is not visible. */
function cgroupDir(mount: string, path: string): string {
  const dir = join(mount, path)
  return dir.startsWith(mount + sep) && existsSync(dir) ? dir : mount
}

/** cgroup v2: `cpu.max` is "max <period>" (no limit) or "<quota> <period>" in microseconds. */
function cgroupV2(base: string, path: string): CgroupCpuLimit | null {
  // In a container with its own cgroup namespace, /proc/self/cgroup says "/" and the limit sits
  // in the mount's own cpu.max; elsewhere the path leads to it.
  const start = cgroupDir(base, path)
  let best: CgroupCpuLimit | null = null
  for (const dir of upTo(start, base)) {
    const text = readText(join(dir, 'cpu.max'))
    const m = text ? /^(\d+)\s+(\d+)$/.exec(text) : null
    if (!m || Number(m[2]) <= 0) continue
    const cpus = Number(m[1]) / Number(m[2])
    best = tighter(best, { cpus, source: `cgroup v2 cpu.max ${m[1]} ${m[2]} (${fmt(cpus)} CPUs)` })
  }
  return best
}

/** cgroup v1: `cpu.cfs_quota_us` (-1 = no limit) over `cpu.cfs_period_us`. */
function cgroupV1(base: string, path: string): CgroupCpuLimit | null {
  let best: CgroupCpuLimit | null = null
  for (const mount of ['cpu,cpuacct', 'cpuacct,cpu', 'cpu'].map((m) => join(base, m))) {
    if (!existsSync(mount)) continue
    const start = cgroupDir(mount, path)
    for (const dir of upTo(start, mount)) {
      const quota = Number(readText(join(dir, 'cpu.cfs_quota_us')) ?? NaN)
      const period = Number(readText(join(dir, 'cpu.cfs_period_us')) ?? NaN)
      if (!(quota > 0) || !(period > 0)) continue
      const cpus = quota / period
      best = tighter(best, {
        cpus,
        source: `cgroup v1 cpu.cfs_quota_us ${quota} / ${period} (${fmt(cpus)} CPUs)`,
      })
    }
    break
  }
  return best
}

/** The CPU quota of this process's cgroup (v2 or v1), or null where there is none (or no cgroups). */
export function cgroupCpuLimit(root = '/'): CgroupCpuLimit | null {
  const self = readText(join(root, 'proc/self/cgroup'))
  if (!self) return null
  const base = join(root, 'sys/fs/cgroup')
  let limit: CgroupCpuLimit | null = null
  for (const line of self.split('\n')) {
    // hierarchy-id:controllers:path; v2's unified hierarchy is "0::/path".
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim())
    if (!m) continue
    const [, id, controllers, path] = m as unknown as [string, string, string, string]
    if (id === '0' && controllers === '') limit = tighter(limit, cgroupV2(base, path))
    else if (controllers.split(',').includes('cpu')) limit = tighter(limit, cgroupV1(base, path))
  }
  return limit
}

/**
 * Threads for CPU work: TFKD_THREADS if set, else the affinity mask's CPU count capped by the
 * cgroup quota (rounded up: a 1.5-CPU quota keeps 2 threads busy), at least 1.
 */
export function usableCpus(opts: CpuBudgetOptions = {}): CpuBudget {
  const env = opts.env ?? process.env
  const affinity = Math.max(1, opts.affinity ?? availableParallelism())
  const hardware = Math.max(1, opts.hardware ?? cpus().length)
  let note = ''
  const pinned = env.TFKD_THREADS?.trim()
  if (pinned) {
    const n = Number(pinned)
    if (Number.isInteger(n) && n >= 1 && n <= MAX_THREADS) return { threads: n, source: `TFKD_THREADS=${n}` }
    note = `; TFKD_THREADS=${JSON.stringify(pinned)} ignored (expected an integer from 1 to ${MAX_THREADS})`
  }
  const cgroup = process.platform === 'linux' || opts.root ? cgroupCpuLimit(opts.root ?? '/') : null
  if (cgroup && Math.ceil(cgroup.cpus) < affinity) {
    return { threads: Math.max(1, Math.ceil(cgroup.cpus)), source: cgroup.source + note }
  }
  const quota = cgroup ? `; ${cgroup.source}` : '; no cgroup CPU quota'
  if (affinity < hardware) {
    return { threads: affinity, source: `sched affinity: ${affinity} of ${hardware} CPUs${quota}${note}` }
  }
  return { threads: affinity, source: `all ${hardware} CPUs${quota}${note}` }
}
