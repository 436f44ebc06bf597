import { describe, expect, it, vi } from 'vitest'
import type { BrowserWindow } from 'electron'
import { createDialogHandlers } from '../../src/main/dialogs'

describe('desktop open dialog', () => {
  it('asks for a folder or a file, attached to the window, and returns the choice or null', async () => {
    const win = { isDestroyed: () => false } as unknown as BrowserWindow
    const showOpenDialog = vi
      .fn()
      .mockResolvedValueOnce({ canceled: false, filePaths: ['/data/cifar-10-batches-bin'] })
      .mockResolvedValueOnce({ canceled: true, filePaths: [] })
    const h = createDialogHandlers({
      dialog: { showOpenDialog },
      getWindow: () => win,
    })
    expect(await h['dialog:openPath']({ kind: 'folder' })).toEqual({ path: '/data/cifar-10-batches-bin' })
    expect(showOpenDialog).toHaveBeenLastCalledWith(
      win,
      expect.objectContaining({ properties: ['openDirectory'] }),
    )
    expect(await h['dialog:openPath']({ kind: 'file' })).toEqual({ path: null })
    expect(showOpenDialog).toHaveBeenLastCalledWith(
      win,
      expect.objectContaining({ properties: ['openFile'] }),
    )
  })

  it('is refused by the other hosts with a clear message', async () => {
    const { createAppCore } = await import('../../src/core/app/app-core')
    const { tempHome } = await import('../helpers')
    const home = tempHome()
    const core = createAppCore({
      dataHome: home.dir,
      host: 'web',
      spawnTrainer: () => {
        throw new Error('no trainer in this test')
      },
    })
    const r = await core.dispatch('dialog:openPath', { kind: 'folder' })
    expect(r).toEqual({
      ok: false,
      error: expect.objectContaining({ message: expect.stringMatching(/only in the desktop app/) }),
    })
    await core.close()
    home.cleanup()
  })
})
