/** The `experiments` table: plans and the counts of their runs by status. */
import { AppError } from '../../../shared/errors'
import { EXPERIMENT_TRANSITIONS, type ExperimentStatus } from '../../../shared/run-states'
import type { ExperimentSummary } from '../../../shared/types'
import type { RepoDeps, Row } from './types'

export type ExperimentRecord = ExperimentSummary

const EXPERIMENT_SELECT = `
  SELECT e.*, d.name AS dataset_name,
    (SELECT json_group_object(status, n) FROM
       (SELECT status, COUNT(*) AS n FROM runs WHERE experiment_id = e.id GROUP BY status)) AS run_counts
  FROM experiments e JOIN datasets d ON d.id = e.dataset_id`

function toExperiment(r: Row): ExperimentRecord {
  return {
    id: r.id as number,
    name: r.name as string,
    datasetId: r.dataset_id as number,
    datasetName: r.dataset_name as string,
    status: r.status as ExperimentRecord['status'],
    plan: JSON.parse(r.plan as string) as unknown,
    createdAt: r.created_at as number,
    runCounts: JSON.parse((r.run_counts as string | null) ?? '{}') as Record<string, number>,
  }
}

export function createExperimentsRepo({ db, now }: RepoDeps) {
  return {
    insert(e: { name: string; datasetId: number; plan: unknown }): number {
      const info = db
        .prepare('INSERT INTO experiments (name, dataset_id, plan, created_at) VALUES (?, ?, ?, ?)')
        .run(e.name, e.datasetId, JSON.stringify(e.plan), now())
      return Number(info.lastInsertRowid)
    },
    get(id: number): ExperimentRecord | undefined {
      const r = db.prepare(EXPERIMENT_SELECT + ' WHERE e.id = ?').get(id) as Row | undefined
      return r && toExperiment(r)
    },
    latest(): ExperimentRecord | undefined {
      const r = db.prepare(EXPERIMENT_SELECT + ' ORDER BY e.id DESC LIMIT 1').get() as Row | undefined
      return r && toExperiment(r)
    },
    list(limit = 200): ExperimentRecord[] {
      return (db.prepare(EXPERIMENT_SELECT + ' ORDER BY e.id DESC LIMIT ?').all(limit) as Row[]).map(
        toExperiment,
      )
    },
    setStatus(id: number, status: ExperimentStatus): void {
      const row = db.prepare('SELECT status FROM experiments WHERE id = ?').get(id) as
        { status: ExperimentStatus } | undefined
      if (!row) throw new AppError('not_found', `experiment ${id} not found`)
      if (!EXPERIMENT_TRANSITIONS[row.status].includes(status)) {
        throw new AppError('conflict', `experiment ${id} is ${row.status}; it cannot become ${status}`)
      }
      db.prepare('UPDATE experiments SET status = ? WHERE id = ?').run(status, id)
    },
    countByDataset(datasetId: number): number {
      return (
        db.prepare('SELECT COUNT(*) AS n FROM experiments WHERE dataset_id = ?').get(datasetId) as {
          n: number
        }
      ).n
    },
  }
}

export type ExperimentsRepo = ReturnType<typeof createExperimentsRepo>
