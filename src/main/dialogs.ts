/** Host handlers only the desktop app can serve: the OS's file dialogs. */
import type { BrowserWindow, Dialog, OpenDialogOptions } from 'electron'
import type { Handlers } from '../shared/contract'

export function createDialogHandlers(deps: {
  dialog: Pick<Dialog, 'showOpenDialog'>
  getWindow: () => BrowserWindow | null
}): Pick<Handlers, 'dialog:openPath'> {
  return {
    'dialog:openPath': async ({ kind, title }) => {
      const options: OpenDialogOptions = {
        title: title ?? (kind === 'folder' ? 'Choose a dataset folder' : 'Choose a dataset file'),
        properties: [kind === 'folder' ? 'openDirectory' : 'openFile'],
      }
      const win = deps.getWindow()
      const r =
        win && !win.isDestroyed()
          ? await deps.dialog.showOpenDialog(win, options)
          : await deps.dialog.showOpenDialog(options)
      return { path: r.canceled ? null : (r.filePaths[0] ?? null) }
    },
  }
}
