/** The Node hosts' (CLI, web server) trainer: a forked Node process running out/node/trainer.js. */
import { fork } from 'node:child_process'
import { parseTrainerToHost } from '../../shared/trainer-schemas'
import type { SpawnTrainer, TrainerHandle } from '../train/trainer-handle'

export function createForkSpawner(entry: string, opts: { silent?: boolean } = {}): SpawnTrainer {
  return ({ env, captureStderr }): TrainerHandle => {
    const stderr = opts.silent || captureStderr ? 'pipe' : 'inherit'
    const child = fork(entry, [], {
      env,
      // Its own process group (and session): a terminal's Ctrl-C reaches only the host, which
      // cancels the run at a batch boundary and stops this child itself.
      detached: process.platform !== 'win32',
      serialization: 'advanced',
      stdio: ['ignore', opts.silent ? 'ignore' : 'inherit', stderr, 'ipc'],
    })
    let stderrTail = ''
    child.stderr?.on('data', (b: Buffer) => {
      stderrTail = (stderrTail + b.toString()).slice(-4000)
    })
    return {
      pid: child.pid,
      send: (msg) => {
        if (child.connected) child.send(msg)
      },
      onMessage: (listener) => child.on('message', (m) => listener(parseTrainerToHost(m))),
      onExit: (listener) =>
        // A captured stderr is read to its end: 'close' comes after its last bytes (and after 'exit').
        child.once(captureStderr ? 'close' : 'exit', (code: number | null, signal: NodeJS.Signals | null) => {
          void stderrTail
          listener({ code, signal })
        }),
      kill: (signal = 'SIGTERM') => child.kill(signal),
      onStderr: (listener) => child.stderr?.on('data', (b: Buffer) => listener(b.toString())),
    }
  }
}
