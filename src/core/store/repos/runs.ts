/**
 * The `runs` table. Reads, inserts, deletes and tags live here; status transitions in
 * run-status.ts and per-epoch rows in epoch-metrics.ts, composed into one `runs` repository.
 */
import { runConfigRecord, runResultRecord } from '../../../shared/record-schemas'
import type {
  RunConfig,
  RunDetail,
  RunFilter,
  RunRole,
  RunStatus,
  RunSummary,
  VariantId,
} from '../../../shared/types'
import { parseStoredJson } from '../parse'
import { decodeReal } from '../real'
import { createCheckpointsRepo } from './checkpoints'
import { createEpochMetricsRepo } from './epoch-metrics'
import { createRunStatusRepo } from './run-status'
import { decodeRunDevice } from './run-devices'
import type { RepoDeps, Row } from './types'

export interface NewRun {
  experimentId: number | null
  datasetId: number
  config: RunConfig
  teacherRunId?: number | null
  teacherCheckpointId?: number | null
  role?: RunRole
  /** The run whose config this one repeats (a rerun). */
  rerunOf?: number | null
}

const RUN_SELECT = `
  SELECT r.*, d.name AS dataset_name,
    (SELECT COUNT(*) FROM epoch_metrics m WHERE m.run_id = r.id) AS epochs_done,
    (SELECT TOTAL(CASE WHEN typeof(m.duration_ms) IN ('real', 'integer') THEN m.duration_ms END)
       FROM epoch_metrics m WHERE m.run_id = r.id) AS training_ms
  FROM runs r JOIN datasets d ON d.id = r.dataset_id`

function toRun(r: Row): RunSummary {
  return {
    id: r.id as number,
    experimentId: (r.experiment_id as number | null) ?? null,
    role: r.role as RunRole,
    status: r.status as RunStatus,
    failureReason: (r.failure_reason as string | null) ?? null,
    datasetId: r.dataset_id as number,
    datasetName: r.dataset_name as string,
    model: r.model as string,
    variant: r.variant as VariantId,
    seed: r.seed as number,
    backend: (r.backend as string | null) ?? null,
    device: (r.device as string | null) ?? null,
    deviceInfo: decodeRunDevice(r.device_info),
    teacherRunId: (r.teacher_run_id as number | null) ?? null,
    epochsPlanned: r.epochs_planned as number,
    epochsDone: r.epochs_done as number,
    bestEpoch: (r.best_epoch as number | null) ?? null,
    bestValAccuracy: decodeReal(r.best_val_accuracy),
    testAccuracy: decodeReal(r.test_accuracy),
    testLoss: decodeReal(r.test_loss),
    createdAt: r.created_at as number,
    startedAt: (r.started_at as number | null) ?? null,
    finishedAt: (r.finished_at as number | null) ?? null,
    trainingMs: Math.round((r.training_ms as number | null) ?? 0),
    queuedAt: (r.queued_at as number | null) ?? null,
    rerunOf: (r.rerun_of as number | null) ?? null,
  }
}

/** Tags are stored as a JSON array; anything else reads as none. */
function readTags(raw: unknown): string[] {
  try {
    const v = JSON.parse(String(raw)) as unknown
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : []
  } catch {
    return []
  }
}

function createRunQueries(deps: RepoDeps) {
  const { db } = deps
  const metrics = createEpochMetricsRepo(deps)
  const checkpoints = createCheckpointsRepo(deps)
  const queries = {
    get(id: number): RunSummary | undefined {
      const r = db.prepare(`${RUN_SELECT} WHERE r.id = ?`).get(id) as Row | undefined
      return r && toRun(r)
    },
    detail(id: number): RunDetail | undefined {
      const r = db.prepare(`${RUN_SELECT} WHERE r.id = ?`).get(id) as Row | undefined
      if (!r) return undefined
      const checkpointId = r.teacher_checkpoint_id as number | null
      return {
        ...toRun(r),
        config: parseStoredJson(runConfigRecord, r.config, { record: 'run', id, column: 'config' }),
        metrics: metrics.metrics(id),
        result:
          r.result === null
            ? null
            : parseStoredJson(runResultRecord, r.result, { record: 'run', id, column: 'result' }),
        teacherEpoch: checkpointId ? checkpoints.epochOf(checkpointId) : null,
        checkpoints: checkpoints
          .list(id)
          .map((c) => ({ epoch: c.epoch, kind: c.kind, bytes: c.bytes, createdAt: c.createdAt })),
        reruns: (
          db.prepare('SELECT id FROM runs WHERE rerun_of = ? ORDER BY id').all(id) as { id: number }[]
        ).map((x) => x.id),
      }
    },
    list(filter: RunFilter = {}): RunSummary[] {
      const where: string[] = []
      const args: unknown[] = []
      if (filter.status) {
        where.push('r.status = ?')
        args.push(filter.status)
      }
      if (filter.experimentId !== undefined) {
        where.push('r.experiment_id = ?')
        args.push(filter.experimentId)
      }
      const sql = `${RUN_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT ?`
      return (db.prepare(sql).all(...args, filter.limit ?? 1000) as Row[]).map(toRun)
    },
    countByDataset(datasetId: number): number {
      return (
        db.prepare('SELECT COUNT(*) AS n FROM runs WHERE dataset_id = ?').get(datasetId) as { n: number }
      ).n
    },
    /** Ids of the runs this run taught. */
    studentsOf(runId: number): number[] {
      return (db.prepare('SELECT id FROM runs WHERE teacher_run_id = ?').all(runId) as { id: number }[]).map(
        (s) => s.id,
      )
    },
    /** Tags of every run that has any, by run id. */
    allTags(): Record<number, string[]> {
      const rows = db.prepare(`SELECT id, tags FROM runs WHERE tags != '[]'`).all() as {
        id: number
        tags: string
      }[]
      return Object.fromEntries(rows.map((r) => [r.id, readTags(r.tags)]))
    },
  }
  return queries
}

function createRunWrites(deps: RepoDeps, get: (id: number) => RunSummary | undefined) {
  const { db, now } = deps
  return {
    insert(r: NewRun): RunSummary {
      const info = db
        .prepare(
          `INSERT INTO runs (experiment_id, dataset_id, model, variant, seed, config, status,
             teacher_run_id, teacher_checkpoint_id, epochs_planned, created_at, role, host_pid,
             rerun_of, queued_at)
           VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          r.experimentId,
          r.datasetId,
          r.config.model,
          r.config.variant,
          r.config.seed,
          JSON.stringify(r.config),
          r.teacherRunId ?? null,
          r.teacherCheckpointId ?? null,
          r.config.epochs,
          now(),
          r.role ?? 'student',
          // A queued run belongs to the host that queued it (run-lifecycle.ts).
          process.pid,
          r.rerunOf ?? null,
          now(),
        )
      return get(Number(info.lastInsertRowid))!
    },
    setTeacherCheckpoint(id: number, checkpointId: number): void {
      db.prepare('UPDATE runs SET teacher_checkpoint_id = ? WHERE id = ?').run(checkpointId, id)
    },
    setTags(id: number, tags: string[]): void {
      db.prepare('UPDATE runs SET tags = ? WHERE id = ?').run(JSON.stringify(tags), id)
    },
    /** Deletes runs (their metrics and checkpoints rows cascade) in one transaction. */
    deleteMany(ids: number[]): void {
      db.transaction(() => {
        // Links first: a student's teacher_checkpoint_id may point at a doomed teacher's checkpoint.
        const clear = db.prepare(
          'UPDATE runs SET teacher_checkpoint_id = NULL, teacher_run_id = NULL WHERE id = ?',
        )
        const del = db.prepare('DELETE FROM runs WHERE id = ?')
        for (const id of ids) clear.run(id)
        for (const id of ids) del.run(id)
      })()
    },
  }
}

export function createRunsRepo(deps: RepoDeps) {
  const queries = createRunQueries(deps)
  const metrics = createEpochMetricsRepo(deps)
  return {
    ...queries,
    ...createRunWrites(deps, queries.get),
    ...createRunStatusRepo(deps),
    metrics: metrics.metrics,
    recordEpoch: metrics.recordEpoch,
  }
}

export type RunsRepo = ReturnType<typeof createRunsRepo>
