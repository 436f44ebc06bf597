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
          {
            id: 2,
            name: 'ten-classes',
            format: 'idx',
            classNames: Array.from({ length: 10 }, (_, i) => `c${i}`),
            inputShape: [28, 28, 1],
            counts: { train: 600, test: 100 },
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
  it('refuses an out-of-range hyperparameter in words (name, symbol, range) and starts nothing', async () => {
    const w = await mounted()
    await w.find('[data-testid="variant-toggle-tfkd-reg"]').setValue(true)
    await w.find('[data-testid="param-tfkd-reg-alpha"]').setValue('1.5')
    await w.find('[data-testid="new-experiment"]').trigger('submit')
    await flushPromises()
    expect(w.find('[data-testid="exp-error"]').text()).toMatch(
      /tfkd-reg: KD weight \(α\) must be 0 to 1, got "1\.5"/,
    )
    expect(w.find('[data-testid="exp-error"]').text()).not.toMatch(/expected number|<=/)
    expect(fake.calls.some((c) => c.channel === 'experiments:start')).toBe(false)
  })

  it('disables Start with the reason for repeated seeds, huge epochs and negative sample counts', async () => {
    const w = await mounted()
    await w.find('[data-testid="variant-toggle-kd"]').setValue(true)
    const start = () => w.find('[data-testid="exp-start"]')
    const cases: [string, string, RegExp][] = [
      ['exp-seeds', '1, 1', /seeds: 1 given more than once/],
      ['exp-epochs', '100000', /epochs: a whole number from 1 to 10,000/],
      ['exp-max-samples', '-5', /max train samples: a whole number ≥ 0 \(0 uses the whole training set\)/],
    ]
    for (const [id, bad, why] of cases) {
      const before = (w.find(`[data-testid="${id}"]`).element as HTMLInputElement).value
      await w.find(`[data-testid="${id}"]`).setValue(bad)
      expect(start().attributes('disabled'), id).toBeDefined()
      expect(w.text(), id).toMatch(why)
      await w.find(`[data-testid="${id}"]`).setValue(before)
      expect(start().attributes('disabled'), `${id} restored`).toBeUndefined()
    }
  })

  it('enumerated hyperparameters are selects, and labels carry the paper symbol and range', async () => {
    const w = await mounted()
    await w.find('[data-testid="variant-toggle-tfkd-reg"]').setValue(true)
    const reduction = w.find('[data-testid="param-tfkd-reg-reduction"]')
    expect(reduction.element.tagName).toBe('SELECT')
    expect(reduction.findAll('option').map((o) => o.text())).toEqual(['elementwise_mean', 'batchmean'])
    const soft = w.find('[data-testid="param-tfkd-reg-studentTemperature"]')
    expect(soft.findAll('option').map((o) => o.text())).toEqual(['one', 'tau'])
    const card = w.find('[data-testid="variant-tfkd-reg"]').text()
    expect(card).toMatch(/α\s*KD weight\s*0 to 1/)
    expect(card).toMatch(/a\s*correct-class probability/)
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

  it('the later baselines: paper cited, DIST presets in one click, standardize as a switch, K-matching by declaration', async () => {
    const w = await mounted()
    await w.find('[data-testid="exp-dataset"]').setValue('ten-classes')
    for (const v of ['dkd', 'dist', 'kd', 'kd-std'])
      await w.find(`[data-testid="variant-toggle-${v}"]`).setValue(true)
    expect(w.find('[data-testid="variant-paper-dkd"]').text()).toMatch(
      /Decoupled Knowledge Distillation, CVPR 2022/,
    )
    expect(w.find('[data-testid="variant-paper-dist"]').text()).toMatch(/NeurIPS 2022/)
    // DKD's own wording of alpha (not "KD weight, 0 to 1"), and a value above 1 accepted.
    expect(w.find('[data-testid="variant-dkd"]').text()).toMatch(/α\s*TCKD weight\s*0 to 1000/)
    await w.find('[data-testid="param-dkd-alpha"]').setValue('2')
    await w.find('[data-testid="param-preset-dist-CIFAR"]').trigger('click')
    const std = w.find('[data-testid="param-kd-standardize"]')
    expect(std.element.tagName).toBe('SELECT')
    await std.setValue('true')
    // K-matching comes from each variant's declared K-dependence: KD-style kd gets it; dkd and dist
    // (no 1/K factor) and kd-std (batchmean) show no K-matched button.
    expect(w.find('[data-testid="k-matched-kd"]').exists()).toBe(true)
    for (const v of ['dkd', 'dist']) expect(w.find(`[data-testid="k-info-${v}"]`).exists(), v).toBe(false)
    expect(w.find('[data-testid="k-info-kd-std"]').text()).toMatch(
      /distillation weight per sample at K = 10: 36\.0/,
    )
    await w.find('[data-testid="k-matched-kd"]').trigger('click')
    await w.find('[data-testid="new-experiment"]').trigger('submit')
    await flushPromises()
    const plan = fake.calls.find((c) => c.channel === 'experiments:start')!.input as {
      variants: string[]
      variantParams: Record<string, Record<string, unknown>>
    }
    expect(plan.variants).toEqual(expect.arrayContaining(['dkd', 'dist', 'kd', 'kd-std']))
    expect(plan.variantParams.dkd).toMatchObject({ alpha: 2, beta: 8 })
    expect(plan.variantParams.dist).toMatchObject({ beta: 2, gamma: 2, temperature: 4 })
    // The K-matched click resets kd to its defaults with the multiplier x 10 / 100.
    expect(plan.variantParams.kd).toMatchObject({ multiplier: 0.1, standardize: false })
  })
})
