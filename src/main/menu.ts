/**
 * The native application menu. Built as a plain template from injected actions so a test can read
 * it without Electron; index.ts passes it to Menu.buildFromTemplate. DevTools (View > Toggle
 * Developer Tools, and its shortcut) exist only in development: a packaged app has no item and no
 * accelerator for them.
 */
import type { MenuItemConstructorOptions } from 'electron'
import type { AppCommand } from '../shared/types'

/** What the menu asks the window to do; sent to the renderer on the 'app:command' push. */
export type MenuCommand = AppCommand

export interface MenuActions {
  /** Shows the OS open dialog and, when a path is chosen, sends it to the import form. */
  importDataset(kind: 'folder' | 'file'): void
  command(cmd: MenuCommand): void
  openDataFolder(): void
  about(): void
  /** Opens a prefilled problem report (diagnostics attached) for the user to send. */
  reportProblem(): void
}

export interface MenuOptions {
  isDev: boolean
  platform: NodeJS.Platform
  appName: string
  actions: MenuActions
}

// eslint-disable-next-line max-lines-per-function -- one declarative menu template (Electron's MenuItemConstructorOptions), read as the menu bar it builds; splitting it would scatter the menus
export function buildMenuTemplate(opts: MenuOptions): MenuItemConstructorOptions[] {
  const { actions: a, isDev } = opts
  const isMac = opts.platform === 'darwin'
  const macApp: MenuItemConstructorOptions[] = isMac
    ? [
        {
          label: opts.appName,
          submenu: [
            { label: `About ${opts.appName}`, click: () => a.about() },
            { type: 'separator' },
            { role: 'services' },
            { type: 'separator' },
            { role: 'hide' },
            { role: 'hideOthers' },
            { role: 'unhide' },
            { type: 'separator' },
            { role: 'quit' },
          ],
        },
      ]
    : []
  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      {
        label: 'Import Dataset Folder...',
        accelerator: 'CmdOrCtrl+O',
        click: () => a.importDataset('folder'),
      },
      { label: 'Import Dataset File (CSV, IDX, archive)...', click: () => a.importDataset('file') },
      {
        label: 'Export...',
        accelerator: 'CmdOrCtrl+E',
        click: () => a.command({ kind: 'navigate', view: 'exports' }),
      },
      { type: 'separator' },
      { label: 'Open Data Folder', click: () => a.openDataFolder() },
      { type: 'separator' },
      isMac ? { role: 'close' } : { role: 'quit' },
    ],
  }
  const edit: MenuItemConstructorOptions = {
    label: '&Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  }
  const devItems: MenuItemConstructorOptions[] = isDev
    ? [{ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' }]
    : []
  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      {
        label: 'Datasets',
        accelerator: 'Alt+1',
        click: () => a.command({ kind: 'navigate', view: 'datasets' }),
      },
      {
        label: 'New Experiment',
        accelerator: 'Alt+2',
        click: () => a.command({ kind: 'navigate', view: 'new' }),
      },
      {
        label: 'Live Runs',
        accelerator: 'Alt+3',
        click: () => a.command({ kind: 'navigate', view: 'runs' }),
      },
      {
        label: 'History',
        accelerator: 'Alt+4',
        click: () => a.command({ kind: 'navigate', view: 'history' }),
      },
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...devItems,
    ],
  }
  const window: MenuItemConstructorOptions = { role: 'windowMenu' }
  const help: MenuItemConstructorOptions = {
    role: 'help',
    submenu: [
      {
        label: 'Diagnostics',
        click: () => a.command({ kind: 'navigate', view: 'diagnostics' }),
      },
      { label: 'Report a Problem...', click: () => a.reportProblem() },
      ...(isMac
        ? []
        : [{ type: 'separator' } as const, { label: `About ${opts.appName}`, click: () => a.about() }]),
    ],
  }
  return [...macApp, file, edit, view, window, help]
}

/** Flattens a template (for tests and for finding an item by label). */
export function menuItems(template: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return template.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? menuItems(item.submenu) : [])])
}
