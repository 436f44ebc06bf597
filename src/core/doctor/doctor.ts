/**
 * `tfkd doctor`: what this machine offers for training, and what to do about what is missing.
 * Host-side probes (files, nvidia-smi, ldconfig, Python) each have a timeout; everything that loads
 * native code (Dawn's WebGPU adapter, the ladder with libtensorflow) runs in a trainer child that is
 * killed when it does not answer in time, so no probe can crash or hang the host.
 */
import { rungInfo } from '../../shared/backends'
import type { DoctorReport, GpuFacts, ProbeRecord } from '../../shared/doctor'
import type { BackendId, BackendReport } from '../../shared/types'
import { BACKEND_RUNGS } from '../../shared/backends'
import { packageState, type PackageState } from '../backend/packages'
import type { SpawnTrainer } from '../train/trainer-handle'
import { trainerEnv } from '../train/trainer-env'
import { findCudaLibraries, type LibrarySearchOptions } from './cuda-libs'
import { diagnoseRungs } from './diagnose'
import { driverMessages } from './driver-messages'
import { probeNvidia } from './nvidia'
import { cpuFacts, osFacts } from './system'

export interface DoctorOptions {
  env: NodeJS.ProcessEnv
  appLibraryDir: string
  /** CUDA library folders set in Settings. */
  settingsDirs?: string[]
  /** Spawns the trainer that probes WebGPU and climbs the ladder; absent = host probes only. */
  spawnTrainer?: SpawnTrainer
  /** Per command (nvidia-smi, ldconfig, each Python); default 5 s. */
  commandTimeoutMs?: number
  /** For the trainer probe (adapter + ladder); default 60 s. */
  trainerTimeoutMs?: number
  /** Test seams: fake /proc and /sys roots, system folders, ldconfig, home, platform, packages. */
  fsRoot?: string
  systemDirs?: string[]
  ldconfig?: string | null
  home?: string
  platform?: NodeJS.Platform
  packages?: Partial<Record<BackendId, PackageState>>
}

/** What a run's trainer needs from the doctor: the library folders and the GPUs. */
export interface GpuSetup {
  libraryDirs: string[]
  gpus: GpuFacts[]
  warnings: string[]
}

export interface TrainerProbe {
  webgpu: DoctorReport['webgpu']
  ladder: BackendReport | null
  problem: string | null
  probe: ProbeRecord
}

/** Spawns a trainer, asks for the adapter and the ladder, and kills it after timeoutMs. */
export function probeTrainer(
  spawnTrainer: SpawnTrainer,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<TrainerProbe> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    const webgpu: TrainerProbe['webgpu'] = { adapter: null, reason: null }
    let ladder: BackendReport | null = null
    let lastError: string | null = null
    let stderr = ''
    let settled = false
    const finish = (problem: string | null, outcome: ProbeRecord['outcome']): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const messages = driverMessages(stderr)
      if (messages.length) webgpu.messages = messages
      const ms = Math.round(performance.now() - t0)
      resolve({
        webgpu,
        ladder,
        problem,
        probe: {
          name: 'trainer (WebGPU adapter + ladder)',
          outcome,
          ms,
          detail: problem ?? `answered in ${ms} ms`,
        },
      })
    }
    let t: ReturnType<SpawnTrainer>
    try {
      t = spawnTrainer({ env, captureStderr: true })
    } catch (err) {
      finish(`the trainer could not start: ${err instanceof Error ? err.message : String(err)}`, 'error')
      return
    }
    const timer = setTimeout(() => {
      t.kill('SIGKILL')
      const where =
        webgpu.adapter || webgpu.reason ? 'climbing the backend ladder' : 'probing the WebGPU adapter'
      if (!webgpu.adapter && !webgpu.reason)
        webgpu.reason = `the adapter probe did not answer within ${timeoutMs / 1000} s`
      finish(
        `the trainer probe did not answer within ${timeoutMs / 1000} s (stuck ${where}) and was stopped`,
        'timeout',
      )
    }, timeoutMs)
    t.onStderr?.((text) => {
      stderr = (stderr + text).slice(-64_000)
    })
    t.onMessage((m) => {
      if (m.type === 'webgpu-adapter') {
        webgpu.adapter = m.adapter
        webgpu.reason = m.reason
      } else if (m.type === 'backend') {
        ladder = m.report
        t.send({ type: 'shutdown' })
        // Captured stderr may trail the IPC report: read it to the end (exit), at most 2 s more.
        if (t.onStderr) setTimeout(() => finish(null, 'ok'), 2000)
        else finish(null, 'ok')
      } else if (m.type === 'log' && m.level === 'error') {
        lastError = m.message
      }
    })
    t.onExit(({ code, signal }) => {
      if (ladder) return finish(null, 'ok')
      finish(
        lastError ?? `the trainer probe exited (${signal ?? `code ${code}`}) before it reported`,
        'error',
      )
    })
    t.send({ type: 'doctor' })
  })
}

/** Host-side probes only (fast; no native code): what a trainer's environment needs. */
export async function probeGpuSetup(opts: DoctorOptions): Promise<
  GpuSetup & {
    report: Omit<DoctorReport, 'verdicts' | 'willUse' | 'ladder' | 'ladderProblem' | 'webgpu' | 'headline'>
  }
> {
  const commandTimeoutMs = opts.commandTimeoutMs ?? 5000
  const [nv, libs] = await Promise.all([
    probeNvidia({ env: opts.env, timeoutMs: commandTimeoutMs, fsRoot: opts.fsRoot }),
    findCudaLibraries(libOptions(opts, commandTimeoutMs)),
  ])
  const warnings: string[] = []
  const report = {
    createdAt: Date.now(),
    os: osFacts(),
    cpu: cpuFacts({ fsRoot: opts.fsRoot, env: opts.env }),
    nvidia: nv.facts,
    libraries: libs.libraries,
    searched: libs.searched,
    libraryDirs: libs.libraryDirs,
    appLibraryDir: opts.appLibraryDir,
    installCommand: libs.installCommand,
    warnings,
    probes: [...nv.probes, ...libs.probes],
  }
  return { libraryDirs: libs.libraryDirs, gpus: nv.facts.gpus, warnings, report }
}

function libOptions(opts: DoctorOptions, timeoutMs: number): LibrarySearchOptions {
  return {
    env: opts.env,
    platform: opts.platform,
    settingsDirs: opts.settingsDirs,
    appLibraryDir: opts.appLibraryDir,
    timeoutMs,
    ...(opts.systemDirs ? { systemDirs: opts.systemDirs } : {}),
    ...(opts.ldconfig !== undefined ? { ldconfig: opts.ldconfig } : {}),
    ...(opts.home ? { home: opts.home } : {}),
  }
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const setup = await probeGpuSetup(opts)
  const base = setup.report
  let trainer: TrainerProbe | null = null
  if (opts.spawnTrainer) {
    const env = trainerEnv(opts.env, {
      libraryDirs: setup.libraryDirs,
      gpus: setup.gpus,
      platform: opts.platform,
    })
    trainer = await probeTrainer(opts.spawnTrainer, env, opts.trainerTimeoutMs ?? 60_000)
    base.probes.push(trainer.probe)
  } else {
    base.probes.push({
      name: 'trainer (WebGPU adapter + ladder)',
      outcome: 'skipped',
      ms: 0,
      detail: 'not probed (--no-probe)',
    })
  }
  const packages = Object.fromEntries(
    BACKEND_RUNGS.map((r) => [
      r.id,
      opts.packages?.[r.id] ?? (r.package ? packageState(r.package) : 'installed'),
    ]),
  ) as Record<BackendId, PackageState>
  const webgpu = trainer?.webgpu ?? { adapter: null, reason: null }
  const ladder = trainer?.ladder ?? null
  const verdicts = diagnoseRungs({
    platform: opts.platform ?? process.platform,
    arch: process.arch,
    cpu: base.cpu,
    nvidia: base.nvidia,
    libraries: base.libraries,
    installCommand: base.installCommand,
    appLibraryDir: opts.appLibraryDir,
    webgpu,
    ladder,
    packages,
    visibleDevices: opts.env.CUDA_VISIBLE_DEVICES,
  })
  for (const v of verdicts) if (v.state === 'warning') base.warnings.push(`${v.id}: ${v.summary}`)
  if (ladder && rungInfo(ladder.chosen).isGpu === false && base.nvidia.gpus.length > 0) {
    base.warnings.push(
      `an NVIDIA GPU is present but training will run on the CPU (${ladder.chosen}); see the tensorflow-gpu verdict`,
    )
  }
  const willUse = ladder
    ? { id: ladder.chosen, label: rungInfo(ladder.chosen).label, device: ladder.device }
    : null
  return {
    ...base,
    headline: headline(base.nvidia, webgpu, willUse, trainer?.problem ?? null),
    webgpu,
    ladder,
    ladderProblem: trainer?.problem ?? null,
    verdicts,
    willUse,
  }
}

function headline(
  nvidia: DoctorReport['nvidia'],
  webgpu: DoctorReport['webgpu'],
  willUse: DoctorReport['willUse'],
  problem: string | null,
): string[] {
  const gpus = nvidia.gpus.map((g) => g.name).join(', ')
  return [
    nvidia.driverVersion
      ? `NVIDIA driver ${nvidia.driverVersion}${gpus ? ` with ${gpus}` : ', but no GPU listed'}.`
      : 'No NVIDIA driver found.',
    webgpu.adapter
      ? `WebGPU adapter: ${webgpu.adapter.name}${webgpu.adapter.backend ? ` (${webgpu.adapter.backend})` : ''}.`
      : `No WebGPU adapter${webgpu.reason ? `: ${webgpu.reason}` : ' (not probed)'}.`,
    willUse
      ? `Training will use the ${willUse.id} rung: ${willUse.device}.`
      : `Which rung training will use is unknown: ${problem ?? 'the ladder was not probed (quick check only)'}.`,
  ]
}
