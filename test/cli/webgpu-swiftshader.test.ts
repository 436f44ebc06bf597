/**
 * The webgpu rung on a software GPU: Debian's Chromium ships SwiftShader's Vulkan driver, and Dawn
 * (the `webgpu` package) finds it through the Vulkan loader. Real processes, real training steps:
 * - by default the rung refuses a software adapter and says why (the wasm rung is faster on a CPU);
 * - with TFKD_WEBGPU_SOFTWARE=1 it trains, with the wasm rung's numbers;
 * - `bench --counters --json` counts the GPU calls of a steady-state step.
 * CI-sized: SwiftShader is a CPU emulating a GPU, so the runs are tiny.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI_ENTRY, ROOT, requireBuiltTrainer, tempHome } from '../helpers'
import { needsSystemPart } from '../support/system-parts'

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'
const LOADER = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1']
const skip = needsSystemPart({
  name: "SwiftShader's Vulkan driver (Debian's chromium) and the Vulkan loader (libvulkan1)",
  isPresent: existsSync(ICD) && LOADER.some((p) => existsSync(p)),
  install: 'apt-get install -y chromium libvulkan1',
})

const home = tempHome('tfkd-webgpu-')
afterAll(() => home.cleanup())
const runtimeDir = mkdtempSync(join(tmpdir(), 'tfkd-xdg-'))
const SOFTWARE_GPU = { VK_ICD_FILENAMES: ICD, XDG_RUNTIME_DIR: runtimeDir }

function node(args: string[], env: Record<string, string>, timeoutMs = 400_000) {
  requireBuiltTrainer()
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, TFKD_HOME: home.dir, ...SOFTWARE_GPU, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const RUN = ['run', '--model', 'mlp', '--epochs', '1', '--max-train', '64', '--no-progress']

/** The figures a run prints: the epoch line's losses and accuracies, and the test result. */
function figures(out: string): string[] {
  const epoch = /train loss ([\d.]+) acc ([\d.]+)% \| val loss ([\d.]+) acc ([\d.]+)%/.exec(out)
  const test = /test accuracy ([\d.]+)%, test loss ([\d.]+)/.exec(out)
  expect(epoch, out).not.toBeNull()
  expect(test, out).not.toBeNull()
  return [...epoch!.slice(1), ...test!.slice(1)]
}

describe.skipIf(skip)('the webgpu rung on SwiftShader', () => {
  it('refuses the software adapter by default, naming it and the switch', () => {
    const r = node([CLI_ENTRY, ...RUN, '--backend', 'webgpu'], { TFKD_WEBGPU_SOFTWARE: '' })
    expect(r.code).not.toBe(0)
    expect(r.out + r.err).toMatch(/only a software \(CPU\) WebGPU adapter was found \(SwiftShader/)
    expect(r.out + r.err).toMatch(/TFKD_WEBGPU_SOFTWARE=1/)
  }, 500_000)

  it('trains with TFKD_WEBGPU_SOFTWARE=1, with the numbers of the wasm rung', () => {
    const gpu = node([CLI_ENTRY, ...RUN, '--backend', 'webgpu'], { TFKD_WEBGPU_SOFTWARE: '1' })
    expect(gpu.code, gpu.out + gpu.err).toBe(0)
    expect(gpu.out + gpu.err).toMatch(/backend: webgpu \(WebGPU: SwiftShader/)
    const cpu = node([CLI_ENTRY, ...RUN, '--backend', 'wasm'], {})
    expect(cpu.code, cpu.out + cpu.err).toBe(0)
    const [a, b] = [figures(gpu.out), figures(cpu.out)]
    // [train loss, train acc, val loss, val acc, test acc, test loss], printed to 4 and 2 decimals.
    for (const i of [1, 3, 4]) expect(a[i], `accuracy ${i}`).toBe(b[i])
    for (const i of [0, 2, 5])
      expect(Math.abs(Number(a[i]) - Number(b[i])), `loss ${i}`).toBeLessThanOrEqual(2e-4)
  }, 900_000)

  it('counts the GPU calls of a steady-state step (bench --counters --json)', () => {
    const r = node(
      [
        join(ROOT, 'out', 'node', 'bench.js'),
        ...['--backends', 'webgpu', '--models', 'mnist-cnn', '--batch', '2'],
        ...['--seconds', '0', '--min-steps', '4', '--read-every', '4', '--counters', '--json'],
      ],
      { TFKD_WEBGPU_SOFTWARE: '1' },
    )
    expect(r.code, r.err).toBe(0)
    const row = (JSON.parse(r.out) as { models: Record<string, Record<string, Record<string, unknown>>> })
      .models['mnist-cnn']!.webgpu!
    expect(row.error).toBeUndefined()
    expect(row.device).toMatch(/SwiftShader/)
    for (const k of ['dispatchesPerStep', 'submitsPerStep', 'readbacksPerStep', 'buffersPerStep'])
      expect(row[k], k).toEqual(expect.any(Number))
    expect(row.dispatchesPerStep).toBeGreaterThan(10)
    expect(row.submitsPerStep).toBeGreaterThanOrEqual(1)
    // Every pipeline was compiled during the warm-up steps.
    expect(row.pipelinesAfterWarmup).toBe(0)
    // The loss stays on the GPU between reads: one readback for the 4 steps, none inside a step.
    expect(row.readbacksPerStep).toBe(0.25)
  }, 500_000)

  it('refuses --counters on a backend without GPU calls', () => {
    const r = node(
      [
        join(ROOT, 'out', 'node', 'bench.js'),
        '--backends',
        'wasm',
        '--models',
        'mnist-cnn',
        '--batch',
        '2',
      ].concat(['--seconds', '0', '--counters', '--json']),
      {},
    )
    const row = (JSON.parse(r.out) as { models: Record<string, Record<string, { error?: string }>> }).models[
      'mnist-cnn'
    ]!.wasm!
    expect(row.error).toMatch(/--counters counts WebGPU calls; the wasm backend has none/)
  })
})
