// Builds only the renderer (`npx vite build --config src/renderer/vite.config.mjs`), for when main or
// preload do not build yet. It reuses the renderer section of electron.vite.config.ts, which stays
// the one source of truth; electron-vite itself never loads this file (it passes configFile: false).
import { fileURLToPath } from 'node:url'
import config from '../../electron.vite.config'

const resolved =
  typeof config === 'function' ? await config({ command: 'build', mode: 'production' }) : config
const renderer = resolved.renderer ?? {}
const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

export default {
  ...renderer,
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: { ...renderer.build, outDir: `${repoRoot}out/renderer`, emptyOutDir: true },
}
