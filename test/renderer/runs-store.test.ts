import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { PushChannel, Pushes } from '../../src/shared/contract'
import { AppError } from '../../src/shared/errors'
import type { EpochMetrics, RunProgress, RunSummary } from '../../src/shared/types'

/** A fake host behind the api module: canned answers per channel, and pushes on demand. */
const fake = vi.hoisted(() => {
  const listeners = new Map<string, Set<(p: unknown) => void>>()
  const connection = new Set<(c: boolean) => void>()
  const answers: Record<string, (input: unknown) => unknown> = {}
  return {
    listeners,
    connection,
    answers,
    calls: [] as { channel: string; input: unknown }[],
    reset() {
      listeners.clear()
      connection.clear()
      for (const k of Object.keys(answers)) delete answers[k]
      this.calls.length = 0
    },
  }
})

vi.mock('../../src/renderer/src/lib/api', () => ({
  call: vi.fn(async (channel: string, input: unknown) => {
    fake.calls.push({ channel, input })
    const answer = fake.answers[channel]
    if (!answer) throw new AppError('not_found', `no fake answer for ${channel}`)
    return answer(input)
  }),
  on: vi.fn((channel: string, fn: (p: unknown) => void) => {
    const set = fake.listeners.get(channel) ?? new Set()
    fake.listeners.set(channel, set)
    set.add(fn)
    return () => set.delete(fn)
  }),
  onConnection: vi.fn((fn: (c: boolean) => void) => {
    fake.connection.add(fn)
    return () => fake.connection.delete(fn)
  }),
}))

const { useRunsStore } = await import('../../src/renderer/src/stores/runs')

function push<K extends PushChannel>(channel: K, payload: Pushes[K]): void {
  for (const l of fake.listeners.get(channel) ?? []) l(payload)
}

const run = (id: number, over: Partial<RunSummary> = {}): RunSummary => ({
  id,
  experimentId: null,
  role: 'student',
  status: 'queued',
  failureReason: null,
  datasetId: 1,
  datasetName: 'mnist-10k',
  model: 'mlp',
  variant: 'baseline',
  seed: 230,
  backend: null,
  device: null,
  teacherRunId: null,
  epochsPlanned: 2,
  epochsDone: 0,
  bestEpoch: null,
  bestValAccuracy: null,
  testAccuracy: null,
  testLoss: null,
  createdAt: 1,
  startedAt: null,
  finishedAt: null,
  ...over,
})

const metrics = (epoch: number): EpochMetrics => ({
  epoch,
  trainLoss: 1,
  trainAccuracy: 0.5,
  valLoss: 1,
  valAccuracy: 0.5,
  learningRate: 0.1,
  durationMs: 10,
  samplesPerSec: 100,
})

const progress = (runId: number, fraction: number, loss = 0.7): RunProgress => ({
  runId,
  epoch: 1,
  epochs: 2,
  step: 1,
  stepsPerEpoch: 10,
  fraction,
  loss,
  samplesPerSec: 100,
  etaMs: 1000,
})

describe('useRunsStore', () => {
  let listed: RunSummary[]

  beforeEach(() => {
    fake.reset()
    setActivePinia(createPinia())
    listed = []
    fake.answers['runs:list'] = () => listed
    fake.answers['models:list'] = () => [{ id: 'mlp', description: 'fast' }]
    fake.answers['runs:get'] = (input) => ({
      ...run((input as { runId: number }).runId),
      config: {},
      metrics: [],
    })
  })

  it('loads runs and models on init, and subscribes once however often init is called', async () => {
    listed = [run(1, { status: 'completed', testAccuracy: 0.9 })]
    const store = useRunsStore()
    await store.init()
    await store.init()
    expect(store.status).toBe('ready')
    expect(store.runs).toEqual(listed)
    expect(store.models.map((m) => m.id)).toEqual(['mlp'])
    expect(fake.listeners.get('runs:status')?.size).toBe(1)
    expect(fake.listeners.get('runs:progress')?.size).toBe(1)
    store.dispose()
    expect(fake.listeners.get('runs:status')?.size).toBe(0)
  })

  it('starts a run with the given config and lists it', async () => {
    const store = useRunsStore()
    await store.init()
    fake.answers['runs:start'] = () => {
      listed = [run(7)]
      return { runId: 7 }
    }
    const id = await store.start({ model: 'mlp', epochs: 1, maxTrainSamples: 512 })
    expect(id).toBe(7)
    expect(fake.calls.find((c) => c.channel === 'runs:start')?.input).toEqual({
      model: 'mlp',
      epochs: 1,
      maxTrainSamples: 512,
    })
    expect(store.runs.map((r) => r.id)).toEqual([7])
    expect(store.activeRun?.id).toBe(7)
    expect(store.isStarting).toBe(false)
  })

  it('shows live the run that runs next: a resumed run waits behind runs queued before it', async () => {
    // #1 was resumed after #3 and #4 were queued: listed by id it comes first, but it runs last.
    listed = [
      run(4, { status: 'queued', queuedAt: 300 }),
      run(3, { status: 'queued', queuedAt: 200 }),
      run(2, { status: 'completed', queuedAt: 100 }),
      run(1, { status: 'queued', queuedAt: 400 }),
    ]
    const store = useRunsStore()
    await store.init()
    expect(store.queue.map((r) => r.id)).toEqual([3, 4, 1])
    expect(store.activeRun?.id).toBe(3)
  })

  it('reruns through runs:rerun (recorded as a rerun) and reloads on resume instead of patching', async () => {
    const store = useRunsStore()
    await store.init()
    fake.answers['runs:rerun'] = (input) => {
      listed = [run(8, { rerunOf: (input as { runId: number }).runId }), run(5, { status: 'completed' })]
      return listed[0]
    }
    expect(await store.rerun(5)).toBe(8)
    expect(fake.calls.filter((c) => c.channel === 'runs:rerun').map((c) => c.input)).toEqual([{ runId: 5 }])
    expect(store.runs.find((r) => r.id === 8)?.rerunOf).toBe(5)
    // The answer to runs:resume says queued, but a push may already have said running: the list wins.
    fake.answers['runs:resume'] = () => run(5, { status: 'queued' })
    listed = [run(5, { status: 'running' })]
    await store.resume(5)
    expect(store.runs[0]!.status).toBe('running')
  })

  it('keeps a typed AppError when a start is refused', async () => {
    const store = useRunsStore()
    await store.init()
    fake.answers['runs:start'] = () => {
      throw new AppError('invalid_input', 'unknown model "nope"')
    }
    const err = await store.start({ model: 'nope' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppError)
    expect(store.error?.code).toBe('invalid_input')
    expect(store.isStarting).toBe(false)
  })

  it('tracks live progress and epoch metrics per run, replacing (not mutating) the series', async () => {
    listed = [run(1, { status: 'running' }), run(2, { status: 'running' })]
    const store = useRunsStore()
    await store.init()
    push('runs:progress', progress(1, 0.25))
    push('runs:progress', progress(2, 0.5))
    expect(store.progress[1]?.fraction).toBe(0.25)
    expect(store.progress[2]?.fraction).toBe(0.5)
    expect(store.trails[1]).toEqual([[0.5, 0.7]])

    const progressBefore = store.progress
    push('runs:progress', progress(1, 0.3))
    expect(store.progress).not.toBe(progressBefore)
    expect(progressBefore[1]?.fraction).toBe(0.25)

    push('runs:epoch', { runId: 1, metrics: metrics(1) })
    const first = store.metrics[1]!
    push('runs:epoch', { runId: 1, metrics: metrics(2) })
    expect(store.metrics[1]).not.toBe(first)
    expect(first).toHaveLength(1)
    expect(store.metrics[1]!.map((m) => m.epoch)).toEqual([1, 2])
    expect(store.metrics[2] ?? []).toHaveLength(0)
    expect(store.runs.find((r) => r.id === 1)?.epochsDone).toBe(2)
    // A repeated epoch (resume) replaces the old point instead of duplicating it.
    push('runs:epoch', { runId: 1, metrics: { ...metrics(2), trainLoss: 0.2 } })
    expect(store.metrics[1]!.map((m) => m.trainLoss)).toEqual([1, 0.2])
  })

  it('thins the live trail instead of growing without bound', async () => {
    listed = [run(1, { status: 'running' })]
    const store = useRunsStore()
    await store.init()
    for (let i = 0; i < 5000; i++) push('runs:progress', progress(1, i / 5000))
    expect(store.trails[1]!.length).toBeLessThanOrEqual(1000)
    expect(store.trails[1]!.at(-1)?.[0]).toBeCloseTo((4999 / 5000) * 2)
  })

  it('applies status pushes, clears progress on a final status and refetches the list', async () => {
    listed = [run(1, { status: 'running' })]
    const store = useRunsStore()
    await store.init()
    push('runs:progress', progress(1, 0.9))
    listed = [run(1, { status: 'completed', testAccuracy: 0.93, epochsDone: 2, backend: 'wasm' })]
    const listCalls = fake.calls.filter((c) => c.channel === 'runs:list').length
    push('runs:status', { runId: 1, status: 'completed', failureReason: null, testAccuracy: 0.93 })
    expect(store.runs[0]?.status).toBe('completed')
    expect(store.runs[0]?.testAccuracy).toBe(0.93)
    expect(store.progress[1]).toBeUndefined()
    expect(store.activeRun).toBeNull()
    await vi.waitFor(() => expect(store.runs[0]?.backend).toBe('wasm'))
    expect(fake.calls.filter((c) => c.channel === 'runs:list').length).toBe(listCalls + 1)
  })

  it('shows a failure reason from a status push', async () => {
    listed = [run(3, { status: 'running' })]
    const store = useRunsStore()
    await store.init()
    listed = [run(3, { status: 'failed', failureReason: 'non-finite loss at epoch 1' })]
    push('runs:status', {
      runId: 3,
      status: 'failed',
      failureReason: 'non-finite loss at epoch 1',
      testAccuracy: null,
    })
    expect(store.runs[0]?.failureReason).toBe('non-finite loss at epoch 1')
  })

  it('picks up a run it has not seen from a status push, and refetches after a reconnect', async () => {
    const store = useRunsStore()
    await store.init()
    listed = [run(9)]
    push('runs:status', { runId: 9, status: 'queued', failureReason: null, testAccuracy: null })
    await vi.waitFor(() => expect(store.runs.map((r) => r.id)).toEqual([9]))
    listed = [run(9, { status: 'running' })]
    for (const l of fake.connection) l(false)
    expect(store.isConnected).toBe(false)
    for (const l of fake.connection) l(true)
    await vi.waitFor(() => expect(store.runs[0]?.status).toBe('running'))
  })

  it('cancels through the api and reports list errors as a typed error', async () => {
    listed = [run(4, { status: 'running' })]
    const store = useRunsStore()
    await store.init()
    fake.answers['runs:cancel'] = () => ({ cancelled: true })
    expect(await store.cancel(4)).toBe(true)
    expect(fake.calls.find((c) => c.channel === 'runs:cancel')?.input).toEqual({ runId: 4 })
    fake.answers['runs:list'] = () => {
      throw new AppError('internal', 'database is locked')
    }
    await store.refresh()
    expect(store.status).toBe('error')
    expect(store.error).toBeInstanceOf(AppError)
    expect(store.error?.message).toBe('database is locked')
  })
})
