/**
 * The Electron host's trainer: a `utilityProcess` (Electron's recommended standalone Node process;
 * `child_process.fork` stops working once the RunAsNode fuse is off). Entry: out/main/trainer.js.
 */
import { constants } from 'node:os'
import { app, utilityProcess, type ForkOptions } from 'electron'
import { parseTrainerToHost } from '../shared/trainer-schemas'
import type { SpawnTrainer, TrainerHandle } from '../core/train/trainer-handle'

export const TRAINER_SERVICE_NAME = 'tfkd-trainer'

/** The slice of Electron's UtilityProcess this module uses. */
export interface UtilityChild {
  readonly pid: number | undefined
  readonly stdout: NodeJS.ReadableStream | null
  readonly stderr: NodeJS.ReadableStream | null
  postMessage(message: unknown): void
  kill(): boolean
  on(event: 'message', listener: (message: unknown) => void): unknown
  on(event: 'exit', listener: (code: number) => void): unknown
  on(event: 'error', listener: (type: string, location: string, report: string) => void): unknown
}

/** What app 'child-process-gone' tells about a process (Electron's Details, trimmed). */
export interface ChildGone {
  type: string
  reason: string
  exitCode: number
  serviceName?: string
  name?: string
}

export interface UtilitySpawnerDeps {
  fork?: (modulePath: string, args: string[], options: ForkOptions) => UtilityChild
  /** Subscribes to app 'child-process-gone'; returns an unsubscribe. */
  onChildGone?: (listener: (details: ChildGone) => void) => () => void
  /**
   * How long an exit waits for its 'child-process-gone' report, which can arrive after 'exit'
   * (electron/electron#42283: a crash first reported as exit code 0).
   */
  goneGraceMs?: number
  platform?: NodeJS.Platform
  /** Sends a real signal by pid (utilityProcess.kill() only sends SIGTERM). */
  killPid?: (pid: number, signal: NodeJS.Signals) => void
  log?: (line: string) => void
}

const defaultOnChildGone = (listener: (details: ChildGone) => void): (() => void) => {
  const handler = (_event: unknown, details: ChildGone): void => listener(details)
  app.on('child-process-gone', handler)
  return () => app.off('child-process-gone', handler)
}

/**
 * Maps a 'child-process-gone' report to the signal-ish text TrainerHandle.onExit carries. A crash on
 * POSIX reports the terminating signal number as exitCode (11 for SIGSEGV, 6 for SIGABRT).
 */
export function signalFromGone(details: ChildGone, platform: NodeJS.Platform): string | null {
  switch (details.reason) {
    case 'clean-exit':
    case 'abnormal-exit':
      return null
    case 'killed':
      return 'SIGKILL'
    case 'oom':
      return 'OOM'
    case 'crashed': {
      if (platform !== 'win32') {
        const name = Object.entries(constants.signals).find(([, n]) => n === details.exitCode)?.[0]
        if (name) return name
      }
      return 'CRASH'
    }
    default:
      return details.reason.toUpperCase()
  }
}

function drain(stream: NodeJS.ReadableStream | null, write: (line: string) => void): void {
  if (!stream) return
  let pending = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string | Buffer) => {
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) write(line)
  })
  stream.on('end', () => {
    if (pending) write(pending)
  })
}

export function createUtilitySpawner(entry: string, deps: UtilitySpawnerDeps = {}): SpawnTrainer {
  const fork = deps.fork ?? ((m, a, o) => utilityProcess.fork(m, a, o))
  const onChildGone = deps.onChildGone ?? defaultOnChildGone
  const goneGraceMs = deps.goneGraceMs ?? 150
  const platform = deps.platform ?? process.platform
  const killPid = deps.killPid ?? ((pid, signal) => process.kill(pid, signal))
  const log = deps.log ?? ((line) => console.error(line))

  return ({ env }): TrainerHandle => {
    const child = fork(entry, [], { env, serviceName: TRAINER_SERVICE_NAME, stdio: 'pipe' })
    // Piped output must be read or a chatty trainer blocks on a full pipe.
    drain(child.stdout, (l) => log(`[trainer] ${l}`))
    drain(child.stderr, (l) => log(`[trainer] ${l}`))

    let alive = true
    let killedWith: NodeJS.Signals | null = null
    let gone: { details: ChildGone; atMs: number } | null = null
    let fatal: string | null = null
    const stopGone = onChildGone((details) => {
      if (details.type !== 'Utility') return
      if (details.serviceName !== TRAINER_SERVICE_NAME && details.name !== TRAINER_SERVICE_NAME) return
      gone = { details, atMs: Date.now() }
    })
    child.on('error', (type, location) => {
      fatal = `${type} at ${location}`
      log(`[trainer] fatal error: ${fatal}`)
    })

    const exitListeners: ((info: { code: number | null; signal: string | null }) => void)[] = []
    let exitInfo: { code: number | null; signal: string | null } | null = null
    const report = (info: { code: number | null; signal: string | null }): void => {
      stopGone()
      exitInfo = info
      for (const l of exitListeners.splice(0)) l(info)
    }

    child.on('exit', (code) => {
      alive = false
      const exitAtMs = Date.now()
      if (killedWith) {
        report({ code: null, signal: killedWith })
        return
      }
      setTimeout(() => {
        // Only a report from around this exit counts: another trainer may have crashed earlier.
        const g = gone && Math.abs(gone.atMs - exitAtMs) <= goneGraceMs + 1000 ? gone.details : null
        const signal = g ? signalFromGone(g, platform) : fatal ? 'FATAL' : null
        report(signal ? { code: null, signal } : { code, signal: null })
      }, goneGraceMs)
    })

    return {
      get pid() {
        return child.pid
      },
      send(msg) {
        if (alive) child.postMessage(msg)
      },
      onMessage(listener) {
        child.on('message', (m) => listener(parseTrainerToHost(m)))
      },
      onExit(listener) {
        if (exitInfo) listener(exitInfo)
        else exitListeners.push(listener)
      },
      kill(signal = 'SIGTERM') {
        if (!alive) return
        killedWith = signal
        const pid = child.pid
        if (signal !== 'SIGTERM' && pid !== undefined && platform !== 'win32') {
          try {
            killPid(pid, signal)
            return
          } catch {
            // Fall through to Electron's own kill.
          }
        }
        child.kill()
      },
    }
  }
}
