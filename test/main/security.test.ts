/** One test per Electron security default (docs/design.md section 4), with `electron` mocked. */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { beforeEach, describe, expect, it, vi } from 'vitest'

const h = vi.hoisted(() => ({
  windows: [] as { options: Record<string, unknown>; loaded: string[] }[],
  openExternal: vi.fn(async (_url: string) => undefined),
}))

vi.mock('electron', () => {
  class BrowserWindow {
    loaded: string[] = []
    constructor(public options: Record<string, unknown>) {
      h.windows.push(this)
    }
    once(): void {}
    on(): void {}
    show(): void {}
    loadURL(url: string): Promise<void> {
      this.loaded.push(url)
      return Promise.resolve()
    }
    loadFile(file: string): Promise<void> {
      this.loaded.push(file)
      return Promise.resolve()
    }
  }
  return { BrowserWindow, shell: { openExternal: h.openExternal } }
})

const { createMainWindow, rendererTarget, appUrlOf, preloadPathOf } = await import('../../src/main/window')
const { CONTENT_SECURITY_POLICY, createAppUrlMatcher, hardenWebContents, installSessionSecurity } =
  await import('../../src/main/security')
const { openExternalSafe } = await import('../../src/main/external')

const appPath = '/opt/tfkd-studio'
const fileTarget = rendererTarget({ appPath, isPackaged: true, env: {} })
const appUrl = appUrlOf(fileTarget)

type Listener = (...args: unknown[]) => unknown
function fakeContents() {
  const listeners = new Map<string, Listener>()
  let openHandler: ((d: { url: string }) => unknown) | null = null
  return {
    on: (event: string, l: Listener) => void listeners.set(event, l),
    setWindowOpenHandler: (fn: (d: { url: string }) => unknown) => void (openHandler = fn),
    emit(event: string, url: string) {
      const e = { preventDefault: vi.fn() }
      listeners.get(event)?.(e, url)
      return e.preventDefault
    },
    open: (url: string) => openHandler?.({ url }),
  }
}

function fakeSession() {
  let headers: Listener | null = null
  let request: Listener | null = null
  let check: Listener | null = null
  return {
    webRequest: { onHeadersReceived: (l: Listener) => void (headers = l) },
    setPermissionRequestHandler: (l: Listener | null) => void (request = l),
    setPermissionCheckHandler: (l: Listener | null) => void (check = l),
    get headers() {
      return headers
    },
    get request() {
      return request
    },
    get check() {
      return check
    },
  }
}

beforeEach(() => {
  h.windows.length = 0
  h.openExternal.mockClear()
})

describe('Electron security defaults', () => {
  it('every window is isolated, sandboxed, without Node and with webSecurity', () => {
    createMainWindow({ preloadPath: preloadPathOf(appPath), target: fileTarget })
    expect(h.windows).toHaveLength(1)
    const prefs = h.windows[0]!.options.webPreferences as Record<string, unknown>
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      disableBlinkFeatures: 'Auxclick',
      preload: join(appPath, 'out', 'preload', 'index.cjs'),
    })
    // Served over the app:// scheme, never file:// (the GrantFileProtocolExtraPrivileges fuse is off).
    expect(h.windows[0]!.loaded).toEqual(['app://bundle/index.html'])
  })

  it('sets a strict CSP header on every response, replacing any other', () => {
    const s = fakeSession()
    installSessionSecurity(s as never)
    const callback = vi.fn()
    s.headers!(
      { responseHeaders: { 'content-security-policy': ['default-src *'], 'X-Other': ['1'] } },
      callback,
    )
    const sent = callback.mock.calls[0]![0] as { responseHeaders: Record<string, string[]> }
    expect(sent.responseHeaders['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY])
    expect(sent.responseHeaders['content-security-policy']).toBeUndefined()
    expect(sent.responseHeaders['X-Other']).toEqual(['1'])
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'")
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self';")
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/)
  })

  it('prevents navigation away from the app (parsed URLs, not prefixes)', () => {
    const c = fakeContents()
    hardenWebContents(c as never, { isAppUrl: createAppUrlMatcher(appUrl) })
    expect(c.emit('will-navigate', 'https://evil.example/')).toHaveBeenCalled()
    expect(c.emit('will-navigate', 'file:///etc/passwd')).toHaveBeenCalled()
    expect(
      c.emit('will-navigate', pathToFileURL('/opt/tfkd-studio/out/renderer/index.html').href),
    ).toHaveBeenCalled()
    expect(c.emit('will-navigate', 'app://evil/index.html')).toHaveBeenCalled()
    expect(c.emit('will-navigate', 'app://x@bundle/index.html')).toHaveBeenCalled()
    expect(c.emit('will-navigate', 'app://bundle.evil/index.html')).toHaveBeenCalled()
    expect(c.emit('will-navigate', 'other://bundle/index.html')).toHaveBeenCalled()
    expect(c.emit('will-redirect', 'https://evil.example/')).toHaveBeenCalled()
    expect(c.emit('will-navigate', `${appUrl}#/runs/3`)).not.toHaveBeenCalled()

    const dev = fakeContents()
    hardenWebContents(dev as never, { isAppUrl: createAppUrlMatcher('http://localhost:5173/') })
    expect(dev.emit('will-navigate', 'http://localhost:5173.evil.example/')).toHaveBeenCalled()
    expect(dev.emit('will-navigate', 'http://localhost:5174/')).toHaveBeenCalled()
    expect(dev.emit('will-navigate', 'http://localhost:5173/runs')).not.toHaveBeenCalled()
    expect(c.emit('will-attach-webview', 'https://evil.example/')).toHaveBeenCalled()
  })

  it('denies window.open; an http(s) target goes to the guarded external opener only', async () => {
    const c = fakeContents()
    const openExternal = vi.fn((url: string) => openExternalSafe(url))
    hardenWebContents(c as never, { isAppUrl: createAppUrlMatcher(appUrl), openExternal })
    expect(c.open('https://example.com/paper')).toEqual({ action: 'deny' })
    expect(c.open('file:///etc/passwd')).toEqual({ action: 'deny' })
    expect(c.open(appUrl)).toEqual({ action: 'deny' })
    await Promise.resolve()
    expect(h.openExternal.mock.calls.map((a) => a[0])).toEqual(['https://example.com/paper'])
  })

  it('openExternal refuses file:, javascript: and other schemes, allows http(s), and lives in one module', async () => {
    for (const bad of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://attacker/share',
      'ms-msdt:/id',
      'data:text/html,x',
      '/relative',
      'not a url',
      42,
    ]) {
      expect(await openExternalSafe(bad)).toBe(false)
    }
    expect(h.openExternal).not.toHaveBeenCalled()
    expect(await openExternalSafe('https://arxiv.org/abs/1909.11723')).toBe(true)
    expect(await openExternalSafe('http://example.com/')).toBe(true)
    expect(h.openExternal.mock.calls.map((a) => a[0])).toEqual([
      'https://arxiv.org/abs/1909.11723',
      'http://example.com/',
    ])

    const srcRoot = join(import.meta.dirname, '..', '..', 'src')
    // Only external.ts may touch Electron's `shell` (import it, or call shell.openExternal).
    const usesShell = (text: string): boolean =>
      /\bshell\s*\.\s*openExternal\b/.test(text) ||
      /import\s*\{[^}]*\bshell\b[^}]*\}\s*from\s*['"]electron['"]/.test(text)
    const callers = listTs(srcRoot).filter((f) => usesShell(stripComments(readFileSync(f, 'utf8'))))
    expect(callers.map((f) => f.slice(srcRoot.length + 1).replaceAll('\\', '/'))).toEqual([
      'main/external.ts',
    ])
  })

  it('denies every permission request and permission check', () => {
    const s = fakeSession()
    installSessionSecurity(s as never)
    for (const permission of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal']) {
      const callback = vi.fn()
      s.request!({}, permission, callback, {})
      expect(callback).toHaveBeenCalledWith(false)
      expect(s.check!({}, permission, 'file://', {})).toBe(false)
    }
  })
})

function listTs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return listTs(p)
    return /\.(ts|vue)$/.test(name) ? [p] : []
  })
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
}
