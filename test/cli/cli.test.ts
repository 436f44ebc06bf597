/** The `tfkd` command as a user runs it: a real process, a real data folder, real training. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempHome } from '../helpers'
import { tfkdOn } from '../support/cli'

const home = tempHome('tfkd-cli-')
afterAll(() => home.cleanup())

const tfkd = tfkdOn(home.dir)

describe('tfkd CLI', () => {
  it('runs one baseline run and lists it', () => {
    const r = tfkd('run', '--model', 'mlp', '--epochs', '2', '--max-train', '400', '--no-progress')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/run 1: mlp \/ baseline on mnist-10k, seed 230, 2 epochs/)
    expect(r.out).toMatch(/epoch 1\/2: train loss [\d.]+ acc [\d.]+% \| val loss [\d.]+ acc [\d.]+%/)
    expect(r.out).toMatch(/run 1 completed: test accuracy [\d.]+%/)
    expect(r.err).toMatch(/backend: wasm/)
    const list = tfkd('runs')
    expect(list.out).toMatch(/1\s+completed\s+mnist-10k\s+mlp\s+baseline\s+230\s+2\/2/)
  })

  it('runs a plan and prints the comparison', () => {
    const r = tfkd(
      'run',
      '--model',
      'mlp',
      '--teacher-model',
      'cnn-small',
      '--variants',
      'baseline,kd,lsr',
      '--seeds',
      '2',
      '--epochs',
      '1',
      '--max-train',
      '256',
      '--no-progress',
    )
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/experiment 1: .*\n\s+7 runs \(1 teachers\)/)
    expect(r.out).toMatch(/\| kd, teacher cnn-small, student mlp \| 2 \(2 matched\) \|/)
    const csv = tfkd('compare', '--experiment', '1', '--format', 'csv')
    expect(csv.code).toBe(0)
    expect(csv.out.trim().split('\n')).toHaveLength(4) // header + 3 variants
  })

  it('says what is wrong with bad input, naming the flag or field', () => {
    const a = tfkd('run', '--epochs', 'two')
    expect(a.code).not.toBe(0)
    expect(a.err).toMatch(/--epochs must be an integer, got "two"/)
    const b = tfkd('run', '--variant', 'tfkd-reg', '--param', 'alpha=2')
    expect(b.code).toBe(2)
    expect(b.err).toMatch(/variantParams.alpha/)
    const c = tfkd('run', '--dataset', 'nope')
    expect(c.code).toBe(1)
    expect(c.err).toMatch(/dataset "nope" not found; known datasets: 1 \(mnist-10k\)/)
    const planFile = join(home.dir, 'plan.json')
    writeFileSync(planFile, JSON.stringify({ seedz: [1], training: { epochs: 1 } }))
    const p = tfkd('run', '--plan', planFile)
    expect(p.code).toBe(2)
    expect(p.err).toMatch(/plan: unknown key "seedz"/)
    const d = tfkd('compare', '--experiment', '99')
    expect(d.err).toMatch(/experiment 99 not found/)
  })
})
