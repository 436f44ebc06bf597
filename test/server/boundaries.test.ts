/**
 * The web host's body boundaries (issue 11): an unauthenticated upload is not drained (the
 * connection closes after the 401), a chunked body over the limit gets a 413 the client can read
 * (not a reset), and NaN/Infinity metrics cross the API as `{ nonFinite }`, not as null.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import type { SpawnTrainer } from '../../src/core/train/trainer-handle'
import { resolveRunConfig } from '../../src/shared/schemas'
import { parseWire } from '../../src/shared/wire-json'
import { startWebServer, type WebServer } from '../../src/server/index'

const noTrainer: SpawnTrainer = () => {
  throw new Error('no trainer in this test')
}

describe('web host boundaries', () => {
  let dir: string
  let core: AppCore
  let server: WebServer

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tfkd-boundaries-'))
    const staticDir = join(dir, 'renderer')
    mkdirSync(staticDir, { recursive: true })
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html>')
    core = createAppCore({ dataHome: join(dir, 'home'), host: 'web', spawnTrainer: noTrainer })
    server = await startWebServer({ core, staticDir })
  })
  afterAll(async () => {
    await server?.close()
    await core?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('stops reading an unauthenticated 100 MB upload: 401, then the connection closes', async () => {
    const declared = 100 * 1024 * 1024
    const { sent, answer } = await new Promise<{ sent: number; answer: string }>((resolve) => {
      const sock = connect(server.port, '127.0.0.1')
      let sent = 0
      let answer = ''
      let done = false
      const finish = () => {
        if (done) return
        done = true
        sock.destroy()
        resolve({ sent, answer })
      }
      sock.on('data', (d: Buffer) => void (answer += d.toString()))
      sock.on('close', finish)
      sock.on('error', finish)
      sock.write(
        `POST /api/invoke/runs:list HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: keep-alive\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`,
      )
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const pump = () => {
        while (!done && sent < declared) {
          sent += chunk.length
          if (!sock.write(chunk)) return void sock.once('drain', pump)
        }
      }
      pump()
      setTimeout(finish, 20_000).unref()
    })
    expect(answer).toMatch(/^HTTP\/1\.1 401/)
    expect(answer.toLowerCase()).toContain('connection: close')
    // Closed long before the body was through (socket buffers hold a few MB at most).
    expect(sent).toBeLessThan(32 * 1024 * 1024)
  })

  it('answers a chunked body over 1 MB with a 413 the client can read', async () => {
    for (let i = 0; i < 3; i++) {
      const status = await new Promise<number | string>((resolve) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: server.port,
            method: 'POST',
            path: '/api/invoke/runs:list',
            headers: {
              'x-tfkd-token': server.token,
              'content-type': 'application/json',
              'transfer-encoding': 'chunked',
            },
          },
          (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode ?? 0))
          },
        )
        req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)))
        const chunk = Buffer.alloc(64 * 1024, 0x20)
        let sent = 0
        const pump = () => {
          while (sent < 5 * 1024 * 1024) {
            sent += chunk.length
            if (!req.write(chunk)) return void req.once('drain', pump)
          }
          req.end()
        }
        pump()
      })
      expect(status).toBe(413)
    }
  })

  it('sends NaN and Infinity metrics as { nonFinite } (never null) and they decode back', async () => {
    const ds = core.store.datasets.byName('mnist-10k')!
    const run = core.store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    core.store.runs.recordEpoch(run.id, {
      epoch: 1,
      trainLoss: Number.NaN,
      trainAccuracy: 0.1,
      valLoss: Number.POSITIVE_INFINITY,
      valAccuracy: Number.NEGATIVE_INFINITY,
      learningRate: 0.1,
      durationMs: 10,
      samplesPerSec: 1,
    })
    const res = await fetch(`http://127.0.0.1:${server.port}/api/invoke/runs:get`, {
      method: 'POST',
      headers: { 'x-tfkd-token': server.token, 'content-type': 'application/json' },
      body: JSON.stringify({ runId: run.id }),
    })
    const text = await res.text()
    expect(text).toContain('"trainLoss":{"nonFinite":"NaN"}')
    expect(text).toContain('"valLoss":{"nonFinite":"Infinity"}')
    expect(text).toContain('"valAccuracy":{"nonFinite":"-Infinity"}')
    const env = parseWire(text) as {
      ok: true
      value: { metrics: { trainLoss: number; valLoss: number; valAccuracy: number }[] }
    }
    const m = env.value.metrics[0]!
    expect(m.trainLoss).toBeNaN()
    expect(m.valLoss).toBe(Infinity)
    expect(m.valAccuracy).toBe(-Infinity)
  })
})
