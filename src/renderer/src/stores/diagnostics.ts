import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { AppError } from '../../../shared/errors'
import type { AppInfo, BackendReport } from '../../../shared/types'
import { call, on } from '../lib/api'

export const useDiagnosticsStore = defineStore('diagnostics', () => {
  const backend = shallowRef<BackendReport | null>(null)
  const appInfo = shallowRef<AppInfo | null>(null)
  const isProbing = ref(false)
  const error = shallowRef<AppError | null>(null)
  let off: (() => void) | null = null

  /** Loads app info and the last backend report (probing once if no trainer has run yet). */
  async function init(): Promise<void> {
    // A run's trainer reports the ladder it climbed; keep the view current without polling.
    off ??= on('diagnostics:backend', (report) => {
      backend.value = report
    })
    await Promise.all([loadInfo(), probe(false)])
  }

  async function loadInfo(): Promise<void> {
    try {
      appInfo.value = await call('app:info', {})
    } catch (err) {
      error.value = AppError.from(err)
    }
  }

  async function probe(refresh = true): Promise<void> {
    isProbing.value = true
    error.value = null
    try {
      backend.value = await call('diagnostics:backends', refresh ? { refresh: true } : {})
    } catch (err) {
      error.value = AppError.from(err)
    } finally {
      isProbing.value = false
    }
  }

  function dispose(): void {
    off?.()
    off = null
  }

  return { backend, appInfo, isProbing, error, init, loadInfo, probe, dispose }
})
