/**
 * Issue 14: teacher-import and export messages name a setting, not a CLI flag, unless the host is
 * the CLI (which passes a namer that adds the flag). The UI's Teachers panel and History export
 * show these messages to people who have no command line. Real ONNX files through the real trainer
 * child; the near-chance warning from the message function the import returns.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliTeacherFieldNames } from '../../../src/cli/teachers'
import { loadBackend } from '../../../src/core/backend/ladder'
import { toOnnx } from '../../../src/core/export/onnx-writer'
import { buildModel } from '../../../src/core/models/registry'
import { createAppCore, type AppCore } from '../../../src/core/app/app-core'
import { createForkSpawner } from '../../../src/core/services/fork-trainer'
import { nearChanceWarning } from '../../../src/core/services/teacher-service'
import { resolveRunConfig } from '../../../src/shared/schemas'
import type { TeacherFieldNamer } from '../../../src/shared/teacher-fields'
import { requireBuiltTrainer, tempHome } from '../../helpers'

const FLAG = /--[a-z]/

let home: ReturnType<typeof tempHome>
let core: AppCore

beforeAll(async () => {
  home = tempHome('tfkd-onnx-names-')
  core = createAppCore({
    dataHome: home.dir,
    host: 'cli',
    spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
  })
  await loadBackend({ pin: 'cpu' })
})
afterAll(async () => {
  await core.close()
  home.cleanup()
})

/** An ONNX file written from a TF.js model of the catalog (no PyTorch needed). */
function onnxOf(file: string, inputShape: [number, number, number], numClasses: number): string {
  const m = buildModel('cnn-small', { inputShape, numClasses, seed: 1 })
  writeFileSync(file, toOnnx(m))
  m.dispose()
  return file
}

async function importError(path: string, fieldName?: TeacherFieldNamer, classMap?: string): Promise<string> {
  const err = await core.teachers
    .import({
      path,
      dataset: 'mnist-10k',
      ...(classMap ? { classMap } : {}),
      ...(fieldName ? { fieldName } : {}),
    })
    .then(
      () => null,
      (e: Error) => e,
    )
  expect(err, `${path} was accepted`).not.toBeNull()
  return err!.message
}

describe('teacher import mismatches name the setting; the CLI adds its flag', () => {
  it('a 32x32 teacher for 28x28 images: the input size', async () => {
    const big = onnxOf(join(home.dir, 'big.onnx'), [32, 32, 1], 10)
    const neutral = await importError(big)
    expect(neutral).toMatch(/expects 32x32 images; dataset mnist-10k has 28x28: set the input size to 32x32/)
    expect(neutral).not.toMatch(FLAG)
    const cli = await importError(big, cliTeacherFieldNames)
    expect(cli).toMatch(/set the input size \(--input-size\) to 32x32/)
  })

  it('5 outputs for 10 classes, and an unreadable class map file: the class map', async () => {
    const five = onnxOf(join(home.dir, 'five.onnx'), [28, 28, 1], 5)
    const neutral = await importError(five)
    expect(neutral).toMatch(/has 5 classes; dataset mnist-10k has 10 .*give a class map to map/)
    expect(neutral).not.toMatch(FLAG)
    expect(await importError(five, cliTeacherFieldNames)).toMatch(/give a class map \(--class-map\) to map/)

    const missing = join(home.dir, 'no-such-map.txt')
    const noMap = await importError(five, undefined, missing)
    expect(noMap).toContain(`class map ${missing}: cannot read it`)
    expect(noMap).not.toMatch(FLAG)
    expect(await importError(five, cliTeacherFieldNames, missing)).toContain(
      `class map (--class-map) ${missing}: cannot read it`,
    )
  })
})

describe('the near-chance warning', () => {
  const teacher = {
    testAccuracy: 0.1,
    chanceAccuracy: 0.1135,
    preprocessing: {
      layout: 'nchw' as const,
      mean: [0.5],
      std: [0.25],
      inputSize: [28, 28] as [number, number],
      channels: 1,
      inputName: 'x',
      outputName: 'y',
      outputClasses: 10,
      classMap: null,
    },
  }
  it('names the settings in words for the UI, with the flags for the CLI', () => {
    const neutral = nearChanceWarning(teacher)
    expect(neutral).toMatch(/near chance/)
    expect(neutral).toMatch(
      /Check the layout \(used nchw\), the mean and std \(used 0\.5 \/ 0\.25, .*\), the input size and the class map$/,
    )
    expect(neutral).not.toMatch(FLAG)
    const cli = nearChanceWarning(teacher, cliTeacherFieldNames)
    for (const flag of ['--layout', '--mean', '--std', '--input-size', '--class-map'])
      expect(cli).toContain(flag)
  })
})

describe('model export', () => {
  it('a run with no best checkpoint: choose the last checkpoint (--checkpoint on the CLI)', async () => {
    const ds = core.store.datasets.byName('mnist-10k')!
    const run = core.store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    const fail = (fieldName?: TeacherFieldNamer) =>
      core.modelExport
        .exportModel({ runId: run.id, format: 'onnx', ...(fieldName ? { fieldName } : {}) })
        .then(
          () => '',
          (e: Error) => e.message,
        )
    const neutral = await fail()
    expect(neutral).toMatch(
      new RegExp(`run ${run.id} has no best checkpoint .*; choose the last checkpoint$`),
    )
    expect(neutral).not.toMatch(FLAG)
    expect(await fail(cliTeacherFieldNames)).toMatch(/choose the last checkpoint \(--checkpoint\)$/)
  })
})
