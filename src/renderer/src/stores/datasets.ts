import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type {
  DatasetImportOutcome,
  DatasetImportProgress,
  DatasetPreviewInfo,
} from '../../../shared/contract'
import { AppError } from '../../../shared/errors'
import type { CsvEncoding, ImportFormatInfo, OnBadRows } from '../../../shared/import-fields'
import type { DatasetSummary } from '../../../shared/types'
import { call, on, uploadArchive, type UploadJob } from '../lib/api'

export interface ImportRequest {
  path: string
  name?: string
  /** A format id of the registry; detected from the path when absent. */
  format?: string
  /** CSV: the label column by header name or 0-based index. */
  labelColumn?: string
  onBadRows?: OnBadRows
  /** CSV: the text encoding (utf8, checked, when absent). */
  encoding?: CsvEncoding
}

// eslint-disable-next-line max-lines-per-function -- a Pinia setup store's closure is the module: its state, getters and actions are the returned members (split the store, not the closure)
export const useDatasetsStore = defineStore('datasets', () => {
  const datasets = shallowRef<DatasetSummary[]>([])
  const previews = shallowRef<Record<number, DatasetPreviewInfo>>({})
  const status = ref<'idle' | 'loading' | 'ready' | 'error'>('idle')
  const error = shallowRef<AppError | null>(null)
  /** The import in flight (one at a time from this window). */
  const job = shallowRef<{ jobId: string; path: string; progress: DatasetImportProgress | null } | null>(null)
  const lastImport = shallowRef<DatasetImportOutcome | null>(null)
  /** A path handed over by the desktop menu or a drop, for the import form to pick up. */
  const pendingPath = ref<string | null>(null)
  /** An archive upload in flight (web host). */
  const upload = shallowRef<{ name: string; sent: number; total: number; job: UploadJob } | null>(null)
  /** The importer registry's formats (the form's format menu); [] until loaded. */
  const formats = shallowRef<ImportFormatInfo[]>([])
  let off: (() => void) | null = null
  let jobCounter = 0

  async function refresh(): Promise<void> {
    if (status.value !== 'ready') status.value = 'loading'
    try {
      datasets.value = await call('datasets:list', {})
      status.value = 'ready'
    } catch (err) {
      status.value = 'error'
      error.value = AppError.from(err)
    }
  }

  async function init(): Promise<void> {
    off ??= on('datasets:progress', (p) => {
      if (job.value && job.value.jobId === p.jobId) job.value = { ...job.value, progress: p }
    })
    await Promise.all([refresh(), loadFormats()])
  }

  async function loadFormats(): Promise<void> {
    if (formats.value.length > 0) return
    try {
      formats.value = await call('datasets:formats', {})
    } catch (err) {
      // The form still imports with format detection; the error shows like any other.
      error.value = AppError.from(err)
    }
  }

  async function importFrom(req: ImportRequest): Promise<DatasetImportOutcome> {
    const jobId = `import-${Date.now().toString(36)}-${++jobCounter}`
    job.value = { jobId, path: req.path, progress: null }
    error.value = null
    try {
      const outcome = await call('datasets:import', {
        jobId,
        path: req.path,
        ...(req.name ? { name: req.name } : {}),
        ...(req.format ? { format: req.format } : {}),
        ...(req.labelColumn ? { labelColumn: req.labelColumn } : {}),
        ...(req.onBadRows ? { onBadRows: req.onBadRows } : {}),
        ...(req.encoding ? { encoding: req.encoding } : {}),
      })
      lastImport.value = outcome
      await refresh()
      return outcome
    } catch (err) {
      const e = AppError.from(err)
      error.value = e
      throw e
    } finally {
      job.value = null
    }
  }

  /** Uploads an archive to the web host and answers the extracted folder to import. */
  async function uploadFile(file: File): Promise<string> {
    const job = uploadArchive(file, (sent, total) => {
      if (upload.value) upload.value = { ...upload.value, sent, total }
    })
    upload.value = { name: file.name, sent: 0, total: file.size, job }
    try {
      return (await job.done).path
    } finally {
      upload.value = null
    }
  }

  async function cancelImport(): Promise<void> {
    if (job.value) await call('datasets:cancel', { jobId: job.value.jobId })
  }

  async function loadPreview(datasetId: number, force = false): Promise<DatasetPreviewInfo | null> {
    if (previews.value[datasetId] && !force) return previews.value[datasetId]!
    try {
      const p = await call('datasets:preview', { datasetId })
      previews.value = { ...previews.value, [datasetId]: p }
      return p
    } catch (err) {
      error.value = AppError.from(err)
      return null
    }
  }

  async function rename(datasetId: number, name: string): Promise<void> {
    try {
      await call('datasets:rename', { datasetId, name })
      const { [datasetId]: _old, ...rest } = previews.value
      previews.value = rest
      await refresh()
    } catch (err) {
      const e = AppError.from(err)
      error.value = e
      throw e
    }
  }

  async function remove(datasetId: number): Promise<void> {
    try {
      await call('datasets:delete', { datasetId })
      const { [datasetId]: _old, ...rest } = previews.value
      previews.value = rest
      await refresh()
    } catch (err) {
      const e = AppError.from(err)
      error.value = e
      throw e
    }
  }

  function dispose(): void {
    off?.()
    off = null
  }

  return {
    datasets,
    previews,
    status,
    error,
    job,
    lastImport,
    formats,
    pendingPath,
    upload,
    uploadFile,
    init,
    refresh,
    importFrom,
    cancelImport,
    loadPreview,
    rename,
    remove,
    dispose,
  }
})
