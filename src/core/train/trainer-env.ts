/**
 * Environment the host sets when it spawns a trainer. TensorFlow reads these once, when it loads,
 * and glibc reads LD_LIBRARY_PATH only at process start: they cannot be changed afterwards. The
 * CUDA library folders the doctor found go to the trainer only, never to the host's own env.
 */
import type { GpuFacts } from '../../shared/doctor'

export interface TrainerEnvOptions {
  gpuIndex?: string
  disableNative?: boolean
  /** Folders with CUDA 11 / cuDNN 8 libraries, prepended to LD_LIBRARY_PATH (PATH on Windows). */
  libraryDirs?: readonly string[]
  /** The NVIDIA GPUs the doctor found (name, compute capability), for the tensorflow-gpu rung. */
  gpus?: readonly GpuFacts[]
  platform?: NodeJS.Platform
  /** CPU threads of this trainer (the queue's share when several runs train at once). */
  threads?: number
}

/** Prepends dirs to a path-list variable, dropping duplicates; Windows names are case-insensitive. */
function prepend(env: Record<string, string>, name: string, dirs: readonly string[], win: boolean): void {
  const key = (win ? Object.keys(env).find((k) => k.toUpperCase() === name) : undefined) ?? name
  const sep = win ? ';' : ':'
  const old = (env[key] ?? '').split(sep).filter(Boolean)
  env[key] = [...new Set([...dirs, ...old])].join(sep)
}

export function trainerEnv(base: NodeJS.ProcessEnv, opts: TrainerEnvOptions = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v
  env.TF_FORCE_GPU_ALLOW_GROWTH = base.TF_FORCE_GPU_ALLOW_GROWTH ?? 'true'
  env.TF_CPP_MIN_LOG_LEVEL = base.TF_CPP_MIN_LOG_LEVEL ?? '2'
  const gpu = opts.gpuIndex ?? base.CUDA_VISIBLE_DEVICES
  if (gpu !== undefined) env.CUDA_VISIBLE_DEVICES = gpu
  if (opts.disableNative) env.TFKD_DISABLE_NATIVE = '1'
  if (opts.threads) env.TFKD_THREADS = String(opts.threads)
  const win = (opts.platform ?? process.platform) === 'win32'
  if (opts.libraryDirs?.length) prepend(env, win ? 'PATH' : 'LD_LIBRARY_PATH', opts.libraryDirs, win)
  if (opts.gpus?.length) {
    env.TFKD_GPU_FACTS = JSON.stringify(opts.gpus)
    // Cards newer than sm_80 run libtensorflow's kernels JIT-compiled from PTX; the driver's default
    // 256 MiB cache is too small to keep them, so every start would compile them again.
    const newest = Math.max(...opts.gpus.map((g) => Number(g.computeCapability) || 0))
    if (newest > 8 && base.CUDA_CACHE_MAXSIZE === undefined) env.CUDA_CACHE_MAXSIZE = String(4 * 1024 ** 3)
  }
  return env
}
