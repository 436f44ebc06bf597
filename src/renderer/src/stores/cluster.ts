import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type {
  ClusterJobStatus,
  ClusterJobSummary,
  ClusterSubmitResult,
  ClusterSyncResult,
  SlurmOptions,
} from '../../../shared/cluster'
import { AppError } from '../../../shared/errors'
import type { ExperimentPlanInput } from '../../../shared/plan'
import { call } from '../lib/api'

/** Slurm cluster jobs: whether this host can submit, the jobs, their rows, sync. */
export const useClusterStore = defineStore('cluster', () => {
  const available = ref(false)
  /** Why the host cannot submit, when it cannot. */
  const reason = ref<string | null>(null)
  const jobs = shallowRef<ClusterJobSummary[]>([])
  const statuses = shallowRef<Record<string, ClusterJobStatus>>({})
  const preview = shallowRef<ClusterSubmitResult | null>(null)
  const error = shallowRef<AppError | null>(null)
  const busy = ref<string | null>(null)

  async function init(): Promise<void> {
    try {
      const a = await call('cluster:available', {})
      available.value = a.available
      reason.value = a.reason
      jobs.value = await call('cluster:jobs', {})
    } catch (err) {
      available.value = false
      reason.value = AppError.from(err).message
    }
  }

  async function guarded<T>(what: string, f: () => Promise<T>): Promise<T | null> {
    busy.value = what
    error.value = null
    try {
      return await f()
    } catch (err) {
      error.value = AppError.from(err)
      return null
    } finally {
      busy.value = null
    }
  }

  /** The scripts that a submit would write (a dry run). */
  function dryRun(plan: ExperimentPlanInput, workdir: string, options: SlurmOptions) {
    return guarded('preview', async () => {
      preview.value = await call('cluster:submit', { plan, workdir, options, dryRun: true })
      return preview.value
    })
  }

  function submit(plan: ExperimentPlanInput, workdir: string, options: SlurmOptions) {
    return guarded('submit', async () => {
      const r = await call('cluster:submit', { plan, workdir, options })
      jobs.value = await call('cluster:jobs', {})
      return r
    })
  }

  async function refreshStatus(jobDir: string): Promise<void> {
    const s = await guarded('status', () => call('cluster:status', { job: jobDir }))
    if (s) statuses.value = { ...statuses.value, [jobDir]: s }
  }

  async function sync(jobDir: string): Promise<ClusterSyncResult | null> {
    const r = await guarded('sync', () => call('cluster:sync', { job: jobDir }))
    jobs.value = await call('cluster:jobs', {}).catch(() => jobs.value)
    await refreshStatus(jobDir)
    return r
  }

  return {
    available,
    reason,
    jobs,
    statuses,
    preview,
    error,
    busy,
    init,
    dryRun,
    submit,
    refreshStatus,
    sync,
  }
})
