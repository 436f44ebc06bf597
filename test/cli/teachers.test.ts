/**
 * The `tfkd` command for ONNX teachers and model export, as a user runs it (the built CLI in a
 * child process, a real trainer child, a temp data folder). The teacher here is written by the
 * app's own ONNX writer, so this needs no PyTorch; test/core/onnx has the PyTorch teacher.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/core/backend/ladder'
import { toOnnx } from '../../src/core/export/onnx-writer'
import { buildModel } from '../../src/core/models/registry'
import type { ModelExportResult, OnnxTeacherSummary } from '../../src/shared/onnx'
import { requireBuiltTrainer, tempHome } from '../helpers'
import { tfkdOn } from '../support/cli'

let home: ReturnType<typeof tempHome>
beforeAll(async () => {
  requireBuiltTrainer()
  home = tempHome('tfkd-cli-onnx-')
  await loadBackend({ pin: 'cpu' })
})
afterAll(() => home.cleanup())

const tfkd = (...args: string[]) => tfkdOn(join(home.dir, 'data'))(...args)

describe('tfkd teachers / run --teacher onnx:ID / export-model', () => {
  it('imports a teacher, distils from it, exports the student to ONNX (TF.js: test/core/export)', () => {
    const m = buildModel('cnn-small', { inputShape: [28, 28, 1], numClasses: 10, seed: 4 })
    const file = join(home.dir, 'untrained.onnx')
    writeFileSync(file, toOnnx(m))
    m.dispose()

    const imp = tfkd('teachers', 'import', file, '--dataset', 'mnist-10k', '--json')
    expect(imp.code, imp.err).toBe(0)
    const { teacher } = JSON.parse(imp.out) as { teacher: OnnxTeacherSummary }
    expect(teacher).toMatchObject({ id: 1, datasetName: 'mnist-10k', testCount: 2000 })
    // An untrained teacher: flagged, and the message names the usual cause.
    expect(teacher.nearChance).toBe(true)
    expect(imp.err).toMatch(/near chance.*preprocessing is the usual cause/)
    expect(tfkd('teachers', 'list').out).toMatch(/onnx:1\s+untrained\s+mnist-10k/)

    const run = tfkd(
      'run',
      '--variant',
      'kd',
      '--teacher',
      'onnx:1',
      '--epochs',
      '1',
      '--max-train',
      '256',
      '--no-progress',
    )
    expect(run.code, run.err).toBe(0)
    expect(run.out).toMatch(/run 1 completed/)

    const onnx = tfkd('export-model', '1', '--format', 'onnx', '--json')
    expect(onnx.code, onnx.err).toBe(0)
    const r = JSON.parse(onnx.out) as ModelExportResult
    expect(r.check.maxAbsDiff).toBeLessThanOrEqual(1e-4)
    expect(r.files.map((f) => f.split('/').pop())).toEqual(['model.onnx', 'preprocessing.json'])
  })

  it('refuses bad input with the file or id and what was expected', () => {
    const notes = join(home.dir, 'notes.onnx')
    writeFileSync(notes, 'not a model\n')
    const bad = tfkd('teachers', 'import', notes, '--dataset', 'mnist-10k')
    expect(bad.code).toBe(2)
    expect(bad.err).toContain(notes)
    const missing = tfkd('run', '--variant', 'kd', '--teacher', 'onnx:99', '--epochs', '1')
    expect(missing.code).not.toBe(0)
    expect(missing.err).toMatch(/ONNX teacher 99 not found/)
  })
})
