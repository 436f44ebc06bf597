import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { AppError } from '../../../shared/errors'
import type { ReproduceRequest, ReproduceScale, ReproReport } from '../../../shared/reproduce'
import type { StudyPower } from '../../../shared/study-power'
import type { ExperimentDetail } from '../../../shared/types'
import { call } from '../lib/api'
import { downloadText } from '../lib/export'

const MIME = { md: 'text/markdown', latex: 'application/x-tex', html: 'text/html' } as const

/** The reproduction study: starting it, and the report of an experiment. */
export const useReportStore = defineStore('report', () => {
  const report = shallowRef<ReproReport | null>(null)
  const status = ref<'idle' | 'loading' | 'ready' | 'error'>('idle')
  const error = shallowRef<AppError | null>(null)
  const isStarting = ref(false)

  async function load(experimentId: number, marginPp?: number): Promise<void> {
    status.value = 'loading'
    error.value = null
    try {
      report.value = await call('report:get', {
        experimentId,
        ...(marginPp !== undefined ? { marginPp } : {}),
      })
      status.value = 'ready'
    } catch (err) {
      error.value = AppError.from(err)
      status.value = 'error'
    }
  }

  async function start(req: ReproduceRequest): Promise<ExperimentDetail> {
    isStarting.value = true
    error.value = null
    try {
      return await call('reproduce:start', req)
    } catch (err) {
      error.value = AppError.from(err)
      throw error.value
    } finally {
      isStarting.value = false
    }
  }

  async function download(experimentId: number, format: 'md' | 'latex' | 'html'): Promise<void> {
    const r = await call('report:render', { experimentId, format })
    downloadText(r.content, r.fileName, MIME[format])
  }

  /** The power a planned study will have; null while unknown (or when the plan is refused). */
  const power = shallowRef<StudyPower | null>(null)
  let powerAsked = 0
  async function loadPower(req: { dataset: string; scale: ReproduceScale; seeds: number }): Promise<void> {
    const asked = ++powerAsked
    try {
      const p = await call('reproduce:power', req)
      if (asked === powerAsked) power.value = p
    } catch {
      if (asked === powerAsked) power.value = null
    }
  }

  return { report, status, error, isStarting, load, start, download, power, loadPower }
})
