/**
 * all-runs.csv: every run of the store with what it was trained with. The store lists runs as
 * summaries (no config), so their details are fetched first, in batches the API accepts; a run
 * whose detail cannot be had (deleted meanwhile) keeps its summary row.
 */
import { runsCsv } from '../../../shared/export/csv'
import type { RunDetail, RunSummary } from '../../../shared/types'
import { call } from './api'

/** runs:details takes at most this many ids per call (src/shared/schemas.ts). */
const BATCH = 500

export async function allRunsCsv(
  runs: readonly RunSummary[],
  tags: Readonly<Record<number, readonly string[]>> = {},
): Promise<string> {
  const ids = runs.map((r) => r.id)
  const byId = new Map<number, RunDetail>()
  for (let i = 0; i < ids.length; i += BATCH) {
    for (const d of await call('runs:details', { runIds: ids.slice(i, i + BATCH) })) byId.set(d.id, d)
  }
  return runsCsv(
    runs.map((r) => byId.get(r.id) ?? r),
    tags,
  )
}
