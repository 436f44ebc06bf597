/** Progress of one experiment plan from its run counts and the live per-run progress. */
import { summarizePlan, type PlanState } from '../../../shared/plan-state'
import type { ExperimentSummary, RunProgress, RunSummary } from '../../../shared/types'

export interface PlanProgress {
  total: number
  /** Runs whose work is over: completed or failed (interrupted and cancelled ones are not). */
  finished: number
  failed: number
  interrupted: number
  /** Failed, cancelled or interrupted runs that can resume. */
  resumable: number
  /** 0..1, counting the running runs' fractions. */
  fraction: number
  etaMs: number | null
  /** Nothing is queued or running (done, stopped or cancelled). */
  isDone: boolean
  state: PlanState
  /** The state in words, with the counts that matter ("stopped · 1 interrupted · resume to continue"). */
  words: string
}

export function planProgress(
  e: ExperimentSummary,
  runs: readonly RunSummary[],
  progress: Readonly<Record<number, RunProgress>>,
): PlanProgress {
  const s = summarizePlan(e.runCounts, e.status)
  const mine = runs.filter((r) => r.experimentId === e.id)
  const running = mine.filter((r) => r.status === 'running')
  const live = running.reduce((sum, r) => sum + (progress[r.id]?.fraction ?? 0), 0)
  const fraction = s.total > 0 ? Math.min(1, (s.ended + live) / s.total) : 0
  // Remaining runs at the mean training time of this plan's completed runs, plus the running run's
  // ETA. Training time, not start-to-end: a resumed run's downtime would inflate the mean.
  const durations = mine
    .filter((r) => r.status === 'completed')
    .map((r) =>
      r.trainingMs !== undefined
        ? r.trainingMs
        : r.startedAt !== null && r.finishedAt !== null
          ? r.finishedAt - r.startedAt
          : null,
    )
    .filter((d): d is number => d !== null && d > 0)
  const meanMs = durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null
  const runningEta = running.reduce((sum, r) => sum + (progress[r.id]?.etaMs ?? 0), 0)
  const etaMs =
    meanMs !== null ? s.queued * meanMs + runningEta : running.length && !s.queued ? runningEta : null
  return {
    total: s.total,
    finished: s.ended,
    failed: s.failed,
    interrupted: s.interrupted,
    resumable: s.resumable,
    fraction,
    etaMs,
    isDone: s.state === 'done' || s.state === 'stopped' || s.state === 'cancelled',
    state: s.state,
    words: s.words,
  }
}
