/**
 * Launches the built desktop app (out/main/index.js) in the real Electron binary. Needs
 * `npm run build` and `node scripts/electron-native.mjs`; skipped where the Electron binary is not
 * installed (CI, this repository's build box).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')

/**
 * The executable node_modules/electron would hand out, found without `require('electron')`: that
 * require starts a download when the binary is missing.
 */
function electronExecutable(): string | null {
  const dir = join(root, 'node_modules', 'electron')
  const pathFile = join(dir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const rel = readFileSync(pathFile, 'utf8').trim()
  const exe = process.env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(process.env.ELECTRON_OVERRIDE_DIST_PATH, rel || 'electron')
    : join(dir, 'dist', rel)
  return existsSync(exe) ? exe : null
}

const executablePath = electronExecutable()
const hasElectron = executablePath !== null
if (!hasElectron) {
  console.warn(
    'electron smoke test skipped: Electron binary not installed (node_modules/electron/dist is missing; ' +
      'run `npx install-electron`, `npm run build` and `node scripts/electron-native.mjs` to enable it)',
  )
}

describe('electron smoke', () => {
  it.skipIf(!hasElectron)('opens the window with window.api and without Node in the page', async () => {
    const { _electron } = await import('playwright-core')
    const home = mkdtempSync(join(tmpdir(), 'tfkd-electron-'))
    const app = await _electron.launch({
      executablePath: executablePath!,
      args: [join(root, 'out', 'main', 'index.js')],
      cwd: root,
      env: { ...process.env, TFKD_HOME: home },
    })
    try {
      const page = await app.firstWindow()
      await page.waitForLoadState('domcontentloaded')
      await expect.poll(() => page.title(), { timeout: 30_000 }).toMatch(/tfkd/i)
      // Served over the app:// scheme (never file://), and the Vue app rendered its views.
      expect(page.url()).toMatch(/^app:\/\/bundle\//)
      await page.getByTestId('nav-datasets').waitFor({ timeout: 30_000 })
      const probe = await page.evaluate(() => {
        // Runs in the page; this file is typed without the DOM lib.
        const w = globalThis as unknown as Record<string, unknown>
        return {
          api: typeof w.api,
          on: typeof (w.api as Record<string, unknown> | undefined)?.on,
          require: typeof w.require,
          process: typeof w.process,
        }
      })
      expect(probe).toEqual({ api: 'object', on: 'function', require: 'undefined', process: 'undefined' })
      const info = await page.evaluate(() =>
        (globalThis as unknown as { api: { 'app:info': (i: object) => Promise<unknown> } }).api['app:info'](
          {},
        ),
      )
      expect(info).toMatchObject({ ok: true, value: { host: 'electron', dataHome: home } })
    } finally {
      await app.close()
      rmSync(home, { recursive: true, force: true })
    }
  })
})
