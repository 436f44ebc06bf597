/**
 * The NVIDIA driver and GPUs: `nvidia-smi --query-gpu` where it exists (name, memory, compute
 * capability), else the kernel module's /proc/driver/nvidia files (driver version and GPU names).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GpuFacts, NvidiaFacts, ProbeRecord } from '../../shared/doctor'
import { describeOutcome, execProbe, type ProbeOutcome } from './exec'

export interface NvidiaProbeOptions {
  env: NodeJS.ProcessEnv
  timeoutMs: number
  /** Root of /proc (tests point this at a fake tree). */
  fsRoot?: string
}

const FIELDS_CC = 'index,name,memory.total,compute_cap,driver_version,pci.bus_id'
const FIELDS_OLD = 'index,name,memory.total,driver_version,pci.bus_id'

/** Parses `--format=csv,noheader,nounits` lines of FIELDS_CC or FIELDS_OLD. */
export function parseSmiCsv(stdout: string, withCc: boolean): { driver: string | null; gpus: GpuFacts[] } {
  let driver: string | null = null
  const gpus: GpuFacts[] = []
  for (const line of stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const cells = line.split(',').map((c) => c.trim())
    const want = withCc ? 6 : 5
    if (cells.length < want) continue
    const [index, name, mem] = cells
    const cc = withCc ? cells[3]! : null
    const drv = cells[withCc ? 4 : 3]!
    const bus = cells[withCc ? 5 : 4]!
    driver ??= drv
    const memory = Number(mem)
    gpus.push({
      index: Number(index),
      name: name ?? 'NVIDIA GPU',
      memoryMiB: Number.isFinite(memory) ? memory : null,
      computeCapability: cc && /^\d+\.\d+$/.test(cc) ? cc : null,
      busId: bus || null,
    })
  }
  return { driver, gpus }
}

function fromProc(root: string): { driver: string | null; gpus: GpuFacts[] } {
  let driver: string | null = null
  try {
    const v = readFileSync(join(root, 'proc/driver/nvidia/version'), 'utf8')
    driver = /Kernel Module\s+([\d.]+)/.exec(v)?.[1] ?? /([\d]{3,}\.[\d.]+)/.exec(v)?.[1] ?? null
  } catch {
    return { driver: null, gpus: [] }
  }
  const gpus: GpuFacts[] = []
  let dirs: string[] = []
  try {
    dirs = readdirSync(join(root, 'proc/driver/nvidia/gpus')).sort()
  } catch {
    dirs = []
  }
  dirs.forEach((bus, index) => {
    try {
      const info = readFileSync(join(root, 'proc/driver/nvidia/gpus', bus, 'information'), 'utf8')
      const name = /^Model:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? 'NVIDIA GPU'
      gpus.push({ index, name, memoryMiB: null, computeCapability: null, busId: bus })
    } catch {
      // A GPU directory without its information file: skip it.
    }
  })
  return { driver, gpus }
}

function record(name: string, o: ProbeOutcome, timeoutMs: number): ProbeRecord {
  return { name, outcome: o.kind, ms: o.ms, detail: describeOutcome(name, o, timeoutMs) }
}

export async function probeNvidia(
  opts: NvidiaProbeOptions,
): Promise<{ facts: NvidiaFacts; probes: ProbeRecord[] }> {
  const probes: ProbeRecord[] = []
  const notes: string[] = []
  const args = (fields: string) => [`--query-gpu=${fields}`, '--format=csv,noheader,nounits']
  let smi = await execProbe('nvidia-smi', args(FIELDS_CC), { timeoutMs: opts.timeoutMs, env: opts.env })
  probes.push(record('nvidia-smi', smi, opts.timeoutMs))
  let withCc = true
  if (smi.kind === 'error' && /compute_cap|not a valid field/i.test(smi.message)) {
    // Drivers before ~510 do not know the compute_cap field.
    withCc = false
    smi = await execProbe('nvidia-smi', args(FIELDS_OLD), { timeoutMs: opts.timeoutMs, env: opts.env })
    probes.push(record('nvidia-smi (without compute_cap)', smi, opts.timeoutMs))
    notes.push("this driver's nvidia-smi does not report compute capability (update the driver to see it)")
  }
  if (smi.kind === 'ok') {
    const { driver, gpus } = parseSmiCsv(smi.stdout, withCc)
    if (driver || gpus.length) {
      if (gpus.length === 0) notes.push('nvidia-smi found the driver but no GPU')
      return { facts: { driverVersion: driver, source: 'nvidia-smi', gpus, notes }, probes }
    }
    notes.push('nvidia-smi answered but listed no GPU')
  } else {
    notes.push(describeOutcome('nvidia-smi', smi, opts.timeoutMs))
  }
  if (process.platform === 'win32' && opts.fsRoot === undefined) {
    notes.push('no NVIDIA driver found (nvidia-smi is installed with the driver)')
    return { facts: { driverVersion: null, source: null, gpus: [], notes }, probes }
  }
  const proc = fromProc(opts.fsRoot ?? '/')
  if (proc.driver) {
    notes.push('GPU memory and compute capability need nvidia-smi; only /proc/driver/nvidia was read')
    return {
      facts: { driverVersion: proc.driver, source: '/proc/driver/nvidia', gpus: proc.gpus, notes },
      probes,
    }
  }
  notes.push('no NVIDIA driver found (no nvidia-smi answer and no /proc/driver/nvidia)')
  return { facts: { driverVersion: null, source: null, gpus: [], notes }, probes }
}

/** The highest compute capability among the GPUs, as a number (null when none is known). */
export function maxComputeCapability(gpus: readonly GpuFacts[]): number | null {
  const ccs = gpus.map((g) => Number(g.computeCapability)).filter((x) => Number.isFinite(x) && x > 0)
  return ccs.length ? Math.max(...ccs) : null
}
