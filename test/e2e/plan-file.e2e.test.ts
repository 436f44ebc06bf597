/**
 * Duplicate and plan files in real Chromium against the web host (issue 22): a finished plan's
 * Duplicate… in Live runs opens New experiment with that plan loaded; Start this plan trains the same
 * runs again. A plan file with a bad field is refused by name in the page. Needs the built renderer
 * and trainer (`npm run build`).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { startWebServer, type WebServer } from '../../src/server/index'
import { needsSystemPart } from '../support/system-parts'

const ROOT = resolve(import.meta.dirname, '../..')
const STATIC_DIR = join(ROOT, 'out/renderer')
const TRAINER = join(ROOT, 'out/node/trainer.js')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const skipChromium = needsSystemPart({
  name: `Chromium at ${CHROMIUM}`,
  isPresent: existsSync(CHROMIUM),
  install: 'apt-get install -y chromium (or set CHROMIUM_PATH)',
})

describe.skipIf(skipChromium)('Duplicate… and Load plan… (Chromium)', () => {
  let dir: string
  let core: AppCore | undefined
  let server: WebServer | undefined
  let browser: Browser | undefined

  beforeAll(async () => {
    const missing = [join(STATIC_DIR, 'index.html'), TRAINER].filter((f) => !existsSync(f))
    if (missing.length > 0) {
      throw new Error(`missing build output: ${missing.join(', ')}. Run \`npm run build\` first.`)
    }
    dir = mkdtempSync(join(tmpdir(), 'tfkd-planfile-'))
    core = createAppCore({
      dataHome: join(dir, 'home'),
      host: 'web',
      spawnTrainer: createForkSpawner(TRAINER, { silent: true }),
      version: '0.1.0-e2e',
    })
    server = await startWebServer({ core, staticDir: STATIC_DIR })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    })
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await core?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('duplicates a finished plan from Live runs and trains the same runs; refuses a bad plan file', async () => {
    const first = core!.plans.start({
      name: 'tiny',
      student: 'mlp',
      variants: ['baseline', 'lsr'],
      seeds: [1],
      training: { epochs: 1, maxTrainSamples: 128, batchSize: 64 },
    })
    await Promise.all(first.runs.map((r) => core!.runs.waitFor(r.id)))
    const page = await (await browser!.newContext({ viewport: { width: 1280, height: 800 } })).newPage()
    await page.goto(server!.url)
    await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor()
    await page.getByTestId('plan-duplicate').first().click()
    await expect.poll(() => page.getByTestId('plan-loaded').textContent()).toMatch(/tiny \(copy of #1\)/)

    await page.getByTestId('plan-file-input').setInputFiles({
      name: 'bad.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ training: { epochs: 0 } })),
    })
    await expect
      .poll(() => page.getByTestId('plan-file-error').textContent())
      .toMatch(/^bad\.json: training\.epochs: /)
    // The refused file leaves the duplicated plan loaded.
    await page.getByTestId('plan-loaded-start').click()
    await expect.poll(() => core!.plans.list().length, { timeout: 30_000 }).toBe(2)
    const copy = core!.plans.get(2)
    expect(copy.name).toBe('tiny (copy of #1)')
    const done = await Promise.all(copy.runs.map((r) => core!.runs.waitFor(r.id)))
    const what = (rs: { role: string; model: string; variant: string; seed: number }[]) =>
      rs.map((r) => `${r.role} ${r.model}/${r.variant}/s${r.seed}`).sort()
    expect(what(done)).toEqual(what(first.runs))
    expect(done.every((r) => r.status === 'completed')).toBe(true)
  }, 180_000)
})
