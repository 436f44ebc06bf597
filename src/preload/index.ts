/**
 * Builds `window.api` from the contract and nothing else: one function per invoke channel and `on`
 * for push channels. Neither ipcRenderer nor the IPC event object ever reaches the page. Runs in a
 * sandboxed preload, so it may import only `electron` (and is bundled to CommonJS).
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron'
import { INVOKE_CHANNELS, pushChannels, type Api } from '../shared/contract'

type Invoke = (channel: string, input: unknown) => Promise<unknown>
type Subscribe = (channel: string, listener: (payload: unknown) => void) => () => void

export function buildApi(invoke: Invoke, subscribe: Subscribe): Api {
  const api: Record<string, unknown> = {}
  for (const channel of INVOKE_CHANNELS) {
    api[channel] = (input: unknown) => invoke(channel, input)
  }
  api.on = (channel: unknown, listener: unknown) => {
    if (typeof channel !== 'string' || !Object.hasOwn(pushChannels, channel)) {
      throw new Error(`api.on: unknown push channel ${JSON.stringify(channel)}`)
    }
    if (typeof listener !== 'function') throw new Error('api.on: listener must be a function')
    return subscribe(channel, (payload) => (listener as (p: unknown) => void)(payload))
  }
  return Object.freeze(api) as Api
}

const invoke: Invoke = (channel, input) => ipcRenderer.invoke(channel, input)
const subscribe: Subscribe = (channel, listener) => {
  // Pass the payload only: the event object carries `sender` (the ipcRenderer).
  const wrapped = (_event: unknown, payload: unknown): void => listener(payload)
  ipcRenderer.on(channel, wrapped)
  return () => {
    ipcRenderer.removeListener(channel, wrapped)
  }
}

contextBridge.exposeInMainWorld('api', buildApi(invoke, subscribe))

/**
 * `window.desktop`: the one non-contract helper. A file dropped on the window is a DOM File; since
 * Electron 32 its path is only readable here (File.path was removed), and only as a string.
 */
type DroppedFile = Parameters<typeof webUtils.getPathForFile>[0]
contextBridge.exposeInMainWorld(
  'desktop',
  Object.freeze({
    pathForFile: (file: DroppedFile): string => {
      const p = webUtils.getPathForFile(file)
      return typeof p === 'string' ? p : ''
    },
  }),
)
