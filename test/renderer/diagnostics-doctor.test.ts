// @vitest-environment happy-dom
/**
 * The Settings view's GPU doctor, mounted behind a fake host that answers with a real doctor report
 * (core's runDoctor on a fake machine: an H100 behind nvidia-smi, no CUDA 11 libraries): headline,
 * driver, verdicts with next steps, the pinned pip command; and the CUDA folders setting round trip.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { DoctorReport } from '../../src/shared/doctor'

// The report comes from core's real doctor (Node code, outside the renderer's tsconfig: loaded by a
// computed path, typed by shared).
const machine = '../core/doctor/fake-machine'
const { h100WithoutCudaLibraries } = (await import(/* @vite-ignore */ machine)) as {
  h100WithoutCudaLibraries: () => Promise<DoctorReport>
}
const report = await h100WithoutCudaLibraries()

const fake = vi.hoisted(() => ({
  calls: [] as { channel: string; input: unknown }[],
  report: null as unknown,
}))
fake.report = report

vi.mock('../../src/renderer/src/lib/api', () => ({
  call: vi.fn(async (channel: string, input: unknown) => {
    fake.calls.push({ channel, input })
    switch (channel) {
      case 'diagnostics:doctor':
        return fake.report
      case 'diagnostics:cudaFolders':
        return { dirs: (input as { dirs?: string[] }).dirs ?? [] }
      case 'app:info':
        return { version: '0.1.0', dataHome: '/d', host: 'web', platform: 'linux-x64', versions: {} }
      case 'diagnostics:backends':
        return null
      default:
        return null
    }
  }),
  on: vi.fn(() => () => {}),
  onConnection: vi.fn(() => () => {}),
}))

const { default: DiagnosticsView } = await import('../../src/renderer/src/views/DiagnosticsView.vue')

beforeEach(() => {
  setActivePinia(createPinia())
  fake.calls.length = 0
})

describe('Settings view: GPU doctor', () => {
  it('shows the headline, the GPU, each verdict with its next step and the pip command', async () => {
    const w = mount(DiagnosticsView, { global: { plugins: [createPinia()] } })
    await flushPromises()
    expect(fake.calls.find((c) => c.channel === 'diagnostics:doctor')?.input).toEqual({ probe: false })
    expect(w.find('[data-testid="doctor-headline"]').text()).toMatch(
      /NVIDIA driver 580.65.06 with NVIDIA H100 80GB HBM3/,
    )
    expect(w.find('[data-testid="doctor-driver"]').text()).toMatch(/580.65.06/)
    expect(w.text()).toMatch(/NVIDIA H100 80GB HBM3, 81559 MiB, compute capability 9.0/)
    const cuda = w.find('[data-testid="verdict-tensorflow-gpu"]')
    expect(cuda.text()).toMatch(/unavailable/)
    expect(cuda.text()).toMatch(/none of the 14 CUDA 11 \/ cuDNN 8 libraries was found/)
    expect(cuda.text()).toMatch(/python3 -m pip install --target/)
    expect(w.find('[data-testid="verdict-wasm"]').text()).toMatch(/ready/)
    expect(w.find('[data-testid="doctor-install"]').text()).toMatch(/nvidia-cudnn-cu11==8\.7\.0\.84/)
    // Rung labels come from the registry.
    expect(w.find('[data-testid="rung-webgpu"]').text()).toMatch(/WebGPU \(Dawn\)/)
  })

  it('saves the CUDA library folders and runs the quick probes again', async () => {
    const w = mount(DiagnosticsView, { global: { plugins: [createPinia()] } })
    await flushPromises()
    await w.find('[data-testid="cuda-folders"]').setValue('/opt/cuda-11.8/lib64\n\n/home/me/cuda11 ')
    await w.find('[data-testid="save-cuda-folders"]').trigger('click')
    await flushPromises()
    expect(fake.calls.filter((c) => c.channel === 'diagnostics:cudaFolders').pop()?.input).toEqual({
      dirs: ['/opt/cuda-11.8/lib64', '/home/me/cuda11'],
    })
    expect(fake.calls.filter((c) => c.channel === 'diagnostics:doctor')).toHaveLength(2)
  })
})
