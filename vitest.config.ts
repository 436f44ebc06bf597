import { readFileSync } from 'node:fs'
import vue from '@vitejs/plugin-vue'
import { defineConfig, type Plugin } from 'vitest/config'

/** Loads `*.sql` migrations as text, as esbuild's text loader does for the bundles. */
function sqlText(): Plugin {
  return {
    name: 'sql-text',
    load(id) {
      if (!id.endsWith('.sql')) return null
      return `export default ${JSON.stringify(readFileSync(id, 'utf8'))}`
    },
  }
}

export default defineConfig({
  plugins: [sqlText(), vue()],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
})
