/**
 * The WebGPU adapter, through Dawn (the `webgpu` package). Runs only in a trainer child process:
 * Dawn is native code. The ladder's webgpu rung and the doctor's adapter probe share one request.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { WebGpuAdapterFacts } from '../../shared/doctor'

const req = createRequire(import.meta.url)

interface DawnAdapter {
  isFallbackAdapter?: boolean
  info?: Record<string, unknown>
  limits?: Record<string, unknown>
}
export interface DawnGpu {
  requestAdapter(opts?: object): Promise<DawnAdapter | null>
}

export type AdapterResult =
  { ok: true; gpu: DawnGpu; adapter: DawnAdapter; facts: WebGpuAdapterFacts } | { ok: false; reason: string }

/** Dawn prints a warning of its own when it cannot dlopen Vulkan; look for the loader first. */
export function hasVulkanLoader(env: NodeJS.ProcessEnv = process.env): boolean {
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ]
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')))
}

const LIMIT_KEYS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
]

function factsOf(adapter: DawnAdapter): WebGpuAdapterFacts {
  const info = adapter.info ?? {}
  const s = (k: string): string => (typeof info[k] === 'string' ? info[k] : '')
  const limits: Record<string, number> = {}
  for (const k of LIMIT_KEYS) {
    const v = adapter.limits?.[k]
    if (typeof v === 'number') limits[k] = v
  }
  return {
    name: s('description') || s('device') || s('vendor') || 'GPU adapter',
    vendor: s('vendor'),
    architecture: s('architecture'),
    backend: s('backendType') || s('backend'),
    adapterType: s('adapterType'),
    isFallback: Boolean(adapter.isFallbackAdapter || info.isFallbackAdapter || s('adapterType') === 'cpu'),
    limits,
  }
}

let pending: Promise<AdapterResult> | null = null

async function request(): Promise<AdapterResult> {
  if (process.platform === 'linux' && !hasVulkanLoader()) {
    return {
      ok: false,
      reason:
        'the Vulkan loader (libvulkan.so.1) is not installed, so WebGPU (Dawn) has no GPU driver to use',
    }
  }
  let webgpu: { create: (flags: string[]) => unknown; globals: object }
  try {
    webgpu = req('webgpu') as typeof webgpu
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err)
    return {
      ok: false,
      reason: /Cannot find (module|package)/.test(msg)
        ? 'not installed: the optional `webgpu` package (Dawn) is missing'
        : `Dawn did not load: ${msg.split('\n')[0]}`,
    }
  }
  Object.assign(globalThis, webgpu.globals)
  const gpu = webgpu.create([]) as DawnGpu
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  if (!adapter)
    return { ok: false, reason: 'no WebGPU adapter found (no Vulkan/Metal/D3D12 driver for a GPU)' }
  const facts = factsOf(adapter)
  if (facts.isFallback) {
    return {
      ok: false,
      reason: `only a software (CPU) WebGPU adapter was found (${facts.name}); the wasm rung is faster on a CPU`,
    }
  }
  return { ok: true, gpu, adapter, facts }
}

/** Requests the high-performance adapter once per process; never throws. */
export function requestWebGpuAdapter(): Promise<AdapterResult> {
  pending ??= request().catch((err: unknown) => ({
    ok: false as const,
    reason: `WebGPU adapter request failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
  }))
  return pending
}
