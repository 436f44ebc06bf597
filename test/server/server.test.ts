import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import type { SpawnTrainer, TrainerHandle } from '../../src/core/train/trainer-handle'
import { startWebServer, type WebServer } from '../../src/server/index'

/** A trainer that never reports anything: these tests exercise the host, not training. */
const idleSpawner: SpawnTrainer = (): TrainerHandle => {
  const exits: ((info: { code: number | null; signal: string | null }) => void)[] = []
  let dead = false
  return {
    pid: undefined,
    send: () => undefined,
    onMessage: () => undefined,
    onExit: (l) => void exits.push(l),
    kill: (signal = 'SIGTERM') => {
      if (dead) return
      dead = true
      setImmediate(() => exits.forEach((l) => l({ code: null, signal })))
    },
  }
}

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** Raw node:http so that Host and Origin can be set freely (fetch forbids both). */
function send(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        )
      },
    )
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

describe('web server', () => {
  let dir: string
  let staticDir: string
  let core: AppCore
  let server: WebServer
  let dispatched: string[]
  let origin: string

  const invoke = (channel: string, body: unknown, headers: Record<string, string> = {}) =>
    send(server.port, {
      method: 'POST',
      path: `/api/invoke/${channel}`,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tfkd-server-'))
    staticDir = join(dir, 'renderer')
    mkdirSync(join(staticDir, 'assets'), { recursive: true })
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>tfkd</title>')
    writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)')
    writeFileSync(join(staticDir, 'assets', 'app.css'), 'body{}')
    writeFileSync(join(dir, 'secret.txt'), 'top secret')
    symlinkSync(join(dir, 'secret.txt'), join(staticDir, 'link.txt'))
    core = createAppCore({
      dataHome: join(dir, 'home'),
      host: 'web',
      spawnTrainer: idleSpawner,
      version: '9.9.9',
    })
    dispatched = []
    const counted = {
      dispatch: (channel: string, input: unknown) => {
        dispatched.push(channel)
        return core.dispatch(channel, input)
      },
      on: core.on,
    }
    server = await startWebServer({ core: counted, staticDir })
    origin = `http://127.0.0.1:${server.port}`
  })

  afterAll(async () => {
    await server?.close()
    await core?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('prints a loopback URL with a random 24-byte token', () => {
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`)
  })

  it('refuses an invoke without a token, with no effect on the core', async () => {
    const before = dispatched.length
    const res = await invoke('runs:start', { model: 'mlp', epochs: 1 })
    expect(res.status).toBe(401)
    expect(JSON.parse(res.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
    expect(dispatched.length).toBe(before)
    expect(core.store.runs.list({})).toHaveLength(0)
  })

  it('refuses a wrong token, in the header and in the cookie', async () => {
    const wrong = server.token.slice(0, -1) + (server.token.endsWith('A') ? 'B' : 'A')
    expect((await invoke('runs:list', {}, { 'x-tfkd-token': wrong })).status).toBe(401)
    expect((await invoke('runs:list', {}, { 'x-tfkd-token': 'short' })).status).toBe(401)
    expect((await invoke('runs:list', {}, { cookie: `tfkd_token=${wrong}` })).status).toBe(401)
  })

  it('answers an envelope with a valid token (header or cookie)', async () => {
    const res = await invoke('app:info', {}, { 'x-tfkd-token': server.token })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const env = JSON.parse(res.body)
    expect(env).toMatchObject({ ok: true, value: { version: '9.9.9', host: 'web' } })
    const viaCookie = await invoke('runs:list', {}, { cookie: `other=1; tfkd_token=${server.token}` })
    expect(JSON.parse(viaCookie.body)).toEqual({ ok: true, value: [] })
    // Validation errors come back as serialised AppErrors.
    const bad = JSON.parse((await invoke('runs:list', { bogus: 1 }, { 'x-tfkd-token': server.token })).body)
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
    const unknown = JSON.parse((await invoke('nope:nope', {}, { 'x-tfkd-token': server.token })).body)
    expect(unknown).toMatchObject({ ok: false, error: { code: 'not_found' } })
  })

  it('never sends CORS headers and always sends the security headers', async () => {
    const res = await invoke('runs:list', {}, { 'x-tfkd-token': server.token, origin })
    expect(res.status).toBe(200)
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([])
    expect(res.headers['content-security-policy']).toContain("script-src 'self'")
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['referrer-policy']).toBe('no-referrer')
    const preflight = await send(server.port, {
      method: 'OPTIONS',
      path: '/api/invoke/runs:list',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    })
    expect(preflight.status).toBe(403)
    expect(Object.keys(preflight.headers).filter((h) => h.startsWith('access-control-'))).toEqual([])
  })

  it('refuses a foreign Origin even with the right token', async () => {
    const before = dispatched.length
    for (const o of ['http://evil.example', `http://127.0.0.1:${server.port + 1}`, 'null']) {
      const res = await invoke('runs:list', {}, { 'x-tfkd-token': server.token, origin: o })
      expect(res.status, o).toBe(403)
    }
    expect(dispatched.length).toBe(before)
  })

  it('refuses a Host header that is not ours (DNS rebinding)', async () => {
    for (const h of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`]) {
      const res = await invoke('runs:list', {}, { 'x-tfkd-token': server.token, host: h })
      expect(res.status, h).toBe(403)
    }
    for (const h of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`]) {
      const res = await invoke('runs:list', {}, { 'x-tfkd-token': server.token, host: h })
      expect(res.status, h).toBe(200)
    }
    const page = await send(server.port, {
      path: `/?token=${server.token}`,
      headers: { host: 'evil.example' },
    })
    expect(page.status).toBe(403)
  })

  it('limits request bodies to 1 MB', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) })
    const res = await invoke('runs:list', JSON.parse(big), { 'x-tfkd-token': server.token })
    expect(res.status).toBe(413)
    // Declared up front (Content-Length) as well as streamed (chunked, above).
    const declared = await send(server.port, {
      method: 'POST',
      path: '/api/invoke/runs:list',
      headers: {
        'x-tfkd-token': server.token,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(big)),
      },
      body: big,
    })
    expect(declared.status).toBe(413)
    const bad = await send(server.port, {
      method: 'POST',
      path: '/api/invoke/runs:list',
      headers: { 'x-tfkd-token': server.token, 'content-type': 'text/plain' },
      body: '{}',
    })
    expect(bad.status).toBe(415)
  })

  it('serves static files only with the token, sets the cookie and strips the token', async () => {
    expect((await send(server.port, { path: '/' })).status).toBe(401)
    expect((await send(server.port, { path: '/?token=wrong-token-value' })).status).toBe(401)
    const first = await send(server.port, { path: `/?token=${server.token}` })
    expect(first.status).toBe(302)
    expect(first.headers.location).toBe('/')
    const cookie = String(first.headers['set-cookie'])
    expect(cookie).toContain(`tfkd_token=${server.token}`)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    expect(cookie).toContain('Path=/')
    const withCookie = { cookie: `tfkd_token=${server.token}` }
    const index = await send(server.port, { path: '/', headers: withCookie })
    expect(index.status).toBe(200)
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(index.headers['content-security-policy']).toContain("default-src 'self'")
    expect(index.body).toContain('<title>tfkd</title>')
    const js = await send(server.port, { path: '/assets/app.js', headers: withCookie })
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    const css = await send(server.port, { path: '/assets/app.css', headers: withCookie })
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8')
    expect((await send(server.port, { path: '/missing.js', headers: withCookie })).status).toBe(404)
  })

  it('refuses path traversal and symlinks out of the static folder', async () => {
    const withCookie = { cookie: `tfkd_token=${server.token}` }
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/link.txt',
      '/%00index.html',
    ]) {
      const res = await send(server.port, { path, headers: withCookie })
      expect(res.status, path).toBeGreaterThanOrEqual(400)
      expect(res.body, path).not.toContain('top secret')
    }
  })

  it('refuses a WebSocket without the token or from a foreign origin, and pushes events with it', async () => {
    const wsUrl = `ws://127.0.0.1:${server.port}/api/events`
    const refused = (url: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers })
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0)
          ws.terminate()
        })
        ws.on('open', () => {
          resolve(101)
          ws.close()
        })
        ws.on('error', () => undefined)
      })
    expect(await refused(wsUrl)).toBe(401)
    expect(await refused(`${wsUrl}?token=wrong-token-value`)).toBe(401)
    expect(await refused(`${wsUrl}?token=${server.token}`, { origin: 'http://evil.example' })).toBe(403)
    expect(await refused(`${wsUrl}?token=${server.token}`, { host: 'evil.example' })).toBe(403)
    expect(await refused(`${wsUrl}?token=${server.token}`)).toBe(101)
    expect(await refused(`ws://127.0.0.1:${server.port}/elsewhere?token=${server.token}`)).toBe(404)

    // With the cookie and our own origin, as the browser connects.
    const ws = new WebSocket(wsUrl, { headers: { cookie: `tfkd_token=${server.token}`, origin } })
    const messages: { channel: string; payload: { runId: number; status: string } }[] = []
    ws.on('message', (data) => messages.push(JSON.parse(String(data))))
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    const started = await invoke(
      'runs:start',
      { model: 'mlp', epochs: 1, maxTrainSamples: 64 },
      { 'x-tfkd-token': server.token },
    )
    const { runId } = JSON.parse(started.body).value as { runId: number }
    await expect.poll(() => messages.find((m) => m.channel === 'runs:status')).toBeTruthy()
    expect(messages.find((m) => m.channel === 'runs:status')?.payload).toMatchObject({
      runId,
      status: 'queued',
    })
    ws.close()
  })

  it('will not listen on a non-loopback address without allowRemote, nor take a short token', async () => {
    await expect(startWebServer({ core, staticDir, host: '0.0.0.0' })).rejects.toThrow(/allowRemote/)
    await expect(startWebServer({ core, staticDir, token: 'abc' })).rejects.toThrow(/token too short/)
    const remote = await startWebServer({ core, staticDir, host: '0.0.0.0', allowRemote: true })
    try {
      expect(remote.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/)
      // The token is still required when remote.
      const res = await send(remote.port, { method: 'POST', path: '/api/invoke/runs:list', body: '{}' })
      expect(res.status).toBe(401)
    } finally {
      await remote.close()
    }
  })
})
