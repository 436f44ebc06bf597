// @vitest-environment happy-dom
/**
 * The import form behind a fake host: the format menu is the importer registry's (not a list in
 * the view), the CSV settings show for CSV (chosen, or by the path's ending), and the request
 * carries format, label column and the bad-rows choice; a refusal shows as an alert.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { AppError } from '../../src/shared/errors'
import type { ImportFormatInfo } from '../../src/shared/import-fields'

/** What a host answers to datasets:formats (its registry; test/core checks the real one's). */
const FORMATS: ImportFormatInfo[] = [
  { id: 'image-folder', title: 'Image folder', description: 'class folders', fields: [], extensions: [] },
  {
    id: 'csv',
    title: 'CSV',
    description: 'numeric features and a label column',
    fields: ['labelColumn', 'onBadRows', 'encoding'],
    extensions: ['.csv'],
  },
  {
    id: 'npy',
    title: 'NumPy',
    description: 'a format only this host knows',
    fields: [],
    extensions: ['.npy'],
  },
]

const fake = vi.hoisted(() => ({
  calls: [] as { channel: string; input: unknown }[],
  importAnswer: null as unknown,
  formats: [] as unknown[],
}))

vi.mock('../../src/renderer/src/lib/api', () => ({
  call: vi.fn(async (channel: string, input: unknown) => {
    fake.calls.push({ channel, input })
    switch (channel) {
      case 'datasets:formats':
        return fake.formats
      case 'datasets:import':
        if (fake.importAnswer instanceof Error) throw fake.importAnswer
        return fake.importAnswer
      default:
        return []
    }
  }),
  on: vi.fn(() => () => {}),
  onConnection: vi.fn(() => () => {}),
  uploadArchive: vi.fn(),
}))

const { default: DatasetsView } = await import('../../src/renderer/src/views/DatasetsView.vue')

beforeEach(() => {
  setActivePinia(createPinia())
  fake.calls.length = 0
  fake.formats = FORMATS
  fake.importAnswer = null
})

async function mounted() {
  const w = mount(DatasetsView, { global: { plugins: [createPinia()], stubs: { BaseChart: true } } })
  await flushPromises()
  return w
}

describe('Datasets view import form', () => {
  it('lists the registry formats and shows the CSV settings only for CSV', async () => {
    const w = await mounted()
    const options = w.findAll('[data-testid="import-format"] option').map((o) => o.text())
    expect(options).toEqual(['Detect from the path', 'Image folder', 'CSV', 'NumPy'])
    expect(w.find('[data-testid="import-label"]').exists()).toBe(false)
    await w.find('[data-testid="import-path"]').setValue('/data/iris.csv')
    expect(w.find('[data-testid="import-label"]').exists()).toBe(true)
    expect(w.find('[data-testid="import-bad-rows"]').exists()).toBe(true)
    await w.find('[data-testid="import-path"]').setValue('/data/pets')
    expect(w.find('[data-testid="import-label"]').exists()).toBe(false)
    await w.find('[data-testid="import-format"]').setValue('csv')
    expect(w.find('[data-testid="import-label"]').exists()).toBe(true)
    expect(w.find('[data-testid="import-format-help"]').text()).toMatch(/label column/)
  })

  it('sends the format, label column and bad-rows choice, and shows a refusal as an alert', async () => {
    const w = await mounted()
    fake.importAnswer = new AppError('bad_dataset', '/data/t.csv: line 7: expected 5 fields')
    await w.find('[data-testid="import-path"]').setValue('/data/t.txt')
    await w.find('[data-testid="import-format"]').setValue('csv')
    await w.find('[data-testid="import-label"]').setValue(' species ')
    await w.find('[data-testid="import-bad-rows"]').setValue('skip')
    await w.find('[data-testid="import-encoding"]').setValue('latin1')
    await w.find('[data-testid="import-form"]').trigger('submit')
    await flushPromises()
    const sent = fake.calls.find((c) => c.channel === 'datasets:import')?.input
    expect(sent).toMatchObject({
      path: '/data/t.txt',
      format: 'csv',
      labelColumn: 'species',
      onBadRows: 'skip',
      encoding: 'latin1',
    })
    const msg = w.find('[data-testid="import-message"]')
    expect(msg.text()).toBe('/data/t.csv: line 7: expected 5 fields')
    expect(msg.attributes('role')).toBe('alert')
  })

  it('sends no CSV settings for another format', async () => {
    const w = await mounted()
    fake.importAnswer = new AppError('bad_dataset', 'no')
    await w.find('[data-testid="import-path"]').setValue('/data/pets')
    await w.find('[data-testid="import-form"]').trigger('submit')
    await flushPromises()
    const sent = fake.calls.find((c) => c.channel === 'datasets:import')?.input as Record<string, unknown>
    expect(sent.path).toBe('/data/pets')
    expect(sent).not.toHaveProperty('format')
    expect(sent).not.toHaveProperty('labelColumn')
    expect(sent).not.toHaveProperty('onBadRows')
    expect(sent).not.toHaveProperty('encoding')
  })
})
