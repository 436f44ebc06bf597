/** Presets declare the data they were made for and refuse any other; none falls back to the digits. */
import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { presetDataProblem, resolvePlan } from '../../src/shared/plan'
import { createAppCore } from '../../src/core/app/app-core'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../helpers'

const home = tempHome('tfkd-preset-')
afterAll(() => home.cleanup())

describe('preset data requirements', () => {
  it('paper-cifar100 accepts 32x32x3 with 100 classes only', () => {
    const cifar = { name: 'cifar-100', inputShape: [32, 32, 3] as [number, number, number], classCount: 100 }
    expect(presetDataProblem('paper-cifar100', cifar)).toBeNull()
    const mnist = { name: 'mnist-10k', inputShape: [28, 28, 1] as [number, number, number], classCount: 10 }
    const msg = presetDataProblem('paper-cifar100', mnist)
    expect(msg).toMatch(
      /needs CIFAR-100 \(32x32x3, 100 classes\); dataset mnist-10k is 28x28x1 with 10 classes/,
    )
    expect(msg).toMatch(/tfkd datasets import cifar-100-binary\.tar\.gz/)
    expect(presetDataProblem('paper-cifar100', { ...cifar, classCount: 10 })).toMatch(/10 classes/)
    expect(presetDataProblem('paper-cifar100', null)).toMatch(/no dataset was given; import CIFAR-100/)
    expect(presetDataProblem('quick', mnist)).toBeNull()
    expect(presetDataProblem(null, mnist)).toBeNull()
  })

  it('a preset that declares its data does not fall back to mnist-10k', () => {
    expect(resolvePlan({ preset: 'paper-cifar100' }).dataset).toBe('')
    expect(resolvePlan({ preset: 'quick' }).dataset).toBe('mnist-10k')
    expect(resolvePlan({}).dataset).toBe('mnist-10k')
  })

  it('the planner refuses paper-cifar100 on mnist-10k and without a dataset, storing nothing', async () => {
    const core = createAppCore({
      dataHome: home.dir,
      host: 'cli',
      spawnTrainer: () => {
        throw new Error('nothing may train')
      },
    })
    try {
      expect(() => core.plans.start({ preset: 'paper-cifar100', dataset: 'mnist-10k' })).toThrow(
        /preset paper-cifar100 needs CIFAR-100 .* dataset mnist-10k is 28x28x1 with 10 classes/,
      )
      expect(() => core.plans.start({ preset: 'paper-cifar100' })).toThrow(/no dataset was given/)
      expect(() => core.plans.start({ preset: 'paper-cifar100', dataset: 'nope' })).toThrow(
        /"nope" not found/,
      )
      expect(core.plans.list()).toHaveLength(0)
    } finally {
      await core.close()
    }
  })

  it('`tfkd run --preset paper-cifar100 --dataset mnist-10k` is refused with how to import CIFAR-100', () => {
    requireBuiltTrainer()
    const r = spawnSync(
      process.execPath,
      [CLI_ENTRY, 'run', '--preset', 'paper-cifar100', '--dataset', 'mnist-10k', '--no-progress'],
      { env: { ...process.env, TFKD_HOME: home.dir }, encoding: 'utf8', timeout: 60_000 },
    )
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/tfkd: preset paper-cifar100 needs CIFAR-100 \(32x32x3, 100 classes\)/)
    expect(r.stderr).toMatch(/tfkd datasets import cifar-100-binary\.tar\.gz --name cifar-100/)
    expect(r.stdout).not.toMatch(/experiment \d+/)
  })
})
