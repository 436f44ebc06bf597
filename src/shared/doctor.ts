/**
 * What `tfkd doctor` (and the Settings view's Diagnostics section) reports: the machine, its NVIDIA
 * GPUs and driver, the CUDA 11 / cuDNN 8 libraries libtensorflow 2.9.1 loads, the WebGPU adapter,
 * and one plain-words verdict per backend rung with the exact next step. Plain data only.
 */
import type { BackendId } from './backends'
import type { BackendReport } from './types'

export interface CpuFacts {
  model: string
  /** Logical CPUs the hardware has. */
  logicalCores: number
  /** CPUs this process may use (affinity and cgroup quota), and how that was found. */
  usableCores: number
  usableHow: string
  /** Instruction-set extensions that matter here (avx, avx2, fma, avx512f, sse4_2; neon on arm). */
  isa: string[]
  /** libtensorflow needs AVX on x64; null when it could not be read. */
  hasAvx: boolean | null
}

export interface GpuFacts {
  index: number
  name: string
  /** Total memory in MiB (null where /proc only was read). */
  memoryMiB: number | null
  /** e.g. "8.6"; null when the driver does not say. */
  computeCapability: string | null
  busId: string | null
}

export interface NvidiaFacts {
  /** Driver version, or null when no NVIDIA driver was found. */
  driverVersion: string | null
  /** Where the facts came from. */
  source: 'nvidia-smi' | '/proc/driver/nvidia' | null
  gpus: GpuFacts[]
  /** Why nothing (or only part) was found, in plain words. */
  notes: string[]
}

/** Kinds of place a CUDA library can come from, in the order the doctor prefers them. */
export const LIBRARY_PLACE_KINDS = [
  'settings',
  'app-folder',
  'LD_LIBRARY_PATH',
  'PATH',
  'CUDA_PATH',
  'conda',
  'pip',
  'system',
] as const
export type LibraryPlaceKind = (typeof LIBRARY_PLACE_KINDS)[number]

export interface LibraryPlace {
  kind: LibraryPlaceKind
  dir: string
  /** Where the place came from, e.g. "python3 site-packages", "TFKD_CUDA_LIBS", "ldconfig -p". */
  via: string
}

export interface LibraryFinding {
  /** The file libtensorflow asks for (soname on Linux, DLL name on Windows). */
  file: string
  /** What it is, e.g. "CUDA runtime", "cuDNN". */
  role: string
  /** The pip wheel that provides it. */
  pipPackage: string
  /** The first place it was found (the one the trainer gets), or null. */
  found: (LibraryPlace & { path: string }) | null
  /** Other places that also have it. */
  alsoIn: LibraryPlace[]
}

export interface WebGpuAdapterFacts {
  name: string
  vendor: string
  architecture: string
  /** Dawn's backend (vulkan, metal, d3d12, ...) where it says. */
  backend: string
  adapterType: string
  isFallback: boolean
  limits: Record<string, number>
}

export type VerdictState = 'ready' | 'warning' | 'unavailable' | 'not-checked'

export interface RungVerdict {
  id: BackendId
  label: string
  state: VerdictState
  /** One sentence in plain words. */
  summary: string
  /** The exact next step (a command where there is one), or null when nothing is needed. */
  nextStep: string | null
}

export interface ProbeRecord {
  name: string
  outcome: 'ok' | 'absent' | 'timeout' | 'error' | 'skipped'
  ms: number
  detail: string
}

export interface DoctorReport {
  createdAt: number
  /** The answer in three plain sentences: NVIDIA driver, WebGPU adapter, the rung training will use. */
  headline: string[]
  os: { platform: string; arch: string; release: string; description: string }
  cpu: CpuFacts
  nvidia: NvidiaFacts
  /** Every library libtensorflow 2.9.1 loads for the GPU, found or missing. */
  libraries: LibraryFinding[]
  /** Where the doctor looked, in order. */
  searched: LibraryPlace[]
  /** The folders the trainer gets prepended to LD_LIBRARY_PATH (PATH on Windows). */
  libraryDirs: string[]
  /** The folder the app installs pip wheels into (and searches): `pip install --target <this>`. */
  appLibraryDir: string
  /** The exact command that installs the missing libraries into appLibraryDir, or null if none miss. */
  installCommand: string | null
  webgpu: {
    adapter: WebGpuAdapterFacts | null
    reason: string | null
    /**
     * What native code (Dawn, the Vulkan loader) printed on stderr while the trainer probed, one line
     * per message, e.g. "XDG_RUNTIME_DIR is invalid or not set in the environment."
     */
    messages?: string[]
  }
  /** The ladder as a trainer climbed it just now (null when not probed or the probe failed). */
  ladder: BackendReport | null
  ladderProblem: string | null
  verdicts: RungVerdict[]
  /** The rung training will use, and why; null when the ladder was not probed. */
  willUse: { id: BackendId; label: string; device: string } | null
  warnings: string[]
  probes: ProbeRecord[]
}
