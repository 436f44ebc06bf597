import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'electron-vite'
import type { Plugin } from 'vite'
import { contentSecurityPolicy } from './src/shared/csp'

function sqlText(): Plugin {
  return {
    name: 'sql-text',
    load(id) {
      if (!id.endsWith('.sql')) return null
      return `export default ${JSON.stringify(readFileSync(id, 'utf8'))}`
    },
  }
}

/** The renderer's <meta> CSP, from the app's one policy (src/shared/csp.ts). */
function cspMeta(): Plugin {
  return {
    name: 'csp-meta',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy('meta') },
        injectTo: 'head-prepend',
      },
    ],
  }
}

// Every dependency stays external in main and the trainer: better-sqlite3 and tfjs-node are native
// addons that must load from node_modules (asar-unpacked when packaged) with their package.json.
// Note: electron-vite's ESM shim declares a top-level `require` in chunks that call require(), so
// modules name their own createRequire result `req`, never `require`.
export default defineConfig({
  main: {
    plugins: [sqlText()],
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          trainer: resolve(__dirname, 'src/core/trainer/trainer-process.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload must be CommonJS.
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    plugins: [vue(), cspMeta()],
    build: {
      outDir: 'out/renderer',
      minify: true,
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
})
