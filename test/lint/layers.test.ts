/**
 * The layer rule (eslint.config.js) fires on a wrong-way import and stays quiet on the right ones,
 * through ESLint's own Node API and the project's config; and the tree itself has no import edge
 * across the layers (resolved paths, so dynamic imports and re-exports count too).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { WITHOUT_TYPES } from '../support/lint'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers'

const eslint = new ESLint({ cwd: ROOT, overrideConfig: WITHOUT_TYPES })

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

const ALLOWED: Record<string, readonly string[]> = {
  shared: [],
  core: ['shared'],
  renderer: ['shared'],
  main: ['core', 'shared'],
  preload: ['core', 'shared'],
  cli: ['core', 'shared'],
  server: ['core', 'shared'],
}

/** Every relative import specifier of a source file: static, re-export, dynamic and `import type`. */
function specifiers(code: string): string[] {
  const out: string[] = []
  for (const m of code.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(m[1]!)
  return out
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : /\.(ts|vue|mts)$/.test(e.name)
        ? [join(dir, e.name)]
        : [],
  )
}

/** Import edges between layers, "from->to": count, for every file under src/. */
function layerEdges(): Map<string, number> {
  const src = join(ROOT, 'src')
  const edges = new Map<string, number>()
  for (const file of sourceFiles(src)) {
    const from = relative(src, file).split(sep)[0]!
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const to = relative(src, resolve(dirname(file), spec)).split(sep)[0]!
      if (to === from || to.startsWith('..')) continue
      const key = `${from}->${to}`
      edges.set(key, (edges.get(key) ?? 0) + 1)
    }
  }
  return edges
}

describe('layers', () => {
  it.each([
    [
      'src/shared/x.ts',
      "import type { Store } from '../core/store/store'",
      'src/shared must not import from src/core',
    ],
    [
      'src/core/analysis/x.ts',
      "import { init } from '../../renderer/src/charts/register'",
      'src/core must not import from src/renderer',
    ],
    [
      'src/renderer/src/stores/x.ts',
      "import type { Verdict } from '../../../core/analysis/compare'",
      'src/renderer must not import from src/core',
    ],
    [
      'src/cli/x.ts',
      "import { buildExportBundle } from '../renderer/src/charts/export-bundle'",
      'src/cli must not import from src/renderer',
    ],
    [
      'src/cli/x.ts',
      "export { startWebServer } from '../server/index'",
      'src/cli must not import from src/server',
    ],
    [
      'src/server/x.ts',
      "import { registerRoutes } from '../main/ipc'",
      'src/server must not import from src/main',
    ],
    ['src/main/x.ts', "import type { AppCore } from '../cli/index'", 'src/main must not import from src/cli'],
    ['src/preload/x.ts', "import { x } from '../server'", 'src/preload must not import from src/server'],
  ])('refuses %s: %s', async (file, code, expected) => {
    const errors = await layerErrors(file, `${code}\n`)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`layers: ${expected}`)
  })

  it('refuses a wrong-way import in a .vue file', async () => {
    const code = `<script setup lang="ts">\nimport type { Verdict } from '../../../core/analysis/compare'\nconst v: Verdict | null = null\n</script>\n<template><p>{{ v }}</p></template>\n`
    const errors = await layerErrors('src/renderer/src/views/X.vue', code)
    expect(errors).toEqual([expect.stringContaining('src/renderer must not import from src/core')])
  })

  it.each([
    [
      'src/core/handlers/x.ts',
      "import { AppError } from '../../shared/errors'\nimport { dataPaths } from '../paths'",
    ],
    [
      'src/renderer/src/stores/x.ts',
      "import type { ComparisonTable } from '../../../shared/comparison'\nimport { use } from 'echarts/core'",
    ],
    ['src/cli/x.ts', "import type { AppCore } from '../core/app/app-core'"],
    // The CLI's entry starts the web host for `tfkd serve` (the one host-to-host edge by design).
    ['src/cli/index.ts', "import { startWebServer } from '../server/index'"],
  ])('allows %s', async (file, code) => {
    expect(await layerErrors(file, `${code}\n`)).toEqual([])
  })

  it('has no wrong-way import edge in src/', () => {
    const edges = layerEdges()
    const wrong = [...edges].filter(([key]) => {
      const [from, to] = key.split('->') as [string, string]
      const exception = from === 'cli' && to === 'server'
      return !exception && (ALLOWED[from] ? !ALLOWED[from].includes(to) : true)
    })
    console.log(`layer edges (imports): ${JSON.stringify(Object.fromEntries([...edges].sort()))}`)
    expect(wrong).toEqual([])
  })
})
