import { describe, expect, it } from 'vitest'
import { dataPaths, resolveDataHome } from '../../src/core/paths'

describe('data folder', () => {
  it('uses TFKD_HOME when set', () => {
    expect(resolveDataHome({ TFKD_HOME: '/x/y' }, 'linux', '/home/u')).toBe('/x/y')
  })
  it("defaults to the OS's application data folder", () => {
    expect(resolveDataHome({}, 'linux', '/home/u')).toBe('/home/u/.config/tfkd-studio')
    expect(resolveDataHome({ XDG_CONFIG_HOME: '/cfg' }, 'linux', '/home/u')).toBe('/cfg/tfkd-studio')
    expect(resolveDataHome({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/tfkd-studio')
    expect(resolveDataHome({ APPDATA: 'C:\\AppData' }, 'win32', 'C:\\u')).toMatch(/AppData.tfkd-studio$/)
  })
  it('keeps database, checkpoints and datasets in that one folder', () => {
    const p = dataPaths('/d')
    expect([p.database, p.checkpoints, p.datasets].every((x) => x.startsWith('/d/'))).toBe(true)
  })
})
