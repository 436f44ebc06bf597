/**
 * The repository alone is enough: nothing in the sources, tests, scripts, CI or configs reaches for
 * a folder beside the checkout (the project's old `../shared` notes, golden values and peer bench).
 * The method spec and the design notes live in docs/, the PyTorch peer in scripts/bench/.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const REPO = resolve(__dirname, '../..')
const SELF = 'test/lint/self-contained.test.ts'
const SCANNED_DIRS = ['src/', 'test/', 'scripts/', '.ci/', 'bin/', 'native/']

/** Tracked and new files: the scanned folders plus every file at the root except the prose (*.md). */
function scannedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' })
  return out
    .split('\n')
    .filter((f) => f !== '' && f !== SELF && existsSync(resolve(REPO, f)))
    .filter((f) => (SCANNED_DIRS.some((d) => f.startsWith(d)) || !f.includes('/')) && !f.endsWith('.md'))
}

/** The file's text, or null for a binary file (images, IDX/CIFAR fixtures, archives). */
function textOf(file: string): string | null {
  const buf = readFileSync(resolve(REPO, file))
  return buf.includes(0) ? null : buf.toString('utf8')
}

const inside = (p: string): boolean => {
  const r = relative(REPO, p)
  return r === '' || (!r.startsWith('..') && !isAbsolute(r))
}

/**
 * A `../shared/x` that is an import of src/shared (the layer every other one may import), written from
 * anywhere under src or inside a test's sample code: `x` is a module of src/shared.
 */
function isSrcSharedImport(ref: string): boolean {
  const rest = ref.replace(/^(?:\.\.\/)+shared\//, '')
  const target = resolve(REPO, 'src/shared', rest)
  return inside(target) && ['.ts', '.vue', '/index.ts'].some((ext) => existsSync(target + ext))
}

const OUTSIDE_PATTERNS: { re: RegExp; why: string }[] = [
  { re: /['"]\.\.['"]\s*,\s*['"]shared['"]/g, why: "a path joined from '..', 'shared'" },
  { re: /\bshared\/(?:golden|bench|device|notes|hooks)\b/g, why: 'a file of the sibling shared folder' },
  { re: /\/work\/shared\b/g, why: 'an absolute path to the sibling shared folder' },
  {
    re: /\b(?:DESIGN|TFKD-SPEC)\.md\b/g,
    why: 'the shared notes by their old names (now docs/design.md, docs/method-spec.md)',
  },
]

function hitsIn(file: string): string[] {
  const text = textOf(file)
  if (text === null) return []
  const lineOf = (index: number): number => text.slice(0, index).split('\n').length
  const hits: string[] = []
  for (const m of text.matchAll(/(?:\.\.\/)+shared\/[\w./-]*/g)) {
    if (!isSrcSharedImport(m[0]))
      hits.push(
        `${file}:${lineOf(m.index)}: ${m[0]} (not a module of src/shared: the folder beside the repository)`,
      )
  }
  for (const { re, why } of OUTSIDE_PATTERNS)
    for (const m of text.matchAll(re)) hits.push(`${file}:${lineOf(m.index)}: ${m[0]} (${why})`)
  return hits
}

describe('the repository is self-contained', () => {
  it('scans the sources, tests, scripts, CI and configs', () => {
    const files = scannedFiles()
    for (const f of [
      'src/cli/bench.ts',
      'eslint.config.js',
      'package.json',
      '.ci/run',
      'scripts/golden-losses.py',
    ])
      expect(files).toContain(f)
  })

  it('nothing refers to ../shared, shared/golden, shared/bench or the old note names', () => {
    const hits = scannedFiles().flatMap(hitsIn)
    expect(hits).toEqual([])
  })

  it('the notes and the peer bench the code cites are in the repository', () => {
    for (const f of ['docs/method-spec.md', 'docs/design.md', 'scripts/bench/torch_train_speed.py'])
      expect(existsSync(resolve(REPO, f)), f).toBe(true)
    expect(readFileSync(resolve(REPO, 'src/cli/bench.ts'), 'utf8')).toMatch(
      /resolve\(repoRoot, 'scripts', 'bench', 'torch_train_speed\.py'\)/,
    )
  })

  it('the check itself catches each kind of reference', () => {
    expect(isSrcSharedImport('../../../shared/types')).toBe(true)
    expect(isSrcSharedImport('../shared/charts/echarts')).toBe(true)
    expect(isSrcSharedImport('../shared/TFKD-SPEC.md')).toBe(false)
    expect(isSrcSharedImport('../shared/golden/losses.json')).toBe(false)
    expect(isSrcSharedImport('../../../shared/bench/torch_train_speed.py')).toBe(false)
    const sample = ["resolve(root, '..', 'shared', 'golden')", 'see shared/bench/README', 'per DESIGN.md §1']
    for (const line of sample)
      expect(OUTSIDE_PATTERNS.some(({ re }) => new RegExp(re.source).test(line))).toBe(true)
  })
})
