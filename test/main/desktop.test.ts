/**
 * Desktop conveniences with the `electron` module mocked: the native menu (and DevTools only in
 * development), About / Report a problem / Open data folder, the menu's import and navigation
 * commands, window size and position remembered, notifications and the taskbar progress bar, and
 * single instance (a second launch focuses the first window).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserWindow, MenuItemConstructorOptions } from 'electron'
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Envelope } from '../../src/shared/errors'
import type { RunStatusEvent } from '../../src/shared/types'

const h = vi.hoisted(() => ({
  windows: [] as { options: Record<string, unknown> }[],
  appHandlers: new Map<string, (...args: unknown[]) => void>(),
  lock: true,
  quit: vi.fn(),
  openPath: vi.fn(async (_p: string) => ''),
}))

vi.mock('electron', () => {
  class BrowserWindow {
    constructor(public options: Record<string, unknown>) {
      h.windows.push(this)
    }
    once(): void {}
    on(): void {}
    loadURL(): Promise<void> {
      return Promise.resolve()
    }
    static getAllWindows(): unknown[] {
      return h.windows
    }
  }
  const app = {
    setPath: vi.fn(),
    enableSandbox: vi.fn(),
    requestSingleInstanceLock: () => h.lock,
    quit: h.quit,
    on: (event: string, l: (...args: unknown[]) => void) => void h.appHandlers.set(event, l),
    // Never ready: the lifecycle test stops before the core opens.
    whenReady: () => new Promise(() => undefined),
    getAppPath: () => '/opt/tfkd-studio',
    isPackaged: true,
  }
  return {
    app,
    BrowserWindow,
    shell: { openPath: h.openPath, openExternal: vi.fn() },
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
    session: {},
    ipcMain: { handle: vi.fn(), removeHandler: vi.fn() },
    dialog: {},
    Menu: {},
    Notification: { isSupported: () => false },
    clipboard: {},
    screen: {},
  }
})

const { buildMenuTemplate, menuItems } = await import('../../src/main/menu')
const { focusWindow, installDesktop, sendCommand } = await import('../../src/main/desktop')
const { createRunFeedback } = await import('../../src/main/run-feedback')
const { loadWindowState, restoreBounds, saveWindowState, trackWindowState, WINDOW_STATE_FILE } =
  await import('../../src/main/window-state')
const { createMainWindow } = await import('../../src/main/window')
const { openFolderSafe } = await import('../../src/main/external')

const work = mkdtempSync(join(tmpdir(), 'tfkd-desktop-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))
beforeEach(() => {
  h.windows.length = 0
})

function noopActions() {
  return {
    importDataset: vi.fn(),
    command: vi.fn(),
    openDataFolder: vi.fn(),
    about: vi.fn(),
    reportProblem: vi.fn(),
  }
}

function fakeWindow() {
  return {
    isDestroyed: () => false,
    isMinimized: vi.fn(() => true),
    restore: vi.fn(),
    focus: vi.fn(),
    setProgressBar: vi.fn(),
    webContents: { send: vi.fn() },
  }
}

const click = (items: MenuItemConstructorOptions[], label: string | RegExp): void => {
  const item = menuItems(items).find((i) =>
    typeof label === 'string' ? i.label === label : label.test(i.label ?? ''),
  )
  expect(item, String(label)).toBeDefined()
  ;(item!.click as () => void)()
}

describe('native menu', () => {
  it('has File (import, export, open data folder), View and Help (about, diagnostics, report)', () => {
    const actions = noopActions()
    const t = buildMenuTemplate({ isDev: false, platform: 'linux', appName: 'TFKD Studio', actions })
    expect(t.map((m) => m.label ?? m.role)).toEqual(['&File', '&Edit', '&View', 'windowMenu', 'help'])
    click(t, 'Import Dataset Folder...')
    expect(actions.importDataset).toHaveBeenCalledWith('folder')
    click(t, /^Import Dataset File/)
    expect(actions.importDataset).toHaveBeenCalledWith('file')
    click(t, 'Export...')
    expect(actions.command).toHaveBeenLastCalledWith({ kind: 'navigate', view: 'exports' })
    click(t, 'Open Data Folder')
    expect(actions.openDataFolder).toHaveBeenCalled()
    click(t, 'Diagnostics')
    expect(actions.command).toHaveBeenLastCalledWith({ kind: 'navigate', view: 'diagnostics' })
    click(t, 'Report a Problem...')
    expect(actions.reportProblem).toHaveBeenCalled()
    click(t, 'About TFKD Studio')
    expect(actions.about).toHaveBeenCalled()
    // macOS: About lives in the app menu, File closes the window instead of quitting.
    const mac = buildMenuTemplate({ isDev: false, platform: 'darwin', appName: 'TFKD Studio', actions })
    expect(mac[0]!.label).toBe('TFKD Studio')
    expect(menuItems(mac).filter((i) => i.label === 'About TFKD Studio')).toHaveLength(1)
  })

  it('offers DevTools and reload only in development', () => {
    const roles = (isDev: boolean) =>
      menuItems(buildMenuTemplate({ isDev, platform: 'linux', appName: 'x', actions: noopActions() })).map(
        (i) => i.role,
      )
    expect(roles(true)).toEqual(expect.arrayContaining(['toggleDevTools', 'reload']))
    expect(roles(false)).not.toContain('toggleDevTools')
    expect(roles(false)).not.toContain('reload')
    expect(roles(false)).not.toContain('forceReload')
  })

  it('the window cannot open DevTools when packaged', () => {
    createMainWindow({ preloadPath: '/p.cjs', target: { kind: 'url', url: 'app://bundle/index.html' } })
    createMainWindow({
      preloadPath: '/p.cjs',
      target: { kind: 'url', url: 'app://bundle/index.html' },
      devTools: true,
    })
    const prefs = h.windows.map((w) => (w.options.webPreferences as { devTools: boolean }).devTools)
    expect(prefs).toEqual([false, true])
  })
})

describe('menu actions', () => {
  function deps(overrides: Record<string, unknown> = {}) {
    const win = fakeWindow()
    const dispatch = vi.fn(async (channel: string): Promise<Envelope<unknown>> => {
      if (channel === 'app:info')
        return {
          ok: true,
          value: { platform: 'linux', versions: { electron: '45.5.0', chrome: '140', node: '22' } },
        }
      return { ok: true, value: null }
    })
    const d = {
      appName: 'TFKD Studio',
      version: '0.1.0',
      dataHome: work,
      isDev: false,
      platform: 'linux' as const,
      getWindow: () => win as unknown as BrowserWindow,
      dispatch,
      dialog: {
        showOpenDialog: vi.fn(async () => ({ canceled: false, filePaths: ['/data/cifar'] })),
        showMessageBox: vi.fn(async () => ({ response: 0, checkboxChecked: false })),
      },
      setApplicationMenu: vi.fn(),
      openFolder: vi.fn(async () => ''),
      writeClipboard: vi.fn(),
      notify: vi.fn(),
      now: () => 1_700_000_000_000,
      ...overrides,
    }
    return { d, win }
  }

  it('import shows the open dialog and sends the path to the import form; export navigates', async () => {
    const { d, win } = deps()
    const desktop = installDesktop(d)
    expect(d.setApplicationMenu).toHaveBeenCalledWith(desktop.menu)
    click(desktop.menu, 'Import Dataset Folder...')
    await vi.waitFor(() => expect(win.webContents.send).toHaveBeenCalled())
    expect(d.dialog.showOpenDialog).toHaveBeenCalledWith(
      win,
      expect.objectContaining({ properties: ['openDirectory'] }),
    )
    expect(win.webContents.send).toHaveBeenLastCalledWith('app:command', {
      kind: 'import',
      path: '/data/cifar',
    })
    // A minimized window is restored and focused first.
    expect(win.restore).toHaveBeenCalled()
    expect(win.focus).toHaveBeenCalled()
    click(desktop.menu, 'Export...')
    expect(win.webContents.send).toHaveBeenLastCalledWith('app:command', {
      kind: 'navigate',
      view: 'exports',
    })
    sendCommand({ getWindow: () => null }, { kind: 'navigate', view: 'runs' })
  })

  it('About names the versions and the data folder', async () => {
    const { d } = deps()
    await installDesktop(d).about()
    const opts = (d.dialog.showMessageBox.mock.calls[0] as unknown[])[1] as { detail: string }
    expect(opts.detail).toContain('Version 0.1.0')
    expect(opts.detail).toContain('Electron 45.5.0')
    expect(opts.detail).toContain(work)
  })

  it('Report a problem saves and copies a report, and can open its folder', async () => {
    const { d } = deps()
    const file = await installDesktop(d).reportProblem()
    const text = readFileSync(file, 'utf8')
    expect(text).toMatch(/TFKD Studio 0\.1\.0 problem report/)
    expect(text).toContain('electron: 45.5.0')
    expect(text).toContain('backend ladder: not probed yet')
    expect(d.writeClipboard).toHaveBeenCalledWith(text)
    expect(d.openFolder).toHaveBeenCalledWith(work)
  })

  it('Open data folder opens only an existing absolute folder, never a file', async () => {
    expect(await openFolderSafe(work)).toBe('')
    expect(h.openPath).toHaveBeenCalledWith(work)
    h.openPath.mockClear()
    writeFileSync(join(work, 'run.sh'), 'echo')
    expect(await openFolderSafe(join(work, 'run.sh'))).toMatch(/not a folder/)
    expect(await openFolderSafe('relative/dir')).toMatch(/not an absolute/)
    expect(await openFolderSafe(join(work, 'missing'))).toMatch(/not a folder/)
    expect(h.openPath).not.toHaveBeenCalled()
  })
})

describe('window size and position', () => {
  it('is saved (debounced, normal bounds) and restored on a display that still exists', async () => {
    const listeners = new Map<string, () => void>()
    let bounds = { x: 100, y: 80, width: 1400, height: 900 }
    const win = {
      on: (e: string, l: () => void) => void listeners.set(e, l),
      getNormalBounds: () => bounds,
      isMaximized: () => false,
      isMinimized: () => false,
      isFullScreen: () => false,
    }
    trackWindowState(win, work, { delayMs: 5 })
    listeners.get('resize')!()
    bounds = { x: 120, y: 90, width: 1300, height: 850 }
    listeners.get('move')!()
    await new Promise((r) => setTimeout(r, 30))
    expect(loadWindowState(work)).toEqual({
      bounds: { x: 120, y: 90, width: 1300, height: 850 },
      maximized: false,
    })
    bounds = { x: 10, y: 10, width: 1000, height: 700 }
    listeners.get('close')!()
    const saved = loadWindowState(work)!
    expect(saved.bounds).toEqual({ x: 10, y: 10, width: 1000, height: 700 })

    const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }]
    expect(restoreBounds(saved, screen)).toEqual({ x: 10, y: 10, width: 1000, height: 700 })
    // The monitor it was on is gone: keep the size, let the OS place it.
    expect(
      restoreBounds({ bounds: { x: 3000, y: 200, width: 1000, height: 700 }, maximized: false }, screen),
    ).toEqual({
      width: 1000,
      height: 700,
    })
    // Larger than the remaining display: shrunk to it, never below the minimum size.
    expect(
      restoreBounds({ bounds: { x: 0, y: 0, width: 4000, height: 3000 }, maximized: false }, [
        { x: 0, y: 0, width: 1280, height: 800 },
      ]),
    ).toEqual({ x: 0, y: 0, width: 1280, height: 800 })
    expect(
      restoreBounds({ bounds: { x: 0, y: 0, width: 10, height: 10 }, maximized: false }, screen),
    ).toMatchObject({
      width: 900,
      height: 600,
    })
    expect(restoreBounds(null, screen)).toEqual({ width: 1280, height: 840 })
  })

  it('ignores a missing or corrupt state file', () => {
    const dir = mkdtempSync(join(work, 'state-'))
    expect(loadWindowState(dir)).toBeNull()
    writeFileSync(join(dir, WINDOW_STATE_FILE), '{"bounds": {"x": "a"}}')
    expect(loadWindowState(dir)).toBeNull()
    writeFileSync(join(dir, WINDOW_STATE_FILE), 'not json')
    expect(loadWindowState(dir)).toBeNull()
    saveWindowState(dir, { bounds: { x: 1, y: 2, width: 1000, height: 700 }, maximized: true })
    expect(loadWindowState(dir)).toEqual({
      bounds: { x: 1, y: 2, width: 1000, height: 700 },
      maximized: true,
    })
  })
})

describe('notifications and taskbar progress', () => {
  function harness(runCounts: Record<string, number>) {
    const setProgress = vi.fn()
    const notify = vi.fn()
    let t = 0
    const counts = { ...runCounts }
    const dispatch = vi.fn(async (channel: string, input: unknown): Promise<Envelope<unknown>> => {
      if (channel === 'runs:get') {
        const runId = (input as { runId: number }).runId
        return {
          ok: true,
          value: {
            id: runId,
            variant: runId === 3 ? 'baseline' : 'tfkd-self',
            experimentId: runId === 3 ? null : 7,
          },
        }
      }
      if (channel === 'experiments:get')
        return { ok: true, value: { id: 7, name: 'cifar sweep', runCounts: counts } }
      return { ok: false, error: { code: 'not_found', message: channel } }
    })
    const fb = createRunFeedback({ dispatch, setProgress, notify, now: () => (t += 1000) })
    return { fb, setProgress, notify, counts }
  }
  const status = (
    runId: number,
    s: RunStatusEvent['status'],
    failureReason: string | null = null,
  ): RunStatusEvent => ({
    runId,
    status: s,
    failureReason,
    testAccuracy: s === 'completed' ? 0.9123 : null,
  })

  it('shows the mean progress of the runs in flight and removes the bar when none is left', async () => {
    const { fb, setProgress, counts } = harness({ running: 2 })
    await fb.onStatus(status(1, 'running'))
    fb.onProgress({ runId: 1, fraction: 0.5 } as never)
    fb.onProgress({ runId: 2, fraction: 0.25 } as never)
    expect(setProgress).toHaveBeenLastCalledWith(0.375)
    counts.running = 1
    counts.completed = 1
    await fb.onStatus(status(1, 'completed'))
    expect(setProgress).toHaveBeenLastCalledWith(0.25)
    counts.running = 0
    counts.completed = 2
    await fb.onStatus(status(2, 'completed'))
    expect(setProgress).toHaveBeenLastCalledWith(-1)
    expect(fb.shown()).toBe(-1)
  })

  it('notifies when a run fails and once when its experiment has nothing left to run', async () => {
    const { fb, notify, counts } = harness({ running: 1, queued: 1, completed: 1 })
    counts.running = 1
    counts.queued = 0
    counts.failed = 1
    await fb.onStatus(status(5, 'failed', 'non-finite loss at epoch 3'))
    expect(notify).toHaveBeenCalledTimes(1)
    expect(notify).toHaveBeenLastCalledWith({
      title: 'Run #5 (tfkd-self) failed',
      body: 'non-finite loss at epoch 3',
      urgent: true,
    })
    counts.running = 0
    counts.completed = 2
    await fb.onStatus(status(6, 'completed'))
    expect(notify).toHaveBeenCalledTimes(2)
    expect(notify).toHaveBeenLastCalledWith(
      expect.objectContaining({
        title: 'Experiment "cifar sweep" finished with problems',
        body: expect.stringContaining('2 completed, 1 failed'),
      }),
    )
    await fb.onStatus(status(6, 'completed'))
    expect(notify).toHaveBeenCalledTimes(2)
    // A run outside an experiment says its accuracy.
    await fb.onStatus(status(3, 'completed'))
    expect(notify).toHaveBeenLastCalledWith({
      title: 'Run #3 (baseline) completed',
      body: 'Finished: test accuracy 91.23 %.',
    })
  })
})

describe('single instance', () => {
  it('a second launch quits at once; the first focuses its window when another starts', async () => {
    const before = process.env.TFKD_HOME
    vi.resetModules()
    h.lock = false
    process.env.TFKD_HOME = join(work, 'home-a')
    await import('../../src/main/index')
    expect(h.quit).toHaveBeenCalled()
    expect(h.appHandlers.has('second-instance')).toBe(false)

    vi.resetModules()
    h.lock = true
    h.quit.mockClear()
    await import('../../src/main/index')
    expect(h.quit).not.toHaveBeenCalled()
    const second = h.appHandlers.get('second-instance')
    expect(second).toBeDefined()
    // No window yet (the app is not ready): nothing to focus, and no throw.
    expect(() => second!()).not.toThrow()
    if (before === undefined) delete process.env.TFKD_HOME
    else process.env.TFKD_HOME = before
    // With a window: restored if minimized, then focused.
    const win = fakeWindow()
    expect(focusWindow(win as unknown as BrowserWindow)).toBe(true)
    expect(win.restore).toHaveBeenCalled()
    expect(win.focus).toHaveBeenCalled()
    expect(focusWindow(null)).toBe(false)
  })
})
