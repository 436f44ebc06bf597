import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'electron-vite'
import type { Plugin } from 'vite'

function sqlText(): Plugin {
  return {
    name: 'sql-text',
    load(id) {
      if (!id.endsWith('.sql')) return null
      return `export default ${JSON.stringify(readFileSync(id, 'utf8'))}`
    },
  }
}

/**
 * electron-vite's ESM shim prepends `const require = createRequire(import.meta.url)` to any chunk
 * whose text matches /require\(/ (which `createRequire(` does). A module that declares its own
 * top-level `require` the same way (src/core/backend/ladder.ts) then fails to load with
 * "Identifier 'require' has already been declared". Runs before the shim (which is enforce: 'post')
 * and drops the module's own declaration; the shim's binding is the same function.
 */
function dedupeRequireShim(): Plugin {
  const ownRequire = /^(?:var|let|const) require = (?:[\w$]+\.)?createRequire\(import\.meta\.url\);?[ \t]*$/gm
  return {
    name: 'tfkd:dedupe-require-shim',
    renderChunk(code) {
      const stripped = code.replace(ownRequire, '')
      // Keep the declaration unless the shim will still be injected (same test as electron-vite's).
      if (stripped === code || !/__filename|__dirname|require\(|require\.resolve\(/.test(stripped))
        return null
      return { code: stripped, map: null }
    },
  }
}

// Every dependency stays external in main and the trainer: better-sqlite3 and tfjs-node are native
// addons that must load from node_modules (asar-unpacked when packaged) with their package.json.
export default defineConfig({
  main: {
    plugins: [sqlText(), dedupeRequireShim()],
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          trainer: resolve(__dirname, 'src/core/train/trainer-process.ts'),
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
    plugins: [vue()],
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
})
