/**
 * Issue 22, item 9: the plan card's ETA. It used to read "–" until the plan's first run completed
 * (two minutes on the walkthrough), then "100 % · ETA 0.0s" through the final test evaluation. Now:
 * "estimating…" until there is anything to go by, an estimate from the running run's own progress
 * before any run completes, and "final evaluation on the test set" once every epoch is trained.
 */
import { describe, expect, it } from 'vitest'
import { planProgress } from '../../src/renderer/src/lib/plan-progress'
import type { ExperimentSummary, RunProgress, RunSummary } from '../../src/shared/types'

const exp = (runCounts: Record<string, number>): ExperimentSummary => ({
  id: 1,
  name: 'plan',
  datasetId: 1,
  datasetName: 'd',
  status: 'active',
  plan: {},
  createdAt: 0,
  runCounts,
})

const run = (id: number, status: RunSummary['status'], over: Partial<RunSummary> = {}): RunSummary => ({
  id,
  experimentId: 1,
  role: 'student',
  status,
  failureReason: null,
  datasetId: 1,
  datasetName: 'd',
  model: 'mlp',
  variant: 'baseline',
  seed: id,
  backend: null,
  device: null,
  teacherRunId: null,
  epochsPlanned: 4,
  epochsDone: 0,
  bestEpoch: null,
  bestValAccuracy: null,
  testAccuracy: null,
  testLoss: null,
  createdAt: 0,
  startedAt: null,
  finishedAt: null,
  ...over,
})

const prog = (runId: number, fraction: number, etaMs: number | null): RunProgress => ({
  runId,
  epoch: 1,
  epochs: 4,
  step: 1,
  stepsPerEpoch: 10,
  fraction,
  loss: 1,
  samplesPerSec: 100,
  etaMs,
})

describe('plan ETA', () => {
  it('says "estimating…" before there is anything to go by, not "–"', () => {
    const p = planProgress(
      exp({ running: 1, queued: 2 }),
      [run(1, 'running'), run(2, 'queued'), run(3, 'queued')],
      {},
    )
    expect(p.etaMs).toBeNull()
    expect(p.line).toMatch(/ · ETA estimating…$/)
  })

  it('estimates from the running run before any run completes', () => {
    const runs = [run(1, 'running'), run(2, 'queued'), run(3, 'queued')]
    // A quarter done with 30 s to go: a run takes 40 s; two more queued: 30 + 80 s.
    const p = planProgress(exp({ running: 1, queued: 2 }), runs, { 1: prog(1, 0.25, 30_000) })
    expect(p.etaMs).toBe(110_000)
    expect(p.line).toMatch(/ · ETA 1m 50s$/)
  })

  it('says "final evaluation" once every epoch is trained, not "ETA 0.0s"', () => {
    const runs = [run(1, 'completed', { trainingMs: 40_000 }), run(2, 'running', { epochsDone: 4 })]
    const p = planProgress(exp({ completed: 1, running: 1 }), runs, { 2: prog(2, 1, 0) })
    expect(p.finalEvaluation).toBe(true)
    expect(p.line).toMatch(/ · final evaluation on the test set$/)
    expect(p.line).not.toMatch(/ETA/)
  })
})
