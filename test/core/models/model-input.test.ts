/**
 * A model refuses a dataset whose input it cannot take before anything is stored or trained (item 4
 * of issue 22: cnn-small on a 6-feature CSV used to fail mid-run with "memory access out of bounds").
 * The catalog declares each model's smallest input (`minInput`); the first test holds that declaration
 * to the built models, the others go through the core's run and plan validation.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type * as tfl from '@tensorflow/tfjs-layers'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../../src/core/app/app-core'
import { loadBackend } from '../../../src/core/backend/ladder'
import {
  MODEL_CATALOG,
  MODEL_IDS,
  modelInputProblem,
  type ModelCatalogEntry,
} from '../../../src/core/models/catalog'
import { buildModel } from '../../../src/core/models/registry'
import { tempHome } from '../../helpers'

/** Whether every layer of the model keeps at least one element per dimension. */
function noEmptyLayer(m: tfl.LayersModel): boolean {
  return m.layers.every((l) => {
    const shapes = (Array.isArray(l.outputShape[0]) ? l.outputShape : [l.outputShape]) as (number | null)[][]
    return shapes.every((s) => s.every((d) => d === null || d > 0))
  })
}

function builds(id: (typeof MODEL_IDS)[number], shape: [number, number, number]): boolean {
  const m = buildModel(id, { inputShape: shape, numClasses: 3, seed: 1 })
  try {
    return noEmptyLayer(m)
  } finally {
    m.dispose()
  }
}

beforeAll(async () => {
  await loadBackend({ pin: 'cpu' })
})

describe('model input requirements', () => {
  it("the catalog's minInput is what the built models need", () => {
    for (const id of MODEL_IDS) {
      const [h, w] = (MODEL_CATALOG[id] as ModelCatalogEntry).minInput ?? [1, 1]
      expect({ id, atMin: builds(id, [h, w, 1]) }).toEqual({ id, atMin: true })
      if (h > 1) expect({ id, shorter: builds(id, [h - 1, w, 1]) }).toEqual({ id, shorter: false })
      if (w > 1) expect({ id, narrower: builds(id, [h, w - 1, 1]) }).toEqual({ id, narrower: false })
      if (h === 1 && w === 1) expect({ id, row: builds(id, [1, 6, 1]) }).toEqual({ id, row: true })
    }
  })

  it('names the model, the dataset and both shapes, and the models that fit', () => {
    const p = modelInputProblem('cnn-small', { name: 'six', inputShape: [1, 6, 1] })
    expect(p).toMatch(
      /^model cnn-small needs inputs of at least 4x4 \(height x width\), but dataset "six" has 1x6x1/,
    )
    expect(p).toMatch(
      /pick a model that takes 1x6 \(mlp, resnet8, shufflenetv2, mobilenetv2, resnet14, resnet20\)/,
    )
    expect(modelInputProblem('cnn-small', { name: 'mnist', inputShape: [28, 28, 1] })).toBeNull()
    expect(modelInputProblem('mlp', { name: 'six', inputShape: [1, 6, 1] })).toBeNull()
  })
})

describe('the core refuses a model that cannot take the dataset', () => {
  let core: AppCore | undefined
  let cleanup: (() => void) | undefined
  afterEach(async () => {
    await core?.close()
    core = undefined
    cleanup?.()
  })

  async function withSixFeatureCsv(): Promise<AppCore> {
    const t = tempHome()
    cleanup = t.cleanup
    const c = createAppCore({
      dataHome: t.dir,
      host: 'cli',
      spawnTrainer: () => {
        throw new Error('no run may start in this test')
      },
    })
    core = c
    const rows = ['a,b,c,d,e,f,label']
    for (let i = 0; i < 60; i++) rows.push(`${[1, 2, 3, 4, 5, 6].map((k) => (i * k) % 7).join(',')},${i % 3}`)
    const csv = join(t.dir, 'six.csv')
    writeFileSync(csv, rows.join('\n') + '\n')
    const res = await c.dispatch('datasets:import', { jobId: 'six', path: csv, name: 'six' })
    if (!res.ok) throw new Error(res.error.message)
    return c
  }

  it('runs:start: invalid_input naming cnn-small, the dataset and its shape; nothing stored', async () => {
    const c = await withSixFeatureCsv()
    const res = await c.dispatch('runs:start', { dataset: 'six', model: 'cnn-small', epochs: 1 })
    expect(res.ok).toBe(false)
    if (res.ok) return
    expect(res.error.code).toBe('invalid_input')
    expect(res.error.message).toMatch(
      /model cnn-small needs inputs of at least 4x4 .* dataset "six" has 1x6x1/,
    )
    expect(c.store.runs.list()).toEqual([])
  })

  it('experiments:start: the plan is refused before any run is stored, naming the field', async () => {
    const c = await withSixFeatureCsv()
    const student = await c.dispatch('experiments:start', {
      dataset: 'six',
      student: 'cnn-small',
      variants: ['baseline'],
      seeds: [1],
      training: { epochs: 1 },
    })
    expect(student.ok).toBe(false)
    if (!student.ok)
      expect(student.error.message).toMatch(/^student: model cnn-small needs inputs of at least 4x4/)
    const teacher = await c.dispatch('experiments:start', {
      dataset: 'six',
      student: 'mlp',
      strongerTeacher: 'cnn-small',
      variants: ['kd'],
      seeds: [1],
      training: { epochs: 1 },
    })
    expect(teacher.ok).toBe(false)
    if (!teacher.ok) expect(teacher.error.message).toMatch(/^strongerTeacher: model cnn-small needs inputs/)
    expect(c.store.runs.list()).toEqual([])
  })
})
