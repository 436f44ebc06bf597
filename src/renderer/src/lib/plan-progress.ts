/** Progress of one experiment plan from its run counts and the live per-run progress. */
import { summarizePlan, type PlanState } from '../../../shared/plan-state'
import type { ExperimentSummary, RunProgress, RunSummary } from '../../../shared/types'
import { formatDuration } from './estimate'

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
  /** Every epoch is trained and the last runs are being evaluated on the test set: no ETA to give. */
  finalEvaluation: boolean
  /** The card's line: the state, then "ETA 3m 10s", "ETA estimating…" or "final evaluation". */
  line: string
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
  const liveDone = running.reduce((sum, r) => sum + (progress[r.id]?.fraction ?? 0), 0)
  const fraction = s.total > 0 ? Math.min(1, (s.ended + liveDone) / s.total) : 0
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
  // Before any run of the plan completes, the running runs' own progress says how long a run takes.
  const live = running.map((r) => progress[r.id])
  const extrapolated = live
    .filter((p): p is RunProgress => !!p && p.etaMs !== null && p.fraction > 0.02 && p.fraction < 1)
    .map((p) => p.etaMs! / (1 - p.fraction))
  const perRunMs =
    meanMs ?? (extrapolated.length ? extrapolated.reduce((a, b) => a + b, 0) / extrapolated.length : null)
  const runningKnown = live.every((p) => p && p.etaMs !== null)
  const runningEta = live.reduce((sum, p) => sum + (p?.etaMs ?? 0), 0)
  const etaMs =
    runningKnown && (perRunMs !== null || s.queued === 0) && (running.length > 0 || s.queued > 0)
      ? s.queued * (perRunMs ?? 0) + runningEta
      : null
  const finalEvaluation =
    s.queued === 0 &&
    running.length > 0 &&
    running.every((r, i) => (live[i]?.fraction ?? 0) >= 1 || r.epochsDone >= r.epochsPlanned)
  const isDone = s.state === 'done' || s.state === 'stopped' || s.state === 'cancelled'
  const line = isDone
    ? s.words
    : finalEvaluation
      ? `${s.words} · final evaluation on the test set`
      : `${s.words} · ETA ${etaMs === null ? 'estimating…' : formatDuration(etaMs)}`
  return {
    total: s.total,
    finished: s.ended,
    failed: s.failed,
    interrupted: s.interrupted,
    resumable: s.resumable,
    fraction,
    etaMs,
    finalEvaluation,
    line,
    isDone,
    state: s.state,
    words: s.words,
  }
}
