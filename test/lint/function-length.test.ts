/**
 * The function-length rule (eslint.config.js: `max-lines-per-function`, 80 lines without blank
 * lines and comments, for src/**\/*.ts): it fires on a long function, stays quiet on a short one and
 * on a long one whose disable comment gives a reason, and every disable of it in the tree carries
 * a reason after `--`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { WITHOUT_TYPES } from '../support/lint'
import { join, relative } from 'node:path'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers'

const eslint = new ESLint({ cwd: ROOT, overrideConfig: WITHOUT_TYPES })

async function lengthErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'max-lines-per-function').map((m) => m.message)
}

/** A function of `lines` statements, plus blank lines and comments that must not count. */
function fn(name: string, lines: number): string {
  const body = Array.from({ length: lines }, (_, i) => `  total += ${i}\n\n  // step ${i}`).join('\n')
  return `export function ${name}(): number {\n  let total = 0\n${body}\n  return total\n}\n`
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

describe('function length rule', () => {
  it('fires on an 81-line function in src/core, not on an 80-line one (blank lines and comments do not count)', async () => {
    expect(await lengthErrors('src/core/analysis/long-fixture.ts', fn('long', 77))).toEqual([
      "Function 'long' has too many lines (81). Maximum allowed is 80.",
    ])
    expect(await lengthErrors('src/core/analysis/short-fixture.ts', fn('short', 76))).toEqual([])
  })

  it('fires in every layer, and in arrow functions and methods', async () => {
    for (const dir of ['src/shared', 'src/cli', 'src/main', 'src/server', 'src/renderer/src/lib']) {
      expect(await lengthErrors(`${dir}/long-fixture.ts`, fn('long', 90)), dir).toHaveLength(1)
    }
    const arrow = fn('x', 90).replace('export function x(): number {', 'export const x = (): number => {')
    expect(await lengthErrors('src/core/arrow-fixture.ts', arrow)).toHaveLength(1)
    const method = `export const o = {\n  ${fn('m', 90).replace('export function m(): number', 'm(): number')}}\n`
    expect(await lengthErrors('src/core/method-fixture.ts', method)).toHaveLength(1)
  })

  it('a disable comment with a reason silences it for that function only', async () => {
    const code =
      '// eslint-disable-next-line max-lines-per-function -- a fixture that is long on purpose\n' +
      fn('justified', 90) +
      fn('unjustified', 90)
    expect(await lengthErrors('src/core/disable-fixture.ts', code)).toEqual([
      "Function 'unjustified' has too many lines (94). Maximum allowed is 80.",
    ])
  })

  it('every disable of the rule under src/ gives its reason after --', () => {
    const bare: string[] = []
    let count = 0
    for (const file of tsFiles(join(ROOT, 'src'))) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!/eslint-disable.*max-lines-per-function/.test(line)) continue
        count++
        if (!/max-lines-per-function\s+--\s+\S.{20,}/.test(line))
          bare.push(`${relative(ROOT, file)}: ${line.trim()}`)
      }
    }
    expect(bare).toEqual([])
    expect(count).toBeGreaterThan(0)
  })
})
