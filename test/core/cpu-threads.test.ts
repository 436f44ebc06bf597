/**
 * Thread count from the CPUs the process may use: cgroup v2 cpu.max and v1 cfs quota (fake
 * /proc and /sys trees), the affinity mask, TFKD_THREADS.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cgroupCpuLimit, usableCpus } from '../../src/core/backend/cpu-threads'

const roots: string[] = []
afterEach(() => roots.splice(0).forEach((r) => rmSync(r, { recursive: true, force: true })))

/** A fake filesystem root: { 'proc/self/cgroup': '0::/a/b', 'sys/fs/cgroup/a/cpu.max': '...' }. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tfkd-cgroup-'))
  roots.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text + '\n')
  }
  return root
}

const env = {}

describe('cgroup CPU quota', () => {
  it('v2: cpu.max "quota period" of the process cgroup, fractional quotas rounded up', () => {
    const root = tree({
      'proc/self/cgroup': '0::/system.slice/tfkd.service',
      'sys/fs/cgroup/system.slice/tfkd.service/cpu.max': '150000 100000',
    })
    expect(cgroupCpuLimit(root)).toEqual({ cpus: 1.5, source: 'cgroup v2 cpu.max 150000 100000 (1.5 CPUs)' })
    expect(usableCpus({ root, env, affinity: 8, hardware: 8 })).toEqual({
      threads: 2,
      source: 'cgroup v2 cpu.max 150000 100000 (1.5 CPUs)',
    })
  })

  it('v2: "max" is no limit; a parent cgroup limit caps its children; the tightest wins', () => {
    const unlimited = tree({
      'proc/self/cgroup': '0::/a/b',
      'sys/fs/cgroup/a/b/cpu.max': 'max 100000',
      'sys/fs/cgroup/a/cpu.max': 'max 100000',
    })
    expect(cgroupCpuLimit(unlimited)).toBeNull()
    expect(usableCpus({ root: unlimited, env, affinity: 16, hardware: 16 })).toEqual({
      threads: 16,
      source: 'all 16 CPUs; no cgroup CPU quota',
    })
    const nested = tree({
      'proc/self/cgroup': '0::/a/b',
      'sys/fs/cgroup/a/b/cpu.max': '800000 100000',
      'sys/fs/cgroup/a/cpu.max': '300000 100000',
    })
    expect(cgroupCpuLimit(nested)?.cpus).toBe(3)
    expect(usableCpus({ root: nested, env, affinity: 16, hardware: 16 }).threads).toBe(3)
  })

  it('v2 in a container with its own cgroup namespace ("0::/"): the mount root cpu.max', () => {
    const root = tree({ 'proc/self/cgroup': '0::/', 'sys/fs/cgroup/cpu.max': '400000 100000' })
    expect(usableCpus({ root, env, affinity: 64, hardware: 64 })).toEqual({
      threads: 4,
      source: 'cgroup v2 cpu.max 400000 100000 (4 CPUs)',
    })
    // The path in /proc/self/cgroup is not visible inside the namespace: fall back to the root.
    const hidden = tree({ 'proc/self/cgroup': '0::/../../host/x', 'sys/fs/cgroup/cpu.max': '200000 100000' })
    expect(cgroupCpuLimit(hidden)?.cpus).toBe(2)
  })

  it('v1: cpu.cfs_quota_us / cpu.cfs_period_us on the cpu controller; -1 is no limit', () => {
    const root = tree({
      'proc/self/cgroup': '11:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/',
      'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '50000',
      'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000',
    })
    expect(usableCpus({ root, env, affinity: 4, hardware: 4 })).toEqual({
      threads: 1,
      source: 'cgroup v1 cpu.cfs_quota_us 50000 / 100000 (0.5 CPUs)',
    })
    const none = tree({
      'proc/self/cgroup': '2:cpuacct:/\n1:cpu:/',
      'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1',
      'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
    })
    expect(cgroupCpuLimit(none)).toBeNull()
  })

  it('no cgroup files (not Linux, or no /proc): no quota', () => {
    expect(cgroupCpuLimit(tree({}))).toBeNull()
    expect(cgroupCpuLimit(tree({ 'proc/self/cgroup': 'garbage' }))).toBeNull()
  })
})

describe('usable CPUs', () => {
  it('the affinity mask limits below the hardware count; a quota above it changes nothing', () => {
    const root = tree({ 'proc/self/cgroup': '0::/', 'sys/fs/cgroup/cpu.max': '1600000 100000' })
    expect(usableCpus({ root, env, affinity: 4, hardware: 32 })).toEqual({
      threads: 4,
      source: 'sched affinity: 4 of 32 CPUs; cgroup v2 cpu.max 1600000 100000 (16 CPUs)',
    })
  })

  it('TFKD_THREADS pins the count; a bad value is ignored and said so', () => {
    const root = tree({})
    expect(usableCpus({ root, env: { TFKD_THREADS: '3' }, affinity: 8, hardware: 8 })).toEqual({
      threads: 3,
      source: 'TFKD_THREADS=3',
    })
    const bad = usableCpus({ root, env: { TFKD_THREADS: 'lots' }, affinity: 8, hardware: 8 })
    expect(bad.threads).toBe(8)
    expect(bad.source).toMatch(/TFKD_THREADS="lots" ignored \(expected an integer from 1 to 1024\)/)
  })

  it('on this machine: between 1 and the affinity count', () => {
    const real = usableCpus({ env })
    expect(real.threads).toBeGreaterThanOrEqual(1)
    expect(real.threads).toBeLessThanOrEqual(Math.min(availableParallelism(), cpus().length))
    expect(real.source.length).toBeGreaterThan(0)
  })
})
