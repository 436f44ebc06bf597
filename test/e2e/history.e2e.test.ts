/**
 * History and Live runs after real training, in real Chromium against the web host (issue 14):
 * - a History row opens the run detail by click and by Enter (and by its address): config, curves,
 *   lineage, device, best epoch with its selection rule, checkpoints;
 * - a completed run is rerun: a new run with the same config, recorded as a rerun of it;
 * - the Actions column is fully visible and clickable at 1280x800 and 1024x640;
 * - the host stops mid-plan: the queue card says "stopped · 2 interrupted", not "done"; a run
 *   resumed behind a new one is listed after it and says where it stands in line; the Time column
 *   shows training time (the sum of epoch durations), not the downtime before the resume;
 * - both sizes, both themes: 0 serious/critical axe-core violations, no sideways scroll.
 * Needs the built renderer and trainer (`npm run build`). Screenshots go to test-results/history
 * (and, with UPDATE_SCREENSHOTS=1, to docs/screenshots).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { startWebServer, type WebServer } from '../../src/server/index'
import { resolveRunConfig } from '../../src/shared/schemas'
import { seriousAxeViolations, sidewaysScroll } from '../support/axe'
import { needsSystemPart } from '../support/system-parts'

const ROOT = resolve(import.meta.dirname, '../..')
const STATIC_DIR = join(ROOT, 'out/renderer')
const TRAINER = join(ROOT, 'out/node/trainer.js')
const SHOTS = join(ROOT, 'test-results/history')
const DOC_SHOTS = join(ROOT, 'docs/screenshots')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 640 },
] as const
const THEMES = ['light', 'dark'] as const
const TINY = { epochs: 1, maxTrainSamples: 256, batchSize: 64 }

const skipChromium = needsSystemPart({
  name: `Chromium at ${CHROMIUM}`,
  isPresent: existsSync(CHROMIUM),
  install: 'apt-get install -y chromium (or set CHROMIUM_PATH)',
})

/**
 * Every button of History's Actions column: inside the window and the table's visible box, and the
 * element at its centre is the button itself (nothing covers it). Returns what is wrong, if anything.
 */
async function hiddenActions(page: Page): Promise<{ checked: number; problems: string[] }> {
  return (await page.evaluate(`(() => {
    const problems = []
    let checked = 0
    const box = document.querySelector('[data-testid="history-table"]').parentElement.getBoundingClientRect()
    for (const b of document.querySelectorAll('[data-testid^="history-actions-"] button')) {
      const r = b.getBoundingClientRect()
      if (r.bottom > window.innerHeight) continue
      checked++
      const name = b.textContent.trim() + ' in ' + b.closest('tr').dataset.testid
      const inside = r.width > 0 && r.left >= Math.max(0, box.left) - 0.5 &&
        r.right <= Math.min(window.innerWidth, box.right) + 0.5
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
      if (!inside) problems.push(name + ' is outside the visible table (' + Math.round(r.left) + '..' + Math.round(r.right) + ')')
      else if (!(hit === b || b.contains(hit))) problems.push(name + ' is covered by ' + (hit ? hit.tagName + '.' + hit.className : 'nothing'))
    }
    return { checked, problems }
  })()`)) as { checked: number; problems: string[] }
}

/** Seconds of a formatted duration ("8.0s", "1m 42s"). */
function seconds(text: string): number {
  const m = /^(?:(\d+)m )?([\d.]+)s$/.exec(text.trim())
  if (!m) throw new Error(`not a duration: "${text}"`)
  return Number(m[1] ?? 0) * 60 + Number(m[2])
}

describe.skipIf(skipChromium)('History run detail, rerun, and Live runs after a host stop (Chromium)', () => {
  let dir: string
  let home: string
  let core: AppCore | undefined
  let server: WebServer | undefined
  let browser: Browser
  const errors: string[] = []

  const startHost = async (): Promise<void> => {
    core = createAppCore({
      dataHome: home,
      host: 'web',
      spawnTrainer: createForkSpawner(TRAINER, { silent: true }),
      version: '0.1.0-e2e',
    })
    server = await startWebServer({ core, staticDir: STATIC_DIR })
  }
  const stopHost = async (): Promise<void> => {
    await server?.close()
    await core?.close()
    server = undefined
    core = undefined
  }
  const openPage = async (
    opts: { size?: (typeof SIZES)[number]; theme?: (typeof THEMES)[number] } = {},
  ): Promise<{ ctx: BrowserContext; page: Page }> => {
    const ctx = await browser.newContext({
      viewport: opts.size ?? SIZES[0],
      colorScheme: opts.theme ?? 'light',
      bypassCSP: true,
    })
    const page = await ctx.newPage()
    page.on('console', (m) => void (m.type() === 'error' && errors.push(`console: ${m.text()}`)))
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
    await page.goto(server!.url)
    await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor()
    return { ctx, page }
  }

  beforeAll(async () => {
    const missing = [join(STATIC_DIR, 'index.html'), TRAINER].filter((f) => !existsSync(f))
    if (missing.length > 0) {
      throw new Error(`missing build output: ${missing.join(', ')}. Run \`npm run build\` first.`)
    }
    mkdirSync(SHOTS, { recursive: true })
    dir = mkdtempSync(join(tmpdir(), 'tfkd-history-'))
    home = join(dir, 'home')
    await startHost()
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    })
  })

  afterAll(async () => {
    await browser?.close()
    await stopHost()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('opens a run detail by click, Enter and address; reruns a completed run', async () => {
    const exp = core!.plans.start({
      name: 'two tiny baselines',
      student: 'mlp',
      variants: ['baseline'],
      seeds: [1, 2],
      training: TINY,
    })
    const [a, b] = exp.runs.map((r) => r.id) as [number, number]
    for (const id of [a, b]) expect((await core!.runs.waitFor(id)).status).toBe('completed')

    const { ctx, page } = await openPage()
    await page.getByTestId('nav-history').click()
    // A click on a plain cell of the row (the model) opens the detail.
    await page.getByTestId(`history-row-${a}`).locator('td').nth(5).click()
    const detail = page.getByTestId('run-detail')
    await detail.waitFor()
    expect(page.url()).toMatch(new RegExp(`#/history/run/${a}$`))
    expect(await page.getByTestId('run-detail-status').textContent()).toBe('completed')
    expect(await page.getByTestId('run-detail-selection').textContent()).toMatch(
      /^best epoch 1, chosen by highest validation accuracy \(validation split \d+% of train\)$/,
    )
    const config = (await page.getByTestId('run-detail-config').textContent()) ?? ''
    for (const part of [
      'Modelmlp',
      'Variantbaseline',
      'Seed1',
      'Epochs1',
      'Max train samples256',
      'Batch size64',
    ])
      expect(config).toContain(part)
    expect(await page.getByTestId('run-detail-lineage').textContent()).toMatch(
      new RegExp(`#${exp.id} two tiny baselines · role student`),
    )
    expect(await page.getByTestId('run-detail-device').textContent()).toMatch(/^\s*wasm · CPU /)
    expect(await page.getByTestId('run-detail-checkpoints').locator('tbody tr').count()).toBeGreaterThan(0)
    expect(await page.getByTestId('run-detail-training-time').textContent()).toMatch(
      /^[\d.]+s \(sum of 1 recorded epoch; no queue or downtime\)$/,
    )
    await expect.poll(() => page.getByTestId('run-detail-curves').locator('path').count()).toBeGreaterThan(2)
    // The model export of issue 15 is there, the same action as in the table.
    await page.getByTestId(`detail-export-onnx-${a}`).waitFor()
    await page.screenshot({ path: join(SHOTS, 'run-detail.png') })
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      await page.screenshot({ path: join(DOC_SHOTS, 'run-detail.png') })
    }

    // Back to the list; the keyboard: focus row b, Enter.
    await page.getByTestId('run-detail-close').click()
    await page.getByTestId('history-table').waitFor()
    await page.getByTestId(`history-row-${b}`).focus()
    await page.keyboard.press('Enter')
    await expect
      .poll(() => page.getByTestId('run-detail').getAttribute('aria-labelledby'))
      .toBe('run-detail-title')
    expect(await page.locator('#run-detail-title').textContent()).toMatch(new RegExp(`^\\s*Run #${b} `))

    // The address opens the detail after a reload.
    await page.reload()
    await page.getByTestId('run-detail').waitFor()
    expect(await page.locator('#run-detail-title').textContent()).toMatch(new RegExp(`^\\s*Run #${b} `))

    // Rerun a completed run from its detail: a new run, same config, recorded as its rerun.
    await page.getByTestId('run-detail-rerun').click()
    await expect
      .poll(() => page.getByTestId('history-message').textContent())
      .toMatch(new RegExp(`^Run ${b} rerun as run \\d+ `))
    const rerunId = Number(
      /rerun as run (\d+)/.exec((await page.getByTestId('history-message').textContent())!)![1],
    )
    expect((await core!.runs.waitFor(rerunId)).status).toBe('completed')
    const copy = core!.store.runs.detail(rerunId)!
    expect(copy.rerunOf).toBe(b)
    expect(copy.config).toEqual(core!.store.runs.detail(b)!.config)
    await page.getByTestId('run-detail-close').click()
    await expect
      .poll(() => page.getByTestId(`history-row-${rerunId}`).textContent())
      .toContain(`rerun of #${b}`)
    await page.getByTestId(`history-open-${rerunId}`).click()
    expect(await page.getByTestId('run-detail-rerun-of').textContent()).toContain(`run #${b}`)
    await page.getByTestId('run-detail-close').click()
    // The row's Rerun is there for completed runs too (it used to be offered only for cut-off ones).
    await page.getByTestId(`history-rerun-${a}`).click({ trial: true })
    await ctx.close()
  }, 120_000)

  it('a host stop mid-plan: the card says stopped, Time is training time, a resumed run waits its turn', async () => {
    const exp = core!.plans.start({
      name: 'stopped plan',
      student: 'mlp',
      variants: ['baseline'],
      seeds: [3, 4],
      training: { ...TINY, epochs: 8 },
    })
    const [cut, waiting] = exp.runs.map((r) => r.id) as [number, number]
    await new Promise<void>((done) => {
      const off = core!.on('runs:epoch', (e) => {
        if (e.runId === cut) {
          off()
          done()
        }
      })
    })
    await stopHost()
    // Down for a while: this time must not show as training time.
    await new Promise((r) => setTimeout(r, 2000))
    await startHost()

    const { ctx, page } = await openPage()
    const card = page.getByTestId(`plan-${exp.id}`)
    await card.waitFor()
    expect(await card.getByTestId('plan-count').textContent()).toBe('0/2 runs')
    expect(await card.getByTestId('plan-eta').textContent()).toBe(
      'stopped · 2 interrupted · resume to continue',
    )
    expect(await page.getByTestId(`run-row-${waiting}`).getByTestId('run-status').textContent()).toBe(
      'interrupted',
    )

    // A new run first, then resume the cut-off one from History: it joins the queue behind it.
    const fresh = core!.runs.start(resolveRunConfig({ model: 'mlp', epochs: 3, maxTrainSamples: 512 }))
    await page.getByTestId('nav-history').click()
    await page.getByTestId(`history-resume-${cut}`).click()
    await page.getByTestId('nav-runs').click()
    const order = async (): Promise<number[]> =>
      (await page
        .locator('[data-testid^="queue-item-"]')
        .evaluateAll((els) =>
          els.map((e) => Number(e.getAttribute('data-testid')!.replace('queue-item-', ''))),
        )) as number[]
    const listed = await order()
    const live = core!.runs
    // Unless the new run already ended (a very fast machine), it is listed, and runs, first.
    if (core!.store.runs.get(fresh.id)!.status !== 'completed') {
      expect(listed).toEqual([fresh.id, cut])
      await page.getByTestId(`queue-item-${cut}`).locator('button').click()
      await expect
        .poll(() => page.getByTestId('live-queue-note').textContent())
        .toMatch(new RegExp(`^\\s*Queued: 2nd in line, after #${fresh.id}\\s*$`))
      expect(await page.getByTestId('live-status').textContent()).toBe('queued')
    }
    expect((await live.waitFor(fresh.id)).status).toBe('completed')
    expect((await live.waitFor(cut)).status).toBe('completed')
    // It ran after the new one, as listed.
    expect(core!.store.runs.get(cut)!.finishedAt!).toBeGreaterThanOrEqual(
      core!.store.runs.get(fresh.id)!.finishedAt!,
    )

    // The plan: one run ended, one still interrupted.
    await expect.poll(() => card.getByTestId('plan-count').textContent()).toBe('1/2 runs')
    expect(await card.getByTestId('plan-eta').textContent()).toBe(
      'stopped · 1 interrupted · resume to continue',
    )

    // Time: the sum of the epochs, not first start to end (which spans the 2 s the host was down).
    const d = core!.store.runs.detail(cut)!
    const epochSum = d.metrics.reduce((s, m) => s + m.durationMs, 0) / 1000
    expect(d.finishedAt! - d.startedAt!).toBeGreaterThan(2000 + epochSum * 1000)
    await page.getByTestId('nav-history').click()
    const cell = page.getByTestId(`history-row-${cut}`).getByTestId('run-train-time')
    expect(Math.abs(seconds((await cell.textContent())!) - epochSum)).toBeLessThanOrEqual(0.6)
    expect(seconds((await cell.textContent())!)).toBeLessThan((d.finishedAt! - d.startedAt!) / 1000 - 1.5)
    await ctx.close()
  }, 150_000)

  for (const theme of THEMES) {
    for (const size of SIZES) {
      it(`History, run detail and Live runs at ${size.width}x${size.height}, ${theme}: actions visible, axe clean, no sideways scroll`, async () => {
        const { ctx, page } = await openPage({ size, theme })
        const problems: string[] = []
        const sweep = async (where: string, shot: string, doc?: string): Promise<void> => {
          await page.waitForTimeout(300)
          for (const p of await seriousAxeViolations(page)) problems.push(`${where}: ${p}`)
          const over = await sidewaysScroll(page)
          if (over > 0) problems.push(`${where}: scrolls sideways by ${over}px`)
          await page.screenshot({ path: join(SHOTS, `${shot}-${size.width}x${size.height}-${theme}.png`) })
          if (doc && process.env.UPDATE_SCREENSHOTS === '1' && size.width === 1280) {
            await page.screenshot({ path: join(DOC_SHOTS, `${doc}${theme === 'dark' ? '-dark' : ''}.png`) })
          }
        }
        await sweep('live runs', 'runs', theme === 'light' ? 'runs' : undefined)
        await page.getByTestId('nav-history').click()
        await page.getByTestId('history-table').waitFor()
        const actions = await hiddenActions(page)
        expect(actions.problems, actions.problems.join('\n')).toEqual([])
        expect(actions.checked).toBeGreaterThanOrEqual(6)
        // Playwright's own check that the row buttons receive a click (nothing on top of them).
        const runs = core!.store.runs.list()
        const completed = runs.find((r) => r.status === 'completed')!
        const interrupted = runs.find((r) => r.status === 'interrupted')!
        await page.getByTestId(`history-rerun-${completed.id}`).click({ trial: true })
        await page.getByTestId(`export-onnx-${completed.id}`).click({ trial: true })
        await page.getByTestId(`history-resume-${interrupted.id}`).click({ trial: true })
        await sweep('history', 'history', 'history')
        await page.getByTestId(`history-open-${completed.id}`).click()
        await page.getByTestId('run-detail').waitFor()
        await sweep('run detail', 'run-detail')
        expect(problems, problems.join('\n')).toEqual([])
        await ctx.close()
      }, 60_000)
    }
  }

  it('logged no console or page errors', () => {
    expect(errors).toEqual([])
  })
})
