/**
 * Where an experiment plan stands, in words, from its runs' counts by status and its stored status.
 * One function for every surface (Live runs' queue card, the CLI), so that a plan whose runs a host
 * stop cut off reads "stopped · 1 interrupted", never "done": an interrupted or cancelled run has not
 * finished its work, and only completed and failed runs count as ended.
 */
import type { ExperimentStatus } from './run-states'

/**
 * running: a run trains; queued: runs wait and none trains; done: every run completed or failed;
 * stopped: nothing is queued but runs were cut off (interrupted, or cancelled without cancelling
 * the plan) and can resume; cancelled: the plan was cancelled.
 */
export type PlanState = 'running' | 'queued' | 'done' | 'stopped' | 'cancelled'

export interface PlanSummary {
  state: PlanState
  total: number
  completed: number
  failed: number
  cancelled: number
  interrupted: number
  queued: number
  running: number
  /** Completed and failed runs: those whose work is over (they are not waiting for a resume). */
  ended: number
  /** Failed, cancelled and interrupted runs: those a resume would queue again. */
  resumable: number
  /** The state and the counts that matter, e.g. "stopped · 1 interrupted · resume to continue". */
  words: string
}

const plural = (n: number, what: string): string => `${n} ${what}`

export function summarizePlan(
  runCounts: Readonly<Record<string, number>>,
  experimentStatus: ExperimentStatus,
): PlanSummary {
  const n = (k: string): number => runCounts[k] ?? 0
  const [completed, failed, cancelled, interrupted, queued, running] = [
    'completed',
    'failed',
    'cancelled',
    'interrupted',
    'queued',
    'running',
  ].map(n) as [number, number, number, number, number, number]
  const total = Object.values(runCounts).reduce((a, b) => a + b, 0)
  const cutOff = interrupted + cancelled
  const state: PlanState =
    running > 0
      ? 'running'
      : queued > 0
        ? 'queued'
        : experimentStatus === 'cancelled'
          ? 'cancelled'
          : cutOff > 0
            ? 'stopped'
            : 'done'
  const extras = [
    failed > 0 || state === 'done' ? plural(failed, 'failed') : '',
    interrupted > 0 ? plural(interrupted, 'interrupted') : '',
    cancelled > 0 ? plural(cancelled, 'cancelled') : '',
  ].filter(Boolean)
  const words = {
    running: ['running', plural(running, 'training'), queued > 0 ? plural(queued, 'queued') : '', ...extras],
    queued: ['queued', plural(queued, 'waiting'), ...extras],
    done: ['done', ...extras],
    stopped: ['stopped', ...extras, 'resume to continue'],
    cancelled: ['cancelled', ...extras],
  }[state]
    .filter(Boolean)
    .join(' · ')
  return {
    state,
    total,
    completed,
    failed,
    cancelled,
    interrupted,
    queued,
    running,
    ended: completed + failed,
    resumable: failed + cancelled + interrupted,
    words,
  }
}
