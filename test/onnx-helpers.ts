/**
 * Real ONNX teachers for the tests, made with Debian's PyTorch (`apt-get install python3-torch`,
 * run with /usr/bin/python3) by test/fixtures/onnx/make_teacher.py. The trained teacher is cached in
 * the OS temp dir under a key of the script and the data, so one test run trains it once.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadMnist10k } from '../src/core/data/mnist10k'
import { ROOT } from './helpers'
import type { SystemPart } from './support/system-parts'

export const PYTHON = '/usr/bin/python3'
export const TEACHER_SCRIPT = join(ROOT, 'test/fixtures/onnx/make_teacher.py')
const INSTALL = 'apt-get install -y python3-torch'

/** Why PyTorch cannot make teachers here, or null when it can. */
export function torchMissing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing (${INSTALL})`
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' })
  if (r.status !== 0)
    return `PyTorch is not importable by ${PYTHON} (${INSTALL}): ${r.stderr.trim().split('\n').pop()}`
  return null
}

/** PyTorch as a system part (test/support/system-parts.ts): skipped with the install command, failing under CI=true. */
export function pytorchPart(): SystemPart {
  const missing = torchMissing()
  return {
    name: missing ? `PyTorch for ${PYTHON} (${missing})` : `PyTorch for ${PYTHON}`,
    isPresent: missing === null,
    install: 'apt-get install -y python3-torch',
  }
}

export interface TorchTeacher {
  dir: string
  onnxPath: string
  testAccuracy: number
  testCorrect: number
  testCount: number
  mean: number
  std: number
}

/** The trained teacher (trained on the first call of a run, then read from the cache). */
export function torchTeacher(): TorchTeacher {
  const missing = torchMissing()
  if (missing) throw new Error(`cannot make an ONNX teacher: ${missing}`)
  const script = readFileSync(TEACHER_SCRIPT)
  const key = createHash('sha256').update(script).update('mnist-10k:v1').digest('hex').slice(0, 16)
  const dir = join(tmpdir(), `tfkd-onnx-teacher-${key}`)
  if (!existsSync(join(dir, 'teacher.json'))) {
    const work = `${dir}.tmp-${process.pid}`
    rmSync(work, { recursive: true, force: true })
    mkdirSync(work, { recursive: true })
    const { train, test } = loadMnist10k()
    const data = join(work, 'digits.bin')
    writeFileSync(
      data,
      Buffer.concat([
        Buffer.from(train.images),
        Buffer.from(Uint8Array.from(train.labels)),
        Buffer.from(test.images),
        Buffer.from(Uint8Array.from(test.labels)),
      ]),
    )
    writeFileSync(`${data}.json`, JSON.stringify({ train: train.n, test: test.n, steps: 300 }))
    execFileSync(PYTHON, [TEACHER_SCRIPT, 'train', data, work], { stdio: ['ignore', 'ignore', 'pipe'] })
    rmSync(data)
    try {
      renameSync(work, dir)
    } catch {
      // Another test file finished first: use its teacher.
      rmSync(work, { recursive: true, force: true })
    }
  }
  const meta = JSON.parse(readFileSync(join(dir, 'teacher.json'), 'utf8')) as Omit<
    TorchTeacher,
    'dir' | 'onnxPath'
  >
  return { ...meta, dir, onnxPath: join(dir, 'teacher.onnx') }
}

/** PyTorch's logits ([n, 10], float32) for n uint8 28x28x1 images. */
export function torchLogits(teacher: TorchTeacher, pixels: Uint8Array, n: number): Float32Array {
  const file = join(teacher.dir, `pixels-${process.pid}-${Date.now()}.bin`)
  writeFileSync(file, pixels.subarray(0, n * 784))
  try {
    execFileSync(PYTHON, [TEACHER_SCRIPT, 'logits', teacher.dir, file, String(n)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    const buf = readFileSync(`${file}.logits`)
    return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice()
  } finally {
    rmSync(file, { force: true })
    rmSync(`${file}.logits`, { force: true })
  }
}
