/**
 * The renderer's only door to a host. In Electron the preload exposes `window.api`; in a browser
 * (`tfkd serve`) the same contract goes over HTTP (invokes) and a WebSocket (pushes). Either way
 * `call()` unwraps the Envelope and throws a real AppError.
 */
import type {
  Api,
  InvokeChannel,
  InvokeInput,
  InvokeOutput,
  PushChannel,
  Pushes,
} from '../../../shared/contract'
import { AppError, type Envelope } from '../../../shared/errors'
import type { ArchiveUpload } from '../../../shared/types'
import { parseWire, stringifyWire } from '../../../shared/wire-json'

declare global {
  interface Window {
    api?: Api
    /** Desktop app only (preload): the path of a file or folder dropped on the window. */
    desktop?: { pathForFile(file: File): string }
  }
}

export interface Transport {
  invoke(channel: InvokeChannel, input: unknown): Promise<Envelope<unknown>>
  on<K extends PushChannel>(channel: K, listener: (payload: Pushes[K]) => void): () => void
  /** Connection changes of the push stream (true when connected); Electron is always connected. */
  onConnection(listener: (connected: boolean) => void): () => void
}

const TOKEN_KEY = 'tfkd_token'
const TOKEN_HEADER = 'x-tfkd-token'

/**
 * The token, if the page was opened with `?token=` (the server normally strips it with a redirect
 * after setting an HttpOnly cookie, and then the cookie alone authenticates). Read once, kept in
 * sessionStorage, and removed from the address bar.
 */
function readToken(): string | null {
  const params = new URLSearchParams(location.search)
  const fromUrl = params.get('token')
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl)
    params.delete('token')
    const search = params.toString()
    history.replaceState(
      history.state,
      '',
      `${location.pathname}${search ? `?${search}` : ''}${location.hash}`,
    )
    return fromUrl
  }
  return sessionStorage.getItem(TOKEN_KEY)
}

/** One invoke over HTTP: POST /api/invoke/<channel>; a network or non-JSON failure becomes an error envelope. */
async function invokeOverHttp(
  token: string | null,
  channel: string,
  input: unknown,
): Promise<Envelope<unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token) headers[TOKEN_HEADER] = token
  let res: Response
  try {
    res = await fetch(`/api/invoke/${encodeURIComponent(channel)}`, {
      method: 'POST',
      headers,
      body: stringifyWire(input ?? {}),
      credentials: 'same-origin',
    })
  } catch (err) {
    return {
      ok: false,
      error: { code: 'internal', message: `cannot reach the tfkd server: ${String(err)}` },
    }
  }
  try {
    // The web host encodes NaN/Infinity as { nonFinite } (see shared/wire-json.ts).
    return parseWire(await res.text()) as Envelope<unknown>
  } catch {
    return {
      ok: false,
      error: { code: 'internal', message: `server answered ${res.status} without JSON` },
    }
  }
}

export function createHttpTransport(): Transport {
  const token = readToken()
  const listeners = new Map<PushChannel, Set<(payload: unknown) => void>>()
  const connectionListeners = new Set<(connected: boolean) => void>()
  let socket: WebSocket | null = null
  let retries = 0
  let retryTimer: ReturnType<typeof setTimeout> | null = null

  function setConnected(connected: boolean): void {
    for (const l of connectionListeners) l(connected)
  }

  function connect(): void {
    if (socket || retryTimer) return
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
    const query = token ? `?token=${encodeURIComponent(token)}` : ''
    const ws = new WebSocket(`${scheme}://${location.host}/api/events${query}`)
    socket = ws
    ws.onopen = () => {
      retries = 0
      setConnected(true)
    }
    ws.onmessage = (ev: MessageEvent<string>) => {
      let msg: { channel: PushChannel; payload: unknown }
      try {
        msg = parseWire(String(ev.data)) as { channel: PushChannel; payload: unknown }
      } catch {
        return
      }
      for (const l of listeners.get(msg.channel) ?? []) l(msg.payload)
    }
    ws.onclose = () => {
      socket = null
      setConnected(false)
      // Exponential backoff with jitter, capped at 10 s: a restarted server is found again soon,
      // a dead one is not hammered.
      const delayMs = Math.min(10_000, 500 * 2 ** retries) * (0.75 + Math.random() * 0.5)
      retries = Math.min(retries + 1, 10)
      retryTimer = setTimeout(() => {
        retryTimer = null
        connect()
      }, delayMs)
    }
  }

  return {
    invoke: (channel, input) => invokeOverHttp(token, channel, input),
    on(channel, listener) {
      const set = listeners.get(channel) ?? new Set()
      listeners.set(channel, set)
      set.add(listener as (payload: unknown) => void)
      connect()
      return () => set.delete(listener as (payload: unknown) => void)
    },
    onConnection(listener) {
      connectionListeners.add(listener)
      connect()
      return () => connectionListeners.delete(listener)
    },
  }
}

function createElectronTransport(api: Api): Transport {
  return {
    invoke: (channel, input) => (api[channel] as (i: unknown) => Promise<Envelope<unknown>>)(input ?? {}),
    on: (channel, listener) => api.on(channel, listener),
    onConnection(listener) {
      listener(true)
      return () => undefined
    },
  }
}

let transport: Transport | null = null

/** Served by `tfkd serve` to a browser (not the desktop app): files go to the browser's downloads. */
export const isWebHost = (): boolean => !window.api

function current(): Transport {
  transport ??= window.api ? createElectronTransport(window.api) : createHttpTransport()
  return transport
}

/** Calls one invoke channel; resolves with its output or throws an AppError. */
export async function call<K extends InvokeChannel>(
  channel: K,
  input: InvokeInput<K>,
): Promise<InvokeOutput<K>> {
  const env = await current().invoke(channel, input)
  if (!env.ok) throw AppError.fromJSON(env.error)
  return env.value as InvokeOutput<K>
}

/** Subscribes to a push channel; returns the unsubscribe function. */
export function on<K extends PushChannel>(channel: K, listener: (payload: Pushes[K]) => void): () => void {
  return current().on(channel, listener)
}

/** Notified when the push stream connects or drops (stores refetch on reconnect). */
export function onConnection(listener: (connected: boolean) => void): () => void {
  return current().onConnection(listener)
}

/** An upload in flight: its answer, and how to stop it. */
export interface UploadJob {
  done: Promise<ArchiveUpload>
  abort(): void
}

/**
 * Uploads a dataset archive to the web host (POST /api/upload, raw body). XMLHttpRequest rather
 * than fetch: it reports upload progress and can be aborted.
 */
export function uploadArchive(file: File, onProgress: (sent: number, total: number) => void): UploadJob {
  const xhr = new XMLHttpRequest()
  const done = new Promise<ArchiveUpload>((resolve, reject) => {
    xhr.open('POST', `/api/upload?name=${encodeURIComponent(file.name)}`)
    xhr.setRequestHeader('content-type', 'application/octet-stream')
    const token = sessionStorage.getItem(TOKEN_KEY)
    if (token) xhr.setRequestHeader(TOKEN_HEADER, token)
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size)
    xhr.onload = () => {
      let env: Envelope<ArchiveUpload>
      try {
        env = parseWire(xhr.responseText) as Envelope<ArchiveUpload>
      } catch {
        reject(new AppError('internal', `the server answered ${xhr.status} without JSON`))
        return
      }
      if (env.ok) resolve(env.value)
      else reject(AppError.fromJSON(env.error))
    }
    xhr.onerror = () => reject(new AppError('internal', 'the upload failed: cannot reach the tfkd server'))
    xhr.onabort = () => reject(new AppError('cancelled', 'upload cancelled'))
    xhr.send(file)
  })
  return { done, abort: () => xhr.abort() }
}
