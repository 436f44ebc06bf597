/**
 * The backend ladder, climbed once per trainer process: tfjs-node-gpu (CUDA) -> WebGPU (Dawn) ->
 * tfjs-node (CPU) -> wasm (+ our training kernels) -> pure-JS CPU. Every rung that does not load is
 * reported with its reason in plain words, so the diagnostics view can tell a user what to install.
 * Only this module imports backend packages; model and training code use tfjs-core/-layers APIs.
 */
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
// tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers them all.
import '@tensorflow/tfjs-layers'
import { BACKEND_IDS, type BackendId, type BackendReport, type RungReport } from '../../shared/types'
import { usableCpus } from './cpu-threads'
import { installNativeKernels } from './native-kernels'
import { registerTapFilterGradient, registerWasmTrainingKernels } from './wasm-kernels'

const req = createRequire(import.meta.url)

export interface LoadOptions {
  /** Pin one rung; 'auto' climbs the ladder. */
  pin?: BackendId | 'auto'
  /** Skip the native (libtensorflow) rungs, e.g. after a crash while loading them. */
  disableNative?: boolean
  /** Skip WebGPU (it is slower than the wasm path for small models on most machines). */
  disableWebgpu?: boolean
}

function explain(id: BackendId, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err)
  if (/Cannot find (module|package)/.test(msg)) {
    if (id === 'tensorflow-gpu')
      return 'not installed: @tensorflow/tfjs-node-gpu is optional and its install needs to download libtensorflow (Linux/Windows, CUDA 11.2 + cuDNN 8.1)'
    if (id === 'tensorflow')
      return 'not installed: @tensorflow/tfjs-node is optional and its install needs to download libtensorflow'
    if (id === 'webgpu') return 'not installed: the optional `webgpu` package (Dawn) is missing'
  }
  if (/libcudart|libcudnn|libcublas|cuda/i.test(msg))
    return `CUDA libraries not found (${msg.split('\n')[0]}); tfjs-node-gpu needs the CUDA 11.x runtime and cuDNN 8.x`
  if (/Illegal instruction|AVX/i.test(msg)) return 'this CPU lacks AVX, which libtensorflow requires'
  return msg.split('\n')[0] ?? msg
}

/** tfjs-node's package can be present without its addon when its install could not download it. */
function assertNativeAddon(pkg: string): void {
  const dir = dirname(req.resolve(`${pkg}/package.json`))
  const lib = join(dir, 'lib')
  const found =
    existsSync(lib) &&
    readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(join(lib, d, 'tfjs_binding.node')))
  if (!found) {
    throw new Error(
      `${pkg} is installed without its native addon: its install step could not download libtensorflow (reinstall with internet access)`,
    )
  }
}

/** Dawn prints a warning of its own when it cannot dlopen Vulkan; look for the loader first. */
function hasVulkanLoader(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ]
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')))
}

type Loader = () => Promise<{ device: string; isGpu: boolean }>

async function setAndWarm(name: string): Promise<void> {
  const ok = await tf.setBackend(name)
  if (!ok) throw new Error(`backend "${name}" failed to initialise`)
  await tf.ready()
  // One tiny op proves kernels actually run here.
  const t = tf.add(tf.scalar(1), tf.scalar(1))
  const v = (await t.data())[0]
  t.dispose()
  if (v !== 2) throw new Error(`backend "${name}" computed 1+1=${v}`)
}

const LOADERS: Record<BackendId, Loader> = {
  'tensorflow-gpu': async () => {
    assertNativeAddon('@tensorflow/tfjs-node-gpu')
    req('@tensorflow/tfjs-node-gpu')
    await setAndWarm('tensorflow')
    const isGpu = Boolean((tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice)
    if (!isGpu) {
      throw new Error(
        'tfjs-node-gpu loaded but TensorFlow found no usable GPU (CUDA 11.x runtime or cuDNN 8 missing, or no NVIDIA GPU)',
      )
    }
    return { device: 'CUDA GPU (libtensorflow 2.9)', isGpu: true }
  },
  webgpu: async () => {
    if (process.platform === 'linux' && !hasVulkanLoader()) {
      throw new Error(
        'the Vulkan loader (libvulkan.so.1) is not installed, so WebGPU (Dawn) has no GPU driver to use',
      )
    }
    const webgpu = req('webgpu') as { create: (flags: string[]) => unknown; globals: object }
    Object.assign(globalThis, webgpu.globals)
    const gpu = webgpu.create([]) as {
      requestAdapter(opts?: object): Promise<{
        isFallbackAdapter?: boolean
        info?: { description?: string; vendor?: string; adapterType?: string; isFallbackAdapter?: boolean }
      } | null>
    }
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
    if (!adapter) throw new Error('no WebGPU adapter found (no Vulkan/Metal/D3D12 driver for a GPU)')
    if (adapter.isFallbackAdapter || adapter.info?.isFallbackAdapter || adapter.info?.adapterType === 'cpu') {
      throw new Error('only a software (CPU) WebGPU adapter was found; the wasm rung is faster on a CPU')
    }
    const nav = (globalThis as { navigator?: object }).navigator
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true })
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true })
    await import('@tensorflow/tfjs-backend-webgpu')
    await setAndWarm('webgpu')
    if (process.env.TFKD_WEBGPU_NATIVE_FILTER_GRAD !== '1') registerTapFilterGradient('webgpu')
    const info = adapter.info
    return { device: `WebGPU: ${info?.description || info?.vendor || 'GPU adapter'}`, isGpu: true }
  },
  tensorflow: async () => {
    assertNativeAddon('@tensorflow/tfjs-node')
    req('@tensorflow/tfjs-node')
    await setAndWarm('tensorflow')
    return { device: 'CPU (libtensorflow)', isGpu: false }
  },
  wasm: async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm')
    const dist = dirname(req.resolve('@tensorflow/tfjs-backend-wasm'))
    wasm.setWasmPaths(join(dist, '/'))
    const cpu = usableCpus()
    wasm.setThreadsCount(cpu.threads) // tfjs-backend-wasm runs 1 thread in Node whatever this says
    registerWasmTrainingKernels()
    await setAndWarm('wasm')
    const n = wasm.getThreadsCount()
    const simd = `WebAssembly SIMD, ${n} thread${n === 1 ? '' : 's'}`
    // After a native crash the host retries with TFKD_DISABLE_NATIVE=1: no native code at all then.
    if (process.env.TFKD_DISABLE_NATIVE_KERNELS === '1' || process.env.TFKD_DISABLE_NATIVE === '1') {
      return { device: `CPU (${simd}; native kernels disabled)`, isGpu: false }
    }
    try {
      const { threads, threadSource, isa } = installNativeKernels(undefined, cpu)
      return {
        device: `CPU (wasm + native ${isa} conv kernels, ${threads} threads: ${threadSource})`,
        isGpu: false,
      }
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err)
      return { device: `CPU (${simd}; native kernels unavailable: ${why})`, isGpu: false }
    }
  },
  cpu: async () => {
    await import('@tensorflow/tfjs-backend-cpu')
    await setAndWarm('cpu')
    return { device: 'CPU (pure JavaScript)', isGpu: false }
  },
}

export async function loadBackend(opts: LoadOptions = {}): Promise<BackendReport> {
  const rungs: RungReport[] = []
  const pin = opts.pin ?? 'auto'
  for (const id of BACKEND_IDS) {
    if (pin !== 'auto' && id !== pin) {
      rungs.push({ id, ok: false, reason: `skipped: backend pinned to ${pin}`, loadMs: 0 })
      continue
    }
    if (opts.disableNative && (id === 'tensorflow-gpu' || id === 'tensorflow')) {
      rungs.push({
        id,
        ok: false,
        reason: 'skipped: a native backend crashed this process earlier',
        loadMs: 0,
      })
      continue
    }
    if (opts.disableWebgpu && id === 'webgpu') {
      rungs.push({ id, ok: false, reason: 'skipped: disabled by TFKD_DISABLE_WEBGPU', loadMs: 0 })
      continue
    }
    const t0 = performance.now()
    try {
      const { device, isGpu } = await LOADERS[id]()
      rungs.push({ id, ok: true, loadMs: Math.round(performance.now() - t0) })
      // Report the rungs below as not tried, so the list is complete.
      for (const rest of BACKEND_IDS.slice(BACKEND_IDS.indexOf(id) + 1)) {
        rungs.push({ id: rest, ok: false, reason: `not tried: ${id} loaded first`, loadMs: 0 })
      }
      return { chosen: id, device, isGpu, rungs, tfjsVersion: tf.version_core }
    } catch (err) {
      rungs.push({ id, ok: false, reason: explain(id, err), loadMs: Math.round(performance.now() - t0) })
    }
  }
  const why = rungs.map((r) => `${r.id}: ${r.reason}`).join('; ')
  throw new Error(`no TF.js backend could be loaded (${why})`)
}
