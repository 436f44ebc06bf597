import type { HostToTrainer, TrainerToHost } from '../../shared/trainer-protocol'

/** A running trainer child, whatever started it (child_process.fork or Electron's utilityProcess). */
export interface TrainerHandle {
  readonly pid: number | undefined
  send(msg: HostToTrainer): void
  onMessage(listener: (msg: TrainerToHost) => void): void
  /** Called once when the process ends; `signal` is set when it was killed. */
  onExit(listener: (info: { code: number | null; signal: string | null }) => void): void
  kill(signal?: NodeJS.Signals): void
  /**
   * What the process writes to stderr, as it comes, when it was spawned with `captureStderr`
   * (native libraries such as Dawn print there directly); absent where the host cannot capture it.
   */
  onStderr?(listener: (text: string) => void): void
}

export type SpawnTrainer = (opts: {
  env: Record<string, string>
  /** Pipe stderr to `onStderr` instead of the host's terminal (the doctor's probe). */
  captureStderr?: boolean
}) => TrainerHandle
