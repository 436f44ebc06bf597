/** The main window: secure webPreferences (security.ts) and where the renderer is loaded from. */
import { join } from 'node:path'
import { BrowserWindow, type BrowserWindowConstructorOptions } from 'electron'
import { APP_INDEX_URL } from './app-protocol'

export const APP_TITLE = 'TFKD Studio'

/**
 * The renderer comes from the electron-vite dev server, or from the built out/renderer served over
 * the app:// scheme (app-protocol.ts), never from file://.
 */
export type RendererTarget = { kind: 'url'; url: string } | { kind: 'app'; root: string; url: string }

/**
 * `ELECTRON_RENDERER_URL` is honoured only in an unpackaged app: a packaged app must never be
 * pointed at another page by an environment variable.
 */
export function rendererTarget(opts: {
  appPath: string
  isPackaged: boolean
  env?: NodeJS.ProcessEnv
}): RendererTarget {
  const devUrl = opts.env?.ELECTRON_RENDERER_URL
  if (!opts.isPackaged && devUrl) return { kind: 'url', url: devUrl }
  return { kind: 'app', root: join(opts.appPath, 'out', 'renderer'), url: APP_INDEX_URL }
}

/** The URL the app's own pages live at, for the navigation and IPC sender checks. */
export function appUrlOf(target: RendererTarget): string {
  return target.url
}

/** The window icon: resources/icons in development, extraResources (icons/) when packaged. */
export function windowIconPath(opts: {
  appPath: string
  isPackaged: boolean
  resourcesPath: string
}): string {
  return opts.isPackaged
    ? join(opts.resourcesPath, 'icons', '512x512.png')
    : join(opts.appPath, 'resources', 'icons', '512x512.png')
}

export function preloadPathOf(appPath: string): string {
  return join(appPath, 'out', 'preload', 'index.cjs')
}

export function createMainWindow(opts: {
  preloadPath: string
  target: RendererTarget
  /** Saved size and position (window-state.ts); the defaults when absent. */
  bounds?: Pick<BrowserWindowConstructorOptions, 'x' | 'y' | 'width' | 'height'>
  /** The window icon (Linux and Windows; macOS takes the bundle's). */
  icon?: string
  /** DevTools only in development: a packaged app cannot open them at all. */
  devTools?: boolean
}): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 840,
    ...opts.bounds,
    ...(opts.icon ? { icon: opts.icon } : {}),
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: APP_TITLE,
    backgroundColor: '#101418',
    autoHideMenuBar: true,
    // Written out here, not built by a helper, so static scanners (electronegativity) can read it.
    webPreferences: {
      preload: opts.preloadPath,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // Middle-click would otherwise open links in a new window (electronegativity AUXCLICK).
      disableBlinkFeatures: 'Auxclick',
      devTools: opts.devTools ?? false,
    },
  })
  win.once('ready-to-show', () => win.show())
  const loaded = win.loadURL(opts.target.url)
  loaded.catch((err: unknown) => console.error('[main] renderer failed to load:', err))
  return win
}
