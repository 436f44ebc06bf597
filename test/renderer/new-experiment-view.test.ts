// @vitest-environment happy-dom
/**
 * The variant picker's own logic (hyperparameter validation against the variant schemas, the plan
 * it builds, the start button) in a mounted component, behind a fake host.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { PRESET_IDS, PRESETS } from '../../src/shared/plan'
import { VARIANT_IDS } from '../../src/shared/types'
import { resolveVariantParams, VARIANTS } from '../../src/shared/variants'

const fake = vi.hoisted(() => ({ calls: [] as { channel: string; input: unknown }[] }))

vi.mock('../../src/renderer/src/lib/api', () => ({
  call: vi.fn(async (channel: string, input: unknown) => {
    fake.calls.push({ channel, input })
    switch (channel) {
      case 'variants:list':
        return VARIANT_IDS.map((id) => ({
          id,
          name: VARIANTS[id].name,
          tests: VARIANTS[id].tests,
          teacher: VARIANTS[id].teacher,
          defaults: resolveVariantParams(id, {}),
        }))
      case 'presets:list':
        return PRESET_IDS.map((id) => ({ id, description: PRESETS[id].description, plan: PRESETS[id].plan }))
      case 'throughput:get':
        return {}
      case 'datasets:list':
        return [
          {
            id: 1,
            name: 'mnist-10k',
            format: 'bundled',
            classNames: [],
            inputShape: [28, 28, 1],
            counts: { train: 8000, test: 2000 },
            createdAt: 0,
          },
        ]
      case 'models:list':
        return ['mlp', 'cnn-small', 'resnet8'].map((id) => ({ id, description: id }))
      case 'runs:list':
        return []
      case 'experiments:start':
        return { id: 7, runs: [] }
      default:
        return []
    }
  }),
  on: vi.fn(() => () => {}),
  onConnection: vi.fn(() => () => {}),
}))

const { default: NewExperimentView } = await import('../../src/renderer/src/views/NewExperimentView.vue')

beforeEach(() => {
  setActivePinia(createPinia())
  fake.calls.length = 0
})

async function mounted() {
  const w = mount(NewExperimentView, { global: { plugins: [createPinia()] } })
  await flushPromises()
  return w
}

describe('New experiment view', () => {
  it('refuses an out-of-range hyperparameter with the schema message and starts nothing', async () => {
    const w = await mounted()
    await w.find('[data-testid="variant-toggle-tfkd-reg"]').setValue(true)
    await w.find('[data-testid="param-tfkd-reg-alpha"]').setValue('1.5')
    await w.find('[data-testid="new-experiment"]').trigger('submit')
    await flushPromises()
    expect(w.find('[data-testid="exp-error"]').text()).toMatch(/tfkd-reg: alpha: .*<=1/)
    expect(fake.calls.some((c) => c.channel === 'experiments:start')).toBe(false)
  })

  it('starts the plan it shows: chosen variants, parsed seeds and typed hyperparameters', async () => {
    const w = await mounted()
    await w.find('[data-testid="variant-toggle-kd"]').setValue(true)
    await w.find('[data-testid="param-kd-temperature"]').setValue('4')
    await w.find('[data-testid="exp-seeds"]').setValue('3, 4 5')
    await w.find('[data-testid="exp-epochs"]').setValue('2')
    await w.find('[data-testid="new-experiment"]').trigger('submit')
    await flushPromises()
    const start = fake.calls.find((c) => c.channel === 'experiments:start')
    expect(start).toBeDefined()
    const plan = start!.input as {
      variants: string[]
      seeds: number[]
      training: { epochs: number }
      variantParams: Record<string, Record<string, unknown>>
    }
    expect(plan.variants).toContain('kd')
    expect(plan.seeds).toEqual([3, 4, 5])
    expect(plan.training.epochs).toBe(2)
    expect(plan.variantParams.kd).toMatchObject({ temperature: 4, alpha: 0.95 })
  })
})
