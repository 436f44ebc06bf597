import { describe, expect, it } from 'vitest'
import { summarizePlan } from '../../src/shared/plan-state'
import { inExecutionOrder } from '../../src/shared/run-states'

describe('summarizePlan: a plan in words from its runs', () => {
  it('a plan cut off by a host stop is stopped, not done, and counts its interrupted runs', () => {
    const s = summarizePlan({ interrupted: 1 }, 'active')
    expect(s).toMatchObject({ state: 'stopped', total: 1, ended: 0, resumable: 1 })
    expect(s.words).toBe('stopped · 1 interrupted · resume to continue')
  })
  it('done only when every run completed or failed', () => {
    expect(summarizePlan({ completed: 6 }, 'active').words).toBe('done · 0 failed')
    expect(summarizePlan({ completed: 5, failed: 1 }, 'active')).toMatchObject({
      state: 'done',
      ended: 6,
      words: 'done · 1 failed',
    })
    expect(summarizePlan({ completed: 1, cancelled: 1 }, 'active').state).toBe('stopped')
  })
  it('running and queued say how many train and wait; a cancelled plan says cancelled', () => {
    expect(summarizePlan({ running: 1, queued: 2, completed: 1 }, 'active').words).toBe(
      'running · 1 training · 2 queued',
    )
    expect(summarizePlan({ queued: 2, interrupted: 1 }, 'active').words).toBe(
      'queued · 2 waiting · 1 interrupted',
    )
    expect(summarizePlan({ cancelled: 2, completed: 1 }, 'cancelled').words).toBe('cancelled · 2 cancelled')
  })
})

describe('inExecutionOrder: the queue as a host runs it', () => {
  it('running first, then queued by queue time (a resumed run last), final runs left out', () => {
    const runs = [
      { id: 1, status: 'queued' as const, queuedAt: 500 }, // resumed last
      { id: 2, status: 'completed' as const, queuedAt: 100 },
      { id: 3, status: 'queued' as const, queuedAt: 300 },
      { id: 4, status: 'running' as const, queuedAt: 400 },
      { id: 5, status: 'queued' as const, queuedAt: 300 },
    ]
    expect(inExecutionOrder(runs).map((r) => r.id)).toEqual([4, 3, 5, 1])
  })
})
