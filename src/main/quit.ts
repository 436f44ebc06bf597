/**
 * How the desktop app stops. A normal quit (last window closed, Quit in the menu) holds until the
 * core has stopped its trainer and closed the database: running and queued runs are `interrupted`.
 * SIGINT (Ctrl-C in the terminal that started it), SIGTERM and SIGHUP stop it as they stop every
 * host (core/services/host-signals.ts): the running run is cancelled at its next batch with its
 * checkpoint kept, queued runs interrupted, and the app exits with 130 / 143 / 129; a second signal
 * stops at once.
 */
import type { AppCore } from '../core/app/app-core'
import { installSignalStop, signalExitCode, type SignalStop } from '../core/services/host-signals'

/** The slice of Electron's `app` this module uses. */
export interface QuitApp {
  on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): unknown
  quit(): void
  exit(code?: number): void
}

export interface QuitDeps {
  app: QuitApp
  /** The core once it is open (null before 'ready', or once it is being closed). */
  getCore(): AppCore | null
  /** Forgets the core (it is being closed). */
  releaseCore(): void
  closeTimeoutMs: number
  /** How long a cancelled run may take to reach its next batch before its trainer is killed. */
  cancelGraceMs?: number
  source?: Pick<NodeJS.EventEmitter, 'on' | 'off'>
  log?: (line: string) => void
}

/** Closes the core, at most `timeoutMs`; never throws. */
async function closeCore(core: AppCore, timeoutMs: number, log: (line: string) => void): Promise<void> {
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())
  await Promise.race([core.close(), timeout]).catch((err: unknown) =>
    log(`[main] core.close failed: ${err instanceof Error ? err.message : String(err)}`),
  )
}

export function installQuitHandling(deps: QuitDeps): SignalStop {
  const log = deps.log ?? ((line: string) => console.error(line))
  let closing = false

  // Hold the quit until the core has stopped its trainer and closed the database.
  deps.app.on('before-quit', (event) => {
    const core = deps.getCore()
    if (closing || !core) return
    event.preventDefault()
    closing = true
    deps.releaseCore()
    void closeCore(core, deps.closeTimeoutMs, log).finally(() => deps.app.quit())
  })

  const idle = { stop: () => Promise.resolve(), stopNow: () => Promise.resolve() }
  const runs = {
    stop: (o: { why: string; graceMs: number }) => (deps.getCore()?.runs ?? idle).stop(o),
    stopNow: (why: string) => (deps.getCore()?.runs ?? idle).stopNow(why),
  }
  return installSignalStop({
    runs,
    graceMs: deps.cancelGraceMs ?? 15_000,
    source: deps.source,
    say: log,
    onStopped: async (signal) => {
      const core = deps.getCore()
      closing = true
      deps.releaseCore()
      if (core) await closeCore(core, deps.closeTimeoutMs, log)
      deps.app.exit(signalExitCode(signal))
    },
    exitNow: (code) => deps.app.exit(code),
  })
}
