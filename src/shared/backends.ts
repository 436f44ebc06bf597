/**
 * The backend rung registry: what each rung of the training ladder is, in one table that the
 * ladder (src/core/backend), the doctor, the CLI and the UI all read. The ladder climbs the rungs
 * in this order (fastest first). Adding a rung = one entry here plus its loader and diagnosis in
 * src/core/backend/rungs.ts (a `satisfies Record<BackendId, ...>` table, so the compiler asks for
 * them). Plain data and pure functions only: every process imports this file.
 */

export interface RungInfo {
  /** Stable id, stored with every run and accepted by `--backend`. */
  id: string
  /** Short name for people (UI, CLI tables). */
  label: string
  /** The npm package that provides it ('' when it is always there). */
  package: string
  /** Loads native code (libtensorflow): probed in a child process, skipped after a native crash. */
  isNative: boolean
  /** Trains on a GPU: counts as loaded only after a conv forward + backward step ran on the GPU. */
  isGpu: boolean
  /** What the machine needs, in one line. */
  needs: string
  /** The next step when the rung does not load for a reason `explain` does not recognise. */
  nextStep: string
  /**
   * Plain words for a load failure this rung knows (the raw error message in, null when it has
   * nothing better to say than the message itself).
   */
  explain: (message: string) => string | null
}

const notInstalled = (message: string): boolean => /Cannot find (module|package)/.test(message)

/** The rungs, fastest first. The ladder tries them in this order and stops at the first that loads. */
export const BACKEND_RUNGS = [
  {
    id: 'tensorflow-gpu',
    label: 'tfjs-node-gpu (CUDA)',
    package: '@tensorflow/tfjs-node-gpu',
    isNative: true,
    isGpu: true,
    needs:
      'Linux/Windows x64, an NVIDIA driver > 450, the CUDA 11.x runtime and cuDNN 8.x libraries (libtensorflow 2.9.1), a CPU with AVX',
    nextStep:
      'run `tfkd doctor`: it lists which CUDA 11 / cuDNN 8 libraries are missing and the pip command that installs them into a folder the app uses',
    explain: (m) => {
      if (notInstalled(m))
        return 'not installed: @tensorflow/tfjs-node-gpu is optional and its install needs to download libtensorflow (Linux/Windows, CUDA 11.x + cuDNN 8.x)'
      if (/libcudart|libcudnn|libcublas|libcufft|libcurand|libcusolver|libcusparse|cuda/i.test(m))
        return `CUDA libraries not found (${m.split('\n')[0]}); tfjs-node-gpu needs the CUDA 11.x runtime and cuDNN 8.x`
      if (/Illegal instruction|AVX/i.test(m)) return 'this CPU lacks AVX, which libtensorflow requires'
      return null
    },
  },
  {
    id: 'webgpu',
    label: 'WebGPU (Dawn)',
    package: 'webgpu',
    isNative: false,
    isGpu: true,
    needs: 'a GPU with a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver',
    nextStep:
      'install the GPU vendor driver with Vulkan support (Linux: the Vulkan loader `libvulkan1` and the vendor ICD)',
    explain: (m) =>
      notInstalled(m) ? 'not installed: the optional `webgpu` package (Dawn) is missing' : null,
  },
  {
    id: 'tensorflow',
    label: 'tfjs-node (CPU, native)',
    package: '@tensorflow/tfjs-node',
    isNative: true,
    isGpu: false,
    needs: 'an x64 CPU with AVX',
    nextStep: 'reinstall @tensorflow/tfjs-node on a machine that can download libtensorflow',
    explain: (m) => {
      if (notInstalled(m))
        return 'not installed: @tensorflow/tfjs-node is optional and its install needs to download libtensorflow'
      if (/Illegal instruction|AVX/i.test(m)) return 'this CPU lacks AVX, which libtensorflow requires'
      return null
    },
  },
  {
    id: 'wasm',
    label: 'WebAssembly (+ native CPU kernels)',
    package: '@tensorflow/tfjs-backend-wasm',
    isNative: false,
    isGpu: false,
    needs: 'nothing; with native/cpu-kernels built, multithreaded SIMD convolutions',
    nextStep: 'reinstall the app (the wasm backend ships with it)',
    explain: () => null,
  },
  {
    id: 'cpu',
    label: 'pure JS CPU',
    package: '@tensorflow/tfjs-backend-cpu',
    isNative: false,
    isGpu: false,
    needs: 'nothing (slow)',
    nextStep: 'reinstall the app (the cpu backend ships with it)',
    explain: () => null,
  },
] as const satisfies readonly RungInfo[]

export type BackendId = (typeof BACKEND_RUNGS)[number]['id']

/** Rung ids in ladder order. */
export const BACKEND_IDS = BACKEND_RUNGS.map((r) => r.id) as unknown as readonly [BackendId, ...BackendId[]]

const BY_ID = new Map<string, RungInfo>(BACKEND_RUNGS.map((r) => [r.id, r]))

/** The registry entry of a rung id (throws on an unknown id: ids come from this table). */
export function rungInfo(id: BackendId): RungInfo {
  const r = BY_ID.get(id)
  if (!r) throw new Error(`unknown backend rung "${id}"; known: ${BACKEND_IDS.join(', ')}`)
  return r
}

/** A stored backend string (may come from an older version) to its label, or the string itself. */
export function backendLabel(id: string | null | undefined): string {
  if (!id) return '–'
  return BY_ID.get(id)?.label ?? id
}

/** Plain words for a load failure: the rung's own explanation, else the first line of the error. */
export function explainRungFailure(id: BackendId, message: string): string {
  return explainFailureOf(rungInfo(id), message)
}

/** `explainRungFailure` for a rung given by its entry (the ladder's path; a test-only rung's too). */
export function explainFailureOf(info: RungInfo, message: string): string {
  return info.explain(message) ?? message.split('\n')[0] ?? message
}

/** A stored device in one short line: "GPU NVIDIA H100 80GB HBM3" or "CPU AMD EPYC 7B13, 2 threads". */
export function describeDevice(d: { kind: 'gpu' | 'cpu'; name: string; threads: number | null }): string {
  const threads = d.threads === null ? '' : `, ${d.threads} thread${d.threads === 1 ? '' : 's'}`
  return `${d.kind === 'gpu' ? 'GPU' : 'CPU'} ${d.name}${threads}`
}

/** Backend and device of a stored run in one label ("wasm · CPU Intel Xeon, 2 threads"), or null. */
export function runDeviceLabel(r: {
  backend: string | null
  device: string | null
  deviceInfo?: { kind: 'gpu' | 'cpu'; name: string; threads: number | null } | null
}): string | null {
  if (r.deviceInfo) return `${r.backend ?? '?'} · ${describeDevice(r.deviceInfo)}`
  if (r.backend) return r.device ? `${r.backend} · ${r.device}` : r.backend
  return null
}
