/** The utilityProcess trainer spawner, driven by a fake UtilityProcess. */
import { EventEmitter } from 'node:events'
import { PassThrough } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'

vi.mock('electron', () => ({
  app: { on: vi.fn(), off: vi.fn() },
  utilityProcess: {
    fork: () => {
      throw new Error('tests pass their own fork')
    },
  },
}))

const { createUtilitySpawner, signalFromGone, TRAINER_SERVICE_NAME } =
  await import('../../src/main/trainer-spawn')
type ChildGone = Parameters<typeof signalFromGone>[0]

class FakeChild extends EventEmitter {
  pid: number | undefined = 4242
  stdout = new PassThrough()
  stderr = new PassThrough()
  posted: unknown[] = []
  killed = 0
  postMessage(m: unknown): void {
    this.posted.push(m)
  }
  kill(): boolean {
    this.killed++
    return true
  }
}

function setup(platform: NodeJS.Platform = 'linux') {
  const child = new FakeChild()
  const fork = vi.fn(() => child)
  let goneListener: ((d: ChildGone) => void) | null = null
  const unsubscribe = vi.fn()
  const killPid = vi.fn()
  const log = vi.fn()
  const spawn = createUtilitySpawner('/app/out/main/trainer.js', {
    fork: fork,
    onChildGone: (l) => {
      goneListener = l
      return unsubscribe
    },
    goneGraceMs: 5,
    platform,
    killPid,
    log,
  })
  const handle = spawn({ env: { TFKD_X: '1' } })
  const exits: { code: number | null; signal: string | null }[] = []
  handle.onExit((info) => exits.push(info))
  const waitExit = () => vi.waitFor(() => expect(exits).toHaveLength(1))
  return {
    child,
    fork,
    handle,
    exits,
    waitExit,
    gone: (d: ChildGone) => goneListener?.(d),
    unsubscribe,
    killPid,
    log,
  }
}

describe('createUtilitySpawner', () => {
  it('forks the entry as a named utility process with piped stdio and relays messages', async () => {
    const { child, fork, handle, log } = setup()
    expect(fork).toHaveBeenCalledWith('/app/out/main/trainer.js', [], {
      env: { TFKD_X: '1' },
      serviceName: TRAINER_SERVICE_NAME,
      stdio: 'pipe',
    })
    expect(handle.pid).toBe(4242)
    handle.send({ type: 'probe' })
    expect(child.posted).toEqual([{ type: 'probe' }])
    const got: unknown[] = []
    handle.onMessage((m) => got.push(m))
    child.emit('message', { type: 'ready', pid: 4242 })
    expect(got).toEqual([{ type: 'ready', pid: 4242 }])
    child.stderr.write('backend: wasm\npartial')
    child.stderr.end()
    await vi.waitFor(() =>
      expect(log.mock.calls.map((c) => c[0])).toEqual(['[trainer] backend: wasm', '[trainer] partial']),
    )
  })

  it('reports a clean exit with its code, stops sending afterwards and unsubscribes', async () => {
    const { child, handle, exits, waitExit, unsubscribe } = setup()
    child.emit('exit', 0)
    await waitExit()
    expect(exits).toEqual([{ code: 0, signal: null }])
    expect(unsubscribe).toHaveBeenCalled()
    handle.send({ type: 'shutdown' })
    expect(child.posted).toEqual([])
    const late: unknown[] = []
    handle.onExit((i) => late.push(i))
    expect(late).toEqual([{ code: 0, signal: null }])
  })

  it('maps a crash reported by child-process-gone to a signal name, even when it follows exit', async () => {
    const { child, exits, waitExit, gone } = setup()
    // electron/electron#42283: the crash is first seen as exit code 0.
    child.emit('exit', 0)
    gone({ type: 'Utility', reason: 'crashed', exitCode: 11, serviceName: TRAINER_SERVICE_NAME })
    await waitExit()
    expect(exits).toEqual([{ code: null, signal: 'SIGSEGV' }])
  })

  it('ignores gone reports of other processes', async () => {
    const { child, exits, waitExit, gone } = setup()
    gone({ type: 'GPU', reason: 'crashed', exitCode: 11 })
    gone({ type: 'Utility', reason: 'crashed', exitCode: 11, serviceName: 'Audio Service' })
    child.emit('exit', 3)
    await waitExit()
    expect(exits).toEqual([{ code: 3, signal: null }])
  })

  it('kill(SIGKILL) signals the pid; kill() uses Electron kill; both report the signal', async () => {
    const a = setup()
    a.handle.kill('SIGKILL')
    expect(a.killPid).toHaveBeenCalledWith(4242, 'SIGKILL')
    expect(a.child.killed).toBe(0)
    a.child.emit('exit', 9)
    await a.waitExit()
    expect(a.exits).toEqual([{ code: null, signal: 'SIGKILL' }])

    const b = setup('win32')
    b.handle.kill()
    expect(b.child.killed).toBe(1)
    b.child.emit('exit', 1)
    await b.waitExit()
    expect(b.exits).toEqual([{ code: null, signal: 'SIGTERM' }])
  })

  it('signalFromGone maps reasons to signal-ish text', () => {
    const d = (reason: string, exitCode = 0): ChildGone => ({ type: 'Utility', reason, exitCode })
    expect(signalFromGone(d('crashed', 6), 'linux')).toBe('SIGABRT')
    expect(signalFromGone(d('crashed', -1073741819), 'win32')).toBe('CRASH')
    expect(signalFromGone(d('oom'), 'linux')).toBe('OOM')
    expect(signalFromGone(d('killed'), 'linux')).toBe('SIGKILL')
    expect(signalFromGone(d('clean-exit'), 'linux')).toBeNull()
    expect(signalFromGone(d('abnormal-exit', 1), 'linux')).toBeNull()
    expect(signalFromGone(d('launch-failed'), 'linux')).toBe('LAUNCH-FAILED')
  })
})
