/** The app:// scheme that serves the renderer: privileges, path-escape check, headers, and ipc senders. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import {
  APP_INDEX_URL,
  APP_SCHEME_PRIVILEGES,
  createAppProtocolHandler,
  handleAppProtocol,
  registerAppScheme,
  resolveAppPath,
} from '../../src/main/app-protocol'
import { senderProblem } from '../../src/main/ipc'
import { CONTENT_SECURITY_POLICY, createAppUrlMatcher } from '../../src/main/security'

const work = mkdtempSync(join(tmpdir(), 'tfkd-app-protocol-'))
const root = join(work, 'renderer')
mkdirSync(join(root, 'assets'), { recursive: true })
writeFileSync(join(root, 'index.html'), '<!doctype html><title>tfkd studio</title>')
writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)')
writeFileSync(join(work, 'secret.txt'), 'outside the renderer')
symlinkSync(join(work, 'secret.txt'), join(root, 'assets', 'link.txt'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const handler = createAppProtocolHandler({ root, csp: CONTENT_SECURITY_POLICY })
const get = (url: string, method = 'GET') => handler(new Request(url, { method }))

describe('app:// scheme', () => {
  it('is registered as privileged (standard, secure, fetch) without bypassing CSP', () => {
    const registerSchemesAsPrivileged = vi.fn()
    registerAppScheme({ registerSchemesAsPrivileged })
    expect(registerSchemesAsPrivileged).toHaveBeenCalledWith([
      { scheme: 'app', privileges: APP_SCHEME_PRIVILEGES },
    ])
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({ standard: true, secure: true, supportFetchAPI: true })
    expect(APP_SCHEME_PRIVILEGES).not.toHaveProperty('bypassCSP')
    expect(APP_SCHEME_PRIVILEGES).not.toHaveProperty('corsEnabled')
    const handle = vi.fn()
    handleAppProtocol({ handle }, { root, csp: 'x' })
    expect(handle).toHaveBeenCalledWith('app', expect.any(Function))
  })

  it('serves the renderer with its content type, the CSP and nosniff', async () => {
    const index = await get(APP_INDEX_URL)
    expect(index.status).toBe(200)
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(index.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY)
    expect(index.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await index.text()).toContain('tfkd studio')
    const root = await get('app://bundle/')
    expect(await root.text()).toContain('tfkd studio')
    const js = await get('app://bundle/assets/index-abc.js?v=1#x')
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await js.text()).toBe('console.log(1)')
    const head = await get(APP_INDEX_URL, 'HEAD')
    expect(head.status).toBe(200)
  })

  it('refuses paths that leave the renderer folder, other hosts, and writes', async () => {
    for (const url of [
      'app://bundle/../secret.txt',
      'app://bundle/%2e%2e/secret.txt',
      'app://bundle/assets/..%2f..%2fsecret.txt',
      'app://bundle/..%5csecret.txt',
      'app://bundle/assets%2f..%2f..%2f..%2fetc%2fpasswd',
      'app://bundle/index.html%00.js',
      'app://bundle/%E0%A4%A',
      'app://other/index.html',
      'app://bundle/assets/link.txt',
      'file:///etc/passwd',
    ]) {
      const r = await get(url)
      expect(r.status, url).toBeGreaterThanOrEqual(400)
      expect(await r.text(), url).not.toContain('outside the renderer')
    }
    // An encoded backslash is a separator on Windows only; on POSIX it stays inside the folder.
    expect(resolveAppPath(root, 'app://bundle/..%5c..%5csecret.txt')?.startsWith(root)).toBe(true)
    // The URL parser already folds %2e%2e segments: what is left is inside the folder.
    expect(resolveAppPath(root, 'app://bundle/%2e%2e/%2e%2e/etc/passwd')).toBe(join(root, 'etc', 'passwd'))
    expect((await get('app://bundle/missing.js')).status).toBe(404)
    expect((await get('app://bundle/assets')).status).toBe(404)
    expect((await get(APP_INDEX_URL, 'POST')).status).toBe(405)
  })

  it('the navigation and IPC checks accept app://bundle pages only', () => {
    const isApp = createAppUrlMatcher(APP_INDEX_URL)
    expect(isApp('app://bundle/index.html#/history')).toBe(true)
    expect(isApp('app://bundle/other.html')).toBe(true)
    for (const bad of [
      'app://bundle2/index.html',
      'app://u:p@bundle/index.html',
      'file:///index.html',
      'http://bundle/',
    ]) {
      expect(isApp(bad), bad).toBe(false)
    }
    expect(senderProblem({ senderFrame: { url: APP_INDEX_URL, parent: null } }, isApp)).toBeNull()
    expect(senderProblem({ senderFrame: { url: 'app://evil/index.html', parent: null } }, isApp)).toMatch(
      /not the app/,
    )
  })
})
