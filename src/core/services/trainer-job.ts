/**
 * A one-off job in a trainer child (check and evaluate an ONNX teacher, export a model): the work
 * needs TF.js or ONNX Runtime, which never load in a host. Resolves with the job's answer, rejects
 * with its reason, a crash, or a cancel (the child is then killed).
 */
import { AppError } from '../../shared/errors'
import type { HostToTrainer, TrainerToHost } from '../../shared/trainer-protocol'
import { trainerEnv } from '../train/trainer-env'
import type { SpawnTrainer } from '../train/trainer-handle'

export type JobAnswer = Extract<TrainerToHost, { type: 'onnx-eval-result' | 'export-result' }>

export function runTrainerJob(
  spawnTrainer: SpawnTrainer,
  msg: HostToTrainer,
  opts: {
    env?: NodeJS.ProcessEnv
    signal?: AbortSignal
    onProgress?: (done: number, total: number) => void
  } = {},
): Promise<JobAnswer> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new AppError('cancelled', 'cancelled'))
    const t = spawnTrainer({ env: trainerEnv(opts.env ?? process.env) })
    let settled = false
    const finish = (f: () => void): void => {
      if (settled) return
      settled = true
      opts.signal?.removeEventListener('abort', onAbort)
      f()
    }
    const onAbort = (): void => {
      finish(() => reject(new AppError('cancelled', 'cancelled')))
      t.kill('SIGKILL')
    }
    opts.signal?.addEventListener('abort', onAbort)
    t.onMessage((m) => {
      if (m.type === 'job-progress') opts.onProgress?.(m.done, m.total)
      else if (m.type === 'onnx-eval-result' || m.type === 'export-result') {
        finish(() => resolve(m))
        t.send({ type: 'shutdown' })
      } else if (m.type === 'job-failed') {
        finish(() => reject(new AppError(m.code ?? 'invalid_input', m.reason)))
        t.send({ type: 'shutdown' })
      }
    })
    t.onExit(({ code, signal }) => {
      finish(() =>
        reject(
          new AppError(
            'trainer_crashed',
            `the trainer process ended (${signal ?? `code ${code}`}) before the job finished`,
          ),
        ),
      )
    })
    t.send(msg)
  })
}
