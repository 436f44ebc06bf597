/**
 * Environment the host sets when it spawns a trainer. TensorFlow reads these once, when it loads,
 * and glibc reads LD_LIBRARY_PATH only at process start: they cannot be changed afterwards.
 */
export function trainerEnv(
  base: NodeJS.ProcessEnv,
  opts: { gpuIndex?: string; disableNative?: boolean } = {},
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v
  env.TF_FORCE_GPU_ALLOW_GROWTH = base.TF_FORCE_GPU_ALLOW_GROWTH ?? 'true'
  env.TF_CPP_MIN_LOG_LEVEL = base.TF_CPP_MIN_LOG_LEVEL ?? '2'
  const gpu = opts.gpuIndex ?? base.CUDA_VISIBLE_DEVICES
  if (gpu !== undefined) env.CUDA_VISIBLE_DEVICES = gpu
  if (opts.disableNative) env.TFKD_DISABLE_NATIVE = '1'
  return env
}
