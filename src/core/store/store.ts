/** Repositories over the run history. Every multi-row write runs in one transaction. */
import type { Db } from './db'
import { createRunDeviceRepo, createSettingsRepo } from './device-settings-repo'
import { decodeJson, decodeReal, encodeJson, encodeReal } from './real'
import type {
  DatasetSummary,
  EpochMetrics,
  ExperimentSummary,
  RunConfig,
  RunDetail,
  RunDevice,
  RunFilter,
  RunStatus,
  RunResultDetails,
  RunRole,
  RunSummary,
  VariantId,
} from '../../shared/types'

export interface NewDataset {
  name: string
  format: string
  sourcePath: string | null
  contentHash: string | null
  classNames: string[]
  inputShape: [number, number, number]
  counts: { train: number; test: number }
  cachePath: string | null
}

export interface DatasetRecord extends DatasetSummary {
  sourcePath: string | null
  contentHash: string | null
  cachePath: string | null
}

export interface NewRun {
  experimentId: number | null
  datasetId: number
  config: RunConfig
  teacherRunId?: number | null
  teacherCheckpointId?: number | null
  role?: RunRole
}

export interface CheckpointRecord {
  id: number
  runId: number
  epoch: number
  kind: 'epoch' | 'best' | 'final' | 'snapshot'
  path: string
  bytes: number
  createdAt: number
}

type Row = Record<string, unknown>

const RUN_SELECT = `
  SELECT r.*, d.name AS dataset_name,
    (SELECT COUNT(*) FROM epoch_metrics m WHERE m.run_id = r.id) AS epochs_done
  FROM runs r JOIN datasets d ON d.id = r.dataset_id`

function toDataset(r: Row): DatasetRecord {
  return {
    id: r.id as number,
    name: r.name as string,
    format: r.format as string,
    classNames: JSON.parse(r.class_names as string) as string[],
    inputShape: JSON.parse(r.input_shape as string) as [number, number, number],
    counts: JSON.parse(r.counts as string) as { train: number; test: number },
    createdAt: r.created_at as number,
    sourcePath: (r.source_path as string | null) ?? null,
    contentHash: (r.content_hash as string | null) ?? null,
    cachePath: (r.cache_path as string | null) ?? null,
  }
}

function decodeDevice(raw: unknown): RunDevice | null {
  if (typeof raw !== 'string') return null
  try {
    return JSON.parse(raw) as RunDevice
  } catch {
    return null
  }
}

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
    deviceInfo: decodeDevice(r.device_info),
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
  }
}

function toMetrics(r: Row): EpochMetrics {
  const n = (k: string): number => decodeReal(r[k]) ?? NaN
  return {
    epoch: r.epoch as number,
    trainLoss: n('train_loss'),
    trainAccuracy: n('train_accuracy'),
    valLoss: n('val_loss'),
    valAccuracy: n('val_accuracy'),
    ...(r.val_top5 !== null && r.val_top5 !== undefined ? { valTop5: n('val_top5') } : {}),
    ...(r.val_ece !== null && r.val_ece !== undefined ? { valEce: n('val_ece') } : {}),
    learningRate: n('learning_rate'),
    durationMs: n('duration_ms'),
    samplesPerSec: n('samples_per_sec'),
  }
}

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

/** Whether a process with this pid exists on this machine (signal 0 only checks). */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function toCheckpoint(r: Row): CheckpointRecord {
  return {
    id: r.id as number,
    runId: r.run_id as number,
    epoch: r.epoch as number,
    kind: r.kind as CheckpointRecord['kind'],
    path: r.path as string,
    bytes: r.bytes as number,
    createdAt: r.created_at as number,
  }
}

export function createStore(db: Db, now: () => number = Date.now) {
  const datasets = {
    insert(d: NewDataset): DatasetRecord {
      const info = db
        .prepare(
          `INSERT INTO datasets (name, format, source_path, content_hash, class_names, input_shape, counts, cache_path, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          d.name,
          d.format,
          d.sourcePath,
          d.contentHash,
          JSON.stringify(d.classNames),
          JSON.stringify(d.inputShape),
          JSON.stringify(d.counts),
          d.cachePath,
          now(),
        )
      return datasets.get(Number(info.lastInsertRowid))!
    },
    get(id: number): DatasetRecord | undefined {
      const r = db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as Row | undefined
      return r && toDataset(r)
    },
    byName(name: string): DatasetRecord | undefined {
      const r = db.prepare('SELECT * FROM datasets WHERE name = ?').get(name) as Row | undefined
      return r && toDataset(r)
    },
    list(): DatasetRecord[] {
      return (db.prepare('SELECT * FROM datasets ORDER BY id').all() as Row[]).map(toDataset)
    },
    byHash(contentHash: string): DatasetRecord | undefined {
      const r = db
        .prepare('SELECT * FROM datasets WHERE content_hash = ? ORDER BY id LIMIT 1')
        .get(contentHash) as Row | undefined
      return r && toDataset(r)
    },
  }

  const runs = {
    insert(r: NewRun): RunSummary {
      const info = db
        .prepare(
          `INSERT INTO runs (experiment_id, dataset_id, model, variant, seed, config, status,
             teacher_run_id, teacher_checkpoint_id, epochs_planned, created_at, role)
           VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
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
        )
      return runs.get(Number(info.lastInsertRowid))!
    },
    get(id: number): RunSummary | undefined {
      const r = db.prepare(`${RUN_SELECT} WHERE r.id = ?`).get(id) as Row | undefined
      return r && toRun(r)
    },
    detail(id: number): RunDetail | undefined {
      const r = db.prepare(`${RUN_SELECT} WHERE r.id = ?`).get(id) as Row | undefined
      if (!r) return undefined
      const teacherEpoch = r.teacher_checkpoint_id
        ? ((
            db.prepare('SELECT epoch FROM checkpoints WHERE id = ?').get(r.teacher_checkpoint_id) as
              { epoch: number } | undefined
          )?.epoch ?? null)
        : null
      return {
        ...toRun(r),
        config: JSON.parse(r.config as string) as RunConfig,
        metrics: runs.metrics(id),
        result: r.result ? decodeJson<RunResultDetails>(r.result as string) : null,
        teacherEpoch,
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
    metrics(id: number): EpochMetrics[] {
      return (db.prepare('SELECT * FROM epoch_metrics WHERE run_id = ? ORDER BY epoch').all(id) as Row[]).map(
        toMetrics,
      )
    },
    setTeacherCheckpoint(id: number, checkpointId: number): void {
      db.prepare('UPDATE runs SET teacher_checkpoint_id = ? WHERE id = ?').run(checkpointId, id)
    },
    /** Back to the queue (resume or rerun); the epochs already recorded stay. */
    requeue(id: number): void {
      db.prepare(
        `UPDATE runs SET status = 'queued', failure_reason = NULL, finished_at = NULL WHERE id = ?`,
      ).run(id)
    },
    markRunning(id: number, backend: string, device: string, hostPid: number = process.pid): void {
      db.prepare(
        `UPDATE runs SET status = 'running', backend = ?, device = ?, started_at = COALESCE(started_at, ?),
           failure_reason = NULL, finished_at = NULL, host_pid = ? WHERE id = ?`,
      ).run(backend, device, now(), hostPid, id)
    },
    /** Records one finished epoch; idempotent for a resumed run that repeats an epoch. */
    recordEpoch(id: number, m: EpochMetrics): void {
      db.prepare(
        `INSERT OR REPLACE INTO epoch_metrics (run_id, epoch, train_loss, train_accuracy, val_loss,
           val_accuracy, learning_rate, duration_ms, samples_per_sec, val_top5, val_ece)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        m.epoch,
        encodeReal(m.trainLoss),
        encodeReal(m.trainAccuracy),
        encodeReal(m.valLoss),
        encodeReal(m.valAccuracy),
        encodeReal(m.learningRate),
        encodeReal(m.durationMs),
        encodeReal(m.samplesPerSec),
        encodeReal(m.valTop5),
        encodeReal(m.valEce),
      )
    },
    complete(
      id: number,
      r: {
        testAccuracy: number
        testLoss: number
        bestEpoch: number
        bestValAccuracy: number
        details?: RunResultDetails
      },
    ): void {
      db.prepare(
        `UPDATE runs SET status = 'completed', failure_reason = NULL, test_accuracy = ?, test_loss = ?, best_epoch = ?,
           best_val_accuracy = ?, result = ?, finished_at = ? WHERE id = ?`,
      ).run(
        encodeReal(r.testAccuracy),
        encodeReal(r.testLoss),
        r.bestEpoch,
        encodeReal(r.bestValAccuracy),
        r.details ? encodeJson(r.details) : null,
        now(),
        id,
      )
    },
    finish(id: number, status: 'failed' | 'cancelled' | 'interrupted', reason: string | null): void {
      db.prepare('UPDATE runs SET status = ?, failure_reason = ?, finished_at = ? WHERE id = ?').run(
        status,
        reason,
        now(),
        id,
      )
    },
    /**
     * At start-up: runs left `running` by a host that is gone were cut off; say so. Runs driven by
     * another live host (the app and a CLI share the data folder) are left alone. Returns the ids.
     */
    interruptOrphans(
      reason = 'the app or trainer stopped while this run was training',
      isHostAlive: (pid: number) => boolean = isProcessAlive,
    ): number[] {
      return db.transaction(() => {
        const rows = db.prepare(`SELECT id, host_pid FROM runs WHERE status = 'running'`).all() as {
          id: number
          host_pid: number | null
        }[]
        const orphans = rows
          .filter((r) => r.host_pid === null || r.host_pid === process.pid || !isHostAlive(r.host_pid))
          .map((r) => r.id)
        const mark = db.prepare(
          `UPDATE runs SET status = 'interrupted', failure_reason = ?, finished_at = ? WHERE id = ?`,
        )
        for (const id of orphans) mark.run(reason, now(), id)
        return orphans
      })()
    },
  }

  const experiments = {
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
    setStatus(id: number, status: 'active' | 'cancelled'): void {
      db.prepare('UPDATE experiments SET status = ? WHERE id = ?').run(status, id)
    },
  }

  const checkpoints = {
    insert(c: Omit<CheckpointRecord, 'id' | 'createdAt'>): CheckpointRecord {
      const createdAt = now()
      const info = db
        .prepare(
          'INSERT INTO checkpoints (run_id, epoch, kind, path, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(c.runId, c.epoch, c.kind, c.path, c.bytes, createdAt)
      return { ...c, id: Number(info.lastInsertRowid), createdAt }
    },
    latest(runId: number): CheckpointRecord | undefined {
      const r = db
        .prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC, id DESC LIMIT 1')
        .get(runId) as Row | undefined
      return r && toCheckpoint(r)
    },
    atEpoch(runId: number, epoch: number): CheckpointRecord | undefined {
      const r = db
        .prepare('SELECT * FROM checkpoints WHERE run_id = ? AND epoch = ? ORDER BY id DESC LIMIT 1')
        .get(runId, epoch) as Row | undefined
      return r && toCheckpoint(r)
    },
  }

  return {
    db,
    datasets,
    runs,
    experiments,
    checkpoints,
    runDevices: createRunDeviceRepo(db),
    settings: createSettingsRepo(db),
    close: () => db.close(),
  }
}

export type Store = ReturnType<typeof createStore>
