/**
 * Talks to Slurm through its commands (sbatch, squeue, scontrol, sacct, scancel), run through an
 * injected `exec` with a timeout each, so a hung controller never hangs the app. Parsers are pure
 * and exported for tests. `sacct` is optional: a cluster without accounting storage answers
 * "accounting storage is disabled", and the task folders' markers then tell what happened.
 */
import { execFile } from 'node:child_process'
import { AppError } from '../../shared/errors'

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}

export type Exec = (cmd: string, args: string[], opts: { timeoutMs: number }) => Promise<ExecResult>

/** The real exec: no shell, a timeout, output as text. A missing command answers code 127. */
export const execCommand: Exec = (cmd, args, { timeoutMs }) =>
  new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr })
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean }
        if (e.code === 'ENOENT') return resolve({ code: 127, stdout, stderr: `${cmd}: command not found` })
        if (e.killed)
          return resolve({ code: 124, stdout, stderr: `${stderr}\n${cmd} timed out after ${timeoutMs} ms` })
        resolve({ code: typeof e.code === 'number' ? e.code : 1, stdout, stderr: stderr || e.message })
      },
    )
  })

/** What Slurm says of one array task. */
export interface SlurmTaskInfo {
  /** `<array job id>_<task id>`. */
  id: string
  state: string
  reason: string | null
  node: string | null
  exitCode: string | null
}

/** Expands an array-task field: "3", "4-6", "2,5", "1-3%2", "[4-5%1]". */
export function expandTaskIds(field: string): number[] {
  const body = field.replace(/^\[|\]$/g, '').replace(/%\d+$/, '')
  const out: number[] = []
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::\d+)?$/.exec(part.trim())
    if (!m) continue
    const a = Number(m[1])
    const b = m[2] === undefined ? a : Number(m[2])
    for (let i = a; i <= b; i++) out.push(i)
  }
  return out
}

/** `squeue -h -r -o '%i|%T|%r|%N'` lines -> tasks (pending arrays may still print as one line). */
export function parseSqueue(text: string): SlurmTaskInfo[] {
  const out: SlurmTaskInfo[] = []
  for (const line of text.split('\n')) {
    const [id, state, reason, node] = line.trim().split('|')
    if (!id || !state) continue
    const m = /^(\d+)_(.+)$/.exec(id)
    if (!m) continue
    for (const t of expandTaskIds(m[2]!)) {
      out.push({
        id: `${m[1]}_${t}`,
        state,
        reason: reason && reason !== 'None' && reason !== '(null)' ? reason : null,
        node: node || null,
        exitCode: null,
      })
    }
  }
  return out
}

/** `scontrol -o show job ID` (one line per record; an unsplit array record covers a range). */
export function parseScontrol(text: string): SlurmTaskInfo[] {
  const out: SlurmTaskInfo[] = []
  for (const line of text.split('\n')) {
    if (!line.includes('JobState=')) continue
    const f = new Map<string, string>()
    for (const m of line.matchAll(/(?:^|\s)(\w+)=(\S*)/g)) if (!f.has(m[1]!)) f.set(m[1]!, m[2]!)
    const arrayJob = f.get('ArrayJobId')
    const tasks = f.get('ArrayTaskId')
    if (!arrayJob || !tasks) continue
    const node = f.get('NodeList')
    const reason = f.get('Reason')
    for (const t of expandTaskIds(tasks)) {
      out.push({
        id: `${arrayJob}_${t}`,
        state: f.get('JobState') ?? 'UNKNOWN',
        reason: reason && reason !== 'None' ? reason : null,
        node: node && node !== '(null)' ? node : null,
        exitCode: f.get('ExitCode') ?? null,
      })
    }
  }
  return out
}

/** `sacct -n -P -X -o JobID,State,ExitCode,NodeList,Reason` lines. */
export function parseSacct(text: string): SlurmTaskInfo[] {
  const out: SlurmTaskInfo[] = []
  for (const line of text.split('\n')) {
    const [id, state, exitCode, node, reason] = line.trim().split('|')
    const m = id ? /^(\d+)_(\[?[\d,%-]+\]?)$/.exec(id) : null
    if (!m || !state) continue
    for (const t of expandTaskIds(m[2]!)) {
      out.push({
        id: `${m[1]}_${t}`,
        // "CANCELLED by 0" -> CANCELLED
        state: state.split(' ')[0]!,
        reason: reason && reason !== 'None' ? reason : null,
        node: node && node !== 'None assigned' ? node : null,
        exitCode: exitCode ?? null,
      })
    }
  }
  return out
}

export interface SlurmClientOptions {
  exec?: Exec
  timeoutMs?: number
}

export function createSlurmClient(opts: SlurmClientOptions = {}) {
  const exec = opts.exec ?? execCommand
  const timeoutMs = opts.timeoutMs ?? 30_000

  async function run(cmd: string, args: string[]): Promise<ExecResult> {
    return exec(cmd, args, { timeoutMs })
  }

  function fail(cmd: string, args: string[], r: ExecResult): never {
    const hint = r.code === 127 ? ` (is Slurm's client installed and on PATH?)` : ''
    throw new AppError(
      'backend_unavailable',
      `${cmd} ${args.join(' ')} failed with code ${r.code}${hint}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`,
    )
  }

  return {
    /** Whether sbatch can be run here (on PATH). */
    async available(): Promise<boolean> {
      const r = await run('sbatch', ['--version'])
      return r.code === 0
    },
    /** Submits; returns the job id (`--parsable` prints "id" or "id;cluster"). */
    async sbatch(args: string[]): Promise<string> {
      const r = await run('sbatch', args)
      if (r.code !== 0) fail('sbatch', args, r)
      const id = r.stdout.trim().split(';')[0] ?? ''
      if (!/^\d+$/.test(id))
        throw new AppError('internal', `sbatch printed "${r.stdout.trim()}", expected a job id`)
      return id
    },
    /** Pending and running tasks of these array jobs. Throws when squeue cannot answer. */
    async squeue(jobIds: string[]): Promise<SlurmTaskInfo[]> {
      if (!jobIds.length) return []
      const args = ['-h', '-r', '-j', jobIds.join(','), '-o', '%i|%T|%r|%N']
      const r = await run('squeue', args)
      // Jobs that all ended long ago make squeue answer "Invalid job id specified".
      if (r.code !== 0 && /Invalid job id/i.test(r.stderr)) return []
      if (r.code !== 0) fail('squeue', args, r)
      return parseSqueue(r.stdout)
    },
    /** Recently ended tasks too (for MinJobAge, 300 s by default); [] for a job Slurm forgot. */
    async scontrol(jobId: string): Promise<SlurmTaskInfo[]> {
      const args = ['-o', 'show', 'job', jobId]
      const r = await run('scontrol', args)
      if (r.code !== 0 && /Invalid job id/i.test(r.stderr)) return []
      if (r.code !== 0) fail('scontrol', args, r)
      return parseScontrol(r.stdout)
    },
    /** From accounting storage, where the cluster keeps one; null where it does not. */
    async sacct(jobIds: string[]): Promise<SlurmTaskInfo[] | null> {
      if (!jobIds.length) return []
      const r = await run('sacct', [
        '-n',
        '-P',
        '-X',
        '-j',
        jobIds.join(','),
        '-o',
        'JobID,State,ExitCode,NodeList,Reason',
      ])
      if (r.code !== 0) return null
      return parseSacct(r.stdout)
    },
    /** Cancels array jobs or single tasks (`1234` or `1234_5`). */
    async scancel(ids: string[]): Promise<void> {
      if (!ids.length) return
      const r = await run('scancel', ids)
      if (r.code !== 0) fail('scancel', ids, r)
    },
  }
}

export type SlurmClient = ReturnType<typeof createSlurmClient>
