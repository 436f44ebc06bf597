/** `runs:*` channels: list, inspect, start, cancel, resume, delete and tag single runs. */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { AppError } from '../../shared/errors'
import { resolveRunConfig } from '../../shared/schemas'
import type { RunSummary } from '../../shared/types'
import type { DomainHandlers, HandlerContext } from './context'

export function createRunHandlers({ store, runs, paths }: HandlerContext): DomainHandlers<'runs'> {
  const runOf = (runId: number): RunSummary => {
    const r = store.runs.get(runId)
    if (!r) throw new AppError('not_found', `run ${runId} not found`)
    return r
  }
  /** Refuses to delete a run that still trains or that taught a run which stays. */
  const checkDeletable = (runId: number, doomed: Set<number>): void => {
    const r = runOf(runId)
    if (r.status === 'running' || r.status === 'queued') {
      throw new AppError('conflict', `run ${runId} is ${r.status}; cancel it before deleting`)
    }
    const students = store.runs.studentsOf(runId).filter((s) => !doomed.has(s))
    if (students.length > 0) {
      throw new AppError(
        'conflict',
        `run ${runId} taught run${students.length === 1 ? '' : 's'} ${students.join(', ')}; delete ${students.length === 1 ? 'it' : 'them'} too or first`,
        { students },
      )
    }
  }

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
      const r = runOf(runId)
      if (!['interrupted', 'cancelled', 'failed'].includes(r.status)) {
        throw new AppError(
          'conflict',
          `run ${runId} is ${r.status}; only interrupted, cancelled or failed runs resume`,
        )
      }
      runs.enqueue([runId])
      return store.runs.get(runId)!
    },
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
