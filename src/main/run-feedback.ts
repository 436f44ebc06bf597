/**
 * Desktop feedback while experiments train: the taskbar/dock progress bar (setProgressBar) shows
 * the mean progress of the runs in flight, and an OS notification says when a run fails and when
 * an experiment has no run left to do (with how many completed and failed). It follows the core's
 * pushes and reads what it needs through `dispatch`, so it works the same for runs started from
 * the window, a plan, or a resumed queue.
 */
import type { Envelope } from '../shared/errors'
import type { RunDetail, RunProgress, RunStatusEvent, ExperimentDetail } from '../shared/types'

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'interrupted'])
/** Progress pushes arrive per batch; the taskbar needs a few updates a second at most. */
const PROGRESS_INTERVAL_MS = 250

export interface FeedbackDeps {
  dispatch: (channel: string, input: unknown) => Promise<Envelope<unknown>>
  /** BrowserWindow.setProgressBar: 0..1, or -1 to remove the bar. */
  setProgress: (fraction: number) => void
  /** Shows an OS notification (Notification.isSupported() checked by the caller). */
  notify: (n: { title: string; body: string; urgent?: boolean }) => void
  now?: () => number
}

function value<T>(e: Envelope<unknown>): T | null {
  return e.ok ? (e.value as T) : null
}

export function createRunFeedback(deps: FeedbackDeps): {
  onProgress(p: RunProgress): void
  onStatus(e: RunStatusEvent): Promise<void>
  /** The fraction last shown, -1 when no bar (for tests). */
  shown(): number
} {
  const now = deps.now ?? Date.now
  const active = new Map<number, number>()
  let last = -1
  let lastAt = 0
  const notified = new Set<number>()

  const show = (force: boolean): void => {
    const f = active.size === 0 ? -1 : [...active.values()].reduce((a, b) => a + b, 0) / active.size
    if (!force && f !== -1 && now() - lastAt < PROGRESS_INTERVAL_MS) return
    if (f === last) return
    last = f
    lastAt = now()
    deps.setProgress(f)
  }

  const experimentDone = async (experimentId: number): Promise<void> => {
    const exp = value<ExperimentDetail>(await deps.dispatch('experiments:get', { experimentId }))
    if (!exp || notified.has(exp.id)) return
    const c = exp.runCounts
    if ((c.queued ?? 0) + (c.running ?? 0) > 0) return
    notified.add(exp.id)
    const parts = [`${c.completed ?? 0} completed`]
    if (c.failed) parts.push(`${c.failed} failed`)
    if (c.cancelled) parts.push(`${c.cancelled} cancelled`)
    if (c.interrupted) parts.push(`${c.interrupted} interrupted`)
    const bad = (c.failed ?? 0) + (c.interrupted ?? 0) > 0
    deps.notify({
      title: bad ? `Experiment "${exp.name}" finished with problems` : `Experiment "${exp.name}" finished`,
      body: `${parts.join(', ')}. Open TFKD Studio to compare the runs.`,
      urgent: bad,
    })
  }

  return {
    onProgress(p) {
      active.set(p.runId, Math.min(1, Math.max(0, p.fraction)))
      show(false)
    },
    async onStatus(e) {
      if (e.status === 'running' || e.status === 'queued') {
        // A resumed experiment may finish again: allow a new notification.
        if (!active.has(e.runId) && e.status === 'running') active.set(e.runId, 0)
        show(true)
        return
      }
      if (!TERMINAL.has(e.status)) return
      active.delete(e.runId)
      show(true)
      const run = value<RunDetail>(await deps.dispatch('runs:get', { runId: e.runId }))
      if (e.status === 'failed') {
        deps.notify({
          title: `Run #${e.runId}${run ? ` (${run.variant})` : ''} failed`,
          body: e.failureReason ?? 'No reason was recorded; see the run in History.',
          urgent: true,
        })
      }
      if (run?.experimentId != null) await experimentDone(run.experimentId)
      else if (e.status === 'completed' && run) {
        const acc = e.testAccuracy === null ? '' : `: test accuracy ${(e.testAccuracy * 100).toFixed(2)} %`
        deps.notify({ title: `Run #${e.runId} (${run.variant}) completed`, body: `Finished${acc}.` })
      }
    },
    shown: () => last,
  }
}
