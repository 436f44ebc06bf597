/** runs.csv carries what each run was trained with (hyperparameters, LR, batch size) and its tags. */
import { parse } from 'csv-parse/sync'
import { describe, expect, it } from 'vitest'
import { hyperparametersCell, RUNS_CSV_HEADER, runsCsv } from '../../src/shared/export/csv'
import { resolveRunConfig } from '../../src/shared/schemas'
import type { RunDetail, RunSummary } from '../../src/shared/types'

const summary: RunSummary = {
  id: 7,
  experimentId: 2,
  role: 'student',
  status: 'completed',
  failureReason: null,
  datasetId: 1,
  datasetName: 'mnist-10k',
  model: 'cnn-small',
  variant: 'tfkd-reg',
  seed: 3,
  backend: 'wasm',
  device: 'CPU',
  teacherRunId: null,
  epochsPlanned: 2,
  epochsDone: 2,
  bestEpoch: 1,
  bestValAccuracy: 0.9,
  testAccuracy: 0.91,
  testLoss: 0.3,
  createdAt: 0,
  startedAt: 1000,
  finishedAt: 9000,
}

describe('runs.csv', () => {
  it('has hyperparameter, training and tag columns after the original ones', () => {
    const detail = {
      ...summary,
      config: resolveRunConfig({
        dataset: 'mnist-10k',
        model: 'cnn-small',
        variant: 'tfkd-reg',
        seed: 3,
        learningRate: 0.05,
        batchSize: 32,
        variantParams: { alpha: 0.9, temperature: 4 },
      }),
      metrics: [],
    } as unknown as RunDetail
    const text = runsCsv([detail, { ...summary, id: 8 }], { 7: ['paper', 'fig 3, left'] })
    const rows = parse(text, { columns: true }) as Record<string, string>[]
    expect(Object.keys(rows[0]!)).toEqual([...RUNS_CSV_HEADER])
    expect(RUNS_CSV_HEADER.indexOf('failure_reason')).toBe(18)
    expect(rows[0]).toMatchObject({
      run_id: '7',
      learning_rate: '0.05',
      batch_size: '32',
      tags: 'paper;fig 3, left',
    })
    expect(rows[0]!.hyperparameters).toMatch(/^alpha=0\.9 correctProb=0\.99 .*temperature=4/)
    // A summary without its config leaves those cells empty rather than guessing.
    expect(rows[1]).toMatchObject({ run_id: '8', learning_rate: '', hyperparameters: '', tags: '' })
    expect(hyperparametersCell({ b: 1, a: 'x' })).toBe('a=x b=1')
  })
})
