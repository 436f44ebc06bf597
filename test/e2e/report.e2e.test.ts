/**
 * The Report view in real Chromium against the web host and the real trainer: a study planned as a
 * reproduction (the plan's `reproduce` field, as `tfkd reproduce` plans it) but CI-sized (1 epoch,
 * 200 training images of a 250-digit image folder, 3 seeds; the smoke scale's models) is run for real; the Report view then shows the four
 * claims, each with a verdict, a Holm p-value, an effect size and premise checks with the measured
 * teacher accuracies, its three figures render, and "Reproduce the paper" says what it would plan.
 * At 1280x800 and 1024x640, light and dark: axe-core finds no serious or critical violation and the
 * page does not scroll sideways. Needs the built renderer and trainer (`npm run build`).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { startWebServer, type WebServer } from '../../src/server/index'
import { CLAIM_IDS, NO_VERDICTS, reproducePlan } from '../../src/shared/reproduce'
import type { ExperimentPlanInput } from '../../src/shared/plan'
import { digits, writeImageFolder } from '../core/data/fixtures'
import { seriousAxeViolations } from '../support/axe'
import { needsSystemPart } from '../support/system-parts'

const ROOT = resolve(import.meta.dirname, '../..')
const STATIC_DIR = join(ROOT, 'out/renderer')
const TRAINER = join(ROOT, 'out/node/trainer.js')
const SHOTS = join(ROOT, 'test-results/report')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 640 },
] as const
const THEMES = ['light', 'dark'] as const

const skip = needsSystemPart({
  name: `Chromium at ${CHROMIUM}`,
  isPresent: existsSync(CHROMIUM),
  install: 'apt-get install -y chromium (or set CHROMIUM_PATH)',
})

/** Digits per class in the study's dataset: 250 images, 200 train / 50 test (CI-sized). */
const PER_CLASS = 25

/** The smoke study's plan, CI-sized: same variants, seeds, teachers and `reproduce` field. */
function tinyStudy(): ExperimentPlanInput {
  const p = reproducePlan({ dataset: 'tiny-digits', scale: 'smoke', seeds: 3 })
  return {
    ...p,
    name: 'reproduce the paper (CI-sized smoke) on tiny-digits, 3 seeds',
    teacherEpochs: 1,
    deKdEpochs: [1],
    training: { ...p.training, epochs: 1, maxTrainSamples: 200 },
  }
}

describe.skipIf(skip)('Report view end to end (a real CI-sized reproduction study)', () => {
  let dir: string
  let core: AppCore
  let server: WebServer
  let browser: Browser
  let experimentId: number
  let studyMs = 0

  beforeAll(async () => {
    const missing = [join(STATIC_DIR, 'index.html'), TRAINER].filter((f) => !existsSync(f))
    if (missing.length > 0) {
      throw new Error(`missing build output: ${missing.join(', ')}. Run \`npm run build\` first.`)
    }
    mkdirSync(SHOTS, { recursive: true })
    dir = mkdtempSync(join(tmpdir(), 'tfkd-report-e2e-'))
    core = createAppCore({
      dataHome: join(dir, 'home'),
      host: 'web',
      spawnTrainer: createForkSpawner(TRAINER, { silent: true }),
      version: '0.1.0-e2e',
    })
    server = await startWebServer({ core, staticDir: STATIC_DIR })
    // A small image folder, so that each run's validation and test passes cost little.
    const fixture = join(dir, 'tiny-digits')
    await writeImageFolder(fixture, digits(PER_CLASS), { kinds: ['png'] })
    await core.handlers['datasets:import']({ jobId: 'tiny', path: fixture, name: 'tiny-digits' })
    const t0 = Date.now()
    const started = core.plans.start(tinyStudy())
    experimentId = started.id
    // Chromium starts while the study trains.
    const [, done] = await Promise.all([
      chromium
        .launch({
          executablePath: CHROMIUM,
          args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
        })
        .then((b) => (browser = b)),
      Promise.all(started.runs.map((r) => core.runs.waitFor(r.id))),
    ])
    studyMs = Date.now() - t0
    console.log(`[e2e] CI-sized study: ${done.length} runs in ${(studyMs / 1000).toFixed(1)}s`)
    expect(done.map((r) => r.status)).toEqual(new Array(done.length).fill('completed'))
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await core?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('shows the four claims with verdicts, p, effect sizes, measured premises, and the figures', async () => {
    const t0 = Date.now()
    const ctx = await browser.newContext({ viewport: SIZES[0], acceptDownloads: true, bypassCSP: true })
    const page = await ctx.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
    page.on('console', (m) => void (m.type() === 'error' && errors.push(`console: ${m.text()}`)))
    await page.goto(server.url)
    await page.getByTestId('nav-report').click()
    await page.getByTestId('report-claims').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('report-experiment').inputValue()).toBe(String(experimentId))

    const report = await core.handlers['report:get']({ experimentId })
    expect(report.study).toEqual({ scale: 'smoke', seeds: 3, margin: 0.5, hyperparameters: 'k-matched' })
    const teacherAcc = report.teachers.map((t) => `${(100 * t.accuracy!).toFixed(2)}%`)
    expect(teacherAcc).toHaveLength(4)
    for (const id of CLAIM_IDS) {
      const row = page.getByTestId(`claim-${id}`)
      const cells = await row.locator('td').allTextContents()
      const claim = report.claims.find((c) => c.id === id)!
      // Title, a verdict, the comparison, n = 3 matched seeds, delta, CIs, Holm p, d_z, premises.
      expect(cells[0]).toContain(claim.title)
      // A smoke-scale study checks the pipeline: no verdicts (the claim's own verdict is not shown).
      expect(cells[1]!.trim()).toBe(NO_VERDICTS)
      expect(claim.verdict).toMatch(/\w/)
      expect(cells[3]!.trim()).toBe('3')
      expect(cells[7]!.trim()).toMatch(/^(\d\.\d{3}|\d\.\de-\d+)$/)
      expect(cells[8]!.trim()).toMatch(/^-?\d+\.\d{2}$/)
      // Premise checks name measured teacher accuracies (a claim without a teacher names the runs).
      expect(cells[9]!.trim().length).toBeGreaterThan(0)
      if (id !== 'tfkd-reg') expect(cells[9]).toMatch(/\d+\.\d+%/)
      // The paper's own numbers beside ours.
      expect(cells[10]).toMatch(/\d+\.\d{2} vs \d+\.\d{2}/)
    }
    // The regime: K, K-matched values, what Tf-KD reg amounts to, epochs, the baseline's convergence.
    const regime = (await page.getByTestId('report-regime').textContent())!
    expect(regime).toContain('K = 10 classes; hyperparameters: K-matched')
    expect(regime).toMatch(/Tf-KD reg acts as label smoothing with eps = \d\.\d\d at \d\.\d\dx the gradient/)
    expect(regime).toContain('Baseline convergence: unknown') // 1 epoch: nothing to compare
    expect(regime).toContain('no verdicts are given')
    expect(await page.getByTestId('report-regime-table').locator('tbody tr').count()).toBe(7)
    // The appendix: one row per variant with mean ± sd and hyperparameters, per-class effects.
    const appendix = page.getByTestId('report-appendix')
    expect(await appendix.locator('tbody tr').count()).toBe(7)
    expect(await appendix.locator('tbody tr').nth(2).textContent()).toMatch(
      /kd\s*alpha 0\.95, T 20, m 0\.1\s*k-matched\s*3\s*\d+\.\d\d ± \d+\.\d\d/,
    )
    expect(await page.getByTestId('report-per-class').locator('tbody tr').count()).toBe(10)
    // The teachers' measured accuracies are listed.
    const teachers = (await page.getByTestId('report-teachers').textContent())!
    for (const a of teacherAcc) expect(teachers).toContain(a)
    expect(await page.getByTestId('report-environment').textContent()).toMatch(/tfkd 0\.1\.0-e2e, Node v\d+/)

    // The figures render: dots per seed, curves, and the De-KD plot.
    for (const name of ['report-per-seed', 'report-curves', 'report-de-kd']) {
      const chart = page.getByTestId(`chart-${name}`)
      await chart.waitFor()
      await expect.poll(() => chart.locator('svg path').count(), { timeout: 10_000 }).toBeGreaterThan(5)
    }
    // The HTML report downloads from the view.
    const [html] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-html').click()])
    expect(html.suggestedFilename()).toBe(`tfkd-report-${experimentId}.html`)

    // "Reproduce the paper" is there and says what it will plan before anything starts.
    await page.getByTestId('repro-dataset').selectOption('mnist-10k')
    await page.getByTestId('repro-scale').selectOption('smoke')
    await page.getByTestId('repro-seeds').fill('3')
    const plan = page.getByTestId('repro-plan')
    await expect
      .poll(() => plan.textContent())
      .toMatch(
        /Will plan 25 runs \(4 teachers, 21 students\) on mnist-10k: baseline, lsr, kd, re-kd, de-kd, tfkd-self, tfkd-reg over 3 seeds; about \S+/,
      )
    // ... and the power those seeds will have, from an assumed spread (no earlier smoke study on
    // mnist-10k), with a suggested seed count one click away.
    const power = page.getByTestId('repro-power')
    await expect.poll(() => power.textContent()).toMatch(/Power with 3 seeds .*sd 0\.50 pp, assumed/)
    expect(await power.textContent()).toMatch(/re-kd vs baseline, the paper's \+1\.41 pp: power 0\.\d\d/)
    await page.getByTestId('repro-use-suggested').click()
    await expect.poll(() => page.getByTestId('repro-seeds').inputValue()).toBe('5')
    await page.getByTestId('repro-seeds').fill('2')
    await expect.poll(() => plan.textContent()).toMatch(/Will plan 18 runs \(4 teachers, 14 students\)/)
    expect(await page.getByTestId('repro-start').isEnabled()).toBe(true)
    await page.getByTestId('repro-scale').selectOption('paper')
    await page.getByTestId('repro-data-problem').waitFor()
    expect(await page.getByTestId('repro-start').isDisabled()).toBe(true)
    // Nothing was started by looking.
    expect(core.store.experiments.list().length).toBe(1)
    await page.getByTestId('repro-scale').selectOption('smoke')
    await page.getByTestId('repro-seeds').fill('3')

    // Both sizes, both themes: axe-core and no sideways scroll.
    const problems: string[] = []
    for (const theme of THEMES) {
      await page.getByTestId('nav-diagnostics').click()
      await page.getByTestId(`theme-${theme}`).check()
      await page.getByTestId('nav-report').click()
      await page.getByTestId('report-claims').waitFor()
      for (const size of SIZES) {
        await page.setViewportSize(size)
        await page.waitForTimeout(400)
        const where = `${size.width}x${size.height} ${theme}`
        for (const f of await seriousAxeViolations(page)) problems.push(`${where}: ${f}`)
        const overflow = (await page.evaluate(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        )) as number
        if (overflow > 0) problems.push(`${where}: scrolls sideways by ${overflow}px`)
        await page.screenshot({
          path: join(SHOTS, `report-${size.width}x${size.height}-${theme}.png`),
          fullPage: true,
        })
      }
    }
    expect(problems, problems.join('\n')).toEqual([])
    expect(errors).toEqual([])
    console.log(
      `[e2e] report view checks in ${((Date.now() - t0) / 1000).toFixed(1)}s (study ${(studyMs / 1000).toFixed(1)}s)`,
    )
    await ctx.close()
  }, 180_000)
})
