/**
 * The `tfkd` exit codes, one table for every command (and `tfkd --help`):
 * 0 every run completed; 1 a run failed or did not complete, or another error; 2 bad input;
 * 128 + n stopped by signal n (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
 */
import { CommanderError } from 'commander'
import { ZodError } from 'zod'
import { AppError } from '../shared/errors'
import type { RunStatus } from '../shared/types'
import type { AppCore } from '../core/app/app-core'
import { installSignalStop } from '../core/services/host-signals'

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_BAD_INPUT = 2

/** How long a cancelled run may take to reach its next batch before its trainer is killed. */
const CLI_CANCEL_GRACE_MS = 15_000

export const EXIT_CODES_HELP = `
Exit codes:
  0    every run completed (or the command did what it was asked)
  1    a run failed or did not complete, or another error (storage, not found)
  2    bad input: a flag, plan file or dataset that does not validate
  130  stopped by SIGINT (Ctrl-C): the running run is cancelled at its next batch with its
       checkpoint kept (resumable), queued runs are interrupted; Ctrl-C again stops at once
  143  stopped by SIGTERM, likewise (129 for SIGHUP)
`

/** The exit code of a command that ran runs: a signal wins, then any run that did not complete. */
export function runsExitCode(statuses: readonly RunStatus[], signalCode: number | null): number {
  if (signalCode !== null) return signalCode
  return statuses.every((s) => s === 'completed') ? EXIT_OK : EXIT_FAILED
}

/** Whether an error means the user's input does not validate (whatever layer caught it). */
export function isBadInput(err: unknown): boolean {
  if (err instanceof CommanderError) return true // InvalidArgumentError thrown by an action's parsing
  if (err instanceof ZodError) return true
  return err instanceof AppError && (err.code === 'invalid_input' || err.code === 'bad_dataset')
}

/**
 * Runs a command that trains: opens the core, stops cleanly on SIGINT / SIGTERM / SIGHUP
 * (host-signals.ts), and sets the exit code from the statuses of the runs `body` waited for.
 */
export async function withTrainingCore(
  openCore: () => AppCore,
  body: (core: AppCore) => Promise<readonly RunStatus[]>,
): Promise<void> {
  const core = openCore()
  const signals = installSignalStop({
    runs: core.runs,
    graceMs: CLI_CANCEL_GRACE_MS,
    say: (line) => process.stderr.write(`\n${line}\n`),
    exitNow: (code) => process.exit(code),
  })
  try {
    const statuses = await body(core)
    process.exitCode = runsExitCode(statuses, signals.exitCode())
  } finally {
    signals.dispose()
    await core.close()
    if (signals.exitCode() !== null) process.exitCode = signals.exitCode()!
  }
}
