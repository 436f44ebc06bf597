/**
 * `/api/events`: the push half of the contract over one WebSocket per page. Upgrades pass the same
 * Host/Origin gate as HTTP and need the token; the socket is push-only, dead clients are found by
 * a heartbeat, and a slow client skips progress ticks rather than buffering without bound.
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { PUSH_CHANNELS } from '../shared/contract'
import { stringifyWire } from '../shared/wire-json'
import type { Auth } from './auth'
import type { WebCore } from './index'

export const WS_PATH = '/api/events'
/** A client this far behind gets no more progress ticks until it catches up. */
const WS_SLOW_CLIENT_BYTES = 1024 * 1024
const WS_HEARTBEAT_MS = 30_000

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  // Destroy only once the answer is flushed, as ws's own abortHandshake does.
  socket.once('finish', () => socket.destroy())
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

/** Why an upgrade is refused (status and reason), or null when it may proceed. */
function upgradeRefusal(req: IncomingMessage, auth: Auth): [number, string] | null {
  let url: URL
  try {
    url = new URL(req.url ?? '/', 'http://localhost')
  } catch {
    return [400, 'Bad Request']
  }
  if (url.pathname !== WS_PATH) return [404, 'Not Found']
  if (auth.forbiddenReason(req)) return [403, 'Forbidden']
  if (!auth.tokenMatches(url.searchParams.get('token')) && !auth.tokenMatches(auth.cookieToken(req))) {
    return [401, 'Unauthorized']
  }
  return null
}

/** Attaches the push socket to `server`; returns its closer. */
export function attachEvents(server: Server, core: WebCore, auth: Auth): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 })
  const alive = new WeakSet<WebSocket>()

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const refusal = upgradeRefusal(req, auth)
    if (refusal) {
      refuseUpgrade(socket, ...refusal)
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  wss.on('connection', (ws: WebSocket) => {
    alive.add(ws)
    ws.on('pong', () => alive.add(ws))
    // The socket is push-only; anything a client sends is ignored.
    ws.on('message', () => undefined)
    ws.on('error', () => ws.terminate())
  })

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate()
        continue
      }
      alive.delete(ws)
      ws.ping()
    }
  }, WS_HEARTBEAT_MS)
  heartbeat.unref()

  const unsubscribe = PUSH_CHANNELS.map((channel) =>
    core.on(channel, (payload) => {
      const text = stringifyWire({ channel, payload })
      for (const ws of wss.clients) {
        if (ws.readyState !== ws.OPEN) continue
        // Progress ticks are superseded by the next one; a slow client may skip some.
        if (channel === 'runs:progress' && ws.bufferedAmount > WS_SLOW_CLIENT_BYTES) continue
        ws.send(text)
      }
    }),
  )

  return () => {
    clearInterval(heartbeat)
    for (const off of unsubscribe) off()
    for (const ws of wss.clients) ws.terminate()
    wss.close()
  }
}
