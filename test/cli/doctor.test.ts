/**
 * `tfkd doctor --json` on this machine, as a user runs it, and the device a run trained on in
 * `tfkd runs`. On this project's machines there is no NVIDIA driver and no WebGPU adapter (no
 * Vulkan loader); where either exists the test checks the report agrees with the machine instead.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { afterAll, describe, expect, it } from 'vitest'
import type { DoctorReport } from '../../src/shared/doctor'
import type { RunSummary } from '../../src/shared/types'
import { tempHome } from '../helpers'
import { tfkdOn } from '../support/cli'

const home = tempHome('tfkd-doctor-cli-')
afterAll(() => home.cleanup())

const tfkd = tfkdOn(home.dir)

const hasNvidia =
  existsSync('/proc/driver/nvidia/version') ||
  spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' }).status === 0

describe('tfkd doctor', () => {
  it('--json says plainly: NVIDIA driver or not, WebGPU adapter or not, and which rung training will use', () => {
    const r = tfkd('doctor', '--json')
    expect(r.code).toBe(0)
    const report = JSON.parse(r.out) as DoctorReport
    if (!hasNvidia) {
      expect(report.nvidia.driverVersion).toBeNull()
      expect(report.headline[0]).toBe('No NVIDIA driver found.')
      expect(report.verdicts.find((v) => v.id === 'tensorflow-gpu')!.summary).toMatch(
        /no NVIDIA driver found/,
      )
    } else {
      expect(report.nvidia.driverVersion).not.toBeNull()
    }
    if (!report.webgpu.adapter) {
      expect(report.webgpu.reason).toBeTruthy()
      expect(report.headline[1]).toMatch(/^No WebGPU adapter: /)
    }
    expect(report.willUse).not.toBeNull()
    expect(report.headline[2]).toBe(
      `Training will use the ${report.willUse!.id} rung: ${report.willUse!.device}.`,
    )
    expect(report.libraries).toHaveLength(14)
    expect(report.verdicts.map((v) => v.id)).toEqual([
      'tensorflow-gpu',
      'webgpu',
      'tensorflow',
      'wasm',
      'cpu',
    ])
    expect(report.cpu.usableCores).toBeGreaterThanOrEqual(1)
    expect(report.probes.every((p) => p.outcome !== 'timeout')).toBe(true)
  })

  it('prints the same in words, with the next step of each rung', () => {
    const r = tfkd('doctor', '--no-probe')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/Backend rungs:/)
    expect(r.out).toMatch(/tensorflow-gpu/)
    expect(r.out).toMatch(/Training will use: unknown \(the ladder was not probed\)/)
  })

  it('`tfkd runs` shows the device each run really trained on', () => {
    const run = tfkd(
      'run',
      '--model',
      'mlp',
      '--epochs',
      '1',
      '--max-train',
      '256',
      '--backend',
      'wasm',
      '--no-progress',
    )
    expect(run.code).toBe(0)
    const list = tfkd('runs')
    expect(list.out).toMatch(/device/)
    expect(list.out).toContain(`CPU ${cpus()[0]!.model.trim()}`)
    const json = JSON.parse(tfkd('runs', '--json').out) as RunSummary[]
    expect(json[0]!.deviceInfo).toMatchObject({ backend: 'wasm', kind: 'cpu' })
  })
})
