// @vitest-environment happy-dom
/**
 * Issue 22, item 7: the form keeps what was typed when the view is left and opened again.
 * Issue 22, item 6: the New experiment form says which values a variant uses (K-matched or the
 * repository's), marks the active button, and after K-matched states the effective weight against
 * the repository's own at K = 100 ("the same as"), not as "3.8 (at K = 100: 0.38)", which read as a
 * ten times weaker loss. A 10-class dataset behind a fake host.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { VARIANT_IDS } from '../../src/shared/types'
import { resolveVariantParams, VARIANTS } from '../../src/shared/variants'

vi.mock('../../src/renderer/src/lib/api', () => ({
  call: vi.fn(async (channel: string) => {
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
      case 'runs:list':
        return []
      case 'throughput:get':
        return {}
      case 'datasets:list':
        return [
          {
            id: 1,
            name: 'fashion',
            format: 'idx',
            classNames: [
              'T-shirt',
              'Trouser',
              'Pullover',
              'Dress',
              'Coat',
              'Sandal',
              'Shirt',
              'Sneaker',
              'Bag',
              'Boot',
            ],
            inputShape: [28, 28, 1],
            counts: { train: 8000, test: 2000 },
            createdAt: 0,
          },
        ]
      case 'models:list':
        return [{ id: 'mlp', description: 'mlp' }]
      default:
        return []
    }
  }),
  on: vi.fn(() => () => {}),
  onConnection: vi.fn(() => () => {}),
}))

const { default: NewExperimentView } = await import('../../src/renderer/src/views/NewExperimentView.vue')

beforeEach(() => setActivePinia(createPinia()))

describe('K-matched or repository values', () => {
  it('marks the active choice and states the effective weight against the repository at K = 100', async () => {
    const w = mount(NewExperimentView, { global: { plugins: [createPinia()] } })
    await flushPromises()
    const dataset = w.find('[data-testid="exp-dataset"]')
    if (dataset.exists()) await dataset.setValue('fashion')
    await w.find('[data-testid="variant-toggle-tfkd-self"]').setValue(true)
    await flushPromises()
    const text = (id: string) => w.find(`[data-testid="${id}-tfkd-self"]`).text().replace(/\s+/g, ' ')
    const pressed = (id: string) => w.find(`[data-testid="${id}-tfkd-self"]`).attributes('aria-pressed')

    // Repository values at K = 10: alpha 0.95, T 20 -> 0.95 * 400 / 10 = 38, ten times the 3.8 at K = 100.
    expect(text('k-mode')).toBe("Using the repository's values (tuned at K = 100)")
    expect(pressed('k-repository')).toBe('true')
    expect(pressed('k-matched')).toBe('false')
    expect(text('k-weight')).toBe(
      "effective distillation weight per sample at K = 10: 38.0 — 10× stronger than the repository's at K = 100 (3.8)",
    )

    await w.find('[data-testid="k-matched-tfkd-self"]').trigger('click')
    await flushPromises()
    expect(text('k-mode')).toBe('Using K-matched values (multiplier × K / 100)')
    expect(pressed('k-matched')).toBe('true')
    expect(pressed('k-repository')).toBe('false')
    expect(text('k-weight')).toBe(
      "effective distillation weight per sample at K = 10: 3.8 — the same as the repository's at K = 100 (3.8)",
    )
    expect(w.find('[data-testid="k-info-tfkd-self"]').text()).not.toMatch(/0\.38/)

    await w.find('[data-testid="param-tfkd-self-alpha"]').setValue('0.5')
    await flushPromises()
    expect(text('k-mode')).toBe('Using your own values')
  })
})

describe('the form keeps its state', () => {
  it('leaving the view and coming back finds the form as it was typed', async () => {
    const pinia = createPinia()
    const first = mount(NewExperimentView, { global: { plugins: [pinia] } })
    await flushPromises()
    await first.find('[data-testid="exp-name"]').setValue('fashion, second try')
    await first.find('[data-testid="variant-toggle-tfkd-self"]').setValue(true)
    await first.find('[data-testid="param-tfkd-self-alpha"]').setValue('0.7')
    first.unmount()

    const again = mount(NewExperimentView, { global: { plugins: [pinia] } })
    await flushPromises()
    expect((again.find('[data-testid="exp-name"]').element as HTMLInputElement).value).toBe(
      'fashion, second try',
    )
    expect((again.find('[data-testid="variant-toggle-tfkd-self"]').element as HTMLInputElement).checked).toBe(
      true,
    )
    expect((again.find('[data-testid="param-tfkd-self-alpha"]').element as HTMLInputElement).value).toBe(
      '0.7',
    )
  })
})
