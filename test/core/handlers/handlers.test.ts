/**
 * The domain handlers through the real composition root and a real SQLite file: the channels that
 * delete, rename, tag and measure, whose SQL moved from app-core.ts into the store's repositories.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../../src/core/app/app-core'
import { resolveRunConfig } from '../../../src/shared/schemas'
import { tempHome } from '../../helpers'

let core: AppCore | undefined
let cleanup: (() => void) | undefined
afterEach(async () => {
  await core?.close()
  core = undefined
  cleanup?.()
})

function open(): { core: AppCore; home: string } {
  const t = tempHome()
  cleanup = t.cleanup
  core = createAppCore({
    dataHome: t.dir,
    host: 'cli',
    spawnTrainer: () => {
      throw new Error('no trainer in this test')
    },
  })
  return { core, home: t.dir }
}

const epoch = (n: number, samplesPerSec: number) => ({
  epoch: n,
  trainLoss: 0.5,
  trainAccuracy: 0.8,
  valLoss: 0.4,
  valAccuracy: 0.85,
  learningRate: 0.05,
  durationMs: 1000,
  samplesPerSec,
})

async function call<T>(c: AppCore, channel: string, input: unknown): Promise<T> {
  const res = await c.dispatch(channel, input)
  if (!res.ok) throw new Error(`${res.error.code}: ${res.error.message}`)
  return res.value as T
}

describe('domain handlers', () => {
  it('deletes runs (teachers only with their students) and their checkpoint folders', async () => {
    const { core: c, home } = open()
    const ds = c.store.datasets.byName('mnist-10k')!
    const teacher = c.store.runs.insert({
      experimentId: null,
      datasetId: ds.id,
      config: resolveRunConfig({}),
    })
    c.store.runs.finish(teacher.id, 'failed', 'test')
    const ckpt = c.store.checkpoints.insert({
      runId: teacher.id,
      epoch: 1,
      kind: 'epoch',
      path: 'x',
      bytes: 1,
    })
    const student = c.store.runs.insert({
      experimentId: null,
      datasetId: ds.id,
      config: resolveRunConfig({ variant: 'kd' }),
      teacherRunId: teacher.id,
      teacherCheckpointId: ckpt.id,
    })
    const dir = join(home, 'checkpoints', String(teacher.id))
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'w.bin'), 'x')

    const alone = await c.dispatch('runs:delete', { runIds: [teacher.id] })
    expect(alone.ok).toBe(false)
    expect(!alone.ok && alone.error.code).toBe('conflict')
    expect(!alone.ok && alone.error.message).toContain(`taught run ${student.id}`)
    // Queued by another live host (the parent process stands in for it): not ours to delete.
    c.store.db.prepare('UPDATE runs SET host_pid = ? WHERE id = ?').run(process.ppid, student.id)
    const busy = await c.dispatch('runs:delete', { runIds: [student.id, teacher.id] })
    expect(!busy.ok && busy.error.message).toContain(
      `run ${student.id} is queued in another tfkd process (pid ${process.ppid}); delete it there`,
    )

    c.store.runs.finish(student.id, 'cancelled', null)
    expect(await call(c, 'runs:delete', { runIds: [teacher.id, student.id] })).toEqual({
      deleted: [teacher.id, student.id],
    })
    expect(c.store.runs.get(teacher.id)).toBeUndefined()
    expect(c.store.runs.get(student.id)).toBeUndefined()
    expect(existsSync(dir)).toBe(false)
  })

  it('tags runs (trimmed, unique) and lists every tagged run', async () => {
    const { core: c } = open()
    const ds = c.store.datasets.byName('mnist-10k')!
    const a = c.store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    c.store.runs.insert({ experimentId: null, datasetId: ds.id, config: resolveRunConfig({}) })
    expect(await call(c, 'runs:tag', { runId: a.id, tags: [' best ', 'best', 'x '] })).toEqual({
      runId: a.id,
      tags: ['best', 'x'],
    })
    expect(await call(c, 'runs:tags', {})).toEqual({ [a.id]: ['best', 'x'] })
    const missing = await c.dispatch('runs:tag', { runId: 999, tags: ['a'] })
    expect(!missing.ok && missing.error.code).toBe('not_found')
  })

  it('renames and deletes an imported dataset, refusing the bundled one and one in use', async () => {
    const { core: c } = open()
    const mk = (name: string) =>
      c.store.datasets.insert({
        name,
        format: 'csv',
        sourcePath: null,
        contentHash: null,
        classNames: ['a', 'b'],
        inputShape: [2, 2, 1],
        counts: { train: 4, test: 2 },
        cachePath: null,
      })
    const d = mk('mine')
    mk('taken')
    const bundled = c.store.datasets.byName('mnist-10k')!
    expect((await call<{ name: string }>(c, 'datasets:rename', { datasetId: d.id, name: 'ours' })).name).toBe(
      'ours',
    )
    const clash = await c.dispatch('datasets:rename', { datasetId: d.id, name: 'taken' })
    expect(!clash.ok && clash.error.message).toContain('already exists')
    const keep = await c.dispatch('datasets:rename', { datasetId: bundled.id, name: 'zzz' })
    expect(!keep.ok && keep.error.code).toBe('conflict')

    const run = c.store.runs.insert({ experimentId: null, datasetId: d.id, config: resolveRunConfig({}) })
    const inUse = await c.dispatch('datasets:delete', { datasetId: d.id })
    expect(!inUse.ok && inUse.error.details).toEqual({ runCount: 1 })
    c.store.runs.finish(run.id, 'cancelled', null)
    await call(c, 'runs:delete', { runIds: [run.id] })
    c.store.experiments.insert({ name: 'plan', datasetId: d.id, plan: {} })
    expect(await call(c, 'datasets:delete', { datasetId: d.id })).toEqual({ deleted: true })
    expect(c.store.datasets.get(d.id)).toBeUndefined()
    expect(c.store.experiments.list().filter((e) => e.datasetId === d.id)).toEqual([])
  })

  it("reports each model's median samples/s over its last 20 epochs", async () => {
    const { core: c } = open()
    const ds = c.store.datasets.byName('mnist-10k')!
    const run = c.store.runs.insert({
      experimentId: null,
      datasetId: ds.id,
      config: resolveRunConfig({ model: 'cnn-small' }),
    })
    // 25 epochs: the oldest 5 (samples/s 1..5) fall outside the last 20 (6..25): median 16.
    for (let e = 1; e <= 25; e++) c.store.runs.recordEpoch(run.id, epoch(e, e))
    expect(await call(c, 'throughput:get', {})).toEqual({ 'cnn-small': 16 })
  })
})

describe('report handlers: the claims margin', () => {
  it('uses the margin the plan stored before the study unless one is asked for, in the 0.05..5 pp range', async () => {
    const { core: c } = open()
    const { resolvePlan } = await import('../../../src/shared/plan')
    const { reproducePlan } = await import('../../../src/shared/reproduce')
    const ds = c.store.datasets.byName('mnist-10k')!
    const plan = resolvePlan(reproducePlan({ dataset: 'mnist-10k', scale: 'small', seeds: 3, margin: 1.5 }))
    const experimentId = c.store.experiments.insert({ name: plan.name, datasetId: ds.id, plan })
    type Report = { margin: number; marginSource: string; warnings: string[]; study: unknown }
    const stored = await call<Report>(c, 'report:get', { experimentId })
    expect(stored).toMatchObject({
      margin: 0.015,
      marginSource: 'plan',
      study: { scale: 'small', seeds: 3, margin: 1.5 },
    })
    expect(stored.warnings.join(' ')).not.toMatch(/not pre-registered/)
    const late = await call<Report>(c, 'report:get', { experimentId, marginPp: 0.5 })
    expect(late).toMatchObject({ margin: 0.005, marginSource: 'report' })
    expect(late.warnings.join(' ')).toMatch(/given at report time, not the ±1\.50 pp the plan fixed/)
    const res = await c.dispatch('report:get', { experimentId, marginPp: 49.99 })
    expect(res.ok).toBe(false)
  })
})
