/**
 * `npm ci` then `npx tfkd serve` must show the UI: the install's `prepare` script (the one npm runs
 * after `npm ci`) builds the renderer as well as out/node, and the served URL answers the app's
 * index.html. Run on a copy of the sources with the repository's node_modules, so the real
 * out/ folder (read by the other tests) is not rebuilt underneath them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const REPO = resolve(__dirname, '../..')
const COPIED = [
  'bin',
  'src',
  'scripts',
  'package.json',
  'electron.vite.config.ts',
  'tsconfig.json',
  'tsconfig.base.json',
  'tsconfig.node.json',
  'tsconfig.web.json',
]

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function get(url: string, cookie?: string): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = request(url, { headers: cookie ? { cookie } : {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      )
    })
    req.on('error', fail)
    req.end()
  })
}

/** Starts `node bin/tfkd.js serve --port 0` in `dir`; resolves with the printed URL and stderr so far. */
function serve(
  dir: string,
  home: string,
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [join(dir, 'bin/tfkd.js'), 'serve', '--port', '0'], {
    env: { ...process.env, TFKD_HOME: home },
  })
  let out = ''
  let err = ''
  child.stderr.on('data', (c: Buffer) => (err += c.toString()))
  return new Promise((done, fail) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out)
      if (m?.[1]) done({ child, url: m[1], stderr: () => err })
    })
    child.on('exit', (code) => fail(new Error(`tfkd serve exited with ${code}: ${err}`)))
  })
}

/** Opens the printed URL as a browser does: the token sets a cookie, then `/` is fetched with it. */
async function openUi(url: string): Promise<Reply> {
  const first = await get(url)
  expect(first.status).toBe(302)
  const cookie = String(first.headers['set-cookie']).split(';')[0]
  return get(new URL('/', url).href, cookie)
}

describe('npm ci then tfkd serve', () => {
  let dir: string
  let home: string
  const children: ChildProcess[] = []

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tfkd-install-'))
    home = join(dir, 'home')
    for (const entry of COPIED) cpSync(join(REPO, entry), join(dir, entry), { recursive: true })
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir')
  })
  afterAll(() => {
    for (const c of children) c.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  })

  it('the prepare script npm runs at install builds the CLI and the renderer', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    expect(pkg.scripts.prepare).toBeDefined()
    const r = spawnSync('npm', ['run', 'prepare', '--silent'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 180_000,
    })
    expect(r.status, r.stderr).toBe(0)
    expect(existsSync(join(dir, 'out/node/cli.js'))).toBe(true)
    expect(existsSync(join(dir, 'out/node/trainer.js'))).toBe(true)
    expect(existsSync(join(dir, 'out/renderer/index.html'))).toBe(true)
  })

  it('the URL tfkd serve prints answers the UI', async () => {
    const s = await serve(dir, home)
    children.push(s.child)
    const page = await openUi(s.url)
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toBe(readFileSync(join(dir, 'out/renderer/index.html'), 'utf8'))
    expect(page.body).toMatch(/<script[^>]+src="\.?\/assets\//)
    expect(s.stderr()).not.toMatch(/not built/)
  })

  it('without the renderer it says how to build it, on the page and in the terminal', async () => {
    rmSync(join(dir, 'out/renderer'), { recursive: true, force: true })
    const s = await serve(dir, home)
    children.push(s.child)
    const page = await openUi(s.url)
    expect(page.status).toBe(503)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toMatch(/The tfkd-studio UI is not built/)
    expect(page.body).toMatch(/npm run build:renderer/)
    await expect.poll(() => s.stderr()).toMatch(/the UI is not built .*npm run build:renderer/)
  })
})
