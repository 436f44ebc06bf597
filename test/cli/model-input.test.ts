/**
 * `tfkd run` refuses a model that cannot take the dataset's input before any run starts (issue 22,
 * item 4: cnn-small on a 6-feature CSV failed mid-run with "memory access out of bounds").
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../helpers'

const home = tempHome('tfkd-cli-shape-')
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

describe('tfkd run: model and dataset shapes', () => {
  beforeAll(() => {
    const rows = ['a,b,c,d,e,f,label']
    for (let i = 0; i < 60; i++) rows.push(`${[1, 2, 3, 4, 5, 6].map((k) => (i * k) % 7).join(',')},${i % 3}`)
    const csv = join(home.dir, 'six.csv')
    writeFileSync(csv, rows.join('\n') + '\n')
    const r = tfkd('datasets', 'import', csv, '--name', 'six')
    expect(r.code, r.err).toBe(0)
  })

  it('one run: exit 2 with the model, the dataset and both shapes; no run recorded', () => {
    const r = tfkd('run', '--dataset', 'six', '--model', 'cnn-small', '--epochs', '1', '--no-progress')
    expect(r.code).toBe(2)
    expect(r.err).toMatch(
      /tfkd: model cnn-small needs inputs of at least 4x4 \(height x width\), but dataset "six" has 1x6x1; pick a model that takes 1x6 \(mlp, /,
    )
    expect(r.out).not.toMatch(/epoch 1/)
    expect(tfkd('runs', '--json').out.trim()).toBe('[]')
  })

  it('a plan: refused the same way, naming the plan field', () => {
    const r = tfkd(
      'run',
      '--dataset',
      'six',
      '--model',
      'cnn-small',
      '--variants',
      'baseline,lsr',
      '--epochs',
      '1',
    )
    expect(r.code).toBe(2)
    expect(r.err).toMatch(
      /tfkd: student: model cnn-small needs inputs of at least 4x4 .*dataset "six" has 1x6x1/,
    )
    expect(tfkd('runs', '--json').out.trim()).toBe('[]')
  })
})
