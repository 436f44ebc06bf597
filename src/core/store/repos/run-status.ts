/**
 * Status transitions of the `runs` table. Every one goes through `transition` (../run-lifecycle.ts),
 * which enforces the table in src/shared/run-states.ts: queued -> running -> completed / failed /
 * cancelled / interrupted, queued -> failed / cancelled / interrupted, and back to queued on resume.
 */
import type { RunResultDetails } from '../../../shared/types'
import { encodeJson, encodeReal } from '../real'
import { adopt, hostPid, settleOrphans, transition } from '../run-lifecycle'
import type { RepoDeps } from './types'

export interface RunCompletion {
  testAccuracy: number
  testLoss: number
  bestEpoch: number
  bestValAccuracy: number
  details?: RunResultDetails
}

export function createRunStatusRepo({ db, now }: RepoDeps) {
  return {
    /** Back to the queue (resume); the epochs already recorded stay. */
    requeue(id: number, hostPidValue: number = process.pid): void {
      transition(db, id, 'queued', {
        failure_reason: null,
        finished_at: null,
        host_pid: hostPidValue,
        queued_at: now(),
      })
    },
    /** Into this host's queue: resumable, or left queued/running by a host that is gone. */
    adopt: (id: number): void => adopt(db, id, process.pid, now),
    /** The pid of the host that queued or drives the run. */
    hostPid: (id: number): number | null => hostPid(db, id),
    markRunning(id: number, backend: string, device: string, hostPidValue: number = process.pid): void {
      const started = db.prepare('SELECT started_at FROM runs WHERE id = ?').get(id) as
        { started_at: number | null } | undefined
      transition(db, id, 'running', {
        backend,
        device,
        started_at: started?.started_at ?? now(),
        failure_reason: null,
        finished_at: null,
        host_pid: hostPidValue,
      })
    },
    complete(id: number, r: RunCompletion): void {
      transition(db, id, 'completed', {
        failure_reason: null,
        test_accuracy: encodeReal(r.testAccuracy),
        test_loss: encodeReal(r.testLoss),
        best_epoch: r.bestEpoch,
        best_val_accuracy: encodeReal(r.bestValAccuracy),
        result: r.details ? encodeJson(r.details) : null,
        finished_at: now(),
      })
    },
    finish(id: number, status: 'failed' | 'cancelled' | 'interrupted', reason: string | null): void {
      transition(db, id, status, { failure_reason: reason, finished_at: now() })
    },
    /**
     * At start-up: runs left `queued` or `running` by a host that is gone become `interrupted`, with
     * the reason (see run-lifecycle.ts). Runs another live host drives are left alone. Returns the ids.
     */
    settleOrphans: (isHostAlive?: (pid: number) => boolean): number[] => settleOrphans(db, now, isHostAlive),
  }
}
