/**
 * How many runs the queue trains at once, and how the CPUs are split between their trainers.
 *
 * `1` (the default) trains one run at a time with every CPU. `N` trains up to N at once, each
 * trainer pinned to floor(cpus / N) threads (TFKD_THREADS). `auto` decides per model from the CPUs
 * this process may use (affinity mask, cgroup quota: cpu-threads.ts): a small model (at most 5 M
 * multiply-adds per 32x32 image: mlp, cnn-small) scales poorly past a couple of threads, so it gets
 * one run per 2 CPUs; a larger one (the ResNets, MobileNet, ShuffleNet) one run per 8 CPUs (so one
 * run on a machine of fewer than 16). Runs of different sizes at once: the smallest of their counts.
 * `auto` packs CPU work only: a run pinned to a GPU backend, or an `auto` one on a host whose last
 * run got a GPU, trains alone.
 * Every run keeps its seeds, so its numbers do not depend on what else runs beside it.
 */
import { AppError } from '../../shared/errors'
import { usableCpus } from '../backend/cpu-threads'
import { MODEL_CATALOG, isModelId } from '../models/catalog'

export type ParallelSetting = number | 'auto'

/** The stored host setting (app_settings), overridden for one process by `tfkd run --parallel`. */
export const PARALLEL_SETTING_KEY = 'runs.parallel'

const SMALL_MODEL_MACS = 5_000_000

/** `--parallel` / the setting: `auto` or a whole number from 1 to 256. */
export function parseParallel(value: unknown, field = '--parallel'): ParallelSetting {
  if (value === 'auto') return 'auto'
  const n = typeof value === 'number' ? value : Number(String(value).trim())
  if (Number.isInteger(n) && n >= 1 && n <= 256) return n
  throw new AppError(
    'invalid_input',
    `${field}: expected auto or a whole number from 1 to 256, got ${JSON.stringify(value)}`,
    {
      field,
    },
  )
}

/** How many runs may train at once when one of them is `model`. */
export function parallelFor(setting: ParallelSetting, model: string, cpus: number): number {
  if (setting !== 'auto') return setting
  const small = isModelId(model) && MODEL_CATALOG[model].macs <= SMALL_MODEL_MACS
  return Math.max(1, Math.floor(cpus / (small ? 2 : 8)))
}

/** Threads of each of `runs` concurrent trainers. */
export function threadsPerRun(cpus: number, runs: number): number {
  return Math.max(1, Math.floor(cpus / runs))
}

export function usableCpuCount(env: NodeJS.ProcessEnv = process.env): number {
  // TFKD_THREADS pins the whole host's budget; the split is of that.
  return usableCpus({ env }).threads
}
