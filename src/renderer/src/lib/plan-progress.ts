/** Progress of one experiment plan from its run counts and the live per-run progress. */
import type { ExperimentSummary, RunProgress, RunSummary } from '../../../shared/types'

export interface PlanProgress {
  total: number
  /** Runs in a terminal state. */
  finished: number
  failed: number
  /** Failed, cancelled or interrupted runs that can resume. */
  resumable: number
  /** 0..1, counting the running runs' fractions. */
  fraction: number
  etaMs: number | null
  isDone: boolean
}

export function planProgress(
  e: ExperimentSummary,
  runs: readonly RunSummary[],
  progress: Readonly<Record<number, RunProgress>>,
): PlanProgress {
  const c = e.runCounts
  const n = (k: string) => c[k] ?? 0
  const total = Object.values(c).reduce((a, b) => a + b, 0)
  const finished = n('completed') + n('failed') + n('cancelled') + n('interrupted')
  const mine = runs.filter((r) => r.experimentId === e.id)
  const running = mine.filter((r) => r.status === 'running')
  const live = running.reduce((s, r) => s + (progress[r.id]?.fraction ?? 0), 0)
  const fraction = total > 0 ? Math.min(1, (finished + live) / total) : 0
  // Remaining runs at the mean duration of this plan's finished runs, plus the running run's ETA.
  const durations = mine
    .filter((r) => r.status === 'completed' && r.startedAt !== null && r.finishedAt !== null)
    .map((r) => r.finishedAt! - r.startedAt!)
  const meanMs = durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null
  const queued = n('queued')
  const runningEta = running.reduce((s, r) => s + (progress[r.id]?.etaMs ?? 0), 0)
  const etaMs = meanMs !== null ? queued * meanMs + runningEta : running.length && !queued ? runningEta : null
  return {
    total,
    finished,
    failed: n('failed'),
    resumable: n('failed') + n('cancelled') + n('interrupted'),
    fraction,
    etaMs,
    isDone: e.status === 'cancelled' || (total > 0 && n('queued') + n('running') === 0),
  }
}
