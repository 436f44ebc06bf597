import type { HostToTrainer, TrainerToHost } from '../../shared/trainer-protocol'

/** A running trainer child, whatever started it (child_process.fork or Electron's utilityProcess). */
export interface TrainerHandle {
  readonly pid: number | undefined
  send(msg: HostToTrainer): void
  onMessage(listener: (msg: TrainerToHost) => void): void
  /** Called once when the process ends; `signal` is set when it was killed. */
  onExit(listener: (info: { code: number | null; signal: string | null }) => void): void
  kill(signal?: NodeJS.Signals): void
}

export type SpawnTrainer = (opts: { env: Record<string, string> }) => TrainerHandle
