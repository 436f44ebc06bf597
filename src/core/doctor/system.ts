/** OS and CPU facts for the doctor: plain file reads, nothing that can hang or crash. */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import type { CpuFacts } from '../../shared/doctor'
import { usableCpus } from '../backend/cpu-threads'

export interface SystemProbeOptions {
  /** Root of /proc and /sys (tests point this at a fake tree). */
  fsRoot?: string
  env?: NodeJS.ProcessEnv
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

export function cpuFacts(opts: SystemProbeOptions = {}): CpuFacts {
  const cpus = os.cpus()
  const logical = cpus.length || 1
  // The same count the CPU kernels use: affinity mask capped by a cgroup quota (or TFKD_THREADS).
  const budget = usableCpus({ ...(opts.fsRoot ? { root: opts.fsRoot } : {}), env: opts.env ?? process.env })
  const flags = (
    /^(flags|Features)\s*:\s*(.+)$/m.exec(read(`${opts.fsRoot ?? ''}/proc/cpuinfo`) ?? '')?.[2] ?? ''
  ).split(/\s+/)
  const wanted = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'neon', 'asimd']
  const isa = wanted.filter((f) => flags.includes(f))
  const hasAvx = process.arch === 'x64' ? (flags.length > 1 ? flags.includes('avx') : null) : false
  return {
    model: cpus[0]?.model.trim() || 'unknown CPU',
    logicalCores: logical,
    usableCores: budget.threads,
    usableHow: budget.source,
    isa,
    hasAvx,
  }
}
