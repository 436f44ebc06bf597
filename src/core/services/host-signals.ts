/**
 * What every host (the `tfkd` CLI, `tfkd serve`, the desktop app's main process) does on SIGINT
 * (Ctrl-C), SIGTERM and SIGHUP: the running run is cancelled at its next batch with its last
 * checkpoint kept (resumable), queued runs become `interrupted`, no run starts any more, and the
 * host exits with 128 + the signal's number (130, 143, 129). A second signal stops at once: the
 * running run is recorded `cancelled` and its trainer killed before the host exits, so the
 * database never keeps a run `running` for a process that is gone.
 */
import { constants } from 'node:os'
import type { RunService } from './run-service'

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
export type StopSignal = (typeof STOP_SIGNALS)[number]

const SIGNAL_WORDS: Record<StopSignal, string> = {
  SIGINT: 'SIGINT (Ctrl-C)',
  SIGTERM: 'SIGTERM',
  SIGHUP: 'SIGHUP (hang-up)',
}

/** The shell's convention: 128 + the signal's number (SIGINT 130, SIGTERM 143, SIGHUP 129). */
export function signalExitCode(signal: StopSignal): number {
  return 128 + constants.signals[signal]
}

export interface SignalStopOptions {
  runs: Pick<RunService, 'stop' | 'stopNow'>
  /** How long the running run may take to reach its next batch before its trainer is killed. */
  graceMs: number
  /** Tells the user what happens (one line, no newline). */
  say(line: string): void
  /** The first signal's stop is done (every run settled): close the host, then exit. */
  onStopped?(signal: StopSignal): void | Promise<void>
  /** Exits the process at once with this code (a second signal, or the deadline). */
  exitNow(code: number): void
  /** A host that must be gone quickly: after this long the run is stopped at once and the host exits. */
  deadlineMs?: number
  /** Where the signals come from (default: this process). */
  source?: Pick<NodeJS.EventEmitter, 'on' | 'off'>
}

export interface SignalStop {
  /** The first stop signal received, or null. */
  received(): StopSignal | null
  /** The exit code the signal asks for, or null when none came. */
  exitCode(): number | null
  /** Removes the handlers (the command is over). */
  dispose(): void
}

/** Installs the handlers; until `dispose`, these signals no longer kill the process outright. */
export function installSignalStop(opts: SignalStopOptions): SignalStop {
  const source = opts.source ?? process
  let first: StopSignal | null = null
  let hardStop = false
  let deadline: NodeJS.Timeout | undefined

  const now = (signal: StopSignal): void => {
    if (hardStop) return
    hardStop = true
    if (deadline) clearTimeout(deadline)
    const code = signalExitCode(first ?? signal)
    void opts.runs
      .stopNow(`tfkd received ${SIGNAL_WORDS[signal]} twice`)
      .catch(() => undefined)
      .finally(() => opts.exitNow(code))
  }

  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = (): void => {
      if (first) {
        opts.say(`tfkd: ${SIGNAL_WORDS[signal]} again: stopping at once`)
        now(signal)
        return
      }
      first = signal
      opts.say(
        `tfkd: ${SIGNAL_WORDS[signal]}: cancelling the running run at its next batch (its last checkpoint is kept), ` +
          `queued runs interrupted; ${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again stops at once`,
      )
      if (opts.deadlineMs !== undefined) deadline = setTimeout(() => now(signal), opts.deadlineMs)
      void opts.runs
        .stop({ why: `tfkd received ${SIGNAL_WORDS[signal]}`, graceMs: opts.graceMs })
        .then(() => {
          if (deadline) clearTimeout(deadline)
          if (!hardStop) return opts.onStopped?.(signal)
        })
        .catch((err: unknown) => {
          opts.say(`tfkd: could not stop cleanly: ${err instanceof Error ? err.message : String(err)}`)
          now(signal)
        })
    }
    source.on(signal, handler)
    return { signal, handler }
  })

  return {
    received: () => first,
    exitCode: () => (first ? signalExitCode(first) : null),
    dispose() {
      if (deadline) clearTimeout(deadline)
      for (const { signal, handler } of handlers) source.off(signal, handler)
    },
  }
}
