/**
 * The lifecycle of runs and experiments: the one table of allowed status changes. The store
 * enforces it (src/core/store), so no code path can move a run from a final state back to
 * `running`, or leave one in a state nobody can get it out of.
 *
 *   queued --trainer started--> running --> completed | failed | cancelled | interrupted
 *   queued --> failed (teacher failed, trainer could not start) | cancelled | interrupted (host gone)
 *   failed | cancelled | interrupted --resume--> queued
 *
 * `completed` is final for good. `failed`, `cancelled` and `interrupted` are final until resumed.
 * `queued` and `running` are owned by one live host process (its pid is stored with the run);
 * when that host is gone the run can be settled, cancelled, deleted or resumed by any other host.
 */
import type { RunStatus } from './types'

export const RUN_TRANSITIONS: { readonly [From in RunStatus]: readonly RunStatus[] } = {
  queued: ['running', 'failed', 'cancelled', 'interrupted'],
  running: ['completed', 'failed', 'cancelled', 'interrupted'],
  completed: [],
  failed: ['queued'],
  cancelled: ['queued'],
  interrupted: ['queued'],
}

/** States a run can still leave on its own (a host drives it). */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['queued', 'running']
/** Final states from which a run can be resumed. */
export const RESUMABLE_RUN_STATUSES: readonly RunStatus[] = ['failed', 'cancelled', 'interrupted']

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return RUN_TRANSITIONS[from].includes(to)
}

export function isActiveRunStatus(s: RunStatus): boolean {
  return ACTIVE_RUN_STATUSES.includes(s)
}

/** The states a run may be in for a move to `to` (the inverse of the table). */
export function runStatusesInto(to: RunStatus): RunStatus[] {
  return (Object.keys(RUN_TRANSITIONS) as RunStatus[]).filter((from) => canTransition(from, to))
}

export type ExperimentStatus = 'active' | 'cancelled'

/**
 * An experiment's stored status only says whether its runs should go on; its progress is its runs'.
 * Resuming an active experiment is allowed: after a crash it is still active with runs to redo.
 */
export const EXPERIMENT_TRANSITIONS: { readonly [From in ExperimentStatus]: readonly ExperimentStatus[] } = {
  active: ['cancelled', 'active'],
  cancelled: ['active', 'cancelled'],
}

/**
 * Active runs in the order a host runs them: running first, then queued runs by when they joined
 * the queue (a resumed run joins at the end, behind runs queued before it), then by id. Lists of
 * the queue use this, so that what is shown first is what runs first.
 */
export function inExecutionOrder<T extends { id: number; status: RunStatus; queuedAt?: number | null }>(
  runs: readonly T[],
): T[] {
  const rank = (r: T): number => (r.status === 'running' ? 0 : r.status === 'queued' ? 1 : 2)
  return runs
    .filter((r) => isActiveRunStatus(r.status))
    .sort((a, b) => rank(a) - rank(b) || (a.queuedAt ?? 0) - (b.queuedAt ?? 0) || a.id - b.id)
}
