/**
 * `tfkd doctor` where a Vulkan driver without a GPU is installed: what Dawn prints on stderr while
 * the trainer probes the adapter goes into the report (`webgpu.messages`, "driver said: ..."), not
 * raw into the user's terminal (issue 22, item 11). Vulkan's mock driver from Debian's Chromium
 * package makes Dawn warn about the device's limits, as SwiftShader or lavapipe do on other machines.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { DoctorReport } from '../../src/shared/doctor'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../helpers'
import { needsSystemPart } from '../support/system-parts'

const MOCK_ICD = '/usr/lib/chromium/libVkICD_mock_icd.so'
const home = tempHome('tfkd-doctor-dawn-')
afterAll(() => home.cleanup())

const skip = needsSystemPart({
  name: `Vulkan's mock driver at ${MOCK_ICD} (and the Vulkan loader)`,
  isPresent: existsSync(MOCK_ICD) && existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1'),
  install: 'apt-get install -y chromium libvulkan1',
})

function doctor(...args: string[]) {
  requireBuiltTrainer()
  const icd = join(home.dir, 'mock_icd.json')
  writeFileSync(
    icd,
    JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: MOCK_ICD, api_version: '1.3.0' } }),
  )
  const r = spawnSync(process.execPath, [CLI_ENTRY, 'doctor', ...args], {
    env: { ...process.env, TFKD_HOME: home.dir, VK_ICD_FILENAMES: icd, XDG_RUNTIME_DIR: '' },
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe.skipIf(skip)('tfkd doctor with a Vulkan driver and no GPU', () => {
  it("keeps Dawn's warnings out of the terminal and in the report, one line each", () => {
    const json = doctor('--json')
    expect(json.code, json.err).toBe(0)
    expect(json.err).not.toMatch(/Warning:|PhysicalDeviceVk\.cpp|Vulkan limits/)
    const report = JSON.parse(json.out) as DoctorReport
    expect(report.webgpu.adapter).toBeNull()
    const messages = report.webgpu.messages ?? []
    expect(
      messages.some((m) =>
        /^Insufficient Vulkan limits .*\(while gathering supported limits for "Vulkan Mock Device"/.test(m),
      ),
    ).toBe(true)
    expect(messages.join('\n')).not.toMatch(/^Warning:|\.cpp:\d+/m)

    const text = doctor()
    expect(text.err).not.toMatch(/Warning:|PhysicalDeviceVk\.cpp/)
    expect(text.out).toMatch(/^  driver said: Insufficient Vulkan limits/m)
  })
})
