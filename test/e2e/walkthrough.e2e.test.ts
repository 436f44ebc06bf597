/**
 * The first-day walkthrough in real Chromium against the web host: upload a dataset archive from
 * the browser (the path a researcher on another machine takes), import it, then visit every view
 * at 1280x800 and 1024x640 in both themes. On each: axe-core (injected) finds no serious or
 * critical violation, the page does not scroll sideways, and no console error is logged.
 * Screenshots of each view go to test-results/walkthrough (and, with UPDATE_SCREENSHOTS=1, to
 * docs/screenshots). Needs the built renderer (`npm run build`).
 */
import { createRequire } from 'node:module'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { startWebServer, type WebServer } from '../../src/server/index'
import { needsSystemPart } from '../support/system-parts'

const ROOT = resolve(import.meta.dirname, '../..')
const STATIC_DIR = join(ROOT, 'out/renderer')
const SHOTS = join(ROOT, 'test-results/walkthrough')
const TRAINER = join(ROOT, 'out/node/trainer.js')
const DOC_SHOTS = join(ROOT, 'docs/screenshots')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
const VIEWS = ['datasets', 'new', 'runs', 'history', 'compare', 'exports', 'diagnostics'] as const
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 640 },
] as const
const THEMES = ['light', 'dark'] as const
const DOC_VIEWS: Partial<Record<(typeof VIEWS)[number], string>> = {
  datasets: 'datasets',
  new: 'new-experiment',
  diagnostics: 'settings',
}

const skipChromium = needsSystemPart({
  name: `Chromium at ${CHROMIUM}`,
  isPresent: existsSync(CHROMIUM),
  install: 'apt-get install -y chromium (or set CHROMIUM_PATH)',
})

interface AxeFinding {
  id: string
  impact: string
  help: string
  nodes: string[]
}

async function digitsZip(): Promise<Buffer> {
  const z = new yazl.ZipFile()
  for (const [cls, base] of [
    ['zero', 20],
    ['one', 220],
  ] as const) {
    for (let i = 0; i < 10; i++) {
      const png = await sharp(Buffer.alloc(8 * 8, base + i), { raw: { width: 8, height: 8, channels: 1 } })
        .png()
        .toBuffer()
      z.addBuffer(png, `tiny-digits/${cls}/${i}.png`)
    }
  }
  z.end()
  const chunks: Buffer[] = []
  for await (const c of z.outputStream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** axe-core's serious and critical violations on the current page. */
async function axe(page: Page): Promise<AxeFinding[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) {
    await page.addScriptTag({ content: readFileSync(AXE, 'utf8') })
  }
  const result = (await page.evaluate(`
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
      .then((r) => r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(0, 2).join(' ')),
      })))
  `)) as AxeFinding[]
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

describe.skipIf(skipChromium)('first-day walkthrough (web host, Chromium, axe-core)', () => {
  let dir: string
  let core: AppCore
  let server: WebServer
  let browser: Browser

  beforeAll(async () => {
    const missing = [join(STATIC_DIR, 'index.html'), TRAINER].filter((f) => !existsSync(f))
    if (missing.length > 0) {
      throw new Error(`missing build output: ${missing.join(', ')}. Run \`npm run build\` first.`)
    }
    mkdirSync(SHOTS, { recursive: true })
    dir = mkdtempSync(join(tmpdir(), 'tfkd-walk-'))
    const home = join(dir, 'home')
    core = createAppCore({
      dataHome: home,
      host: 'web',
      // The real trainer: Settings probes the backend ladder with it.
      spawnTrainer: createForkSpawner(TRAINER, { silent: true }),
      version: '0.1.0-e2e',
    })
    server = await startWebServer({
      core,
      staticDir: STATIC_DIR,
      upload: { dir: join(home, 'uploads'), maxBytes: 16 * 1024 * 1024 },
    })
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

  it('uploads a dataset archive from the browser and imports it', async () => {
    const ctx = await browser.newContext({ viewport: SIZES[0] })
    const page = await ctx.newPage()
    const errors: string[] = []
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())))
    await page.goto(server.url)
    await page.getByTestId('nav-datasets').click()
    await expect.poll(() => page.getByTestId('import-upload').count()).toBe(1)
    const zipFile = join(dir, 'tiny-digits.zip')
    writeFileSync(zipFile, await digitsZip())
    await page.getByTestId('import-upload').setInputFiles(zipFile)
    await expect
      .poll(() => page.getByTestId('import-path').inputValue(), { timeout: 20_000 })
      .toMatch(/tiny-digits$/)
    await page.getByTestId('import-start').click()
    await expect
      .poll(() => page.getByTestId('import-message').textContent(), { timeout: 30_000 })
      .toMatch(/Imported "tiny-digits": \d+ train/)
    expect(await page.getByTestId('import-message').getAttribute('class')).not.toMatch(/error/)

    // A file that is not an archive is refused in words, styled as an error.
    const csv = join(dir, 'table.csv')
    writeFileSync(csv, 'a,b\n1,2\n')
    await page.getByTestId('import-upload').setInputFiles(csv)
    await expect
      .poll(() => page.getByTestId('import-message').textContent())
      .toMatch(/only as a \.zip, \.tar or \.tar\.gz archive/)
    expect(await page.getByTestId('import-message').getAttribute('class')).toMatch(/error/)
    expect(await page.getByTestId('import-message').getAttribute('role')).toBe('alert')
    expect(errors).toEqual([])
    await ctx.close()
  }, 90_000)

  for (const theme of THEMES) {
    for (const size of SIZES) {
      it(`every view at ${size.width}x${size.height}, ${theme}: 0 serious/critical axe violations, no sideways scroll`, async () => {
        const ctx = await browser.newContext({ viewport: size, colorScheme: theme, bypassCSP: true })
        const page = await ctx.newPage()
        const errors: string[] = []
        page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())))
        page.on('pageerror', (e) => errors.push(e.message))
        await page.goto(server.url)
        expect(await page.evaluate('document.documentElement.dataset.theme')).toBe(theme)
        const problems: string[] = []
        for (const view of VIEWS) {
          await page.getByTestId(`nav-${view}`).click()
          await page.waitForTimeout(400)
          const found = await axe(page)
          for (const f of found)
            problems.push(`${view}: [${f.impact}] ${f.id} (${f.help})\n    ${f.nodes.join('\n    ')}`)
          const overflow = (await page.evaluate(
            'document.documentElement.scrollWidth - document.documentElement.clientWidth',
          )) as number
          if (overflow > 0) problems.push(`${view}: scrolls sideways by ${overflow}px`)
          const shot = `${view}-${size.width}x${size.height}-${theme}.png`
          await page.screenshot({ path: join(SHOTS, shot) })
          // Only the views this walkthrough fills as a researcher sees them (no runs here: the
          // run-filled ones come from web.e2e.test.ts).
          const doc = DOC_VIEWS[view]
          if (process.env.UPDATE_SCREENSHOTS === '1' && size.width === 1280 && doc) {
            await page.screenshot({ path: join(DOC_SHOTS, `${doc}${theme === 'dark' ? '-dark' : ''}.png`) })
          }
        }
        writeFileSync(join(SHOTS, `axe-${size.width}x${size.height}-${theme}.txt`), problems.join('\n'))
        expect(problems, problems.join('\n')).toEqual([])
        expect(errors).toEqual([])
        await ctx.close()
      }, 120_000)
    }
  }
})
