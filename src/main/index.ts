/**
 * Electron host: app lifecycle. The core (src/core) owns the data; this file opens it with the
 * Electron-ABI SQLite binary, hardens every WebContents, routes IPC to `core.dispatch` and forwards
 * the core's pushes to the window.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { app, BrowserWindow, dialog, ipcMain, protocol, session } from 'electron'
import { PUSH_CHANNELS } from '../shared/contract'
import { resolveDataHome } from '../core/paths'
import { createAppCore, type AppCore } from '../core/services/app-core'
import { handleAppProtocol, registerAppScheme } from './app-protocol'
import { createDialogHandlers } from './dialogs'
import { openExternalSafe } from './external'
import { registerRoutes } from './ipc'
import { nativeBindingPath } from './native-binding'
import {
  CONTENT_SECURITY_POLICY,
  createAppUrlMatcher,
  hardenWebContents,
  installSessionSecurity,
} from './security'
import { createUtilitySpawner } from './trainer-spawn'
import { appUrlOf, createMainWindow, preloadPathOf, rendererTarget } from './window'

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

function start(): void {
  let core: AppCore | null = null
  let mainWindow: BrowserWindow | null = null
  let closing = false

  const appPath = app.getAppPath()
  const target = rendererTarget({ appPath, isPackaged: app.isPackaged, env: process.env })
  const isAppUrl = createAppUrlMatcher(appUrlOf(target))

  app.on('web-contents-created', (_event, contents) => {
    hardenWebContents(contents, { isAppUrl, openExternal: (url) => openExternalSafe(url) })
  })

  app.on('second-instance', () => {
    if (!mainWindow || mainWindow.isDestroyed()) return
    if (mainWindow.isMinimized()) mainWindow.restore()
    mainWindow.focus()
  })

  const openWindow = (): void => {
    mainWindow = createMainWindow({ preloadPath: preloadPathOf(appPath), target })
    mainWindow.on('closed', () => {
      mainWindow = null
    })
  }

  app
    .whenReady()
    .then(() => {
      const nativeBinding = nativeBindingPath({
        isPackaged: app.isPackaged,
        appPath,
        resourcesPath: process.resourcesPath,
        electronVersion: process.versions.electron ?? 'unknown',
      })
      if (!existsSync(nativeBinding)) {
        dialog.showErrorBox(
          'SQLite binary missing',
          `better-sqlite3 built for this Electron was not found at\n${nativeBinding}\n\n` +
            'Run `node scripts/electron-native.mjs` (npm start and npm run dev do this).',
        )
        app.exit(1)
        return
      }

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
      for (const channel of PUSH_CHANNELS) {
        opened.on(channel, (payload) => {
          if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(channel, payload)
        })
      }
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

  // Hold the quit until the core has stopped its trainer and closed the database.
  app.on('before-quit', (event) => {
    if (closing || !core) return
    event.preventDefault()
    closing = true
    const c = core
    core = null
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())
    Promise.race([c.close(), timeout])
      .catch((err: unknown) => console.error('[main] core.close failed:', err))
      .finally(() => app.quit())
  })
}
