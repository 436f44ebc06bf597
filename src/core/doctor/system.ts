/** OS and CPU facts for the doctor: plain file reads, nothing that can hang or crash. */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import type { CpuFacts } from '../../shared/doctor'

export interface SystemProbeOptions {
  /** Root of /proc and /sys (tests point this at a fake tree). */
  fsRoot?: string
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

export function osFacts(): { platform: string; arch: string; release: string; description: string } {
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(read('/etc/os-release') ?? '')?.[1]
  const version = typeof os.version === 'function' ? os.version() : ''
  return {
    platform: process.platform,
    arch: process.arch,
    release: os.release(),
    description: pretty ?? (version || `${os.type()} ${os.release()}`),
  }
}

/** CPUs of a Linux list such as "0-3,8,10-11". */
export function countCpuList(list: string): number {
  let n = 0
  for (const part of list.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number)
    if (a === undefined || !Number.isFinite(a)) continue
    n += b === undefined ? 1 : Number.isFinite(b) && b >= a ? b - a + 1 : 0
  }
  return n
}

/** The cgroup v2 (cpu.max) or v1 (cfs quota) CPU limit in CPUs, or null when there is none. */
export function cgroupCpuLimit(root = ''): number | null {
  const v2 = read(`${root}/sys/fs/cgroup/cpu.max`)
  if (v2) {
    const [quota, period] = v2.trim().split(/\s+/)
    if (quota && quota !== 'max' && Number(period) > 0) return Number(quota) / Number(period)
    return null
  }
  const quota = Number(read(`${root}/sys/fs/cgroup/cpu/cpu.cfs_quota_us`)?.trim())
  const period = Number(read(`${root}/sys/fs/cgroup/cpu/cpu.cfs_period_us`)?.trim())
  return quota > 0 && period > 0 ? quota / period : null
}

export function cpuFacts(opts: SystemProbeOptions = {}): CpuFacts {
  const root = opts.fsRoot ?? ''
  const cpus = os.cpus()
  const logical = cpus.length || 1
  // availableParallelism() honours the affinity mask; a cgroup quota can cut it further.
  const affinity = typeof os.availableParallelism === 'function' ? os.availableParallelism() : logical
  const allowedList = /^Cpus_allowed_list:\s*(.+)$/m.exec(read(`${root}/proc/self/status`) ?? '')?.[1]
  const allowed = allowedList ? countCpuList(allowedList) : affinity
  const quota = process.platform === 'linux' ? cgroupCpuLimit(root) : null
  let usable = Math.max(1, Math.min(allowed || affinity, affinity))
  let how = allowed < logical ? `affinity allows ${allowed} of ${logical}` : `all ${logical} logical CPUs`
  if (quota !== null && Math.floor(quota) < usable) {
    usable = Math.max(1, Math.floor(quota))
    how = `cgroup quota of ${quota.toFixed(2)} CPUs (${allowed} allowed by affinity, ${logical} in the machine)`
  }
  const flags = (/^(flags|Features)\s*:\s*(.+)$/m.exec(read(`${root}/proc/cpuinfo`) ?? '')?.[2] ?? '').split(
    /\s+/,
  )
  const wanted = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'neon', 'asimd']
  const isa = wanted.filter((f) => flags.includes(f))
  const hasAvx = process.arch === 'x64' ? (flags.length > 1 ? flags.includes('avx') : null) : false
  return {
    model: cpus[0]?.model.trim() || 'unknown CPU',
    logicalCores: logical,
    usableCores: usable,
    usableHow: how,
    isa,
    hasAvx,
  }
}
