// @vitest-environment happy-dom
/**
 * The Slurm parts of the UI behind a fake host: "Run on" appears only when the host can submit,
 * the generated scripts are shown before Submit is possible, Submit sends the plan on screen, and
 * Live runs lists a cluster job's rows with a Sync that reports what it merged.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { VARIANT_IDS } from '../../src/shared/types'
import { resolveVariantParams, VARIANTS } from '../../src/shared/variants'

const fake = vi.hoisted(() => ({ calls: [] as { channel: string; input: unknown }[], available: true }))

const SCRIPT = '#!/bin/bash\n#SBATCH --job-name=tfkd-x-teachers\n#SBATCH --gpus-per-task=1\n'
const STATUS = {
  uuid: 'abcdef12-0000',
  name: 'plan',
  jobDir: '/scratch/j',
  experimentId: null,
  submissions: [],
  counts: { unsubmitted: 0, pending: 1, running: 1, completed: 0, failed: 0, unknown: 0 },
  rows: [
    {
      index: 0,
      uuid: 'a',
      key: 'teacher:stronger',
      role: 'teacher',
      model: 'resnet8',
      variant: 'baseline',
      seed: 1,
      state: 'running',
      slurmId: '5_0',
      slurmState: 'RUNNING',
      reason: null,
      node: 'gpu07',
      progress: { epoch: 2, epochs: 3, fraction: 0.5 },
      marker: null,
    },
    {
      index: 1,
      uuid: 'b',
      key: 'student:kd:1',
      role: 'student',
      model: 'cnn-small',
      variant: 'kd',
      seed: 1,
      state: 'pending',
      slurmId: '6_1',
      slurmState: 'PENDING',
      reason: 'Dependency',
      node: null,
      progress: null,
      marker: null,
    },
  ],
}

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
      case 'cluster:available':
        return fake.available
          ? { available: true, reason: null }
          : { available: false, reason: 'sbatch is not on PATH' }
      case 'cluster:jobs':
        return [
          {
            uuid: STATUS.uuid,
            name: 'plan',
            jobDir: '/scratch/j',
            experimentId: null,
            createdAt: 0,
            syncedAt: null,
          },
        ]
      case 'cluster:status':
        return STATUS
      case 'cluster:sync':
        return { experimentId: 4, added: 1, updated: 0, unchanged: 0, notFinished: 1 }
      case 'cluster:submit': {
        const dry = (input as { dryRun?: boolean }).dryRun
        return {
          uuid: 'u',
          name: 'plan',
          jobDir: '/scratch/tfkd-1',
          rows: 5,
          scripts: [
            {
              group: 'teachers',
              label: 'teachers',
              rows: [0],
              file: '/scratch/tfkd-1/scripts/teachers.sbatch',
              text: SCRIPT,
              sbatch: ['--parsable', '--array=0'],
            },
          ],
          submissions: dry
            ? []
            : [
                {
                  jobId: '41',
                  group: 'teachers',
                  rows: [0],
                  after: [],
                  script: 's',
                  submittedAt: 0,
                  attempt: 0,
                },
              ],
        }
      }
      case 'throughput:get':
        return {}
      default:
        return []
    }
  }),
  on: vi.fn(() => () => {}),
  onConnection: vi.fn(() => () => {}),
}))

const { default: NewExperimentView } = await import('../../src/renderer/src/views/NewExperimentView.vue')
const { default: ClusterJobs } = await import('../../src/renderer/src/components/ClusterJobs.vue')

beforeEach(() => {
  setActivePinia(createPinia())
  fake.calls.length = 0
  fake.available = true
})

describe('New experiment: Run on Slurm', () => {
  it('is not offered when the host cannot submit', async () => {
    fake.available = false
    const w = mount(NewExperimentView, { global: { plugins: [createPinia()] } })
    await flushPromises()
    expect(w.find('[data-testid="exp-run-on"]').exists()).toBe(false)
    expect(w.find('[data-testid="exp-start"]').exists()).toBe(true)
  })

  it('shows the generated scripts before Submit, then submits the plan on screen', async () => {
    const w = mount(NewExperimentView, { global: { plugins: [createPinia()] } })
    await flushPromises()
    await w.find('[data-testid="exp-run-on-slurm"]').setValue(true)
    expect(w.find('[data-testid="exp-start"]').exists()).toBe(false)
    await w.find('[data-testid="cluster-workdir"]').setValue('/scratch/me')
    await w.find('[data-testid="cluster-gpus"]').setValue('1')
    await w.find('[data-testid="cluster-setup"]').setValue('module load cuda/11.8 cudnn/8.x')
    const submit = w.find('[data-testid="cluster-submit-button"]')
    expect(submit.attributes('disabled')).toBeDefined()
    await w.find('[data-testid="cluster-preview"]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid="cluster-scripts"]').text()).toContain('#SBATCH --gpus-per-task=1')
    expect(submit.attributes('disabled')).toBeUndefined()
    await submit.trigger('click')
    await flushPromises()
    const sent = fake.calls.filter((c) => c.channel === 'cluster:submit')
    expect(sent).toHaveLength(2)
    const [dry, real] = sent.map(
      (c) => c.input as { dryRun?: boolean; workdir: string; options: object; plan: object },
    )
    expect(dry!.dryRun).toBe(true)
    expect(real!.dryRun).toBeUndefined()
    expect(real!.plan).toEqual(dry!.plan)
    expect(real!.options).toEqual({
      cpusPerTask: 1,
      gpusPerTask: 1,
      setup: ['module load cuda/11.8 cudnn/8.x'],
    })
    expect(w.find('[data-testid="cluster-submitted"]').text()).toMatch(/teachers \(job 41\)/)
    expect(fake.calls.some((c) => c.channel === 'experiments:start')).toBe(false)
  })

  it('asks for the scripts again when a field changes after the preview', async () => {
    const w = mount(NewExperimentView, { global: { plugins: [createPinia()] } })
    await flushPromises()
    await w.find('[data-testid="exp-run-on-slurm"]').setValue(true)
    await w.find('[data-testid="cluster-workdir"]').setValue('/scratch/me')
    await w.find('[data-testid="cluster-preview"]').trigger('click')
    await flushPromises()
    await w.find('[data-testid="cluster-time"]').setValue('01:00:00')
    expect(w.find('[data-testid="cluster-submit-button"]').attributes('disabled')).toBeDefined()
  })
})

describe('Live runs: cluster jobs', () => {
  it("lists the job's rows with Slurm state, progress and reason, and syncs", async () => {
    const w = mount(ClusterJobs, { global: { plugins: [createPinia()] } })
    await flushPromises()
    const text = w.find('[data-testid="cluster-jobs"]').text()
    expect(text).toContain('teacher:stronger')
    expect(text).toContain('epoch 2/3, 50%')
    expect(text).toContain('Dependency')
    expect(text).toContain('1 pending · 1 running')
    await w.find('[data-testid="cluster-sync"]').trigger('click')
    await flushPromises()
    expect(fake.calls.find((c) => c.channel === 'cluster:sync')!.input).toEqual({ job: '/scratch/j' })
    expect(w.find('[data-testid="cluster-sync-result"]').text()).toMatch(
      /1 added.*1 not finished.*experiment 4/s,
    )
    w.unmount()
  })
})
