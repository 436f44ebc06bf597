// @vitest-environment happy-dom
/**
 * New experiment's plan file: Save plan… downloads the form's plan as a loadable plan file, Load
 * plan… refuses bad JSON or a bad field by name and starts a good plan as it is, and an
 * experiment's Duplicate… (through the store) opens it loaded. Behind a fake host.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { experimentPlanInput, PRESET_IDS, PRESETS } from '../../src/shared/plan'
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
      case 'experiments:plan':
        return { name: 'first', dataset: 'mnist-10k', variants: ['baseline', 'lsr'], seeds: [1, 2] }
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
const { useExperimentsStore } = await import('../../src/renderer/src/stores/experiments')

let pinia: ReturnType<typeof createPinia>
beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  fake.calls.length = 0
})
afterEach(() => vi.restoreAllMocks())

async function mounted() {
  const w = mount(NewExperimentView, { global: { plugins: [pinia] } })
  await flushPromises()
  return w
}

/** Chooses `text` as the plan file in the hidden file input. */
async function choose(w: Awaited<ReturnType<typeof mounted>>, text: string, name = 'plan.json') {
  const input = w.find('[data-testid="plan-file-input"]')
  const file = new File([text], name, { type: 'application/json' })
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
  await input.trigger('change')
  await flushPromises()
}

describe('plan file in New experiment', () => {
  it('Save plan… downloads the form plan as JSON the plan schema accepts', async () => {
    let saved: Blob | undefined
    vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      saved = b as Blob
      return 'blob:plan'
    })
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {})
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {})
    const w = await mounted()
    await w.find('[data-testid="plan-save"]').trigger('click')
    expect(click).toHaveBeenCalledOnce()
    const plan = experimentPlanInput.parse(JSON.parse(await saved!.text()))
    expect(plan).toMatchObject({ dataset: 'mnist-10k', student: 'cnn-small', seeds: [1, 2, 3] })
    expect(plan.variants).toEqual(['baseline', 'lsr', 'tfkd-reg'])
  })

  it('Load plan… names the file and the field that is wrong, and loads nothing', async () => {
    const w = await mounted()
    const error = () => w.find('[data-testid="plan-file-error"]').text()
    await choose(w, '{"seeds": [1,', 'broken.json')
    expect(error()).toMatch(/^broken\.json: not valid JSON/)
    await choose(w, JSON.stringify({ seeds: [1, -2] }), 'neg.json')
    expect(error()).toMatch(/^neg\.json: seeds\.1: .*>=\s*0/)
    await choose(w, JSON.stringify({ seedz: [1] }), 'typo.json')
    expect(error()).toMatch(/^typo\.json: .*"seedz"/)
    expect(w.find('[data-testid="plan-loaded"]').exists()).toBe(false)
  })

  it('loads a plan file, then starts it as it is', async () => {
    const w = await mounted()
    const plan = {
      name: 'from file',
      dataset: 'mnist-10k',
      student: 'mlp',
      variants: ['baseline', 'kd'],
      seeds: [4, 5],
      training: { epochs: 1, maxTrainSamples: 300 },
    }
    await choose(w, JSON.stringify(plan))
    expect(w.find('[data-testid="plan-file-error"]').text()).toBe('')
    expect(w.find('[data-testid="plan-loaded"]').text()).toMatch(/from file.*plan\.json.*seeds 4, 5/s)
    await w.find('[data-testid="plan-loaded-start"]').trigger('click')
    await flushPromises()
    expect(fake.calls.filter((c) => c.channel === 'experiments:start').map((c) => c.input)).toEqual([plan])
    expect(w.emitted('started')).toEqual([[7]])
    expect(w.find('[data-testid="plan-loaded"]').exists()).toBe(false)
  })

  it('Duplicate… (the store) opens New experiment with the experiment plan, renamed as its copy', async () => {
    await useExperimentsStore().duplicate(3)
    expect(fake.calls).toContainEqual({ channel: 'experiments:plan', input: { experimentId: 3 } })
    const w = await mounted()
    expect(w.find('[data-testid="plan-loaded"]').text()).toMatch(/first \(copy of #3\) from experiment #3/)
    await w.find('[data-testid="plan-loaded-start"]').trigger('click')
    await flushPromises()
    expect(fake.calls.find((c) => c.channel === 'experiments:start')?.input).toEqual({
      name: 'first (copy of #3)',
      dataset: 'mnist-10k',
      variants: ['baseline', 'lsr'],
      seeds: [1, 2],
    })
  })
})
