/**
 * IPC routes: one `ipcMain.handle` per invoke channel of the contract. Every call's sender frame is
 * checked first (any frame, iframe or child window can send IPC: Electron checklist #17), then the
 * input goes to the core's `dispatch`, which validates it and answers an Envelope. A handler never
 * throws: Electron would pass only the message of a thrown error.
 */
import { INVOKE_CHANNELS } from '../shared/contract'
import { AppError, type Envelope } from '../shared/errors'

/** The parts of Electron's IpcMainInvokeEvent the routes read. */
export interface IpcInvokeEventLike {
  senderFrame?: { url: string; parent?: unknown } | null
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void
  removeHandler(channel: string): void
}

export type Dispatch = (channel: string, input: unknown) => Promise<Envelope<unknown>>

export interface RouteDeps {
  ipcMain: IpcMainLike
  dispatch: Dispatch
  /** True when a frame URL is one of the app's own pages (security.ts createAppUrlMatcher). */
  isTrustedSender: (url: string) => boolean
}

export function forbidden(channel: string, reason: string): Envelope<never> {
  return { ok: false, error: new AppError('forbidden', `${channel}: ${reason}`).toJSON() }
}

/** Why a sender is refused, or null when it is the app's own top-level page. */
export function senderProblem(
  event: IpcInvokeEventLike,
  isTrustedSender: (url: string) => boolean,
): string | null {
  const frame = event.senderFrame
  if (!frame) return 'sender frame is gone'
  // The app has no iframes; a sub-frame sending IPC is never ours.
  if (frame.parent != null) return 'sender is not a top-level frame'
  if (typeof frame.url !== 'string' || !isTrustedSender(frame.url)) return 'sender is not the app'
  return null
}

/** Handles one invoke: sender check, then dispatch. Exported for the tests. */
export async function route(
  deps: Omit<RouteDeps, 'ipcMain'>,
  channel: string,
  event: IpcInvokeEventLike,
  input: unknown,
): Promise<Envelope<unknown>> {
  const problem = senderProblem(event, deps.isTrustedSender)
  if (problem) return forbidden(channel, problem)
  try {
    return await deps.dispatch(channel, input)
  } catch (err) {
    return { ok: false, error: AppError.from(err).toJSON() }
  }
}

/** Registers every invoke channel; returns a function that removes them again. */
export function registerRoutes(deps: RouteDeps): () => void {
  for (const channel of INVOKE_CHANNELS) {
    deps.ipcMain.handle(channel, (event, input) => route(deps, channel, event, input))
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) deps.ipcMain.removeHandler(channel)
  }
}
