/** `teachers:*` channels: imported ONNX teachers (list, import with progress and cancel, delete). */
import { AppError } from '../../shared/errors'
import type { DomainHandlers, HandlerContext } from './context'

export function createTeacherHandlers({ teachers, emit }: HandlerContext): DomainHandlers<'teachers'> {
  const jobs = new Map<string, AbortController>()
  return {
    'teachers:list': ({ datasetId }) => teachers.list(datasetId),
    'teachers:import': async ({ jobId, ...input }) => {
      if (jobs.has(jobId)) throw new AppError('conflict', `import job "${jobId}" is already running`)
      const controller = new AbortController()
      jobs.set(jobId, controller)
      let lastEmit = 0
      try {
        return await teachers.import(input, {
          signal: controller.signal,
          onProgress: (done, total) => {
            const now = Date.now()
            if (now - lastEmit < 100 && done < total) return
            lastEmit = now
            emit('teachers:progress', { jobId, done, total })
          },
        })
      } finally {
        jobs.delete(jobId)
      }
    },
    'teachers:cancel': ({ jobId }) => {
      const c = jobs.get(jobId)
      c?.abort()
      return { cancelled: c !== undefined }
    },
    'teachers:delete': ({ teacherId }) => teachers.delete(teacherId),
  }
}
