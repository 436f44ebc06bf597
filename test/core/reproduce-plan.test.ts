/**
 * The reproduction study's plans: their shape per scale, and the `small` scale planned on a real
 * 60,000-image 28x28 IDX dataset (Debian's dataset-fashion-mnist, imported as it is). Planning only:
 * the small study itself needs ~2 h of an idle 2-core machine.
 */
import { existsSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { reproducePlan, reproduceCommand } from '../../src/shared/reproduce'
import { createAppCore } from '../../src/core/app/app-core'
import { importDataset } from '../../src/core/services/dataset-service'
import { dataPaths } from '../../src/core/paths'
import { tempHome } from '../helpers'

const FASHION = '/usr/share/datasets/fashion-mnist'
const home = tempHome('tfkd-repro-plan-')
afterAll(() => home.cleanup())

function openCore() {
  return createAppCore({
    dataHome: home.dir,
    host: 'cli',
    spawnTrainer: () => {
      throw new Error('planning only: nothing may train')
    },
  })
}

describe('reproduction plans', () => {
  it('smoke plans every variant over the seeds on mnist-10k with shared teachers and one split', async () => {
    const core = openCore()
    try {
      const p = core.plans.preview(reproducePlan({ dataset: 'mnist-10k', scale: 'smoke', seeds: 3 }))
      expect(p.teachers).toBe(4)
      expect(p.students).toBe(21)
      expect(new Set(p.runs.map((r) => r.splitSeed))).toEqual(new Set([1]))
      // The stronger and weaker teachers train 6 epochs; the self teacher the student's recipe (3).
      expect(p.runs.filter((r) => r.role === 'teacher').map((r) => [r.key, r.model, r.epochs])).toEqual([
        ['teacher:stronger', 'resnet8', 6],
        ['teacher:weaker', 'mlp', 6],
        ['teacher:self', 'cnn-small', 3],
        // De-KD's poor teacher: the stronger teacher's recipe for exactly 1 epoch, its own run, so its
        // accuracy is measured on the test split at its last epoch.
        ['teacher:stronger@e1', 'resnet8', 1],
      ])
      const self = p.runs.find((r) => r.key === 'teacher:self')!
      const student = p.runs.find((r) => r.key === 'student:baseline:1')!
      expect([self.maxTrainSamples, self.splitSeed]).toEqual([student.maxTrainSamples, student.splitSeed])
      expect(p.runs.find((r) => r.key === 'student:de-kd@1:2')?.teacher).toBe('teacher:stronger@e1')
      const strong = p.runs.find((r) => r.key === 'teacher:stronger')!
      const poor = p.runs.find((r) => r.key === 'teacher:stronger@e1')!
      expect([poor.seed, poor.splitSeed]).toEqual([strong.seed, strong.splitSeed])
      expect(core.plans.list()).toHaveLength(0) // a preview stores nothing
    } finally {
      await core.close()
    }
  })

  it('K-matched values by default (multiplier K / 100 at K = 10); the repository form on request', async () => {
    const core = openCore()
    try {
      const params = (hp?: 'k-matched' | 'repository') => {
        const { configs, plan } = core.plans.prepare(
          reproducePlan({ dataset: 'mnist-10k', scale: 'smoke', seeds: 3, hyperparameters: hp }),
        )
        const of = (v: string) => configs.find((c) => c.variant === v && c.seed === 1)!.variantParams
        return { of, plan }
      }
      const km = params()
      expect(km.plan.reproduce?.hyperparameters).toBe('k-matched')
      for (const v of ['kd', 're-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'])
        expect(km.of(v)).toMatchObject({ multiplier: 0.1, reduction: 'elementwise_mean' })
      expect(km.of('lsr')).toEqual({ epsilon: 0.1 })
      // The stored plan says what ran.
      expect(km.plan.variantParams.kd).toEqual({ multiplier: 0.1 })
      const repo = params('repository')
      for (const v of ['kd', 'tfkd-reg']) expect(repo.of(v)).toMatchObject({ multiplier: 1 })
      expect(
        reproduceCommand({ dataset: 'x', scale: 'smoke', seeds: 3, hyperparameters: 'repository' }),
      ).toBe('tfkd reproduce --dataset x --scale smoke --seeds 3 --hyperparameters repository')
    } finally {
      await core.close()
    }
  })

  it('paper refuses data other than CIFAR-100; seeds are validated', async () => {
    const core = openCore()
    try {
      expect(() => core.plans.preview(reproducePlan({ dataset: 'mnist-10k', scale: 'paper' }))).toThrow(
        /preset paper-cifar100 needs CIFAR-100/,
      )
      expect(() => reproducePlan({ dataset: 'mnist-10k', scale: 'smoke', seeds: 0 })).toThrow(/seeds/)
      expect(reproduceCommand({ dataset: 'x', scale: 'small', seeds: 5 })).toBe(
        'tfkd reproduce --dataset x --scale small --seeds 5',
      )
    } finally {
      await core.close()
    }
  })

  it('small plans one teacher per seed on a 60,000-image IDX dataset (fashion-mnist)', async () => {
    if (!existsSync(FASHION)) {
      if (process.env.CI === 'true')
        throw new Error(`${FASHION} missing: .ci/run installs dataset-fashion-mnist`)
      console.warn(`skipped: ${FASHION} missing (apt-get install dataset-fashion-mnist)`)
      return
    }
    const core = openCore()
    try {
      const r = await importDataset({
        store: core.store,
        paths: dataPaths(home.dir),
        source: FASHION,
        options: { name: 'fashion-mnist' },
      })
      expect(r.dataset.counts).toMatchObject({ train: 60_000, test: 10_000 })
      const p = core.plans.preview(reproducePlan({ dataset: 'fashion-mnist', scale: 'small', seeds: 3 }))
      expect(p.dataset).toMatchObject({ inputShape: [28, 28, 1], classes: 10 })
      expect(p.teachers).toBe(12) // stronger, weaker, self, the 1-epoch poor teacher x 3 seeds
      expect(p.students).toBe(21)
      const teachers = p.runs.filter((x) => x.role === 'teacher')
      expect(teachers.map((t) => [t.key, t.seed, t.splitSeed, t.epochs])).toContainEqual([
        'teacher:weaker:2',
        1002,
        2,
        8,
      ])
      // student seed i learns from teacher i and holds out the same validation images
      for (const s of p.runs.filter((x) => x.role === 'student' && x.teacher)) {
        expect(s.teacher).toMatch(new RegExp(`:${s.seed}(@e?\\d+)?$`))
        expect(s.splitSeed).toBe(s.seed)
      }
      expect(p.runs.every((x) => x.maxTrainSamples === 0)).toBe(true)
      expect(p.runs.filter((x) => x.role === 'student').every((x) => x.epochs === 5)).toBe(true)
      // Tf-KD self's teacher is the student trained normally: 5 epochs, not the teachers' 8.
      expect(teachers.filter((t) => t.key.startsWith('teacher:self')).map((t) => t.epochs)).toEqual([5, 5, 5])
    } finally {
      await core.close()
    }
  })
})
