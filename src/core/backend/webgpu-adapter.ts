/**
 * The WebGPU adapter, through Dawn (the `webgpu` package). Runs only in a trainer child process:
 * Dawn is native code. The ladder's webgpu rung and the doctor's adapter probe share one request.
 */
import { existsSync, readdirSync } from 'node:fs'
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

/**
 * Where the Vulkan loader looks for driver manifests (ICDs) on Linux, as it documents them: the
 * driver-file variables, then the XDG config and data folders' `vulkan/icd.d`, and /etc/vulkan/icd.d.
 */
function icdFolders(env: NodeJS.ProcessEnv): string[] {
  const list = (v: string | undefined, fallback: string) => (v || fallback).split(':').filter(Boolean)
  return [
    ...list(env.XDG_CONFIG_DIRS, '/etc/xdg').map((d) => join(d, 'vulkan/icd.d')),
    '/etc/vulkan/icd.d',
    join(env.XDG_DATA_HOME || join(env.HOME ?? '/nonexistent', '.local/share'), 'vulkan/icd.d'),
    ...list(env.XDG_DATA_DIRS, '/usr/local/share:/usr/share').map((d) => join(d, 'vulkan/icd.d')),
  ]
}

/**
 * Whether a Vulkan driver is installed for the loader to find. With the loader but no driver (a
 * machine where only a browser pulled libvulkan1 in), Dawn prints Vulkan errors of its own into the
 * trainer's output; asking first keeps that output clean.
 */
export function hasVulkanDriver(env: NodeJS.ProcessEnv = process.env): boolean {
  const files = [env.VK_DRIVER_FILES, env.VK_ICD_FILENAMES, env.VK_ADD_DRIVER_FILES]
    .flatMap((v) => (v ?? '').split(':'))
    .filter(Boolean)
  if (files.some((f) => existsSync(f))) return true
  return icdFolders(env).some((d) => {
    try {
      return readdirSync(d).some((f) => f.endsWith('.json'))
    } catch {
      return false
    }
  })
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

/**
 * `TFKD_WEBGPU_SOFTWARE=1` lets the rung take a software adapter (SwiftShader): for tests and
 * benchmarks of the WebGPU code on a machine without a GPU, never for training by default, since the
 * wasm rung is far faster on a CPU.
 */
export function softwareAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.TFKD_WEBGPU_SOFTWARE === '1'
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
  if (process.platform === 'linux' && !hasVulkanDriver()) {
    return {
      ok: false,
      reason:
        'no Vulkan driver is installed (no ICD manifest in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d or VK_DRIVER_FILES), so WebGPU (Dawn) has no GPU to use',
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
  if (facts.isFallback && !softwareAllowed()) {
    return {
      ok: false,
      reason: `only a software (CPU) WebGPU adapter was found (${facts.name}); the wasm rung is faster on a CPU (TFKD_WEBGPU_SOFTWARE=1 allows it, for tests)`,
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
