/**
 * Every change of a run's status goes through `transition`, which enforces the one table of allowed
 * moves (src/shared/run-states.ts) atomically: `UPDATE ... WHERE status IN (allowed sources)`. A
 * move the table forbids (completing a cancelled run, resuming a completed one) is an AppError
 * naming both states, and nothing is written.
 *
 * Ownership of non-final runs (`host_pid`) is set here too: queued and running runs belong to the
 * host process that queued or started them; start-up recovery settles those whose host is gone.
 */
import { AppError } from '../../shared/errors'
import { runStatusesInto } from '../../shared/run-states'
import type { RunStatus } from '../../shared/types'
import { isProcessAlive } from '../process-alive'
import type { Db } from './db'

type Now = () => number

/**
 * Moves run `id` to `to`, setting the extra columns in `set` (column name -> value) in the same
 * statement. Throws a conflict when the run's current state may not go to `to`.
 */
export function transition(db: Db, id: number, to: RunStatus, set: Record<string, unknown> = {}): void {
  const from = runStatusesInto(to)
  const cols = Object.keys(set)
  const assignments = ['status = ?', ...cols.map((c) => `${c} = ?`)].join(', ')
  const info = db
    .prepare(`UPDATE runs SET ${assignments} WHERE id = ? AND status IN (${from.map(() => '?').join(', ')})`)
    .run(to, ...cols.map((c) => set[c]), id, ...from)
  if (info.changes === 1) return
  const row = db.prepare('SELECT status FROM runs WHERE id = ?').get(id) as { status: RunStatus } | undefined
  if (!row) throw new AppError('not_found', `run ${id} not found`)
  throw new AppError('conflict', `run ${id} is ${row.status}; a ${row.status} run cannot become ${to}`, {
    from: row.status,
    to,
  })
}

/**
 * Takes a stored run into this host's queue: a resumable one goes back to `queued`; one left
 * `running` by a host that is gone is first recorded `interrupted`; one left `queued` is claimed.
 * The caller checked that no live host owns it.
 */
export function adopt(db: Db, id: number, hostPid: number = process.pid, now: Now = Date.now): void {
  db.transaction(() => {
    const row = db.prepare('SELECT status FROM runs WHERE id = ?').get(id) as
      { status: RunStatus } | undefined
    if (!row) throw new AppError('not_found', `run ${id} not found`)
    if (row.status === 'running') transition(db, id, 'interrupted')
    // queued_at: the run joins the end of this host's queue, so lists show it where it will run.
    if (row.status === 'queued') {
      db.prepare('UPDATE runs SET host_pid = ?, queued_at = ? WHERE id = ?').run(hostPid, now(), id)
    } else {
      transition(db, id, 'queued', {
        failure_reason: null,
        finished_at: null,
        host_pid: hostPid,
        queued_at: now(),
      })
    }
  })()
}

const RECOVERY_REASONS: Partial<Record<RunStatus, string>> = {
  running:
    'the app or trainer stopped while this run was training; resume it to continue from its last checkpoint',
  queued: 'the app stopped before this run started; resume it to train it',
}

/**
 * At start-up: every run left `queued` or `running` by a host that is gone (or by an earlier
 * process with this pid) becomes `interrupted`, with the reason, so that nothing stays stuck. Runs
 * another live host drives are left alone. Returns the settled ids.
 */
export function settleOrphans(
  db: Db,
  now: Now,
  isHostAlive: (pid: number) => boolean = isProcessAlive,
): number[] {
  return db.transaction(() => {
    const rows = db
      .prepare(`SELECT id, status, host_pid FROM runs WHERE status IN ('queued', 'running')`)
      .all() as {
      id: number
      status: RunStatus
      host_pid: number | null
    }[]
    const orphans = rows.filter(
      (r) => r.host_pid === null || r.host_pid === process.pid || !isHostAlive(r.host_pid),
    )
    for (const r of orphans) {
      transition(db, r.id, 'interrupted', {
        failure_reason: RECOVERY_REASONS[r.status] ?? null,
        finished_at: now(),
      })
    }
    return orphans.map((r) => r.id)
  })()
}

/** The pid of the host that queued or drives the run (null for legacy rows or unknown runs). */
export function hostPid(db: Db, id: number): number | null {
  const r = db.prepare('SELECT host_pid FROM runs WHERE id = ?').get(id) as
    { host_pid: number | null } | undefined
  return r?.host_pid ?? null
}
