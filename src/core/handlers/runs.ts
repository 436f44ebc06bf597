/** `runs:*` channels: list, inspect, start, cancel, resume, delete and tag single runs. */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { AppError } from '../../shared/errors'
import { resolveRunConfig } from '../../shared/schemas'
import type { RunSummary } from '../../shared/types'
import { isActiveRunStatus } from '../../shared/run-states'
import type { DomainHandlers, HandlerContext } from './context'

/** The checks the runs:* channels make before acting on a run. */
function createRunGuards({ store, runs }: Pick<HandlerContext, 'store' | 'runs'>) {
  const runOf = (runId: number): RunSummary => {
    const r = store.runs.get(runId)
    if (!r) throw new AppError('not_found', `run ${runId} not found`)
    return r
  }
  /**
   * Resume and delete take any run that is not completed (resume) and that no live host drives:
   * final ones, and queued or running ones whose host is gone.
   */
  const checkRunMovable = (runId: number, action: 'resume' | 'delete'): void => {
    const r = runOf(runId)
    if (action === 'resume' && r.status === 'completed') {
      throw new AppError('conflict', `run ${runId} is completed; only runs that did not complete resume`)
    }
    if (!isActiveRunStatus(r.status)) return
    const owner = runs.ownerOf(runId)
    if (owner.kind === 'this-host') {
      throw new AppError(
        'conflict',
        action === 'delete'
          ? `run ${runId} is ${r.status}; cancel it before deleting`
          : `run ${runId} is already ${r.status}`,
      )
    }
    if (owner.kind === 'other-host') {
      throw new AppError(
        'conflict',
        `run ${runId} is ${r.status} in another tfkd process (pid ${owner.pid}); ${action} it there, or stop that process first`,
      )
    }
  }
  /** Refuses to delete a run that still trains or that taught a run which stays. */
  const checkDeletable = (runId: number, doomed: Set<number>): void => {
    checkRunMovable(runId, 'delete')
    const students = store.runs.studentsOf(runId).filter((s) => !doomed.has(s))
    if (students.length > 0) {
      throw new AppError(
        'conflict',
        `run ${runId} taught run${students.length === 1 ? '' : 's'} ${students.join(', ')}; delete ${students.length === 1 ? 'it' : 'them'} too or first`,
        { students },
      )
    }
  }
  return { runOf, checkRunMovable, checkDeletable }
}

export function createRunHandlers({ store, runs, paths }: HandlerContext): DomainHandlers<'runs'> {
  const { runOf, checkRunMovable, checkDeletable } = createRunGuards({ store, runs })
  return {
    'runs:list': (input) => store.runs.list(input),
    'runs:get': ({ runId }) => {
      const run = store.runs.detail(runId)
      if (!run) throw new AppError('not_found', `run ${runId} not found`)
      return run
    },
    'runs:start': (input) => ({ runId: runs.start(resolveRunConfig(input)).id }),
    'runs:cancel': ({ runId }) => {
      runOf(runId)
      return { cancelled: runs.cancel(runId) }
    },
    'runs:resume': ({ runId }) => {
      checkRunMovable(runId, 'resume')
      runs.enqueue([runId])
      return store.runs.get(runId)!
    },
    'runs:rerun': ({ runId }) => runs.rerun(runId),
    'runs:delete': async ({ runIds }) => {
      const ids = [...new Set(runIds)]
      const doomed = new Set(ids)
      for (const runId of ids) checkDeletable(runId, doomed)
      store.runs.deleteMany(ids)
      for (const runId of ids)
        await rm(join(paths.checkpoints, String(runId)), { recursive: true, force: true })
      return { deleted: ids }
    },
    'runs:tag': ({ runId, tags }) => {
      runOf(runId)
      const clean = [...new Set(tags.map((t) => t.trim()))].filter(Boolean)
      store.runs.setTags(runId, clean)
      return { runId, tags: clean }
    },
    'runs:tags': () => store.runs.allTags(),
    'runs:details': ({ runIds }) =>
      runIds.map((runId) => {
        const d = store.runs.detail(runId)
        if (!d) throw new AppError('not_found', `run ${runId} not found`)
        return d
      }),
  }
}
