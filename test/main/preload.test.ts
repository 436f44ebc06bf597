/** The preload exposes exactly one function per invoke channel plus `on`, and nothing of Electron. */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { INVOKE_CHANNELS, PUSH_CHANNELS, type Api } from '../../src/shared/contract'

const h = vi.hoisted(() => {
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>()
  const ipcRenderer = {
    invoke: vi.fn(async (channel: string, input: unknown) => ({ ok: true, value: { channel, input } })),
    on: vi.fn((channel: string, l: (...args: unknown[]) => void) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set())
      listeners.get(channel)!.add(l)
      return ipcRenderer
    }),
    removeListener: vi.fn((channel: string, l: (...args: unknown[]) => void) => {
      listeners.get(channel)?.delete(l)
      return ipcRenderer
    }),
    send: vi.fn(),
    sendSync: vi.fn(),
  }
  return { listeners, ipcRenderer, exposed: new Map<string, unknown>() }
})

vi.mock('electron', () => ({
  ipcRenderer: h.ipcRenderer,
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => void h.exposed.set(key, value) },
  webUtils: { getPathForFile: (f: { fakePath?: string }) => f.fakePath ?? '' },
}))

let api: Api
beforeAll(async () => {
  await import('../../src/preload/index')
  api = h.exposed.get('api') as Api
})

describe('preload window.api', () => {
  it('exposes only `api`: one function per invoke channel plus on, no Electron objects', async () => {
    expect([...h.exposed.keys()]).toEqual(['api', 'desktop'])
    // window.desktop: only the dropped-file path, as a string.
    const desktop = h.exposed.get('desktop') as { pathForFile: (f: unknown) => unknown }
    expect(Object.keys(desktop)).toEqual(['pathForFile'])
    expect(Object.isFrozen(desktop)).toBe(true)
    expect(desktop.pathForFile({ fakePath: '/data/mnist' })).toBe('/data/mnist')
    expect(Object.keys(api).sort()).toEqual([...INVOKE_CHANNELS, 'on'].sort())
    for (const value of Object.values(api)) {
      expect(typeof value).toBe('function')
      expect(value).not.toBe(h.ipcRenderer)
    }
    expect(Object.isFrozen(api)).toBe(true)

    for (const channel of INVOKE_CHANNELS) {
      const input = { probe: channel }
      const res = await (api[channel] as (i: unknown) => Promise<unknown>)(input)
      expect(h.ipcRenderer.invoke).toHaveBeenLastCalledWith(channel, input)
      expect(res).toEqual({ ok: true, value: { channel, input } })
    }
    expect(h.ipcRenderer.send).not.toHaveBeenCalled()
    expect(h.ipcRenderer.sendSync).not.toHaveBeenCalled()
  })

  it('on() subscribes to push channels, passes only the payload, and unsubscribes', () => {
    for (const channel of PUSH_CHANNELS) {
      const received: unknown[][] = []
      const off = api.on(channel, (...args: unknown[]) => void received.push(args))
      const fakeEvent = { sender: h.ipcRenderer, senderId: 0 }
      for (const l of h.listeners.get(channel) ?? []) l(fakeEvent, { runId: 1 })
      expect(received).toEqual([[{ runId: 1 }]])
      off()
      expect(h.listeners.get(channel)?.size ?? 0).toBe(0)
    }
  })

  it('on() refuses unknown channels, invoke channels and prototype keys', () => {
    const on = api.on as (channel: unknown, listener: unknown) => () => void
    for (const bad of ['evil:channel', 'runs:get', '__proto__', 'constructor', 'toString', '', 7, null]) {
      expect(() => on(bad, () => undefined)).toThrow(/unknown push channel/)
    }
    expect(() => on('runs:progress', 'not a function')).toThrow(/listener/)
    expect(h.ipcRenderer.on).toHaveBeenCalledTimes(PUSH_CHANNELS.length)
  })
})
