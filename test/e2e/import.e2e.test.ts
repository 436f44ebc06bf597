/**
 * The Import bullet of the first-day walkthrough in real Chromium against the web host: choose the
 * format and the label column of a CSV; a CSV with a ragged row is refused (file, line, field
 * counts, in the form's words) and then imported with "skip", its skipped line listed; a relative
 * path says what it was resolved against; a parent folder of several datasets lists them. Each
 * state at 1280x800 and 1024x640, light and dark: axe-core (injected) finds no serious or critical
 * violation and the page does not scroll sideways. Needs the built renderer (`npm run build`).
 */
import { createRequire } from 'node:module'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { startWebServer, type WebServer } from '../../src/server/index'
import { needsSystemPart } from '../support/system-parts'

const ROOT = resolve(import.meta.dirname, '../..')
const STATIC_DIR = join(ROOT, 'out/renderer')
const SHOTS = join(ROOT, 'test-results/import')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 640 },
] as const
const THEMES = ['light', 'dark'] as const

const skipChromium = needsSystemPart({
  name: `Chromium at ${CHROMIUM}`,
  isPresent: existsSync(CHROMIUM),
  install: 'apt-get install -y chromium (or set CHROMIUM_PATH)',
})

/**
 * A CSV whose label is the 2nd column `species` (the last column is a number, so only a chosen
 * label column imports it) with one ragged row at line 7; `variant` makes each copy a new dataset.
 */
function raggedCsv(file: string, variant: number): void {
  const rows = ['a,species,b,c,d']
  for (let i = 0; i < 30; i++)
    rows.push(`${(i + variant) % 5},${['x', 'y', 'z'][i % 3]},${i % 4},${i % 6},${i % 7}`)
  rows.splice(6, 0, '1,x,2,3')
  writeFileSync(file, `${rows.join('\n')}\n`)
}

/** A folder holding two CSV datasets and an image folder: a parent, not a dataset. */
async function parentFolder(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true })
  for (const n of ['a', 'b']) writeFileSync(join(dir, `${n}.csv`), 'f1,f2,label\n1,2,x\n3,4,y\n5,6,x\n')
  for (const cls of ['cat', 'dog']) {
    mkdirSync(join(dir, 'pets', cls), { recursive: true })
    const png = await sharp(Buffer.alloc(64, cls === 'cat' ? 30 : 200), {
      raw: { width: 8, height: 8, channels: 1 },
    })
      .png()
      .toBuffer()
    writeFileSync(join(dir, 'pets', cls, '0.png'), png)
  }
}

/** axe-core's serious and critical violations, and any sideways scroll, as readable lines. */
async function problemsOn(page: Page, state: string): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) {
    await page.addScriptTag({ content: readFileSync(AXE, 'utf8') })
  }
  const found = (await page.evaluate(`
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
      .then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) =>
        '[' + v.impact + '] ' + v.id + ' (' + v.help + '): ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')))
  `)) as string[]
  const overflow = (await page.evaluate(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  )) as number
  return [
    ...found.map((f) => `${state}: ${f}`),
    ...(overflow > 0 ? [`${state}: scrolls sideways by ${overflow}px`] : []),
  ]
}

describe.skipIf(skipChromium)('import form (web host, Chromium, axe-core)', () => {
  let dir: string
  let core: AppCore
  let server: WebServer
  let browser: Browser

  beforeAll(async () => {
    if (!existsSync(join(STATIC_DIR, 'index.html'))) {
      throw new Error(`missing build output: ${STATIC_DIR}/index.html. Run \`npm run build\` first.`)
    }
    mkdirSync(SHOTS, { recursive: true })
    dir = mkdtempSync(join(tmpdir(), 'tfkd-import-e2e-'))
    core = createAppCore({
      dataHome: join(dir, 'home'),
      host: 'web',
      // Imports need no trainer; a spawn would be a bug here.
      spawnTrainer: () => {
        throw new Error('no trainer in the import e2e')
      },
      version: '0.1.0-e2e',
    })
    server = await startWebServer({ core, staticDir: STATIC_DIR })
    await parentFolder(join(dir, 'parent'))
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

  let variant = 0
  for (const theme of THEMES) {
    for (const size of SIZES) {
      it(`each import case at ${size.width}x${size.height}, ${theme}`, async () => {
        const ctx = await browser.newContext({ viewport: size, colorScheme: theme, bypassCSP: true })
        const page = await ctx.newPage()
        const errors: string[] = []
        page.on('pageerror', (e) => errors.push(e.message))
        page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())))
        const problems: string[] = []
        const tag = `${size.width}x${size.height}-${theme}`
        const check = async (state: string) => {
          problems.push(...(await problemsOn(page, state)))
          await page.screenshot({ path: join(SHOTS, `${state}-${tag}.png`) })
        }
        const message = page.getByTestId('import-message')
        const importAndWait = async () => {
          const before = await message.textContent()
          await page.getByTestId('import-start').click()
          // The form clears the message when it starts, so wait for a new, non-empty one.
          await expect
            .poll(
              async () => {
                const t = (await message.textContent())?.trim() ?? ''
                return t !== '' && t !== before?.trim()
              },
              { timeout: 20_000 },
            )
            .toBe(true)
          await expect.poll(() => page.getByTestId('import-cancel').count()).toBe(0)
        }
        await page.goto(server.url)
        await page.getByTestId('nav-datasets').click()

        // 1. The format menu lists the registry; CSV shows its label column and bad-rows fields.
        const formatSelect = page.getByTestId('import-format')
        await expect
          .poll(() => formatSelect.locator('option').allTextContents())
          .toEqual([
            'Detect from the path',
            'Image folder',
            'CIFAR-10',
            'CIFAR-100',
            'IDX (MNIST layout)',
            'CSV',
            'Bundled sample',
          ])
        expect(await page.getByTestId('import-label').count()).toBe(0)
        await formatSelect.selectOption('csv')
        expect(await page.getByTestId('import-format-help').textContent()).toMatch(/label column/)
        const csv = join(dir, `ragged-${++variant}.csv`)
        raggedCsv(csv, variant)
        await page.getByTestId('import-path').fill(csv)
        await page.getByTestId('import-label').fill('species')

        // 2. The ragged row refuses the file: file, line, counts, and the way out in the form's words.
        await importAndWait()
        expect(await message.textContent()).toContain(
          `${csv}: line 7: expected 5 fields (as the header has), found 4; to import the other rows, choose skip for bad rows`,
        )
        expect(await message.textContent()).not.toMatch(/--[a-z]/)
        expect(await message.getAttribute('role')).toBe('alert')
        await check('ragged-refused')

        // 3. With skip it imports the rest, by the chosen label column, and lists the skipped line.
        await page.getByTestId('import-bad-rows').selectOption('skip')
        await importAndWait()
        expect(await message.textContent()).toMatch(
          /Imported "ragged-\d+": \d+ train, \d+ test samples; 1 left out/,
        )
        expect(await message.getAttribute('role')).toBe('status')
        await expect
          .poll(() => page.getByTestId(`dataset-ragged-${variant}`).textContent())
          .toMatch(/csv · 2×2×1 · 3 classes · /)
        await expect
          .poll(() => page.getByTestId('import-skipped').textContent())
          .toContain(`${csv}: line 7: expected 5 fields (as the header has), found 4`)
        expect(await page.getByTestId('import-notes').textContent()).toContain('1 bad row skipped')
        await check('ragged-skipped')

        // 4. A relative path says what it was resolved against and asks for an absolute one.
        await formatSelect.selectOption('')
        await page.getByTestId('import-path').fill('data/missing.csv')
        await importAndWait()
        expect(await message.textContent()).toContain(
          "data/missing.csv: not found; a relative path is resolved against the server's working folder",
        )
        expect(await message.textContent()).toContain(
          'Give the absolute path of the file or folder on the server',
        )
        await check('relative-path')

        // 5. A parent folder of several datasets lists them instead of importing one of them.
        const parent = join(dir, 'parent')
        await page.getByTestId('import-path').fill(parent)
        await importAndWait()
        expect(await message.textContent()).toContain(
          `${parent}: this folder holds 3 datasets: a.csv (CSV), b.csv (CSV), pets (Image folder); choose one of them`,
        )
        expect(await message.getAttribute('role')).toBe('alert')
        await check('parent-folder')

        writeFileSync(join(SHOTS, `axe-${tag}.txt`), problems.join('\n'))
        expect(problems, problems.join('\n')).toEqual([])
        expect(errors).toEqual([])
        await ctx.close()
      }, 90_000)
    }
  }
})
