/**
 * Runs one probe command (nvidia-smi, ldconfig, a Python) with a hard timeout. A probe never throws
 * and never outlives its timeout: on POSIX the command gets its own process group, and the whole
 * group is killed, so a wrapper script whose child hangs cannot keep the pipes (and us) waiting.
 */
import { spawn } from 'node:child_process'

export type ProbeOutcome =
  | { kind: 'ok'; stdout: string; ms: number }
  | { kind: 'absent'; ms: number }
  | { kind: 'timeout'; ms: number }
  | { kind: 'error'; message: string; ms: number }

export interface ExecProbeOptions {
  timeoutMs: number
  env?: NodeJS.ProcessEnv
  /** Output beyond this many bytes is dropped (a probe's answer is small). */
  maxBytes?: number
}

export function execProbe(cmd: string, args: string[], opts: ExecProbeOptions): Promise<ProbeOutcome> {
  const t0 = performance.now()
  const ms = (): number => Math.round(performance.now() - t0)
  const maxBytes = opts.maxBytes ?? 1 << 20
  return new Promise((resolve) => {
    let settled = false
    const done = (o: ProbeOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(o)
    }
    let child: ReturnType<typeof spawn>
    try {
      child = spawn(cmd, args, {
        env: opts.env ?? process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
        windowsHide: true,
      })
    } catch (err) {
      resolve({ kind: 'error', message: err instanceof Error ? err.message : String(err), ms: ms() })
      return
    }
    const timer = setTimeout(() => {
      kill(child)
      done({ kind: 'timeout', ms: ms() })
    }, opts.timeoutMs)
    let out = ''
    let err = ''
    child.stdout?.setEncoding('utf8')
    child.stderr?.setEncoding('utf8')
    child.stdout?.on('data', (c: string) => {
      if (out.length < maxBytes) out += c
    })
    child.stderr?.on('data', (c: string) => {
      if (err.length < 4096) err += c
    })
    child.on('error', (e: NodeJS.ErrnoException) => {
      done(
        e.code === 'ENOENT' ? { kind: 'absent', ms: ms() } : { kind: 'error', message: e.message, ms: ms() },
      )
    })
    child.on('close', (code, signal) => {
      if (code === 0) done({ kind: 'ok', stdout: out, ms: ms() })
      else {
        const why = (err.trim() || out.trim()).split('\n')[0] ?? ''
        done({
          kind: 'error',
          message: `${cmd} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${why ? `: ${why}` : ''}`,
          ms: ms(),
        })
      }
    })
  })
}

function kill(child: ReturnType<typeof spawn>): void {
  try {
    if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
    else child.kill('SIGKILL')
  } catch {
    // Already gone.
  }
  child.stdout?.destroy()
  child.stderr?.destroy()
}

/** One line for a report: what a probe outcome means. */
export function describeOutcome(name: string, o: ProbeOutcome, timeoutMs: number): string {
  switch (o.kind) {
    case 'ok':
      return `${name} answered in ${o.ms} ms`
    case 'absent':
      return `${name} is not installed (not on PATH)`
    case 'timeout':
      return `${name} did not answer within ${Math.round(timeoutMs / 100) / 10} s and was stopped`
    case 'error':
      return o.message
  }
}
