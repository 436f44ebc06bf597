/**
 * Repository of cluster jobs and of the origin of synced runs (migration 006). A synced run is
 * created and moved through its states by the run repository like any local run; this only adds
 * what is particular to it: its uuid, where it ran, and the times the cluster reported.
 */
import type { RepoDeps } from './types'

export interface ClusterJobRecord {
  uuid: string
  name: string
  jobDir: string
  scheduler: 'slurm'
  experimentId: number | null
  createdAt: number
  syncedAt: number | null
}

export interface RunOrigin {
  runId: number
  uuid: string
  origin: string | null
  node: string | null
  job: string | null
}

type Row = Record<string, unknown>

function toJob(r: Row): ClusterJobRecord {
  return {
    uuid: r.uuid as string,
    name: r.name as string,
    jobDir: r.job_dir as string,
    scheduler: 'slurm',
    experimentId: (r.experiment_id as number | null) ?? null,
    createdAt: r.created_at as number,
    syncedAt: (r.synced_at as number | null) ?? null,
  }
}

export function createClusterRepo({ db, now }: RepoDeps) {
  return {
    jobs: {
      /** Registers a job folder (again: its path may have moved); keeps its experiment link. */
      upsert(j: {
        uuid: string
        name: string
        jobDir: string
        experimentId?: number | null
      }): ClusterJobRecord {
        db.prepare(
          `INSERT INTO cluster_jobs (uuid, name, job_dir, experiment_id, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(uuid) DO UPDATE SET job_dir = excluded.job_dir, name = excluded.name,
             experiment_id = COALESCE(cluster_jobs.experiment_id, excluded.experiment_id)`,
        ).run(j.uuid, j.name, j.jobDir, j.experimentId ?? null, now())
        return this.get(j.uuid)!
      },
      get(uuid: string): ClusterJobRecord | undefined {
        const r = db.prepare('SELECT * FROM cluster_jobs WHERE uuid = ?').get(uuid) as Row | undefined
        return r && toJob(r)
      },
      /** Newest first. */
      list(limit = 100): ClusterJobRecord[] {
        return (
          db
            .prepare('SELECT * FROM cluster_jobs ORDER BY created_at DESC, rowid DESC LIMIT ?')
            .all(limit) as Row[]
        ).map(toJob)
      },
      setExperiment(uuid: string, experimentId: number): void {
        db.prepare('UPDATE cluster_jobs SET experiment_id = ? WHERE uuid = ?').run(experimentId, uuid)
      },
      markSynced(uuid: string): void {
        db.prepare('UPDATE cluster_jobs SET synced_at = ? WHERE uuid = ?').run(now(), uuid)
      },
    },
    runs: {
      /** The local run with this uuid, if it was synced before. */
      byUuid(uuid: string): { id: number; status: string } | undefined {
        return db.prepare('SELECT id, status FROM runs WHERE uuid = ?').get(uuid) as
          { id: number; status: string } | undefined
      },
      /**
       * Marks a run as synced from a cluster: its uuid and origin, the times the cluster reported,
       * and no local host process (so no start-up sweep ever takes it for an orphan).
       */
      setOrigin(
        runId: number,
        o: {
          uuid: string
          node: string | null
          job: string | null
          startedAt: number | null
          finishedAt: number | null
        },
      ): void {
        db.prepare(
          `UPDATE runs SET uuid = ?, origin = 'slurm', origin_node = ?, origin_job = ?, host_pid = NULL,
             started_at = COALESCE(?, started_at), finished_at = COALESCE(?, finished_at) WHERE id = ?`,
        ).run(o.uuid, o.node, o.job, o.startedAt, o.finishedAt, runId)
      },
      /** A retried run starts over: its earlier attempt's epochs and checkpoints go. */
      clearAttempt(runId: number): void {
        db.prepare(
          'UPDATE runs SET teacher_checkpoint_id = NULL WHERE teacher_checkpoint_id IN (SELECT id FROM checkpoints WHERE run_id = ?)',
        ).run(runId)
        db.prepare('DELETE FROM epoch_metrics WHERE run_id = ?').run(runId)
        db.prepare('DELETE FROM checkpoints WHERE run_id = ?').run(runId)
      },
      origins(runIds: number[]): RunOrigin[] {
        if (!runIds.length) return []
        const rows = db
          .prepare(
            `SELECT id, uuid, origin, origin_node, origin_job FROM runs WHERE uuid IS NOT NULL AND id IN (${runIds.map(() => '?').join(',')})`,
          )
          .all(...runIds) as Row[]
        return rows.map((r) => ({
          runId: r.id as number,
          uuid: r.uuid as string,
          origin: (r.origin as string | null) ?? null,
          node: (r.origin_node as string | null) ?? null,
          job: (r.origin_job as string | null) ?? null,
        }))
      },
    },
  }
}

export type ClusterRepo = ReturnType<typeof createClusterRepo>
