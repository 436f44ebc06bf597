/**
 * Issue 22, item 3: all-runs.csv (Exports view) had empty config columns in every row, because it
 * was written from the run summaries the store lists. It is written from the runs' details now,
 * fetched in batches the API accepts (at most 500 ids per runs:details call).
 */
import { parse } from 'csv-parse/sync'
import { describe, expect, it, vi } from 'vitest'
import type { RunDetail, RunSummary } from '../../src/shared/types'
import { runOf } from '../shared/chart-fixtures'

const fake = vi.hoisted(() => ({ batches: [] as number[][], details: new Map<number, unknown>() }))

vi.mock('../../src/renderer/src/lib/api', () => ({
  call: vi.fn(async (channel: string, input: { runIds: number[] }) => {
    if (channel !== 'runs:details') throw new Error(`unexpected ${channel}`)
    fake.batches.push(input.runIds)
    return input.runIds.map((id) => fake.details.get(id)).filter(Boolean)
  }),
}))

const { allRunsCsv } = await import('../../src/renderer/src/lib/all-runs')

describe('all-runs.csv', () => {
  it('fills the config columns of every run, fetching details in batches of at most 500', async () => {
    const details: RunDetail[] = Array.from({ length: 1201 }, (_, i) =>
      runOf(i + 1, 'tfkd-reg', 1 + (i % 3), 0.8),
    )
    for (const d of details) fake.details.set(d.id, d)
    const summaries: RunSummary[] = details.map(({ config: _c, metrics: _m, result: _r, ...s }) => s)
    const csv = await allRunsCsv(summaries, { 3: ['paper'] })
    const rows = parse(csv, { columns: true }) as Record<string, string>[]
    expect(rows).toHaveLength(1201)
    expect(fake.batches.map((b) => b.length)).toEqual([500, 500, 201])
    for (const r of rows) {
      expect(r.learning_rate, `run ${r.run_id}`).not.toBe('')
      expect(r.batch_size).not.toBe('')
      expect(r.optimizer).not.toBe('')
      expect(r.hyperparameters).toMatch(/alpha=/)
    }
    expect(rows[2]!.tags).toBe('paper')
  })
})
