/** The Node hosts' (CLI, web server) trainer: a forked Node process running out/node/trainer.js. */
import { fork } from 'node:child_process'
import { parseTrainerToHost } from '../../shared/trainer-schemas'
import type { SpawnTrainer, TrainerHandle } from '../train/trainer-handle'

export function createForkSpawner(entry: string, opts: { silent?: boolean } = {}): SpawnTrainer {
  return ({ env }): TrainerHandle => {
    const child = fork(entry, [], {
      env,
      serialization: 'advanced',
      stdio: opts.silent ? ['ignore', 'ignore', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
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
        child.once('exit', (code, signal) => {
          void stderrTail
          listener({ code, signal })
        }),
      kill: (signal = 'SIGTERM') => child.kill(signal),
    }
  }
}
