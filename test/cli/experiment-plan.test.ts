/** `tfkd experiments plan` and `tfkd experiments duplicate`: a real process, real training. */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../helpers'

const home = tempHome('tfkd-cli-plan-')
afterAll(() => home.cleanup())

function tfkd(...args: string[]) {
  requireBuiltTrainer()
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    env: { ...process.env, TFKD_HOME: home.dir },
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

interface Row {
  experimentId: number | null
  role: string
  model: string
  variant: string
  seed: number
  epochsPlanned: number
  status: string
}
/** The runs of an experiment (`tfkd runs --json`), by what they train. */
function configsOf(experimentId: number): string[] {
  const r = tfkd('runs', '--json')
  expect(r.code).toBe(0)
  return (JSON.parse(r.out) as Row[])
    .filter((x) => x.experimentId === experimentId)
    .map((x) => `${x.role} ${x.model}/${x.variant}/s${x.seed} ${x.epochsPlanned}ep ${x.status}`)
    .sort()
}

describe('tfkd experiments plan / duplicate', () => {
  it('exports the plan, reruns it with run --plan, and duplicates it with overrides', () => {
    const first = tfkd(
      'run',
      '--model',
      'mlp',
      '--variants',
      'baseline,lsr',
      '--seeds',
      '1',
      '--epochs',
      '1',
      '--max-train',
      '128',
      '--no-progress',
    )
    expect(first.code, first.err).toBe(0)
    const printed = tfkd('experiments', 'plan', '1')
    expect(printed.code, printed.err).toBe(0)
    const plan = JSON.parse(printed.out) as Record<string, unknown>
    expect(plan).toMatchObject({ dataset: 'mnist-10k', student: 'mlp', variants: ['baseline', 'lsr'] })

    const file = join(home.dir, 'plan.json')
    expect(tfkd('experiments', 'plan', '1', '--out', file).code).toBe(0)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(plan)
    const again = tfkd('run', '--plan', file, '--no-progress')
    expect(again.code, again.err).toBe(0)
    expect(configsOf(2)).toEqual(configsOf(1))

    const dup = tfkd('experiments', 'duplicate', '1', '--no-progress')
    expect(dup.code, dup.err).toBe(0)
    expect(dup.out).toMatch(/experiment 3: .* \(copy of #1\)/)
    expect(configsOf(3)).toEqual(configsOf(1))

    const more = tfkd('experiments', 'duplicate', '1', '--seeds', '5,6', '--variants', 'baseline')
    expect(more.code, more.err).toBe(0)
    expect(configsOf(4)).toEqual([
      'student mlp/baseline/s5 1ep completed',
      'student mlp/baseline/s6 1ep completed',
    ])
  }, 300_000)

  it('names what is wrong', () => {
    const missing = tfkd('experiments', 'plan', '99')
    expect(missing.code).not.toBe(0)
    expect(missing.err).toMatch(/experiment 99 not found/)
    const bad = tfkd('experiments', 'duplicate', 'x')
    expect(bad.code).not.toBe(0)
    expect(bad.err).toMatch(/experiment id must be a positive integer, got "x"/)
    const data = tfkd('experiments', 'duplicate', '1', '--dataset', 'nope')
    expect(data.code).not.toBe(0)
    expect(data.err).toMatch(/dataset "nope" not found/)
  }, 60_000)
})
