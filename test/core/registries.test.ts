/**
 * The extension points as docs/extending.md describes them: importers detect their own sources
 * (and a test-only importer joins detection through the same registry), and plans follow each
 * variant's declared teacher kind, never its id.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  DETECT,
  detectFormat,
  detectFormatIn,
  IMPORTERS,
  type Importer,
} from '../../src/core/data/importers/index'
import { expandPlan, resolvePlan } from '../../src/shared/plan'
import { VARIANT_IDS } from '../../src/shared/types'
import { TEACHER_KIND_INFO, VARIANTS } from '../../src/shared/variants'
import { tempHome } from '../helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

function tree(files: string[]): string {
  const t = tempHome('tfkd-detect-')
  cleanup = t.cleanup
  for (const f of files) {
    const p = join(t.dir, f)
    if (f.endsWith('/')) mkdirSync(p, { recursive: true })
    else {
      mkdirSync(join(p, '..'), { recursive: true })
      writeFileSync(p, 'x')
    }
  }
  return t.dir
}

describe('importers detect themselves', () => {
  it.each([
    ['data.csv', 'data.csv', 'csv'],
    ['train-images-idx3-ubyte.gz', 'train-images-idx3-ubyte.gz', 'idx'],
    ['cifar-10-binary.tar.gz', 'cifar-10-binary.tar.gz', 'cifar10'],
    ['cifar-100-binary.tar.gz', 'cifar-100-binary.tar.gz', 'cifar100'],
    ['mnist/train-images-idx3-ubyte', 'mnist', 'idx'],
    ['c10/data_batch_1.bin', 'c10', 'cifar10'],
    ['c100/train.bin c100/test.bin', 'c100', 'cifar100'],
    ['dl/cifar-10-batches-bin/test_batch.bin', 'dl', 'cifar10'],
    ['pets/cat/a.png pets/dog/b.png', 'pets', 'image-folder'],
    // The folder's own IDX files outrank a CIFAR folder nested inside it.
    ['mix/t10k-images-idx3-ubyte mix/cifar/data_batch_1.bin', 'mix', 'idx'],
  ])('%s -> %s is %s', async (files, source, format) => {
    const dir = tree(files.split(' '))
    expect(await detectFormat(join(dir, source))).toBe(format)
  })

  it('knows the bundled dataset by name, and says what it expected otherwise', async () => {
    expect(await detectFormat('mnist-10k')).toBe('bundled')
    const dir = tree(['notes.txt'])
    await expect(detectFormat(join(dir, 'notes.txt'))).rejects.toThrow(
      /notes\.txt: cannot tell the format from the name; choose the format \(image-folder, cifar10, cifar100, idx, csv\)/,
    )
    await expect(detectFormat(join(dir, 'nope.csv'))).rejects.toThrow(/nope\.csv: not found/)
  })

  it('a new importer joins detection through the registry (docs/extending.md recipe)', async () => {
    const npyImporter: Pick<Importer, 'description' | 'detect'> = {
      description: 'NumPy .npy arrays (test-only)',
      detect: ({ kind, name }) => (kind === 'file' && name.endsWith('.npy') ? DETECT.certain : DETECT.no),
    }
    const registry = { ...IMPORTERS, npy: npyImporter }
    const dir = tree(['x.npy', 'y.csv', 'folder/a/1.png'])
    expect(await detectFormatIn(registry, join(dir, 'x.npy'))).toBe('npy')
    expect(await detectFormatIn(registry, join(dir, 'y.csv'))).toBe('csv')
    expect(await detectFormatIn(registry, join(dir, 'folder'))).toBe('image-folder')
    await expect(detectFormat(join(dir, 'x.npy'))).rejects.toThrow(/cannot tell the format/)
  })
})

describe('plans follow the declared teacher kind', () => {
  it.each(VARIANT_IDS.map((v) => [v, VARIANTS[v].teacher] as const))('%s (teacher: %s)', (variant, kind) => {
    const info = TEACHER_KIND_INFO[kind]
    const plan = resolvePlan({ variants: [variant], seeds: [1], deKdEpochs: [1, 2] })
    const runs = expandPlan(plan)
    const teachers = runs.filter((r) => r.role === 'teacher')
    const students = runs.filter((r) => r.role === 'student')
    expect(teachers.map((t) => t.key)).toEqual(info.slot ? [`teacher:${info.slot}`] : [])
    expect(students.every((s) => s.teacher?.slot === (info.slot ?? undefined))).toBe(true)
    // Snapshot-taught kinds get one student group per snapshot epoch; others one.
    expect(students.map((s) => s.teacher?.epoch ?? null)).toEqual(info.snapshots ? [1, 2] : [null])
    if (info.slot === 'stronger') expect(teachers[0]!.config.epochs).toBeGreaterThanOrEqual(2)
  })
})
