/** Status transitions of the `runs` table: queued -> running -> completed/failed/cancelled/interrupted. */
import type { RunResultDetails } from '../../../shared/types'
import { encodeJson, encodeReal } from '../real'
import type { RepoDeps } from './types'

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

export interface RunCompletion {
  testAccuracy: number
  testLoss: number
  bestEpoch: number
  bestValAccuracy: number
  details?: RunResultDetails
}

export function createRunStatusRepo({ db, now }: RepoDeps) {
  return {
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
    complete(id: number, r: RunCompletion): void {
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
}
