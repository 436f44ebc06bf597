/** `tfkd settings parallel` stores how many runs train at once; `tfkd run --parallel` checks its value. */
import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../helpers'

const home = tempHome('tfkd-settings-')
afterAll(() => home.cleanup())

function tfkd(...args: string[]) {
  requireBuiltTrainer()
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    env: { ...process.env, TFKD_HOME: home.dir },
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('tfkd settings parallel', () => {
  it('prints 1 by default, keeps what is set, refuses a bad value (exit 2)', () => {
    expect(tfkd('settings', 'parallel').out).toBe('runs.parallel = 1\n')
    expect(tfkd('settings', 'parallel', 'auto').out).toBe('runs.parallel = auto\n')
    expect(tfkd('settings', 'parallel').out).toBe('runs.parallel = auto\n')
    const bad = tfkd('settings', 'parallel', '0')
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/parallel: expected auto or a whole number from 1 to 256, got "0"/)
    const run = tfkd('run', '--model', 'mlp', '--variants', 'baseline', '--seeds', '1', '--parallel', 'many')
    expect(run.code).toBe(2)
    expect(run.err).toMatch(/--parallel: expected auto or a whole number/)
    expect(tfkd('run', '--help').out).toMatch(/--parallel <N\|auto>[\s\S]*one run per 2 CPUs/)
  })
})
