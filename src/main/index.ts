/**
 * Electron host: app lifecycle. The core (src/core) owns the data; this file opens it with the
 * Electron-ABI SQLite binary, hardens every WebContents, routes IPC to `core.dispatch` and forwards
 * the core's pushes to the window.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  Notification,
  protocol,
  screen,
  session,
} from 'electron'
import { PUSH_CHANNELS } from '../shared/contract'
import { resolveDataHome } from '../core/paths'
import { createAppCore, type AppCore } from '../core/app/app-core'
import { handleAppProtocol, registerAppScheme } from './app-protocol'
import { focusWindow, installDesktop } from './desktop'
import { createDialogHandlers } from './dialogs'
import { openExternalSafe, openFolderSafe } from './external'
import { registerRoutes } from './ipc'
import { nativeBindingPath } from './native-binding'
import {
  CONTENT_SECURITY_POLICY,
  createAppUrlMatcher,
  hardenWebContents,
  installSessionSecurity,
} from './security'
import { installQuitHandling } from './quit'
import { createUtilitySpawner } from './trainer-spawn'
import {
  APP_TITLE,
  appUrlOf,
  createMainWindow,
  preloadPathOf,
  rendererTarget,
  windowIconPath,
} from './window'
import { loadWindowState, restoreBounds, trackWindowState } from './window-state'

const CLOSE_TIMEOUT_MS = 15_000

// userData decides the single-instance lock, so set it first: two different TFKD_HOMEs (e.g. the
// e2e tests' temp homes) are two independent apps.
const dataHome = resolveDataHome()
mkdirSync(dataHome, { recursive: true })
app.setPath('userData', dataHome)
// Every renderer sandboxed, whatever a window's webPreferences say.
app.enableSandbox()
// The renderer's scheme must be privileged before 'ready' (app-protocol.ts).
registerAppScheme(protocol)

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  start()
}

/**
 * Connects the core to the desktop: push events to the window, the menu, notifications and the
 * taskbar/dock progress of runs (installDesktop).
 */
function connectDesktop(opened: AppCore, getWindow: () => BrowserWindow | null): void {
  for (const channel of PUSH_CHANNELS) {
    opened.on(channel, (payload) => {
      const win = getWindow()
      if (win && !win.isDestroyed()) win.webContents.send(channel, payload)
    })
  }
  const desktop = installDesktop({
    appName: APP_TITLE,
    version: app.getVersion(),
    dataHome,
    isDev: !app.isPackaged,
    platform: process.platform,
    getWindow,
    dispatch: opened.dispatch,
    dialog,
    setApplicationMenu: (template) => Menu.setApplicationMenu(Menu.buildFromTemplate(template)),
    openFolder: (p) => openFolderSafe(p),
    // writeText answers a promise in this Electron (the renderer's clipboard is async): catch it.
    writeClipboard: (text) => {
      clipboard.writeText(text).catch((err: unknown) => console.error('[main] clipboard:', err))
    },
    notify: Notification.isSupported()
      ? (n) =>
          new Notification({
            title: n.title,
            body: n.body,
            urgency: n.urgent ? 'critical' : 'normal',
          }).show()
      : undefined,
  })
  opened.on('runs:progress', (p) => desktop.feedback.onProgress(p))
  opened.on('runs:status', (e) => {
    desktop.feedback.onStatus(e).catch((err: unknown) => console.error('[main] run feedback:', err))
  })
}

/** better-sqlite3's binary for this Electron; when it is missing, says how to build it and exits. */
function nativeBindingOrExit(appPath: string): string | null {
  const nativeBinding = nativeBindingPath({
    isPackaged: app.isPackaged,
    appPath,
    resourcesPath: process.resourcesPath,
    electronVersion: process.versions.electron ?? 'unknown',
  })
  if (existsSync(nativeBinding)) return nativeBinding
  dialog.showErrorBox(
    'SQLite binary missing',
    `better-sqlite3 built for this Electron was not found at\n${nativeBinding}\n\n` +
      'Run `node scripts/electron-native.mjs` (npm start and npm run dev do this).',
  )
  app.exit(1)
  return null
}

function start(): void {
  let core: AppCore | null = null
  let mainWindow: BrowserWindow | null = null

  const appPath = app.getAppPath()
  const target = rendererTarget({ appPath, isPackaged: app.isPackaged, env: process.env })
  const isAppUrl = createAppUrlMatcher(appUrlOf(target))

  app.on('web-contents-created', (_event, contents) => {
    hardenWebContents(contents, { isAppUrl, openExternal: (url) => openExternalSafe(url) })
  })

  // A second launch quits at once (requestSingleInstanceLock above); this one comes to the front.
  app.on('second-instance', () => void focusWindow(mainWindow))

  const openWindow = (): void => {
    const saved = loadWindowState(dataHome)
    const win = createMainWindow({
      preloadPath: preloadPathOf(appPath),
      target,
      bounds: restoreBounds(
        saved,
        screen.getAllDisplays().map((d) => d.workArea),
      ),
      icon: windowIconPath({ appPath, isPackaged: app.isPackaged, resourcesPath: process.resourcesPath }),
      devTools: !app.isPackaged,
    })
    if (saved?.maximized) win.maximize()
    trackWindowState(win, dataHome)
    win.on('closed', () => {
      mainWindow = null
    })
    mainWindow = win
  }

  app
    .whenReady()
    .then(() => {
      const nativeBinding = nativeBindingOrExit(appPath)
      if (!nativeBinding) return

      installSessionSecurity(session.defaultSession)
      if (target.kind === 'app') {
        handleAppProtocol(session.defaultSession.protocol, {
          root: target.root,
          csp: CONTENT_SECURITY_POLICY,
        })
      }
      const opened = createAppCore({
        dataHome,
        host: 'electron',
        spawnTrainer: createUtilitySpawner(join(appPath, 'out', 'main', 'trainer.js')),
        nativeBinding,
        version: app.getVersion(),
        hostHandlers: createDialogHandlers({ dialog, getWindow: () => mainWindow }),
      })
      core = opened
      registerRoutes({ ipcMain, dispatch: opened.dispatch, isTrustedSender: isAppUrl })
      connectDesktop(opened, () => mainWindow)
      openWindow()
      app.on('activate', () => {
        if (BrowserWindow.getAllWindows().length === 0) openWindow()
      })
    })
    .catch((err: unknown) => {
      dialog.showErrorBox('TFKD Studio failed to start', err instanceof Error ? err.message : String(err))
      app.exit(1)
    })

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })

  // A quit waits for the core to close; SIGINT / SIGTERM / SIGHUP cancel as in every host (quit.ts).
  installQuitHandling({
    app,
    getCore: () => core,
    releaseCore: () => void (core = null),
    closeTimeoutMs: CLOSE_TIMEOUT_MS,
  })
}
