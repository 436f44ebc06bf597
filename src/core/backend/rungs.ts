/**
 * How each rung of the backend registry (src/shared/backends.ts) loads, in the trainer process.
 * One loader per rung id; the compiler asks for one when a rung is added. A loader throws when its
 * rung cannot train here; a GPU rung returns only after a conv forward + backward step ran on the
 * GPU and matched a reference (no silent fallback to the CPU).
 */
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname, join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import type { BackendId, RunDevice } from '../../shared/types'
import { convStepCheck } from './gpu-check'
import { usableCpus } from './cpu-threads'
import { installNativeKernels } from './native-kernels'
import { computeCapabilityWarning, cudaGpuInUse, gpuFactsFromEnv } from './gpu-facts'
import { assertNativeAddon } from './packages'
import { registerTapFilterGradient, registerWasmTrainingKernels } from './wasm-kernels'
import { requestWebGpuAdapter } from './webgpu-adapter'

const req = createRequire(import.meta.url)

export interface LoadedRung {
  /** One line for people. */
  device: string
  isGpu: boolean
  deviceInfo: RunDevice
}

export interface RungContext {
  env: NodeJS.ProcessEnv
  /** Says something before the rung is tried (shown with the report and in the run's log). */
  warn: (message: string) => void
}

export type RungLoader = (ctx: RungContext) => Promise<LoadedRung>

export async function setAndWarm(name: string): Promise<void> {
  const ok = await tf.setBackend(name)
  if (!ok) throw new Error(`backend "${name}" failed to initialise`)
  await tf.ready()
  // One tiny op proves kernels actually run here.
  const t = tf.add(tf.scalar(1), tf.scalar(1))
  const v = (await t.data())[0]
  t.dispose()
  if (v !== 2) throw new Error(`backend "${name}" computed 1+1=${v}`)
}

const cpuModel = (): string => os.cpus()[0]?.model.trim() || 'unknown CPU'
const cpuDevice = (backend: BackendId, threads: number | null, detail?: string): RunDevice => ({
  backend,
  kind: 'cpu',
  name: cpuModel(),
  threads,
  ...(detail ? { detail } : {}),
})

export const RUNG_LOADERS = {
  'tensorflow-gpu': async ({ env, warn }) => {
    const gpu = cudaGpuInUse(gpuFactsFromEnv(env), env.CUDA_VISIBLE_DEVICES)
    const ccWarning = computeCapabilityWarning(gpu)
    if (ccWarning) warn(ccWarning)
    assertNativeAddon('@tensorflow/tfjs-node-gpu')
    req('@tensorflow/tfjs-node-gpu')
    await setAndWarm('tensorflow')
    const isGpu = Boolean((tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice)
    if (!isGpu) {
      throw new Error(
        'tfjs-node-gpu loaded but TensorFlow registered no GPU device (a CUDA 11 / cuDNN 8 library did not load, or no NVIDIA GPU is visible); run `tfkd doctor`',
      )
    }
    await convStepCheck()
    const name = gpu?.name ?? 'NVIDIA GPU (nvidia-smi gave no name)'
    const cc = gpu?.computeCapability ? `compute capability ${gpu.computeCapability}` : null
    return {
      device: `CUDA GPU: ${name} (libtensorflow 2.9.1)`,
      isGpu: true,
      deviceInfo: {
        backend: 'tensorflow-gpu',
        kind: 'gpu',
        name,
        threads: null,
        detail: ['libtensorflow 2.9.1', cc].filter(Boolean).join(', '),
      },
    }
  },
  webgpu: async () => {
    const r = await requestWebGpuAdapter()
    if (!r.ok) throw new Error(r.reason)
    const nav = (globalThis as { navigator?: object }).navigator
    if (nav) Object.defineProperty(nav, 'gpu', { value: r.gpu, configurable: true })
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu: r.gpu }, configurable: true })
    await import('@tensorflow/tfjs-backend-webgpu')
    await setAndWarm('webgpu')
    if (process.env.TFKD_WEBGPU_NATIVE_FILTER_GRAD !== '1') registerTapFilterGradient('webgpu')
    await convStepCheck()
    const f = r.facts
    return {
      device: `WebGPU: ${f.name}`,
      isGpu: true,
      deviceInfo: {
        backend: 'webgpu',
        kind: 'gpu',
        name: f.name,
        threads: null,
        detail: [f.backend && `Dawn ${f.backend}`, f.vendor, f.architecture].filter(Boolean).join(', '),
      },
    }
  },
  tensorflow: async () => {
    assertNativeAddon('@tensorflow/tfjs-node')
    req('@tensorflow/tfjs-node')
    await setAndWarm('tensorflow')
    // libtensorflow sizes its thread pool to the CPUs in the affinity mask (not a cgroup quota).
    const threads = os.availableParallelism()
    return {
      device: 'CPU (libtensorflow)',
      isGpu: false,
      deviceInfo: cpuDevice('tensorflow', threads, "libtensorflow's default thread pool"),
    }
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
      return {
        device: `CPU (${simd}; native kernels disabled)`,
        isGpu: false,
        deviceInfo: cpuDevice('wasm', n, `${simd}; native kernels disabled`),
      }
    }
    try {
      const { threads, threadSource, isa } = installNativeKernels(undefined, cpu)
      return {
        device: `CPU (wasm + native ${isa} conv kernels, ${threads} threads: ${threadSource})`,
        isGpu: false,
        deviceInfo: cpuDevice('wasm', threads, `native ${isa} kernels; threads: ${threadSource}`),
      }
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err)
      return {
        device: `CPU (${simd}; native kernels unavailable: ${why})`,
        isGpu: false,
        deviceInfo: cpuDevice('wasm', n, `${simd}; native kernels unavailable`),
      }
    }
  },
  cpu: async () => {
    await import('@tensorflow/tfjs-backend-cpu')
    await setAndWarm('cpu')
    return {
      device: 'CPU (pure JavaScript)',
      isGpu: false,
      deviceInfo: cpuDevice('cpu', 1, 'pure JavaScript'),
    }
  },
} satisfies Record<BackendId, RungLoader>
