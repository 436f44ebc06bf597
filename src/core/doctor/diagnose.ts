/**
 * One verdict per backend rung from what the doctor found: plain words and the exact next step.
 * One diagnosis per rung id (the compiler asks for one when a rung is added to the registry).
 */
import { BACKEND_RUNGS, rungInfo } from '../../shared/backends'
import type {
  CpuFacts,
  LibraryFinding,
  NvidiaFacts,
  RungVerdict,
  VerdictState,
  WebGpuAdapterFacts,
} from '../../shared/doctor'
import type { BackendId, BackendReport } from '../../shared/types'
import type { PackageState } from '../backend/packages'
import { computeCapabilityWarning, cudaGpuInUse } from '../backend/gpu-facts'

export interface DiagnoseInput {
  platform: NodeJS.Platform
  arch: string
  cpu: CpuFacts
  nvidia: NvidiaFacts
  libraries: LibraryFinding[]
  installCommand: string | null
  appLibraryDir: string
  webgpu: { adapter: WebGpuAdapterFacts | null; reason: string | null }
  /** null when the trainer probe was skipped or did not answer. */
  ladder: BackendReport | null
  packages: Record<BackendId, PackageState>
  visibleDevices: string | undefined
}

interface Finding {
  state: VerdictState
  summary: string
  nextStep: string | null
}

type Blocker = { why: string; step: string }

function fromBlockers(blockers: Blocker[], warnings: string[], readySummary: string): Finding {
  if (blockers.length === 0) {
    return warnings.length
      ? { state: 'warning', summary: `${readySummary}; but ${warnings.join('; ')}`, nextStep: null }
      : { state: 'ready', summary: readySummary, nextStep: null }
  }
  const steps = blockers.map((b) => b.step)
  return {
    state: 'unavailable',
    summary: blockers.map((b) => b.why).join('; '),
    nextStep: steps.length === 1 ? steps[0]! : steps.map((s, i) => `${i + 1}) ${s}`).join(' '),
  }
}

const NPM_REINSTALL = (pkg: string) =>
  `npm install ${pkg}@4.22.0 on a machine that can reach storage.googleapis.com (its install downloads libtensorflow)`

function diagnoseCuda(d: DiagnoseInput): Finding {
  const blockers: Blocker[] = []
  const warnings: string[] = []
  if (!['linux', 'win32'].includes(d.platform) || d.arch !== 'x64') {
    return {
      state: 'unavailable',
      summary: `tfjs-node-gpu has no GPU build for ${d.platform}-${d.arch} (Linux and Windows x64 only)`,
      nextStep: 'use the webgpu rung (Metal on macOS) or a Linux/Windows x64 machine with an NVIDIA GPU',
    }
  }
  if (!d.nvidia.driverVersion) {
    blockers.push({
      why: 'no NVIDIA driver found',
      step: 'install the NVIDIA driver for your GPU (version 450 or newer; any CUDA 12/13-era driver runs CUDA 11 programs)',
    })
  } else if (d.nvidia.gpus.length === 0) {
    blockers.push({
      why: `NVIDIA driver ${d.nvidia.driverVersion} lists no GPU`,
      step: 'check that the GPU is seated and visible (`nvidia-smi -L`)',
    })
  }
  const pkg = d.packages['tensorflow-gpu']
  if (pkg === 'missing')
    blockers.push({
      why: '@tensorflow/tfjs-node-gpu is not installed',
      step: NPM_REINSTALL('@tensorflow/tfjs-node-gpu'),
    })
  if (pkg === 'no-addon')
    blockers.push({
      why: '@tensorflow/tfjs-node-gpu is installed without its native addon (libtensorflow was not downloaded)',
      step: NPM_REINSTALL('@tensorflow/tfjs-node-gpu'),
    })
  const missing = d.libraries.filter((l) => !l.found)
  if (missing.length) {
    blockers.push({
      why:
        missing.length === d.libraries.length
          ? `none of the ${d.libraries.length} CUDA 11 / cuDNN 8 libraries was found`
          : `${missing.length} of ${d.libraries.length} CUDA 11 / cuDNN 8 libraries are missing (${missing.map((l) => l.file).join(', ')})`,
      step: `${d.installCommand ?? 'install the CUDA 11.x runtime and cuDNN 8.x'} (the app looks in ${d.appLibraryDir} by itself; or set a folder that has them in Settings or TFKD_CUDA_LIBS)`,
    })
  }
  if (d.cpu.hasAvx === false)
    blockers.push({
      why: 'this CPU lacks AVX, which libtensorflow requires',
      step: 'use the webgpu or wasm rung on this machine',
    })
  const gpu = cudaGpuInUse(d.nvidia.gpus, d.visibleDevices)
  const cc = computeCapabilityWarning(gpu)
  if (cc) warnings.push(cc)
  const rung = d.ladder?.rungs.find((r) => r.id === 'tensorflow-gpu')
  if (rung?.ok)
    return fromBlockers(
      [],
      warnings,
      `trains on ${d.ladder?.deviceInfo?.name ?? gpu?.name ?? 'the GPU'} (a conv forward + backward step ran on it)`,
    )
  if (rung && !rung.ok && !/^(skipped|not tried)/.test(rung.reason ?? '') && blockers.length === 0) {
    blockers.push({ why: `it did not load: ${rung.reason}`, step: rungInfo('tensorflow-gpu').nextStep })
  }
  const where = gpu
    ? `${gpu.name}${gpu.computeCapability ? ` (compute capability ${gpu.computeCapability})` : ''}`
    : 'the GPU'
  return fromBlockers(
    blockers,
    warnings,
    `driver, GPU and all CUDA 11 / cuDNN 8 libraries found for ${where}`,
  )
}

function diagnoseWebgpu(d: DiagnoseInput): Finding {
  if (d.packages.webgpu === 'missing') {
    return {
      state: 'unavailable',
      summary: 'the optional `webgpu` package (Dawn) is not installed',
      nextStep: 'npm install webgpu@0.6.2 (an optional dependency of the app)',
    }
  }
  const a = d.webgpu.adapter
  const rung = d.ladder?.rungs.find((r) => r.id === 'webgpu')
  if (a) {
    const desc = `adapter ${a.name}${a.backend ? ` (${a.backend})` : ''}`
    if (rung && !rung.ok && !/^(skipped|not tried)/.test(rung.reason ?? '')) {
      return {
        state: 'unavailable',
        summary: `${desc} found, but the rung failed: ${rung.reason}`,
        nextStep: rungInfo('webgpu').nextStep,
      }
    }
    return {
      state: 'ready',
      summary: rung?.ok ? `trains on ${desc} (a conv forward + backward step ran on it)` : `${desc} found`,
      nextStep: null,
    }
  }
  if (d.webgpu.reason === null)
    return {
      state: 'not-checked',
      summary: 'the adapter was not probed',
      nextStep: 'run `tfkd doctor` (without --no-probe)',
    }
  const reason = d.webgpu.reason
  let step = rungInfo('webgpu').nextStep
  if (/Vulkan loader/.test(reason))
    step =
      "install the Vulkan loader and your GPU's Vulkan driver (Debian/Ubuntu: `sudo apt-get install libvulkan1`, plus `mesa-vulkan-drivers` for AMD/Intel; NVIDIA's driver brings its own)"
  else if (/no WebGPU adapter/.test(reason))
    step = 'install the GPU vendor driver with Vulkan (Linux), Metal (macOS) or D3D12 (Windows) support'
  else if (/software \(CPU\)/.test(reason))
    step = 'nothing to do on a machine without a GPU: the wasm rung is faster on the CPU'
  return { state: 'unavailable', summary: `no usable WebGPU adapter: ${reason}`, nextStep: step }
}

function diagnoseNativeCpu(d: DiagnoseInput): Finding {
  const blockers: Blocker[] = []
  const pkg = d.packages.tensorflow
  if (pkg !== 'installed')
    blockers.push({
      why: `@tensorflow/tfjs-node is ${pkg === 'missing' ? 'not installed' : 'installed without libtensorflow'} (optional: the wasm rung trains without it)`,
      step: NPM_REINSTALL('@tensorflow/tfjs-node'),
    })
  if (d.cpu.hasAvx === false)
    blockers.push({ why: 'this CPU lacks AVX, which libtensorflow requires', step: 'use the wasm rung' })
  const rung = d.ladder?.rungs.find((r) => r.id === 'tensorflow')
  if (rung && !rung.ok && !/^(skipped|not tried)/.test(rung.reason ?? '') && blockers.length === 0)
    blockers.push({ why: `it did not load: ${rung.reason}`, step: rungInfo('tensorflow').nextStep })
  return fromBlockers(blockers, [], `libtensorflow on ${d.cpu.usableCores} CPU thread(s)`)
}

function diagnoseAlways(id: BackendId, what: string) {
  return (d: DiagnoseInput): Finding => {
    const rung = d.ladder?.rungs.find((r) => r.id === id)
    if (rung && !rung.ok && !/^(skipped|not tried)/.test(rung.reason ?? '')) {
      return {
        state: 'unavailable',
        summary: `it did not load: ${rung.reason}`,
        nextStep: rungInfo(id).nextStep,
      }
    }
    const device = d.ladder?.chosen === id ? d.ladder.device : what
    return { state: 'ready', summary: device, nextStep: null }
  }
}

export const RUNG_DIAGNOSES = {
  'tensorflow-gpu': diagnoseCuda,
  webgpu: diagnoseWebgpu,
  tensorflow: diagnoseNativeCpu,
  wasm: diagnoseAlways('wasm', 'WebAssembly SIMD with the native CPU kernels where they are built'),
  cpu: diagnoseAlways('cpu', 'pure JavaScript (slow, the last resort)'),
} satisfies Record<BackendId, (d: DiagnoseInput) => Finding>

export function diagnoseRungs(d: DiagnoseInput): RungVerdict[] {
  return BACKEND_RUNGS.map((r) => ({ id: r.id, label: r.label, ...RUNG_DIAGNOSES[r.id](d) }))
}
