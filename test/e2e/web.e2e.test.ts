/**
 * The real UI in real Chromium against the real core and web host: open the tokened URL, train a
 * tiny run from the form, watch it finish, read the backend diagnostics. Needs the built renderer
 * (out/renderer) and trainer (out/node/trainer.js): `npm run build`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/services/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { startWebServer, type WebServer } from '../../src/server/index'

const ROOT = resolve(import.meta.dirname, '../..')
const STATIC_DIR = join(ROOT, 'out/renderer')
const TRAINER = join(ROOT, 'out/node/trainer.js')
const SHOTS = join(ROOT, 'test-results/screenshots')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

describe('web UI end to end', () => {
  let dir: string
  let core: AppCore
  let server: WebServer
  let browser: Browser
  let page: Page
  let other: Server
  const dispatched: string[] = []
  const pageErrors: string[] = []

  beforeAll(async () => {
    const missing = [join(STATIC_DIR, 'index.html'), TRAINER].filter((f) => !existsSync(f))
    if (missing.length > 0) {
      throw new Error(`missing build output: ${missing.join(', ')}. Run \`npm run build\` first.`)
    }
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`)
    }
    mkdirSync(SHOTS, { recursive: true })
    dir = mkdtempSync(join(tmpdir(), 'tfkd-e2e-'))
    core = createAppCore({
      dataHome: join(dir, 'home'),
      host: 'web',
      spawnTrainer: createForkSpawner(TRAINER, { silent: true }),
      version: '0.1.0-e2e',
    })
    server = await startWebServer({
      core: {
        dispatch: (channel, input) => {
          dispatched.push(channel)
          return core.dispatch(channel, input)
        },
        on: core.on,
      },
      staticDir: STATIC_DIR,
    })
    // A second origin on the same machine (127.0.0.1, another port: same-site, cross-origin).
    other = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!doctype html><title>other</title>')
    })
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r))
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        '--disable-quic',
      ],
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`)
    })
  })

  afterAll(async () => {
    await browser?.close()
    await new Promise<void>((r) => (other ? other.close(() => r()) : r()))
    await server?.close()
    await core?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('trains a tiny run from the form and shows the backend', async () => {
    await page.goto(server.url)
    // The token went into an HttpOnly cookie and out of the address bar.
    expect(page.url()).toBe(`http://127.0.0.1:${server.port}/`)
    expect(await page.evaluate('document.cookie')).toBe('')
    const cookies = await page.context().cookies()
    expect(cookies).toMatchObject([{ name: 'tfkd_token', httpOnly: true, sameSite: 'Strict' }])

    const empty = page.getByTestId('runs-empty')
    await empty.waitFor()
    expect(await empty.textContent()).toContain('Start run')
    await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor()
    await page.screenshot({ path: join(SHOTS, 'runs-empty.png'), animations: 'disabled' })

    await page.getByTestId('field-model').selectOption('mlp')
    await page.getByTestId('field-epochs').fill('1')
    await page.getByTestId('field-max-train-samples').fill('512')
    await page.getByTestId('start-run').click()

    const bar = page.getByTestId('progress-bar')
    await bar.waitFor()
    const row = page.getByTestId('run-row-1')
    await row.waitFor()
    expect(await row.textContent()).toContain('mlp')
    // Catch it mid-run when we can; a fast machine may finish before the first tick is drawn.
    let percentSeen = 0
    await expect
      .poll(
        async () => {
          percentSeen = Number(await bar.getAttribute('aria-valuenow'))
          return percentSeen > 0
        },
        { timeout: 120_000, interval: 50 },
      )
      .toBe(true)
    const caughtMidRun = percentSeen < 100
    if (caughtMidRun) expect(await page.getByTestId('progress-eta').textContent()).toMatch(/^ETA (\d|–)/)
    await page.screenshot({ path: join(SHOTS, 'runs-live.png'), animations: 'disabled' })

    await row.getByTestId('run-status').filter({ hasText: 'completed' }).waitFor({ timeout: 120_000 })
    await expect
      .poll(() => row.getByTestId('run-test-accuracy').textContent(), { timeout: 10_000 })
      .toMatch(/^\d+\.\d\d%$/)
    expect(await page.getByTestId('progress-percent').textContent()).toBe('100%')
    expect(await row.textContent()).toContain('1/1')
    const stored = core.store.runs.get(1)
    expect(stored?.status).toBe('completed')
    expect(stored?.testAccuracy).toBeGreaterThan(0.3)
    // The live curve drew something (ECharts SVG renderer: paths inside the chart box).
    expect(await page.getByTestId('chart').locator('path').count()).toBeGreaterThan(0)
    await page.screenshot({ path: join(SHOTS, 'runs-completed.png'), animations: 'disabled' })

    await page.getByTestId('nav-diagnostics').click()
    const chosen = page.getByTestId('chosen-backend')
    await chosen.waitFor({ timeout: 60_000 })
    expect(await chosen.textContent()).toBe(stored?.backend)
    expect(await page.getByTestId(`rung-${stored?.backend}`).textContent()).toContain('loaded')
    expect(await page.getByTestId('app-host').textContent()).toBe('web')
    expect(await page.getByTestId('app-version').textContent()).toBe('0.1.0-e2e')
    await page.screenshot({ path: join(SHOTS, 'diagnostics.png'), animations: 'disabled' })

    // Probe again climbs the ladder in a fresh trainer and shows the same choice.
    const probe = page.getByTestId('probe-again')
    const probesBefore = dispatched.filter((c) => c === 'diagnostics:backends').length
    await probe.click()
    await expect
      .poll(() => dispatched.filter((c) => c === 'diagnostics:backends').length)
      .toBe(probesBefore + 1)
    await expect.poll(() => probe.isEnabled(), { timeout: 60_000 }).toBe(true)
    expect(await chosen.textContent()).toBe(stored?.backend)

    expect(pageErrors).toEqual([])
  }, 240_000)

  it('cancels a running run from the live panel', async () => {
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('field-model').selectOption('cnn-small')
    await page.getByTestId('field-epochs').fill('20')
    await page.getByTestId('field-max-train-samples').fill('0')
    await page.getByTestId('start-run').click()
    const row = page.getByTestId('run-row-2')
    await row.getByTestId('run-status').filter({ hasText: 'running' }).waitFor({ timeout: 60_000 })
    await page.getByTestId('cancel-run').click()
    await row.getByTestId('run-status').filter({ hasText: 'cancelled' }).waitFor({ timeout: 30_000 })
    expect(core.store.runs.get(2)?.status).toBe('cancelled')
    await page.getByTestId('cancel-run').waitFor({ state: 'detached' })
    expect(pageErrors).toEqual([])
  }, 120_000)

  it('refuses API calls from another origin, even one that carries the cookie', async () => {
    const otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`
    await page.goto(`${otherOrigin}/`)
    const before = dispatched.filter((c) => c === 'runs:list').length
    const api = `http://127.0.0.1:${server.port}/api/invoke/runs:list`
    const results = await page.evaluate(async (url) => {
      const attempt = async (init: RequestInit): Promise<string> => {
        try {
          const res = await fetch(url, init)
          return `resolved ${res.type} ${res.status}`
        } catch (err) {
          return `rejected ${(err as Error).name}`
        }
      }
      return [
        // Needs a preflight, which is refused without CORS headers.
        await attempt({
          method: 'POST',
          credentials: 'include',
          headers: { 'content-type': 'application/json' },
        }),
        // A "simple" request goes out with the same-site cookie; the Origin check must stop it.
        await attempt({ method: 'POST', credentials: 'include', body: '{}' }),
        // no-cors: the server answers 403, and Cross-Origin-Resource-Policy blocks even the opaque
        // response.
        await attempt({ method: 'POST', credentials: 'include', mode: 'no-cors', body: '{}' }),
      ]
    }, api)
    expect(results[0]).toBe('rejected TypeError')
    expect(results[1]).toBe('rejected TypeError')
    expect(results[2]).toBe('rejected TypeError')
    expect(dispatched.filter((c) => c === 'runs:list').length).toBe(before)

    // And a page of our own origin without the cookie or header is refused too.
    const fresh = await browser.newContext()
    try {
      const p = await fresh.newPage()
      const res = await p.request.post(api, { data: {} })
      expect(res.status()).toBe(401)
    } finally {
      await fresh.close()
    }
  })
})
