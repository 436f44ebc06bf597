/**
 * The rung registry and the ladder: one table read by everyone; a GPU rung counts only after a
 * conv forward + backward step matches the reference; no silent fallback when a GPU rung is pinned;
 * the device a rung really uses is reported; mixed devices are flagged in a comparison.
 */
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { cpus } from 'node:os'
import { describe, expect, it } from 'vitest'
import { convStepCheck, referenceConvStep } from '../../../src/core/backend/gpu-check'
import { computeCapabilityWarning, cudaGpuInUse } from '../../../src/core/backend/gpu-facts'
import { loadBackend } from '../../../src/core/backend/ladder'
import { RUNG_LOADERS } from '../../../src/core/backend/rungs'
import { RUNG_DIAGNOSES } from '../../../src/core/doctor/diagnose'
import { compareRuns } from '../../../src/core/analysis/compare'
import {
  BACKEND_IDS,
  BACKEND_RUNGS,
  backendLabel,
  explainRungFailure,
  runDeviceLabel,
} from '../../../src/shared/backends'

describe('backend rung registry', () => {
  it('every rung has a loader and a diagnosis, in ladder order, and one entry of facts', () => {
    expect([...BACKEND_IDS]).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'])
    expect(Object.keys(RUNG_LOADERS).sort()).toEqual([...BACKEND_IDS].sort())
    expect(Object.keys(RUNG_DIAGNOSES).sort()).toEqual([...BACKEND_IDS].sort())
    for (const r of BACKEND_RUNGS) {
      expect(r.label.length).toBeGreaterThan(3)
      expect(r.nextStep.length).toBeGreaterThan(10)
    }
    expect(BACKEND_RUNGS.filter((r) => r.isGpu).map((r) => r.id)).toEqual(['tensorflow-gpu', 'webgpu'])
    expect(BACKEND_RUNGS.filter((r) => r.isNative).map((r) => r.id)).toEqual(['tensorflow-gpu', 'tensorflow'])
    expect(backendLabel('webgpu')).toBe('WebGPU (Dawn)')
    expect(backendLabel('an-old-id')).toBe('an-old-id')
  })

  it('explains load failures in plain words', () => {
    expect(explainRungFailure('tensorflow-gpu', "Cannot find module '@tensorflow/tfjs-node-gpu'")).toMatch(
      /not installed: @tensorflow\/tfjs-node-gpu is optional/,
    )
    expect(
      explainRungFailure(
        'tensorflow-gpu',
        "Could not load dynamic library 'libcudart.so.11.0'; dlerror: ...",
      ),
    ).toMatch(/^CUDA libraries not found .*CUDA 11.x runtime and cuDNN 8.x/)
    expect(explainRungFailure('tensorflow', 'Illegal instruction')).toMatch(/lacks AVX/)
    expect(explainRungFailure('wasm', 'first line\nsecond')).toBe('first line')
  })
})

describe('GPU facts', () => {
  const gpus = [
    { index: 0, name: 'RTX 3090', memoryMiB: 24576, computeCapability: '8.6', busId: null },
    { index: 1, name: 'H100', memoryMiB: 81559, computeCapability: '9.0', busId: null },
  ]
  it('libtensorflow keeps the last visible GPU', () => {
    expect(cudaGpuInUse(gpus, undefined)?.name).toBe('H100')
    expect(cudaGpuInUse(gpus, '0')?.name).toBe('RTX 3090')
    expect(cudaGpuInUse(gpus, '1,0')?.name).toBe('RTX 3090')
    expect(cudaGpuInUse(gpus, '7')).toBeNull()
  })
  it('warns at compute capability 9.0 and above only', () => {
    expect(computeCapabilityWarning(gpus[0]!)).toBeNull()
    expect(computeCapabilityWarning(gpus[1]!)).toMatch(
      /compute capability 9.0: libtensorflow 2.9.1 has no native kernels/,
    )
    expect(computeCapabilityWarning({ ...gpus[1]!, computeCapability: '12.0' })).toMatch(/12.0/)
    expect(computeCapabilityWarning({ ...gpus[1]!, computeCapability: null })).toBeNull()
  })
})

describe('the conv forward + backward check', () => {
  it('passes on a backend that computes correctly (cpu)', async () => {
    await tf.setBackend('cpu')
    const r = await convStepCheck()
    expect(r.maxError).toBeLessThan(1e-5)
    expect(referenceConvStep().loss).toBeGreaterThan(0)
  })

  it('fails, saying what differed, on a backend whose filter gradient is wrong (zeros)', async () => {
    await tf.setBackend('cpu')
    const original = tf.getKernel('Conv2DBackpropFilter', 'cpu')
    tf.unregisterKernel('Conv2DBackpropFilter', 'cpu')
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'cpu',
      kernelFunc: ({ attrs, backend }) => {
        const shape = (attrs as { filterShape: number[] }).filterShape
        const zeros = tf.zeros(shape)
        // Hand the backend a fresh tensor info it owns.
        return (
          backend as { makeTensorInfo: (s: number[], d: string, v: Float32Array) => tf.TensorInfo }
        ).makeTensorInfo(shape, 'float32', zeros.dataSync() as Float32Array)
      },
    })
    try {
      await expect(convStepCheck()).rejects.toThrow(/filter gradient off by 100\.00%/)
    } finally {
      tf.unregisterKernel('Conv2DBackpropFilter', 'cpu')
      tf.registerKernel(original)
    }
  })
})

describe('the ladder', () => {
  it('a pinned GPU rung that cannot load fails with its reason: no silent fallback to a CPU rung', async () => {
    await expect(loadBackend({ pin: 'tensorflow-gpu' })).rejects.toThrow(
      /no TF\.js backend could be loaded \(tensorflow-gpu: not installed: @tensorflow\/tfjs-node-gpu is optional.*webgpu: skipped: backend pinned to tensorflow-gpu/,
    )
  })

  it('reports the device a CPU rung really uses (model, threads)', async () => {
    const r = await loadBackend({ pin: 'cpu' })
    expect(r.chosen).toBe('cpu')
    expect(r.isGpu).toBe(false)
    expect(r.deviceInfo).toEqual({
      backend: 'cpu',
      kind: 'cpu',
      name: cpus()[0]!.model.trim(),
      threads: 1,
      detail: 'pure JavaScript',
    })
  })
})

describe('comparisons that mix devices', () => {
  const run = (variant: string, seed: number, acc: number, device: string | null) => ({
    variant,
    seed,
    bestTestAccuracy: acc,
    lastTestAccuracy: acc,
    device,
  })
  it('say so, with each device and its run count', () => {
    const t = compareRuns([
      run('baseline', 1, 0.9, 'wasm · CPU Xeon, 2 threads'),
      run('baseline', 2, 0.91, 'wasm · CPU Xeon, 2 threads'),
      run('lsr', 1, 0.92, 'webgpu · GPU NVIDIA H100'),
      run('lsr', 2, 0.925, 'webgpu · GPU NVIDIA H100'),
    ])
    expect(t.devices).toEqual([
      { device: 'wasm · CPU Xeon, 2 threads', runs: 2 },
      { device: 'webgpu · GPU NVIDIA H100', runs: 2 },
    ])
    expect(t.warnings.join(' ')).toMatch(/trained on 2 different backends\/devices/)
  })
  it('stay quiet when every run used the same device', () => {
    const t = compareRuns([run('baseline', 1, 0.9, 'wasm · CPU'), run('lsr', 1, 0.92, 'wasm · CPU')])
    expect(t.warnings.join(' ')).not.toMatch(/different backends/)
  })
  it('label a stored run from its device, or its backend for older runs', () => {
    expect(
      runDeviceLabel({
        backend: 'webgpu',
        device: 'x',
        deviceInfo: { kind: 'gpu', name: 'NVIDIA H100', threads: null },
      }),
    ).toBe('webgpu · GPU NVIDIA H100')
    expect(runDeviceLabel({ backend: 'wasm', device: 'CPU (wasm)', deviceInfo: null })).toBe(
      'wasm · CPU (wasm)',
    )
    expect(runDeviceLabel({ backend: null, device: null, deviceInfo: null })).toBeNull()
  })
})
