import { afterEach, describe, expect, it } from 'vitest'
import { expandPlan, resolvePlan } from '../../src/shared/plan'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { requireBuiltTrainer, tempHome } from '../helpers'

describe('plan expansion', () => {
  it('trains each needed teacher once, before the students, and every variant x seed', () => {
    const plan = resolvePlan({ preset: 'quick', seeds: [1, 2, 3] })
    const runs = expandPlan(plan)
    const teachers = runs.filter((r) => r.role === 'teacher')
    expect(teachers.map((t) => t.key)).toEqual(['teacher:stronger', 'teacher:weaker', 'teacher:self'])
    expect(teachers.map((t) => t.config.model)).toEqual(['resnet8', 'mlp', 'cnn-small'])
    expect(teachers.every((t) => t.config.variant === 'baseline' && t.config.seed === plan.teacherSeed)).toBe(
      true,
    )
    const students = runs.filter((r) => r.role === 'student')
    expect(students).toHaveLength(7 * 3)
    expect(runs.findIndex((r) => r.role === 'student')).toBe(teachers.length)
    const kd = students.filter((s) => s.config.variant === 'kd')
    expect(kd.every((s) => s.teacher?.slot === 'stronger' && s.teacher.epoch === null)).toBe(true)
    expect(students.find((s) => s.config.variant === 're-kd')?.teacher?.slot).toBe('weaker')
    expect(students.find((s) => s.config.variant === 'tfkd-self')?.teacher?.slot).toBe('self')
    expect(students.find((s) => s.config.variant === 'de-kd')?.teacher).toEqual({
      slot: 'stronger',
      key: 'teacher:stronger',
      epoch: 1,
    })
    expect(
      students
        .filter((s) => ['baseline', 'lsr', 'tfkd-reg'].includes(s.config.variant))
        .every((s) => !s.teacher),
    ).toBe(true)
  })

  it('one teacher per seed on request: teacher i teaches student seed i and shares its split', () => {
    const runs = expandPlan(
      resolvePlan({ variants: ['baseline', 'kd', 're-kd'], seeds: [4, 5, 6], teacherPerSeed: true }),
    )
    const teachers = runs.filter((r) => r.role === 'teacher')
    expect(teachers.map((t) => [t.key, t.config.seed, t.config.splitSeed])).toEqual([
      ['teacher:stronger:4', 1004, 4],
      ['teacher:stronger:5', 1005, 5],
      ['teacher:stronger:6', 1006, 6],
      ['teacher:weaker:4', 1004, 4],
      ['teacher:weaker:5', 1005, 5],
      ['teacher:weaker:6', 1006, 6],
    ])
    const kd5 = runs.find((r) => r.key === 'student:kd:5')!
    expect(kd5.teacher?.key).toBe('teacher:stronger:5')
    expect(kd5.config.splitSeed).toBe(5)
    // One shared teacher: every run of the plan holds out the same validation images.
    const shared = expandPlan(resolvePlan({ variants: ['baseline', 'kd'], seeds: [4, 5, 6] }))
    expect(new Set(shared.map((r) => r.config.splitSeed))).toEqual(new Set([4]))
  })

  it('sweeps de-kd snapshots and trains the teacher long enough for the last one', () => {
    const plan = resolvePlan({ preset: 'de-kd-sweep', seeds: [1] })
    const runs = expandPlan(plan)
    expect(runs.filter((r) => r.role === 'teacher').map((t) => [t.key, t.config.epochs])).toEqual([
      ['teacher:stronger', 5],
    ])
    expect(runs.filter((r) => r.config.variant === 'de-kd').map((r) => r.teacher?.epoch)).toEqual([
      1, 2, 3, 5,
    ])
  })

  it('picks de-kd snapshots by target accuracy when asked', () => {
    const runs = expandPlan(
      resolvePlan({ variants: ['de-kd'], seeds: [1], deKdTargetAccuracies: [0.2, 0.5] }),
    )
    expect(runs.filter((r) => r.role === 'student').map((r) => r.teacher)).toEqual([
      { slot: 'stronger', key: 'teacher:stronger', epoch: null, targetAccuracy: 0.2 },
      { slot: 'stronger', key: 'teacher:stronger', epoch: null, targetAccuracy: 0.5 },
    ])
  })

  it('reuses a given teacher run instead of training one', () => {
    const runs = expandPlan(
      resolvePlan({ variants: ['baseline', 'kd'], seeds: [1], reuseTeachers: { stronger: 9 } }),
    )
    expect(runs.filter((r) => r.role === 'teacher')).toHaveLength(0)
  })

  it("overrides one augmentation field and keeps the preset's others", () => {
    const plan = resolvePlan({ preset: 'paper-cifar100', training: { augment: { rotationDegrees: 0 } } })
    expect(plan.training.augment).toEqual({ cropPadding: 4, horizontalFlip: true, rotationDegrees: 0 })
    expect(plan.training.lrMilestones).toEqual([60, 120, 160])
  })

  it('rejects unknown keys and bad values with the field name', () => {
    expect(() => resolvePlan({ seedz: [1] } as never)).toThrow(/seedz/)
    expect(() => resolvePlan({ training: { epochs: 0 } })).toThrow(/epochs/)
  })
})

describe('plan service with real training', () => {
  let core: AppCore | undefined
  let cleanup: (() => void) | undefined
  afterEach(async () => {
    await core?.close()
    core = undefined
    cleanup?.()
  })

  /** A real core in a fresh data folder, training in real trainer processes. */
  function startCore(): AppCore {
    const home = tempHome()
    cleanup = home.cleanup
    return createAppCore({
      dataHome: home.dir,
      host: 'cli',
      spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
    })
  }

  it('runs a plan: lineage stored, students wait for their teacher, compare covers every variant', async () => {
    core = startCore()
    const exp = core.plans.start({
      student: 'mlp',
      strongerTeacher: 'cnn-small',
      variants: ['baseline', 'kd', 'de-kd', 'tfkd-self'],
      seeds: [1, 2],
      teacherEpochs: 2,
      training: { epochs: 1, maxTrainSamples: 256, batchSize: 64 },
    })
    expect(exp.runs).toHaveLength(2 + 4 * 2)
    const finished = await Promise.all(exp.runs.map((r) => core!.runs.waitFor(r.id)))
    expect(finished.map((r) => r.status)).toEqual(finished.map(() => 'completed'))
    const byKey = (variant: string, seed: number) =>
      finished.find((r) => r.variant === variant && r.seed === seed && r.role === 'student')!
    const strong = finished.find((r) => r.role === 'teacher' && r.model === 'cnn-small')!
    const self = finished.find((r) => r.role === 'teacher' && r.model === 'mlp')!
    expect(byKey('kd', 1).teacherRunId).toBe(strong.id)
    expect(byKey('tfkd-self', 2).teacherRunId).toBe(self.id)
    const deKd = core.store.runs.detail(byKey('de-kd', 1).id)!
    expect(deKd.teacherRunId).toBe(strong.id)
    expect(deKd.teacherEpoch).toBe(1)
    expect(core.store.runs.detail(byKey('kd', 2).id)!.teacherEpoch).toBe(2)
    // Every student started after its teacher finished.
    for (const s of finished.filter((r) => r.teacherRunId)) {
      const t = finished.find((r) => r.id === s.teacherRunId)!
      expect(s.startedAt!).toBeGreaterThanOrEqual(t.finishedAt!)
    }
    const table = core.plans.compare({ experimentId: exp.id })
    expect(table.rows.map((r) => r.variant).sort()).toEqual(['baseline', 'de-kd', 'kd', 'tfkd-self'])
  })

  it('de-kd by target accuracy: the first teacher epoch that reached it, else the best', async () => {
    core = startCore()
    const exp = core.plans.start({
      student: 'mlp',
      strongerTeacher: 'cnn-small',
      variants: ['de-kd'],
      seeds: [1],
      teacherEpochs: 3,
      deKdTargetAccuracies: [0.01, 0.999],
      training: { epochs: 1, maxTrainSamples: 256 },
    })
    const done = await Promise.all(exp.runs.map((r) => core!.runs.waitFor(r.id)))
    expect(done.every((r) => r.status === 'completed')).toBe(true)
    const teacher = done.find((r) => r.role === 'teacher')!
    const metrics = core.store.runs.metrics(teacher.id)
    const bestEpoch = metrics.reduce((b, m) => (m.valAccuracy > b.valAccuracy ? m : b)).epoch
    const [low, high] = done.filter((r) => r.role === 'student').map((r) => core!.store.runs.detail(r.id)!)
    expect(low!.teacherEpoch).toBe(1)
    expect(high!.teacherEpoch).toBe(bestEpoch)
  })

  it('fails students whose teacher failed, naming it', async () => {
    core = startCore()
    const exp = core.plans.start({
      student: 'mlp',
      strongerTeacher: 'cnn-small',
      variants: ['kd'],
      seeds: [1],
      training: { epochs: 1, maxTrainSamples: 256 },
    })
    const teacher = exp.runs.find((r) => r.role === 'teacher')!
    core.runs.cancel(teacher.id)
    const student = await core.runs.waitFor(exp.runs.find((r) => r.role === 'student')!.id)
    expect(student.status).toBe('failed')
    expect(student.failureReason).toMatch(new RegExp(`teacher run ${teacher.id} ended cancelled`))
  })
})
