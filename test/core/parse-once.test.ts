/**
 * Checked at the boundary, parsed once inside: a plan that comes in through the validated contract
 * (dispatch, as every host's call does) is parsed by experimentPlanInput once, and each run's
 * hyperparameters are parsed by their variant's schema once on the way to the stored config.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { experimentPlanInput } from '../../src/shared/plan'
import { VARIANT_PARAMS } from '../../src/shared/variants'
import { tempHome } from '../helpers'

let core: AppCore | undefined
let cleanup: (() => void) | undefined
afterEach(async () => {
  vi.restoreAllMocks()
  await core?.close()
  core = undefined
  cleanup?.()
})

function parses(schema: { parse: unknown; safeParse: unknown }): () => number {
  const a = vi.spyOn(schema as { parse: (x: unknown) => unknown }, 'parse')
  const b = vi.spyOn(schema as { safeParse: (x: unknown) => unknown }, 'safeParse')
  return () => a.mock.calls.length + b.mock.calls.length
}

describe('parse once', () => {
  it('parses a plan once and each run hyperparameters once, from the contract to the stored config', async () => {
    const t = tempHome()
    cleanup = t.cleanup
    core = createAppCore({
      dataHome: t.dir,
      host: 'cli',
      spawnTrainer: () => {
        throw new Error('no trainer in this test')
      },
    })
    const planParses = parses(experimentPlanInput)
    const kdParses = parses(VARIANT_PARAMS.kd)
    const res = await core.dispatch('experiments:start', {
      variants: ['baseline', 'kd'],
      seeds: [1, 2],
      variantParams: { kd: { alpha: 0.5 } },
      training: { epochs: 1 },
    })
    expect(res.ok).toBe(true)
    expect(planParses()).toBe(1)
    // Two kd students (seeds 1 and 2): one parse each.
    expect(kdParses()).toBe(2)
    const kd = core.store.runs.list().filter((r) => r.variant === 'kd')
    expect(kd).toHaveLength(2)
    expect(core.store.runs.detail(kd[0]!.id)!.config.variantParams).toMatchObject({ alpha: 0.5 })
  })
})
