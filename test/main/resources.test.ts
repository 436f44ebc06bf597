/**
 * resources/: the icon set generated from the one SVG (scripts/make-icons.mjs), its containers
 * parsed back, and the desktop entry metadata the Linux packages carry.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load } from 'js-yaml'
import sharp from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'
import { ICNS_TYPES, ICO_SIZES, readIcns, readIco } from '../../scripts/icon-formats.mjs'
import { makeIcons, PNG_SIZES } from '../../scripts/make-icons.mjs'

const root = join(import.meta.dirname, '..', '..')
const res = join(root, 'resources')
const tmp = mkdtempSync(join(tmpdir(), 'tfkd-icons-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

async function size(png: Buffer): Promise<[number, number]> {
  const m = await sharp(png).metadata()
  return [m.width, m.height]
}

async function rgba(png: Buffer): Promise<Buffer> {
  return sharp(png).ensureAlpha().raw().toBuffer()
}

describe('resources/ icon set', () => {
  it('has the source SVG and a PNG for every size 16..1024', async () => {
    expect(readFileSync(join(res, 'icon.svg'), 'utf8')).toMatch(/<svg[^>]+viewBox="0 0 1024 1024"/)
    expect(PNG_SIZES).toEqual([16, 24, 32, 48, 64, 128, 256, 512, 1024])
    for (const s of PNG_SIZES) {
      expect(await size(readFileSync(join(res, 'icons', `${s}x${s}.png`))), `${s}px`).toEqual([s, s])
    }
    expect(await size(readFileSync(join(res, 'icon.png')))).toEqual([1024, 1024])
  })

  it('icon.ico holds 16..256 (DIBs below 256, PNG at 256) that match the PNGs', async () => {
    const entries = readIco(readFileSync(join(res, 'icon.ico')))
    expect(entries.map((e) => [e.size, e.kind])).toEqual(ICO_SIZES.map((s) => [s, s >= 256 ? 'png' : 'dib']))
    // The 32 px DIB, bottom-up BGRA, must be the 32 px PNG's pixels.
    const dib = entries.find((e) => e.size === 32)!.data
    const png = await rgba(readFileSync(join(res, 'icons', '32x32.png')))
    const px = (x: number, y: number) => {
      const d = 40 + ((31 - y) * 32 + x) * 4
      return [dib[d + 2], dib[d + 1], dib[d], dib[d + 3]]
    }
    for (const [x, y] of [
      [16, 16],
      [3, 28],
      [0, 0],
    ] as const) {
      const p = (y * 32 + x) * 4
      expect(px(x, y), `${x},${y}`).toEqual([png[p], png[p + 1], png[p + 2], png[p + 3]])
    }
    expect(await size(entries.at(-1)!.data)).toEqual([256, 256])
  })

  it('icon.icns holds a PNG of the right size for every element type', async () => {
    const entries = readIcns(readFileSync(join(res, 'icon.icns')))
    expect(entries.map((e) => e.type)).toEqual(ICNS_TYPES.map(([t]) => t))
    for (const e of entries) {
      const s = ICNS_TYPES.find(([t]) => t === e.type)![1]
      expect(await size(e.data), e.type).toEqual([s, s])
    }
  })

  it('the committed rasters are what the script renders from the SVG now', async () => {
    await makeIcons(tmp)
    for (const s of [16, 256]) {
      const fresh = await rgba(readFileSync(join(tmp, 'icons', `${s}x${s}.png`)))
      const kept = await rgba(readFileSync(join(res, 'icons', `${s}x${s}.png`)))
      let maxDiff = 0
      for (let i = 0; i < fresh.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fresh[i]! - kept[i]!))
      // A little slack for another libvips/librsvg; an edited SVG changes far more.
      expect(maxDiff, `${s}px: run \`npm run icons\` after editing resources/icon.svg`).toBeLessThanOrEqual(8)
    }
    expect(existsSync(join(tmp, 'icon.ico')) && existsSync(join(tmp, 'icon.icns'))).toBe(true)
  }, 60_000)

  it('electron-builder uses them, and the Linux packages carry a desktop entry', () => {
    const c = load(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as {
      directories: { buildResources: string }
      linux: { icon: string; target: string[]; desktop: { entry: Record<string, string> } }
      mac: { icon: string; target: string[] }
      win: { icon: string; target: string[] }
    }
    expect(c.directories.buildResources).toBe('resources')
    expect(c.linux.icon).toBe('resources/icons')
    expect(c.mac.icon).toBe('resources/icon.icns')
    expect(c.win.icon).toBe('resources/icon.ico')
    expect(c.linux.target).toEqual(['AppImage', 'deb'])
    expect(c.mac.target).toEqual(['dmg'])
    expect(c.win.target).toEqual(['nsis'])
    const entry = c.linux.desktop.entry
    expect(entry).toMatchObject({ Name: 'TFKD Studio', StartupWMClass: 'tfkd-studio' })
    // Desktop Entry spec: Categories and Keywords are ';'-terminated lists.
    expect(entry.Categories).toMatch(/^([A-Za-z]+;)+$/)
    expect(entry.Keywords).toMatch(/;$/)
    expect(entry.Comment?.length).toBeGreaterThan(10)
  })
})
