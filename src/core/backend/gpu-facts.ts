/**
 * Pure facts about the NVIDIA GPU a trainer will use, shared by the host's doctor and the trainer's
 * tensorflow-gpu rung (no TF.js here: hosts import this).
 */
import type { GpuFacts } from '../../shared/doctor'

/** The GPU facts the host's doctor found, passed in TFKD_GPU_FACTS (a JSON array). */
export function gpuFactsFromEnv(env: NodeJS.ProcessEnv): GpuFacts[] {
  try {
    const v = JSON.parse(env.TFKD_GPU_FACTS ?? '[]') as unknown
    return Array.isArray(v) ? (v as GpuFacts[]) : []
  } catch {
    return []
  }
}

/**
 * The GPU libtensorflow will use: tfjs-node's binding keeps the last GPU device TensorFlow lists,
 * among those CUDA_VISIBLE_DEVICES leaves visible.
 */
export function cudaGpuInUse(gpus: readonly GpuFacts[], visible: string | undefined): GpuFacts | null {
  if (visible === undefined || visible.trim() === '') return gpus[gpus.length - 1] ?? null
  const ids = visible
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const picked = ids.map((id) => gpus.find((g) => String(g.index) === id)).filter((g): g is GpuFacts => !!g)
  return picked[picked.length - 1] ?? null
}

/** Warning for a card libtensorflow 2.9.1 ships no native kernels for (built up to sm_80 + PTX). */
export function computeCapabilityWarning(gpu: GpuFacts | null): string | null {
  const cc = Number(gpu?.computeCapability)
  if (!gpu || !Number.isFinite(cc) || cc < 9) return null
  return (
    `${gpu.name} has compute capability ${gpu.computeCapability}: libtensorflow 2.9.1 has no native kernels for it, ` +
    'so CUDA compiles them from PTX at first start (slow, minutes to half an hour, cached in ~/.nv/ComputeCache) and may fail; ' +
    'if the tensorflow-gpu rung fails or stalls, pin --backend webgpu'
  )
}
