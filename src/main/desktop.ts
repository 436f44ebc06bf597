/**
 * The desktop conveniences wired to one main window: the native menu, About, Report a problem,
 * notifications and the taskbar progress bar. Kept out of index.ts (the lifecycle) and built from
 * injected Electron objects, so a test drives it with the mocked `electron` module.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BrowserWindow, Dialog, MenuItemConstructorOptions } from 'electron'
import type { Envelope } from '../shared/errors'
import type { AppCommand, AppInfo, BackendReport } from '../shared/types'
import { buildMenuTemplate } from './menu'
import { createRunFeedback } from './run-feedback'

export interface DesktopDeps {
  appName: string
  version: string
  dataHome: string
  isDev: boolean
  platform: NodeJS.Platform
  getWindow: () => BrowserWindow | null
  dispatch: (channel: string, input: unknown) => Promise<Envelope<unknown>>
  dialog: Pick<Dialog, 'showOpenDialog' | 'showMessageBox'>
  setApplicationMenu: (template: MenuItemConstructorOptions[]) => void
  openFolder: (path: string) => Promise<string>
  writeClipboard: (text: string) => void
  /** Shows an OS notification; absent where the OS has none (Notification.isSupported()). */
  notify?: (n: { title: string; body: string; urgent?: boolean }) => void
  now?: () => number
}

function liveWindow(deps: DesktopDeps): BrowserWindow | null {
  const w = deps.getWindow()
  return w && !w.isDestroyed() ? w : null
}

/** Brings the window to the front (restored if minimized); false when there is none. */
export function focusWindow(w: BrowserWindow | null): w is BrowserWindow {
  if (!w || w.isDestroyed()) return false
  if (w.isMinimized()) w.restore()
  w.focus()
  return true
}

/** Sends a command to the UI (the 'app:command' push); focuses the window first. */
export function sendCommand(deps: Pick<DesktopDeps, 'getWindow'>, cmd: AppCommand): void {
  const w = deps.getWindow()
  if (focusWindow(w)) w.webContents.send('app:command', cmd)
}

/** The text of a problem report: versions, OS and the backend ladder; no data, no paths of datasets. */
export async function problemReport(
  deps: Pick<DesktopDeps, 'dispatch' | 'appName' | 'version'>,
): Promise<string> {
  const info = await deps.dispatch('app:info', {})
  const backends = await deps.dispatch('diagnostics:backends', {})
  const lines = [`${deps.appName} ${deps.version} problem report`, `created ${new Date().toISOString()}`, '']
  if (info.ok) {
    const i = info.value as AppInfo
    lines.push(`platform: ${i.platform}`, ...Object.entries(i.versions).map(([k, v]) => `${k}: ${v}`))
  } else lines.push(`app info unavailable: ${info.error.message}`)
  lines.push('')
  if (backends.ok && backends.value) {
    const b = backends.value as BackendReport
    lines.push('backend ladder:', JSON.stringify(b, null, 2))
  } else lines.push('backend ladder: not probed yet (open Settings to probe it)')
  lines.push('', 'What did you do, what did you expect, and what happened instead?', '')
  return lines.join('\n')
}

export function installDesktop(deps: DesktopDeps): {
  menu: MenuItemConstructorOptions[]
  feedback: ReturnType<typeof createRunFeedback>
  about(): Promise<void>
  reportProblem(): Promise<string>
} {
  const about = async (): Promise<void> => {
    const info = await deps.dispatch('app:info', {})
    const v = info.ok ? (info.value as AppInfo).versions : {}
    const detail = [
      `Version ${deps.version}`,
      `Electron ${v.electron ?? '?'} · Chromium ${v.chrome ?? '?'} · Node ${v.node ?? '?'}`,
      `Data folder: ${deps.dataHome}`,
      '',
      'Teacher-free Knowledge Distillation experiments on your own machine, offline.',
    ].join('\n')
    const w = liveWindow(deps)
    const opts = {
      type: 'info' as const,
      title: `About ${deps.appName}`,
      message: deps.appName,
      detail,
      buttons: ['OK'],
    }
    await (w ? deps.dialog.showMessageBox(w, opts) : deps.dialog.showMessageBox(opts))
  }

  const reportProblem = async (): Promise<string> => {
    const text = await problemReport(deps)
    const file = join(deps.dataHome, `problem-report-${(deps.now ?? Date.now)()}.txt`)
    writeFileSync(file, text)
    deps.writeClipboard(text)
    const w = liveWindow(deps)
    const opts = {
      type: 'info' as const,
      title: 'Report a problem',
      message: 'A problem report was copied to the clipboard and saved.',
      detail:
        `${file}\n\nIt holds versions, the OS and the backend ladder; no datasets or results. ` +
        'Paste it into your report with what you did and what happened.',
      buttons: ['Open folder', 'OK'],
      defaultId: 1,
    }
    const r = await (w ? deps.dialog.showMessageBox(w, opts) : deps.dialog.showMessageBox(opts))
    if (r.response === 0) await deps.openFolder(deps.dataHome)
    return file
  }

  const importDataset = async (kind: 'folder' | 'file'): Promise<void> => {
    const w = liveWindow(deps)
    const opts = {
      title: kind === 'folder' ? 'Import a dataset folder' : 'Import a dataset file',
      properties: [kind === 'folder' ? ('openDirectory' as const) : ('openFile' as const)],
    }
    const r = await (w ? deps.dialog.showOpenDialog(w, opts) : deps.dialog.showOpenDialog(opts))
    const path = r.canceled ? undefined : r.filePaths[0]
    if (path) sendCommand(deps, { kind: 'import', path })
  }

  const menu = buildMenuTemplate({
    isDev: deps.isDev,
    platform: deps.platform,
    appName: deps.appName,
    actions: {
      importDataset: (kind) => void importDataset(kind).catch(logError),
      command: (cmd) => sendCommand(deps, cmd),
      openDataFolder: () => void deps.openFolder(deps.dataHome).catch(logError),
      about: () => void about().catch(logError),
      reportProblem: () => void reportProblem().catch(logError),
    },
  })
  deps.setApplicationMenu(menu)

  const feedback = createRunFeedback({
    dispatch: deps.dispatch,
    setProgress: (f) => liveWindow(deps)?.setProgressBar(f),
    notify: (n) => deps.notify?.(n),
    now: deps.now,
  })
  return { menu, feedback, about, reportProblem }
}

function logError(err: unknown): void {
  console.error('[main] menu action failed:', err)
}
