/**
 * A chosen GPU execution provider for an imported teacher is never a silent CPU run: where ONNX
 * Runtime cannot start it (here: no CUDA, and the npm package installed without its CUDA add-on),
 * opening the teacher, importing with `--device cuda`, and a kd run with `--teacher-device cuda`
 * fail with a message naming the provider and the way out; where it can, the runner says it runs
 * there. Real ONNX Runtime, a real ONNX file (a catalog model written by the app's ONNX writer), the
 * real CLI and trainer.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../../src/core/backend/ladder'
import { toOnnx } from '../../../src/core/export/onnx-writer'
import { buildModel } from '../../../src/core/models/registry'
import { createOnnxRunner } from '../../../src/core/onnx/runner'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../../helpers'

let home: ReturnType<typeof tempHome>
let file: string
/** Whether this machine's onnxruntime-node really starts CUDA (then the refusals are not expected). */
let cudaHere = false

beforeAll(async () => {
  home = tempHome('tfkd-onnx-ep-')
  await loadBackend({ pin: 'cpu' })
  const m = buildModel('cnn-small', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 })
  file = join(home.dir, 'teacher.onnx')
  writeFileSync(file, toOnnx(m))
  m.dispose()
})
afterAll(() => home.cleanup())

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TFKD_HOME: home.dir, NO_COLOR: '1' },
    timeout: 120_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const UNAVAILABLE =
  /ONNX Runtime's cuda execution provider is not available on this machine \(.+\); choose the cpu execution provider/

describe('--teacher-device cuda where CUDA is missing', () => {
  it('the runner either runs on cuda and says so, or refuses; never a CPU session under the cuda name', async () => {
    const opened = await createOnnxRunner(file, { executionProvider: 'cuda' }).then(
      (r) => r,
      (e: unknown) => e as Error,
    )
    if (opened instanceof Error) {
      expect(opened.message).toMatch(UNAVAILABLE)
      expect(opened.message).toMatch(/install an onnxruntime-node with cuda support/)
    } else {
      cudaHere = true
      expect(opened.executionProvider).toBe('cuda')
      expect(opened.device).toBe('onnxruntime cuda')
      await opened.close()
    }
    // The CPU still opens the same file: the refusal is about the provider, not the model.
    const cpu = await createOnnxRunner(file, { executionProvider: 'cpu' })
    expect(cpu.device).toBe('onnxruntime cpu')
    await cpu.close()
  })

  it('import with --device cuda is refused (nothing stored); a kd run with --teacher-device cuda fails and says why', () => {
    requireBuiltTrainer()
    if (cudaHere) return // a CUDA machine: nothing to refuse (the first test checked it runs there)
    const refused = cli('teachers', 'import', file, '--dataset', 'mnist-10k', '--device', 'cuda')
    expect(refused.code).not.toBe(0)
    expect(refused.err).toMatch(UNAVAILABLE)
    // ONNX Runtime's own stderr log of the missing library is kept out of the user's way.
    expect(refused.err).not.toMatch(/provider_bridge_ort/)
    expect(cli('teachers', 'list').out).not.toMatch(/teacher 1/)

    const imported = cli('teachers', 'import', file, '--dataset', 'mnist-10k')
    expect(imported.code, imported.err).toBe(0)
    const run = cli(
      'run',
      '--dataset',
      'mnist-10k',
      '--variant',
      'kd',
      '--model',
      'mlp',
      '--teacher',
      'onnx:1',
      '--teacher-device',
      'cuda',
      '--epochs',
      '1',
      '--max-train',
      '128',
      '--no-progress',
    )
    expect(run.code).not.toBe(0)
    expect(run.err).toMatch(/run 1 failed: /)
    expect(run.err).toMatch(UNAVAILABLE)
    // Recorded as failed with that reason, with no epoch trained on the CPU.
    const list = cli('runs', '--json')
    const runs = JSON.parse(list.out) as { id: number; status: string; failureReason: string | null }[]
    expect(runs).toHaveLength(1)
    expect(runs[0]!.status).toBe('failed')
    expect(runs[0]!.failureReason).toMatch(UNAVAILABLE)
  }, 180_000)
})
