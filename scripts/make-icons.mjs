#!/usr/bin/env node
/**
 * Renders resources/icon.svg (the one source) into every raster the app and its installers use:
 *   resources/icons/<n>x<n>.png   16..1024 (Linux AppImage/deb hicolor theme, the window icon)
 *   resources/icon.png            1024 px (electron-builder's fallback, docs)
 *   resources/icon.ico            Windows (NSIS, the .exe)
 *   resources/icon.icns           macOS (the .app, the dmg)
 * Run after editing the SVG: `npm run icons`. Output is committed so packaging needs no SVG
 * renderer. sharp (librsvg) renders each size from the vector, not by downscaling a raster.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { ICNS_TYPES, ICO_SIZES, writeIcns, writeIco } from './icon-formats.mjs'

export const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024]

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** @param {Buffer} svg @param {number} size */
async function render(svg, size) {
  // density scales the SVG's 1024-unit viewBox to the target size (72 dpi = 1 unit per px).
  const img = sharp(svg, { density: (72 * size) / 1024 })
    .resize(size, size)
    .ensureAlpha()
  const png = await img.clone().png({ compressionLevel: 9 }).toBuffer()
  const rgba = await img.clone().raw().toBuffer()
  return { size, png, rgba }
}

export async function makeIcons(
  outDir = join(root, 'resources'),
  svgPath = join(root, 'resources', 'icon.svg'),
) {
  const svg = readFileSync(svgPath)
  const sizes = [...new Set([...PNG_SIZES, ...ICO_SIZES, ...ICNS_TYPES.map(([, s]) => s)])]
  const images = new Map()
  for (const size of sizes) images.set(size, await render(svg, size))
  mkdirSync(join(outDir, 'icons'), { recursive: true })
  for (const size of PNG_SIZES) {
    writeFileSync(join(outDir, 'icons', `${size}x${size}.png`), images.get(size).png)
  }
  writeFileSync(join(outDir, 'icon.png'), images.get(1024).png)
  writeFileSync(join(outDir, 'icon.ico'), writeIco(ICO_SIZES.map((s) => images.get(s))))
  writeFileSync(join(outDir, 'icon.icns'), writeIcns(new Map([...images].map(([s, im]) => [s, im.png]))))
  return outDir
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await makeIcons(process.argv[2])
  console.log(`icons written to ${out}`)
}
