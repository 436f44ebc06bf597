import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { ModelInfo } from '../../../shared/contract'
import { AppError } from '../../../shared/errors'
import type { RunConfigInput } from '../../../shared/schemas'
import type {
  EpochMetrics,
  RunProgress,
  RunResultDetails,
  RunStatusEvent,
  RunSummary,
} from '../../../shared/types'
import { inExecutionOrder } from '../../../shared/run-states'
import { call, on, onConnection } from '../lib/api'

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'interrupted'])
/** Live per-batch loss points kept per run for the curve (older ones are thinned out). */
const MAX_TRAIL_POINTS = 1000

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error'

/** A [fractional epoch, batch loss] point of the live curve. */
export type TrailPoint = [number, number]

// eslint-disable-next-line max-lines-per-function -- a Pinia setup store's closure is the module: its state, getters and actions are the returned members (split the store, not the closure)
export const useRunsStore = defineStore('runs', () => {
  // Series and maps live in shallowRefs and are replaced, never mutated, so Vue does not deep-proxy
  // thousands of points and watchers fire once per update.
  const runs = shallowRef<RunSummary[]>([])
  const models = shallowRef<ModelInfo[]>([])
  const progress = shallowRef<Record<number, RunProgress>>({})
  const metrics = shallowRef<Record<number, EpochMetrics[]>>({})
  const trails = shallowRef<Record<number, TrailPoint[]>>({})
  /** How each loaded run's best epoch was chosen (charts name it; absent until the run has a result). */
  const selections = shallowRef<Record<number, RunResultDetails['selection']>>({})
  /** User tags by run id (runs without tags are absent). */
  const tags = shallowRef<Record<number, string[]>>({})
  const status = ref<LoadStatus>('idle')
  const error = shallowRef<AppError | null>(null)
  const isStarting = ref(false)
  const isConnected = ref(true)
  /**
   * The host as the tab sees it: live; offline (stopped or unreachable: shown runs may be stale, so
   * nothing offers to cancel them); or answering with "wrong access token" (it restarted with a new
   * token: the user must open the address it printed).
   */
  const connection = ref<'live' | 'offline' | 'token'>('live')
  let probeTimer: ReturnType<typeof setInterval> | null = null
  async function probeHost(): Promise<void> {
    try {
      await call('app:info', {})
      if (!isConnected.value) connection.value = 'offline'
    } catch (err) {
      if (!isConnected.value)
        connection.value = AppError.from(err).code === 'unauthorized' ? 'token' : 'offline'
    }
  }
  function onConnectionChange(connected: boolean): void {
    const wasConnected = isConnected.value
    isConnected.value = connected
    if (connected) {
      connection.value = 'live'
      if (probeTimer) clearInterval(probeTimer)
      probeTimer = null
      // Pushes sent while disconnected are lost: catch up from the database.
      if (!wasConnected) void refresh()
      return
    }
    if (connection.value === 'live') connection.value = 'offline'
    if (!probeTimer) probeTimer = setInterval(() => void probeHost(), 3000)
    void probeHost()
  }
  let unsubscribe: (() => void)[] = []

  /** Queued and running runs in the order they run (running first, then by queue time). */
  const queue = computed<RunSummary[]>(() => inExecutionOrder(runs.value))
  /** The run to show live: the running one, else the queued one that runs next. */
  const activeRun = computed<RunSummary | null>(() => queue.value[0] ?? null)

  function fail(err: unknown): AppError {
    const e = AppError.from(err)
    error.value = e
    return e
  }

  function patchRun(runId: number, patch: Partial<RunSummary>): boolean {
    const i = runs.value.findIndex((r) => r.id === runId)
    if (i < 0) return false
    const next = runs.value.slice()
    next[i] = { ...next[i]!, ...patch }
    runs.value = next
    return true
  }

  async function refresh(): Promise<void> {
    if (status.value !== 'ready') status.value = 'loading'
    try {
      runs.value = await call('runs:list', {})
      status.value = 'ready'
    } catch (err) {
      status.value = 'error'
      fail(err)
    }
  }

  async function loadTags(): Promise<void> {
    try {
      tags.value = await call('runs:tags', {})
    } catch (err) {
      fail(err)
    }
  }

  async function setTags(runId: number, next: string[]): Promise<void> {
    try {
      const r = await call('runs:tag', { runId, tags: next })
      tags.value = { ...tags.value, [runId]: r.tags }
    } catch (err) {
      throw fail(err)
    }
  }

  /** Deletes runs (and their checkpoint files); refused for running or queued runs. */
  async function remove(runIds: number[]): Promise<void> {
    try {
      await call('runs:delete', { runIds })
      const gone = new Set(runIds)
      runs.value = runs.value.filter((r) => !gone.has(r.id))
    } catch (err) {
      throw fail(err)
    }
  }

  async function resume(runId: number): Promise<void> {
    try {
      await call('runs:resume', { runId })
      // Reload rather than patch with the answer: a push ('running') may already have overtaken it.
      await refresh()
    } catch (err) {
      throw fail(err)
    }
  }

  /** A fresh run with the same resolved config (teacher included), recorded as a rerun of runId. */
  async function rerun(runId: number): Promise<number> {
    try {
      const r = await call('runs:rerun', { runId })
      metrics.value = { ...metrics.value, [r.id]: [] }
      await refresh()
      return r.id
    } catch (err) {
      throw fail(err)
    }
  }

  async function loadModels(): Promise<void> {
    try {
      models.value = await call('models:list', {})
    } catch (err) {
      fail(err)
    }
  }

  /** Seeds the curve of a run from the database (for runs started before this page loaded). */
  async function loadMetrics(runId: number): Promise<void> {
    try {
      const detail = await call('runs:get', { runId })
      metrics.value = { ...metrics.value, [runId]: detail.metrics }
      if (detail.result) selections.value = { ...selections.value, [runId]: detail.result.selection }
    } catch (err) {
      fail(err)
    }
  }

  function onStatus(e: RunStatusEvent): void {
    const known = patchRun(e.runId, {
      status: e.status,
      failureReason: e.failureReason,
      testAccuracy: e.testAccuracy,
    })
    if (TERMINAL.has(e.status)) {
      const { [e.runId]: _gone, ...rest } = progress.value
      progress.value = rest
    }
    // New runs, and final numbers (epochs done, backend, timings) come from the list.
    if (!known || TERMINAL.has(e.status) || e.status === 'running') void refresh()
  }

  function onProgress(p: RunProgress): void {
    progress.value = { ...progress.value, [p.runId]: p }
    if (!Number.isFinite(p.loss)) return
    let trail = trails.value[p.runId] ?? []
    if (trail.length >= MAX_TRAIL_POINTS) trail = trail.filter((_, i) => i % 2 === 0)
    trails.value = { ...trails.value, [p.runId]: [...trail, [p.fraction * p.epochs, p.loss]] }
  }

  function onEpoch({ runId, metrics: m }: { runId: number; metrics: EpochMetrics }): void {
    const series = (metrics.value[runId] ?? []).filter((x) => x.epoch !== m.epoch)
    metrics.value = { ...metrics.value, [runId]: [...series, m].sort((a, b) => a.epoch - b.epoch) }
    const run = runs.value.find((r) => r.id === runId)
    const done = metrics.value[runId]!.length
    if (run && run.epochsDone < done) patchRun(runId, { epochsDone: done })
  }

  /** Subscribes to pushes and loads the list; safe to call more than once. */
  async function init(): Promise<void> {
    if (unsubscribe.length === 0) {
      unsubscribe = [
        on('runs:status', onStatus),
        on('runs:progress', onProgress),
        on('runs:epoch', onEpoch),
        onConnection(onConnectionChange),
      ]
    }
    await Promise.all([refresh(), loadModels(), loadTags()])
    const live = activeRun.value
    if (live && !metrics.value[live.id]) await loadMetrics(live.id)
  }

  function dispose(): void {
    if (probeTimer) clearInterval(probeTimer)
    probeTimer = null
    for (const off of unsubscribe) off()
    unsubscribe = []
  }

  async function start(config: RunConfigInput): Promise<number> {
    isStarting.value = true
    error.value = null
    try {
      const { runId } = await call('runs:start', config)
      metrics.value = { ...metrics.value, [runId]: [] }
      await refresh()
      return runId
    } catch (err) {
      throw fail(err)
    } finally {
      isStarting.value = false
    }
  }

  async function cancel(runId: number): Promise<boolean> {
    try {
      const { cancelled } = await call('runs:cancel', { runId })
      return cancelled
    } catch (err) {
      throw fail(err)
    }
  }

  return {
    runs,
    models,
    progress,
    metrics,
    trails,
    selections,
    tags,
    status,
    error,
    isStarting,
    isConnected,
    connection,
    activeRun,
    queue,
    init,
    dispose,
    refresh,
    loadModels,
    loadMetrics,
    start,
    cancel,
    loadTags,
    setTags,
    remove,
    resume,
    rerun,
  }
})
