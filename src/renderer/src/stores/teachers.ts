import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { AppError } from '../../../shared/errors'
import type { TeacherImportFields } from '../../../shared/schemas'
import type { ModelExportFormat, ModelExportResult, OnnxTeacherSummary } from '../../../shared/onnx'
import { call, on } from '../lib/api'

export type TeacherImportRequest = Omit<TeacherImportFields, 'executionProvider'>

/** Imported ONNX teachers, their import job, and model exports (History). */
export const useTeachersStore = defineStore('teachers', () => {
  const teachers = shallowRef<OnnxTeacherSummary[]>([])
  const error = shallowRef<AppError | null>(null)
  const job = shallowRef<{ jobId: string; done: number; total: number } | null>(null)
  const exporting = ref<number | null>(null)
  let off: (() => void) | null = null
  let counter = 0

  async function refresh(): Promise<void> {
    try {
      teachers.value = await call('teachers:list', {})
    } catch (err) {
      error.value = AppError.from(err)
    }
  }

  async function init(): Promise<void> {
    off ??= on('teachers:progress', (p) => {
      if (job.value?.jobId === p.jobId) job.value = { ...job.value, done: p.done, total: p.total }
    })
    await refresh()
  }

  async function importTeacher(
    req: TeacherImportRequest,
  ): Promise<{ teacher: OnnxTeacherSummary; warnings: string[] }> {
    const jobId = `teacher-${Date.now().toString(36)}-${++counter}`
    job.value = { jobId, done: 0, total: 0 }
    try {
      const r = await call('teachers:import', { jobId, ...req })
      await refresh()
      return r
    } finally {
      job.value = null
    }
  }

  async function cancelImport(): Promise<void> {
    if (job.value) await call('teachers:cancel', { jobId: job.value.jobId })
  }

  async function remove(teacherId: number): Promise<void> {
    await call('teachers:delete', { teacherId })
    await refresh()
  }

  async function exportModel(
    runId: number,
    format: ModelExportFormat,
    checkpoint: 'best' | 'last',
    deliver: 'folder' | 'download' = 'folder',
  ): Promise<ModelExportResult> {
    exporting.value = runId
    try {
      return await call('exports:model', { runId, format, checkpoint, deliver })
    } finally {
      exporting.value = null
    }
  }

  return { teachers, error, job, exporting, init, refresh, importTeacher, cancelImport, remove, exportModel }
})
