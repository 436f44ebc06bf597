/**
 * The `logit-kd-baselines` preset end to end, as a user runs it, at tiny sizes (300 training images,
 * 1 epoch, teachers 1 epoch, 2 seeds, mlp student and cnn-small teacher) on the bundled mnist-10k: `tfkd run --preset logit-kd-baselines` trains
 * the shared teachers and the seven arms (dkd, dist and kd-std learn from the same stronger teacher
 * run as kd); `tfkd compare`, `tfkd export` and `tfkd report` show the new variants, the report as
 * extra arms compared with the baseline and with KD, outside the paper's four claims.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { RunSummary } from '../../src/shared/types'
import { parseWire } from '../../src/shared/wire-json'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../helpers'

const home = tempHome('tfkd-logit-kd-')
afterAll(() => home.cleanup())

function tfkd(args: string[], timeout = 60_000) {
  requireBuiltTrainer()
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    env: { ...process.env, TFKD_HOME: home.dir },
    encoding: 'utf8',
    timeout,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const ARMS = ['baseline', 'kd', 'dkd', 'dist', 'kd-std', 'tfkd-self', 'tfkd-reg']

describe('tfkd run --preset logit-kd-baselines', () => {
  it('trains the shared teachers and every arm, each later baseline taught by the kd teacher', () => {
    const r = tfkd(
      [
        'run',
        '--preset',
        'logit-kd-baselines',
        '--dataset',
        'mnist-10k',
        '--seeds',
        '2',
        '--epochs',
        '1',
        '--teacher-epochs',
        '1',
        '--max-train',
        '300',
        // The smallest models that keep the planner's "stronger teacher" rule: a quick end-to-end run.
        '--model',
        'mlp',
        '--teacher-model',
        'cnn-small',
        '--no-progress',
      ],
      540_000,
    )
    expect(r.code, r.err).toBe(0)
    // 7 arms x 2 seeds + the stronger teacher (kd, dkd, dist, kd-std) + the self teacher.
    expect(r.out).toMatch(/16 runs \(2 teachers\)/)
    const runs = parseWire(tfkd(['runs', '--json']).out) as RunSummary[]
    expect(runs.every((x) => x.status === 'completed')).toBe(true)
    const students = runs.filter((x) => x.role === 'student')
    expect([...new Set(students.map((x) => x.variant))].sort()).toEqual([...ARMS].sort())
    const teacherOf = (v: string) =>
      new Set(students.filter((x) => x.variant === v).map((x) => x.teacherRunId))
    const kdTeacher = [...teacherOf('kd')]
    expect(kdTeacher).toHaveLength(1)
    for (const v of ['dkd', 'dist', 'kd-std']) expect([...teacherOf(v)], v).toEqual(kdTeacher)
    expect(teacherOf('tfkd-self').has(kdTeacher[0]!)).toBe(false)
    for (const s of students) expect(Number.isFinite(s.testAccuracy), s.variant).toBe(true)
  }, 600_000)

  it('shows the new variants in compare and in the exported tables', () => {
    const c = tfkd(['compare', '--format', 'md'])
    expect(c.code, c.err).toBe(0)
    for (const v of ['dkd', 'dist', 'kd-std'])
      expect(c.out, v).toMatch(
        new RegExp(`^\\| ${v}, teacher cnn-small, student mlp \\| 2 \\(2 matched\\) \\|`, 'm'),
      )
    const out = join(home.dir, 'export')
    const e = tfkd(['export', '--out', out, '--formats', 'csv,md'])
    expect(e.code, e.err).toBe(0)
    const text = readdirSync(out, { recursive: true })
      .map(String)
      .filter((f) => /\.(csv|md)$/.test(f))
      .map((f) => readFileSync(join(out, f), 'utf8'))
      .join('\n')
    for (const v of ['dkd', 'dist', 'kd-std']) expect(text, v).toContain(v)
  })

  it('reports them as extra arms against the baseline and KD, outside the four claims', () => {
    const md = tfkd(['report', '--format', 'md'])
    expect(md.code, md.err).toBe(0)
    const section = md.out.slice(md.out.indexOf('## Extra arms (outside the claims)'))
    expect(section.length).toBeLessThan(md.out.length)
    for (const v of ['dkd', 'dist', 'kd-std']) {
      expect(section, v).toMatch(
        new RegExp(`^\\| ${v} \\| .+ \\| 2 \\| \\d+\\.\\d\\d \\| baseline \\| 2 \\|`, 'm'),
      )
      expect(section, v).toMatch(new RegExp(`^\\| ${v} \\| .+ \\| kd \\| 2 \\|`, 'm'))
    }
    expect(section).toMatch(/Decoupled Knowledge Distillation, CVPR 2022/)
    // The claims table keeps the paper's four rows; no extra arm enters it.
    const claims = md.out.slice(md.out.indexOf('## Claims'), md.out.indexOf('## Extra arms'))
    for (const v of ['dkd', 'dist', 'kd-std']) expect(claims, v).not.toMatch(new RegExp(`\\b${v} vs`))
    const html = tfkd(['report', '--format', 'html'])
    expect(html.out).toContain('<table id="extra-arms">')
  })
})
