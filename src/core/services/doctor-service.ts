/**
 * The doctor as the hosts use it: `tfkd doctor`, the Settings view's Diagnostics, and the run
 * service, which asks for the GPU setup (CUDA library folders, GPUs) once before the first run that
 * may train on a GPU and hands it to the trainer's environment.
 */
import { statSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { AppError } from '../../shared/errors'
import type { DoctorReport } from '../../shared/doctor'
import { probeGpuSetup, runDoctor, type DoctorOptions, type GpuSetup } from '../doctor/doctor'
import type { DataPaths } from '../paths'
import type { Store } from '../store/store'
import type { SpawnTrainer } from '../train/trainer-handle'

const CUDA_DIRS_KEY = 'cudaLibraryDirs'

export interface DoctorServiceDeps {
  store: Store
  paths: DataPaths
  spawnTrainer: SpawnTrainer
  env?: NodeJS.ProcessEnv
  /** Extra doctor options (tests: fake /proc, system folders, timeouts). */
  doctorOptions?: Partial<DoctorOptions>
}

export function createDoctorService(deps: DoctorServiceDeps) {
  const env = deps.env ?? process.env
  let current: GpuSetup | null = null
  let pending: Promise<GpuSetup> | null = null
  let last: DoctorReport | null = null

  const folders = (): string[] => deps.store.settings.get<string[]>(CUDA_DIRS_KEY) ?? []
  const options = (): DoctorOptions => ({
    env,
    appLibraryDir: join(deps.paths.home, 'cuda11'),
    settingsDirs: folders(),
    ...deps.doctorOptions,
  })
  const adopt = (s: GpuSetup): GpuSetup => {
    current = s
    return s
  }

  return {
    /** The GPU setup found so far (null before the first probe or after a settings change). */
    current: (): GpuSetup | null => current,
    /** Host-side probes once (a few seconds at most; never throws). */
    ensure(): Promise<GpuSetup> {
      if (current) return Promise.resolve(current)
      pending ??= probeGpuSetup(options())
        .then(({ libraryDirs, gpus, warnings }) => adopt({ libraryDirs, gpus, warnings }))
        .catch((err: unknown) =>
          adopt({ libraryDirs: [], gpus: [], warnings: [`the GPU probe failed: ${String(err)}`] }),
        )
        .finally(() => {
          pending = null
        })
      return pending
    },
    /** The full report; `probe` also spawns a trainer for the WebGPU adapter and the ladder. */
    async run(opts: { probe?: boolean; trainerTimeoutMs?: number } = {}): Promise<DoctorReport> {
      const report = await runDoctor({
        ...options(),
        ...(opts.probe === false ? {} : { spawnTrainer: deps.spawnTrainer }),
        ...(opts.trainerTimeoutMs ? { trainerTimeoutMs: opts.trainerTimeoutMs } : {}),
      })
      adopt({ libraryDirs: report.libraryDirs, gpus: report.nvidia.gpus, warnings: report.warnings })
      last = report
      return report
    },
    last: (): DoctorReport | null => last,
    cudaFolders: folders,
    /** Stores the CUDA library folders of the Settings view; each must be an existing folder. */
    setCudaFolders(dirs: string[]): string[] {
      const clean = [...new Set(dirs.map((d) => d.trim()).filter(Boolean))]
      for (const d of clean) {
        let ok = false
        try {
          ok = isAbsolute(d) && statSync(d).isDirectory()
        } catch {
          ok = false
        }
        if (!ok) {
          throw new AppError(
            'invalid_input',
            `CUDA library folder "${d}" is not an existing absolute folder`,
            {
              field: 'dirs',
            },
          )
        }
      }
      deps.store.settings.set(CUDA_DIRS_KEY, clean)
      current = null
      last = null
      return clean
    },
  }
}

export type DoctorService = ReturnType<typeof createDoctorService>
