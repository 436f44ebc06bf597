/**
 * Every import format, end to end: import a real fixture (made from the bundled MNIST digits), then
 * train one epoch on it in a real trainer process, by dataset name.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../../src/core/app/app-core'
import { createForkSpawner } from '../../../src/core/services/fork-trainer'
import { dataPaths } from '../../../src/core/paths'
import { importDataset } from '../../../src/core/services/dataset-service'
import { resolveRunConfig } from '../../../src/shared/schemas'
import { requireBuiltTrainer, tempHome } from '../../helpers'
import {
  cifarFiles,
  cifarTarGz,
  digits,
  mnistCsv,
  writeCifarFolder,
  writeIdx,
  writeImageFolder,
} from './fixtures'

const tmp = tempHome('tfkd-train-imported-')
let core: AppCore
const set = digits(20) // 200 digits
const train = {
  ...set,
  n: 160,
  images: set.images.subarray(0, 160 * 784),
  labels: set.labels.subarray(0, 160),
}
const test = { ...set, n: 40, images: set.images.subarray(160 * 784), labels: set.labels.subarray(160) }

beforeAll(() => {
  core = createAppCore({
    dataHome: join(tmp.dir, 'home'),
    host: 'cli',
    spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
  })
})
afterAll(async () => {
  await core.close()
  tmp.cleanup()
})

const sources: Record<string, () => Promise<string>> = {
  'image-folder': async () => {
    const dir = join(tmp.dir, 'folder')
    await writeImageFolder(dir, set)
    return dir
  },
  idx: async () => {
    const dir = join(tmp.dir, 'idx')
    writeIdx(dir, train, test, true)
    return dir
  },
  cifar10: async () => {
    const dir = join(tmp.dir, 'cifar-10-batches-bin')
    writeCifarFolder(dir, cifarFiles(train, test, 'cifar10'))
    return dir
  },
  cifar100: async () => {
    const file = join(tmp.dir, 'cifar-100-binary.tar.gz')
    writeFileSync(file, await cifarTarGz('cifar-100-binary', cifarFiles(train, test, 'cifar100')))
    return file
  },
  csv: async () => {
    const file = join(tmp.dir, 'digits.csv')
    writeFileSync(file, mnistCsv(set))
    return file
  },
}

describe('train one epoch on each imported format', () => {
  it.each(Object.keys(sources))('%s', async (format) => {
    const source = await sources[format]!()
    const { dataset } = await importDataset({
      store: core.store,
      paths: dataPaths(join(tmp.dir, 'home')),
      source,
      options: { name: `fixture-${format}`, ...(format === 'csv' ? { labelColumn: 'label' } : {}) },
    })
    const run = core.runs.start(
      resolveRunConfig({
        dataset: dataset.name,
        model: 'mlp',
        epochs: 1,
        batchSize: 32,
        validationFraction: 0.1,
      }),
    )
    const done = await core.runs.waitFor(run.id)
    expect(done.failureReason).toBeNull()
    expect(done.status).toBe('completed')
    expect(done.datasetName).toBe(`fixture-${format}`)
    expect(done.epochsDone).toBe(1)
    expect(done.testAccuracy).toBeGreaterThanOrEqual(0)
  })
})
