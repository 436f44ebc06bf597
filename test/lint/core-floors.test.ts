/**
 * The floors inside src/core (eslint.config.js, CORE_FLOORS): the tree's resolved import edges
 * between core folders form no cycle and only point down, every folder has a floor, and the lint
 * rule fires on an upward or sideways import and stays quiet on a downward one.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { WITHOUT_TYPES } from '../support/lint'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'
// @ts-expect-error -- the ESLint config is plain JavaScript without declarations
import { CORE_FLOORS } from '../../eslint.config.js'
import { ROOT } from '../helpers'

const floors = CORE_FLOORS as string[][]
const CORE = join(ROOT, 'src', 'core')
const floorOf = (folder: string): number => floors.findIndex((f) => f.includes(folder))

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(ts|mts)$/.test(e.name) ? [join(dir, e.name)] : [],
  )
}

/** "from->to" for every import (static, re-export, dynamic, type-only) between two core folders. */
function coreEdges(): Map<string, string[]> {
  const edges = new Map<string, string[]>()
  for (const file of sourceFiles(CORE)) {
    const parts = relative(CORE, file).split(sep)
    if (parts.length < 2) continue // the core's root modules sit below every floor
    const from = parts[0]!
    const code = readFileSync(file, 'utf8')
    for (const m of code.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = relative(CORE, resolve(dirname(file), m[1]!)).split(sep)
      if (target[0]!.startsWith('..') || target.length < 2 || target[0] === from) continue
      const key = `${from}->${target[0]}`
      edges.set(key, [...(edges.get(key) ?? []), relative(ROOT, file)])
    }
  }
  return edges
}

/** Folder cycles, each as the list of folders on it (Tarjan's strongly connected components > 1). */
function cycles(edges: Iterable<string>): string[][] {
  const next = new Map<string, string[]>()
  for (const e of edges) {
    const [a, b] = e.split('->') as [string, string]
    next.set(a, [...(next.get(a) ?? []), b])
    if (!next.has(b)) next.set(b, [])
  }
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const out: string[][] = []
  const visit = (v: string): void => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    for (const w of next.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = []
      let w: string
      do {
        w = stack.pop()!
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1) out.push(scc.sort())
    }
  }
  for (const v of next.keys()) if (!idx.has(v)) visit(v)
  return out
}

const eslint = new ESLint({ cwd: ROOT, overrideConfig: WITHOUT_TYPES })
async function floorErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\n`, { filePath: join(ROOT, filePath) })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('core floors', () => {
  it('places every folder of src/core on a floor', () => {
    const folders = readdirSync(CORE).filter((n) => statSync(join(CORE, n)).isDirectory())
    expect(folders.filter((f) => floorOf(f) < 0)).toEqual([])
  })

  it('has 0 folder cycles and only downward edges', () => {
    const edges = coreEdges()
    console.log(`core floor edges: ${[...edges.keys()].sort().join(' ')}`)
    expect(cycles(edges.keys())).toEqual([])
    const upward = [...edges].filter(([key]) => {
      const [from, to] = key.split('->') as [string, string]
      return floorOf(to) >= floorOf(from)
    })
    expect(upward).toEqual([])
  })

  it('finds a cycle when there is one (the scan can fail)', () => {
    expect(cycles(['services->handlers', 'handlers->services', 'store->models'])).toEqual([
      ['handlers', 'services'],
    ])
  })

  it.each([
    [
      'src/core/services/x.ts',
      "import { createHandlers } from '../handlers/index'",
      'src/core/services must not import from src/core/handlers',
    ],
    [
      'src/core/train/x.ts',
      "import { exportModel } from '../export/model-export'",
      'src/core/train must not import from src/core/export',
    ],
    [
      'src/core/doctor/x.ts',
      "import type { X } from '../services/run-service'",
      'src/core/doctor must not import from src/core/services',
    ],
    [
      'src/core/data/importers/x.ts',
      "import type { Store } from '../../services/open-store'",
      'src/core/data must not import from src/core/services',
    ],
    [
      'src/core/export/x.ts',
      "import { runDoctor } from '../doctor/doctor'",
      'src/core/export must not import from src/core/doctor',
    ],
    [
      'src/core/store/x.ts',
      "import type { RunConfig } from '../../renderer/src/x'",
      'src/core must not import from src/renderer',
    ],
  ])('refuses %s: %s', async (file, code, expected) => {
    const errors = await floorErrors(file, code)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(expected)
  })

  it.each([
    [
      'src/core/services/x.ts',
      "import { trainModel } from '../train/train-loop'\nimport { dataPaths } from '../paths'",
    ],
    ['src/core/app/x.ts', "import { createHandlers } from '../handlers/index'"],
    [
      'src/core/data/importers/x.ts',
      "import { createStore } from '../../store/store'\nimport { x } from './y'",
    ],
  ])('allows %s', async (file, code) => {
    expect(await floorErrors(file, code)).toEqual([])
  })
})
