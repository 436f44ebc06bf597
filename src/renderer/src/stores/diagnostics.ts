import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { AppError } from '../../../shared/errors'
import type { AppInfo, BackendReport } from '../../../shared/types'
import type { DoctorReport } from '../../../shared/doctor'
import { call, on } from '../lib/api'

// eslint-disable-next-line max-lines-per-function -- a Pinia setup store's closure is the module: its state, getters and actions are the returned members (split the store, not the closure)
export const useDiagnosticsStore = defineStore('diagnostics', () => {
  const backend = shallowRef<BackendReport | null>(null)
  const appInfo = shallowRef<AppInfo | null>(null)
  const isProbing = ref(false)
  const error = shallowRef<AppError | null>(null)
  let off: (() => void) | null = null
  const doctor = shallowRef<DoctorReport | null>(null)
  const isDoctoring = ref(false)
  const doctorError = shallowRef<AppError | null>(null)
  const cudaFolders = ref<string[]>([])

  /**
   * The doctor's report. `full` also spawns a trainer for the WebGPU adapter and the ladder;
   * otherwise only the host's quick probes run (driver, GPUs, CUDA libraries), unless a report exists.
   */
  async function runDoctor(full: boolean): Promise<void> {
    isDoctoring.value = true
    doctorError.value = null
    try {
      doctor.value = await call(
        'diagnostics:doctor',
        full ? { refresh: true, probe: true } : { probe: false },
      )
    } catch (err) {
      doctorError.value = AppError.from(err)
    } finally {
      isDoctoring.value = false
    }
  }

  async function loadCudaFolders(): Promise<void> {
    try {
      cudaFolders.value = (await call('diagnostics:cudaFolders', {})).dirs
    } catch (err) {
      doctorError.value = AppError.from(err)
    }
  }

  /** Saves the CUDA library folders (each must exist) and re-runs the quick probes. */
  async function saveCudaFolders(dirs: string[]): Promise<void> {
    doctorError.value = null
    try {
      cudaFolders.value = (await call('diagnostics:cudaFolders', { dirs })).dirs
      await runDoctor(false)
    } catch (err) {
      doctorError.value = AppError.from(err)
    }
  }

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

  return {
    backend,
    appInfo,
    isProbing,
    error,
    init,
    loadInfo,
    probe,
    dispose,
    doctor,
    isDoctoring,
    doctorError,
    cudaFolders,
    runDoctor,
    loadCudaFolders,
    saveCudaFolders,
  }
})
