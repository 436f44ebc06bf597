/**
 * An experiment's plan as a plan file (`experiments:plan`, `tfkd experiments plan`): planned again,
 * the file plans the same runs with the same configs as the stored experiment.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { experimentPlanInput, planFileOf, type ExperimentPlanInput } from '../../src/shared/plan'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { requireBuiltTrainer, tempHome } from '../helpers'

describe('plan file of an experiment', () => {
  let core: AppCore | undefined
  let cleanup: (() => void) | undefined
  afterEach(async () => {
    await core?.close()
    core = undefined
    cleanup?.()
  })

  function startCore(): AppCore {
    const home = tempHome()
    cleanup = home.cleanup
    return createAppCore({
      dataHome: home.dir,
      host: 'cli',
      spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
    })
  }

  /** Starts `input`, stops it at once (nothing needs training here) and exports its plan. */
  function roundTrip(c: AppCore, input: ExperimentPlanInput) {
    const exp = c.plans.start(input)
    c.plans.cancel(exp.id)
    const file = c.plans.planFile(exp.id)
    // What a user saves is plain JSON and loads through the same schema as `tfkd run --plan`.
    const reloaded = experimentPlanInput.parse(JSON.parse(JSON.stringify(file)))
    const stored = c.plans.get(exp.id).runs.map((r) => {
      const { teacher: _teacher, ...config } = c.store.runs.detail(r.id)!.config
      return config
    })
    return { exp, file, reloaded, stored }
  }

  it('plans the same runs again (preview and resolved configs), the dataset by name', () => {
    core = startCore()
    const input: ExperimentPlanInput = {
      name: 'round trip',
      dataset: '1',
      student: 'mlp',
      strongerTeacher: 'cnn-small',
      variants: ['baseline', 'kd', 'de-kd', 'tfkd-reg'],
      seeds: [4, 7],
      deKdEpochs: [1, 2],
      teacherEpochs: 2,
      training: { epochs: 1, maxTrainSamples: 300, batchSize: 32, augment: { horizontalFlip: true } },
      variantParams: { 'tfkd-reg': { alpha: 0.5 } },
    }
    const { file, reloaded, stored } = roundTrip(core, input)
    expect(file.dataset).toBe('mnist-10k')
    expect(file.name).toBe('round trip')
    expect(core.plans.preview(reloaded)).toEqual(core.plans.preview(input))
    const again = core.plans.prepare(reloaded).configs.map(({ teacher: _t, ...c }) => c)
    expect(again).toEqual(stored)
  })

  it('keeps a preset and the fields that override it', () => {
    core = startCore()
    const input: ExperimentPlanInput = {
      preset: 'de-kd-sweep',
      seeds: [2],
      training: { epochs: 1, maxTrainSamples: 200 },
    }
    const { file, reloaded, stored } = roundTrip(core, input)
    expect(file.preset).toBe('de-kd-sweep')
    expect(file.deKdEpochs).toEqual([1, 2, 3, 5])
    expect(core.plans.preview(reloaded)).toEqual(core.plans.preview(input))
    expect(core.plans.prepare(reloaded).configs.map(({ teacher: _t, ...c }) => c)).toEqual(stored)
  })

  it('answers experiments:plan with the file, and names what is wrong', async () => {
    core = startCore()
    const exp = core.plans.start({
      variants: ['baseline'],
      seeds: [1],
      training: { epochs: 1, maxTrainSamples: 100 },
    })
    core.plans.cancel(exp.id)
    const ok = await core.dispatch('experiments:plan', { experimentId: exp.id })
    expect(ok).toMatchObject({
      ok: true,
      value: { dataset: 'mnist-10k', variants: ['baseline'], seeds: [1] },
    })
    const missing = await core.dispatch('experiments:plan', { experimentId: 99 })
    expect(missing).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: 'experiment 99 not found' },
    })
    const bad = await core.dispatch('experiments:plan', { experimentId: 'one' } as never)
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
  })

  it('leaves out null fields and keys a newer version stored, and refuses a stored value out of range', () => {
    const file = planFileOf(
      { name: 'x', seeds: [1], reproduce: null, deKdTargetAccuracies: null, futureField: 3 },
      'mnist-10k',
    )
    expect(file).toEqual({ name: 'x', seeds: [1], dataset: 'mnist-10k' })
    expect(() => planFileOf({ seeds: [-1] }, 'mnist-10k')).toThrow(/seeds/)
  })
})
