import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { PresetInfo, VariantInfo } from '../../../shared/contract'
import { AppError } from '../../../shared/errors'
import { experimentPlanInput, type ExperimentPlanInput } from '../../../shared/plan'
import type { ExperimentDetail, ExperimentSummary } from '../../../shared/types'
import { call, on } from '../lib/api'

// eslint-disable-next-line max-lines-per-function -- a Pinia setup store's closure is the module: its state, getters and actions are the returned members (split the store, not the closure)
export const useExperimentsStore = defineStore('experiments', () => {
  const experiments = shallowRef<ExperimentSummary[]>([])
  const variants = shallowRef<VariantInfo[]>([])
  const presets = shallowRef<PresetInfo[]>([])
  /** Median samples/s per model measured on this machine. */
  const throughput = shallowRef<Record<string, number>>({})
  const error = shallowRef<AppError | null>(null)
  const isStarting = ref(false)
  /** A plan to start as it is (Load plan…, Duplicate…), shown in New experiment until discarded. */
  const loadedPlan = shallowRef<{ plan: ExperimentPlanInput; source: string } | null>(null)
  /** Why the last plan file was refused (names the field and what was expected). */
  const planFileError = shallowRef<string | null>(null)
  let off: (() => void) | null = null
  let refreshTimer: ReturnType<typeof setTimeout> | null = null

  async function refresh(): Promise<void> {
    try {
      experiments.value = await call('experiments:list', {})
    } catch (err) {
      error.value = AppError.from(err)
    }
  }

  /** Run status changes move the plan counts; coalesce bursts into one refetch. */
  function scheduleRefresh(): void {
    if (refreshTimer) return
    refreshTimer = setTimeout(() => {
      refreshTimer = null
      void refresh()
    }, 250)
  }

  async function init(): Promise<void> {
    off ??= on('runs:status', scheduleRefresh)
    const [v, p, t] = await Promise.all([
      call('variants:list', {}).catch(() => []),
      call('presets:list', {}).catch(() => []),
      call('throughput:get', {}).catch(() => ({})),
      refresh(),
    ])
    variants.value = v
    presets.value = p
    throughput.value = t
  }

  async function loadThroughput(): Promise<void> {
    throughput.value = await call('throughput:get', {}).catch(() => throughput.value)
  }

  async function start(plan: ExperimentPlanInput): Promise<ExperimentDetail> {
    isStarting.value = true
    error.value = null
    try {
      const e = await call('experiments:start', plan)
      await refresh()
      return e
    } catch (err) {
      const e = AppError.from(err)
      error.value = e
      throw e
    } finally {
      isStarting.value = false
    }
  }

  async function cancel(experimentId: number): Promise<void> {
    await call('experiments:cancel', { experimentId })
    await refresh()
  }

  async function resume(experimentId: number): Promise<void> {
    await call('experiments:resume', { experimentId })
    await refresh()
  }

  /** Checks a plan file's text (JSON, then the plan schema) and keeps it as the loaded plan. */
  function loadPlanText(text: string, fileName: string): boolean {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (err) {
      planFileError.value = `${fileName}: not valid JSON (${(err as Error).message})`
      return false
    }
    const r = experimentPlanInput.safeParse(json)
    if (!r.success) {
      const i = r.error.issues[0]!
      const where = i.path.join('.')
      planFileError.value = `${fileName}: ${where ? `${where}: ` : ''}${i.message}`
      return false
    }
    planFileError.value = null
    loadedPlan.value = { plan: r.data as ExperimentPlanInput, source: fileName }
    return true
  }

  /** Loads an experiment's plan, renamed as its copy, for New experiment to start again. */
  async function duplicate(experimentId: number): Promise<void> {
    const plan = await call('experiments:plan', { experimentId })
    const name = `${plan.name ?? 'plan'} (copy of #${experimentId})`.slice(0, 200)
    planFileError.value = null
    loadedPlan.value = { plan: { ...plan, name }, source: `experiment #${experimentId}` }
  }

  function discardPlan(): void {
    loadedPlan.value = null
    planFileError.value = null
  }

  function dispose(): void {
    off?.()
    off = null
  }

  return {
    experiments,
    variants,
    presets,
    throughput,
    error,
    isStarting,
    loadedPlan,
    planFileError,
    loadPlanText,
    duplicate,
    discardPlan,
    init,
    refresh,
    loadThroughput,
    start,
    cancel,
    resume,
    dispose,
  }
})
