/** IPC routes: sender-frame checks before anything else, then the core's dispatch (and its validation). */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { INVOKE_CHANNELS } from '../../src/shared/contract'
import type { Envelope } from '../../src/shared/errors'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { registerRoutes, type IpcInvokeEventLike, type IpcMainLike } from '../../src/main/ipc'
import { createAppUrlMatcher } from '../../src/main/security'

const indexHtml = join('/opt', 'tfkd-studio', 'out', 'renderer', 'index.html')
const appUrl = pathToFileURL(indexHtml).href
const isTrustedSender = createAppUrlMatcher(appUrl)

type Handler = (event: IpcInvokeEventLike, ...args: unknown[]) => unknown
function fakeIpcMain() {
  const handlers = new Map<string, Handler>()
  const ipcMain: IpcMainLike = {
    handle: (channel, listener) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`)
      handlers.set(channel, listener)
    },
    removeHandler: (channel) => void handlers.delete(channel),
  }
  const invoke = (channel: string, event: IpcInvokeEventLike, input?: unknown) =>
    Promise.resolve(handlers.get(channel)!(event, input)) as Promise<Envelope<unknown>>
  return { ipcMain, handlers, invoke }
}

const fromApp: IpcInvokeEventLike = { senderFrame: { url: `${appUrl}#/runs`, parent: null } }

describe('IPC routes', () => {
  let core: AppCore | null = null
  let home: string | null = null
  afterEach(async () => {
    await core?.close()
    core = null
    if (home) rmSync(home, { recursive: true, force: true })
    home = null
  })

  it('registers exactly the contract invoke channels, and unregisters them', () => {
    const { ipcMain, handlers } = fakeIpcMain()
    const off = registerRoutes({ ipcMain, dispatch: vi.fn(), isTrustedSender })
    expect([...handlers.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort())
    off()
    expect(handlers.size).toBe(0)
  })

  it('answers forbidden, without reaching dispatch, to foreign, missing or sub-frame senders', async () => {
    const { ipcMain, invoke } = fakeIpcMain()
    const dispatch = vi.fn(async () => ({ ok: true as const, value: 'leak' }))
    registerRoutes({ ipcMain, dispatch, isTrustedSender })
    const foreign: IpcInvokeEventLike[] = [
      { senderFrame: { url: 'https://evil.example/', parent: null } },
      { senderFrame: { url: pathToFileURL('/tmp/evil/index.html').href, parent: null } },
      { senderFrame: { url: pathToFileURL('/opt/tfkd-studio/out/renderer/other.html').href, parent: null } },
      { senderFrame: { url: 'about:blank', parent: null } },
      { senderFrame: { url: 'not a url', parent: null } },
      { senderFrame: { url: appUrl, parent: {} } },
      { senderFrame: null },
      {},
    ]
    for (const channel of INVOKE_CHANNELS) {
      for (const event of foreign) {
        const res = await invoke(channel, event, {})
        expect(res).toMatchObject({ ok: false, error: { code: 'forbidden' } })
      }
    }
    expect(dispatch).not.toHaveBeenCalled()
  })

  it('routes the app page to dispatch with channel and input untouched (malformed included)', async () => {
    const { ipcMain, invoke } = fakeIpcMain()
    const dispatch = vi.fn(async (channel: string, input: unknown) => ({
      ok: true as const,
      value: { channel, input },
    }))
    registerRoutes({ ipcMain, dispatch, isTrustedSender })
    const malformed = [{ runId: 'x' }, null, 42, ['a'], { __proto__: { polluted: true } }]
    for (const input of malformed) {
      const res = await invoke('runs:get', fromApp, input)
      expect(res).toEqual({ ok: true, value: { channel: 'runs:get', input } })
    }
    expect(dispatch).toHaveBeenCalledTimes(malformed.length)
  })

  it('turns a dispatch that throws into an error envelope (Electron would pass only the message)', async () => {
    const { ipcMain, invoke } = fakeIpcMain()
    registerRoutes({
      ipcMain,
      dispatch: async () => {
        throw new Error('boom')
      },
      isTrustedSender,
    })
    expect(await invoke('app:info', fromApp, {})).toEqual({
      ok: false,
      error: { code: 'internal', message: 'boom' },
    })
  })

  it('with the real core, a malformed runs:get input comes back invalid_input', async () => {
    home = mkdtempSync(join(tmpdir(), 'tfkd-ipc-'))
    core = createAppCore({
      dataHome: home,
      host: 'electron',
      spawnTrainer: () => {
        throw new Error('no trainer in this test')
      },
    })
    const { ipcMain, invoke } = fakeIpcMain()
    registerRoutes({ ipcMain, dispatch: core.dispatch, isTrustedSender })
    for (const input of [{ runId: 'x' }, { runId: -1 }, { runId: 1, extra: true }, 'runs', 7]) {
      const res = await invoke('runs:get', fromApp, input)
      expect(res).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
    }
    expect(await invoke('runs:get', fromApp, { runId: 999 })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
    expect(await invoke('runs:list', fromApp, {})).toEqual({ ok: true, value: [] })
    expect(
      await invoke('runs:get', { senderFrame: { url: 'https://evil.example/' } }, { runId: 1 }),
    ).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    })
  })
})
