/** `tfkd doctor [--json]`: what this machine offers for training and the next step for each rung. */
import { InvalidArgumentError, type Command } from 'commander'
import type { DoctorReport } from '../shared/doctor'
import type { AppCore } from '../core/app/app-core'

const MARK: Record<DoctorReport['verdicts'][number]['state'], string> = {
  ready: 'ok  ',
  warning: 'warn',
  unavailable: 'no  ',
  'not-checked': '?   ',
}

/** The report in plain words, as a terminal shows it. */
export function formatDoctor(r: DoctorReport): string {
  const out: string[] = [...r.headline, '']
  out.push(`OS:   ${r.os.description} (${r.os.platform}-${r.os.arch}, kernel ${r.os.release})`)
  out.push(
    `CPU:  ${r.cpu.model}; ${r.cpu.usableCores} usable of ${r.cpu.logicalCores} logical (${r.cpu.usableHow}); ISA ${r.cpu.isa.join(' ') || 'unknown'}` +
      (r.cpu.hasAvx === false ? ' — NO AVX: libtensorflow cannot run' : ''),
  )
  if (r.nvidia.driverVersion) {
    out.push(`NVIDIA driver ${r.nvidia.driverVersion} (from ${r.nvidia.source})`)
    for (const g of r.nvidia.gpus) {
      out.push(
        `  GPU ${g.index}: ${g.name}, ${g.memoryMiB === null ? 'memory unknown' : `${g.memoryMiB} MiB`}, compute capability ${g.computeCapability ?? 'unknown'}`,
      )
    }
  } else {
    out.push('NVIDIA: no NVIDIA driver found')
  }
  for (const n of r.nvidia.notes) out.push(`  (${n})`)
  const missing = r.libraries.filter((l) => !l.found)
  out.push(
    `CUDA 11 / cuDNN 8 libraries (libtensorflow 2.9.1): ${r.libraries.length - missing.length} of ${r.libraries.length} found`,
  )
  for (const l of r.libraries) {
    out.push(
      l.found
        ? `  found    ${l.file.padEnd(26)} ${l.found.path} [${l.found.kind}: ${l.found.via}]`
        : `  MISSING  ${l.file.padEnd(26)} (${l.role}; pip: ${l.pipPackage})`,
    )
  }
  if (r.libraryDirs.length)
    out.push(`  the trainer gets these folders first on its library path: ${r.libraryDirs.join(', ')}`)
  out.push(`  searched ${r.searched.length} folders; the app's own folder is ${r.appLibraryDir}`)
  if (r.webgpu.adapter) {
    const a = r.webgpu.adapter
    out.push(
      `WebGPU adapter: ${a.name}${a.backend ? ` (${a.backend})` : ''}${a.vendor ? `, vendor ${a.vendor}` : ''}; limits ${Object.entries(
        a.limits,
      )
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    )
  } else {
    out.push(`WebGPU adapter: none (${r.webgpu.reason ?? 'not probed'})`)
  }
  for (const m of r.webgpu.messages ?? []) out.push(`  driver said: ${m}`)
  out.push('', 'Backend rungs:')
  for (const v of r.verdicts) {
    out.push(`  [${MARK[v.state]}] ${v.id.padEnd(15)} ${v.summary}`)
    if (v.nextStep) out.push(`         next: ${v.nextStep}`)
  }
  out.push('')
  if (r.willUse) out.push(`Training will use: ${r.willUse.id} — ${r.willUse.device}`)
  else out.push(`Training will use: unknown (${r.ladderProblem ?? 'the ladder was not probed'})`)
  for (const w of r.warnings) out.push(`warning: ${w}`)
  if (r.installCommand)
    out.push(
      '',
      'To install the missing CUDA 11 / cuDNN 8 libraries where the app finds them:',
      `  ${r.installCommand}`,
    )
  return out.join('\n')
}

export function registerDoctorCommand(program: Command, openCore: () => AppCore): void {
  program
    .command('doctor')
    .description(
      'check this machine for training: CPU, NVIDIA driver and GPUs, CUDA libraries, WebGPU, each backend rung',
    )
    .option('--json', 'print the report as JSON')
    .option('--no-probe', 'skip the trainer probe (WebGPU adapter and the backend ladder)')
    .option('--timeout <s>', 'seconds the trainer probe may take (default 60)', (v: string) => {
      const n = Number(v)
      if (!Number.isFinite(n) || n <= 0)
        throw new InvalidArgumentError(`--timeout must be a positive number, got "${v}"`)
      return n
    })
    .action(async (o: { json?: boolean; probe: boolean; timeout?: number }) => {
      const core = openCore()
      try {
        const report = await core.doctor.run({
          probe: o.probe,
          ...(o.timeout ? { trainerTimeoutMs: o.timeout * 1000 } : {}),
        })
        process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDoctor(report)}\n`)
      } finally {
        await core.close()
      }
    })
}
