/**
 * Against a real one-node Slurm cluster (started by the test as root): a plan submitted as job
 * arrays, trained by the real CLI on the node, synced into a real SQLite history, and compared with
 * the same plan trained locally. Needs `npm run build:node` (the array tasks run bin/tfkd.js).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExperimentPlanInput } from '../../../src/shared/plan'
import type { ClusterJobStatus } from '../../../src/shared/cluster'
import { createAppCore, type AppCore } from '../../../src/core/app/app-core'
import { createForkSpawner } from '../../../src/core/services/fork-trainer'
import { readEvents, taskPaths } from '../../../src/core/cluster/job-folder'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../../helpers'
import { needsSystemPart } from '../../support/system-parts'
import { slurmPart, startSlurm, type TestCluster } from '../../support/slurm'

const skip = needsSystemPart(slurmPart)

/** CI-sized: an mlp student, a cnn-small teacher, 1 epoch on 256 samples. */
const PLAN: ExperimentPlanInput = {
  student: 'mlp',
  strongerTeacher: 'cnn-small',
  variants: ['baseline', 'kd'],
  seeds: [1, 2],
  training: { epochs: 1, maxTrainSamples: 256, batchSize: 64 },
}

describe.skipIf(skip)('cluster jobs on a real Slurm', () => {
  let cluster: TestCluster
  let core: AppCore
  const cleanups: (() => void)[] = []

  function openCore(): AppCore {
    const home = tempHome('tfkd-cluster-home-')
    cleanups.push(home.cleanup)
    return createAppCore({
      dataHome: home.dir,
      host: 'cli',
      spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
      tfkdInstall: { node: process.execPath, tfkd: CLI_ENTRY },
    })
  }

  function workdir(): string {
    const w = tempHome('tfkd-cluster-work-')
    cleanups.push(w.cleanup)
    return w.dir
  }

  async function waitUntil(jobDir: string, done: (s: ClusterJobStatus) => boolean, timeoutMs = 240_000) {
    const end = Date.now() + timeoutMs
    for (;;) {
      const s = await core.handlers['cluster:status']({ job: jobDir })
      if (done(s)) return s
      if (Date.now() > end) throw new Error(`timed out; last status ${JSON.stringify(s.counts)}`)
      await new Promise((r) => setTimeout(r, 500))
    }
  }
  const drained = (s: ClusterJobStatus) =>
    s.rows.every((r) => !['pending', 'running', 'unknown'].includes(r.state))

  beforeAll(async () => {
    requireBuiltTrainer()
    cluster = await startSlurm()
    core = openCore()
  }, 120_000)

  afterAll(async () => {
    await core?.close()
    await cluster?.stop()
    for (const c of cleanups) c()
  }, 60_000)

  it('submits a plan as job arrays, syncs it (twice: no duplicates), and matches the same plan run locally', async () => {
    expect(await core.handlers['cluster:available']({})).toEqual({ available: true, reason: null })
    const started = Date.now()
    const sub = await core.cluster.submit({ plan: PLAN, workdir: workdir(), options: { maxParallel: 2 } })
    expect(sub.submissions.map((s) => s.group)).toEqual(['teachers', 'students-of-0', 'students'])
    const teachersJob = sub.submissions[0]!.jobId
    expect(sub.submissions[1]!.after).toEqual([`${teachersJob}_0`])
    await waitUntil(sub.jobDir, drained)
    const first = await core.cluster.sync(sub.jobDir)
    const wallMs = Date.now() - started
    console.info(`cluster round trip (submit -> synced), 5 runs: ${(wallMs / 1000).toFixed(1)} s`)
    expect(first.status.counts.completed).toBe(5)
    expect(first.added).toBe(5)

    const again = await core.cluster.sync(sub.jobDir)
    expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 5 })
    const synced = core.store.runs.list({ experimentId: first.experimentId })
    expect(synced).toHaveLength(5)

    // n = 2 per variant in the comparison, as for local runs.
    const table = core.plans.compare({ experimentId: first.experimentId })
    expect(table.rows.map((r) => [r.variant, r.n])).toEqual(
      expect.arrayContaining([
        ['baseline', 2],
        ['kd', 2],
      ]),
    )
    // Lineage rebuilt from the uuids: kd students point at the synced teacher and its checkpoint.
    const teacher = synced.find((r) => r.role === 'teacher')!
    for (const s of synced.filter((r) => r.variant === 'kd')) {
      const d = core.store.runs.detail(s.id)!
      expect(d.teacherRunId).toBe(teacher.id)
      expect(d.config.teacher?.runId).toBe(teacher.id)
      expect(d.teacherEpoch).toBe(1)
    }
    const origins = core.store.db
      .prepare('SELECT origin, origin_node, origin_job, backend FROM runs WHERE experiment_id = ?')
      .all(first.experimentId) as {
      origin: string
      origin_node: string
      origin_job: string
      backend: string
    }[]
    expect(
      origins.every(
        (o) => o.origin === 'slurm' && o.origin_node && /^\d+_\d+$/.test(o.origin_job) && o.backend,
      ),
    ).toBe(true)

    // The same plan trained here, with the same seeds, gives the same numbers.
    const local = core.plans.start(PLAN)
    const done = await Promise.all(local.runs.map((r) => core.runs.waitFor(r.id)))
    expect(done.every((r) => r.status === 'completed')).toBe(true)
    const key = (r: { role: string; variant: string; seed: number }) => `${r.role}/${r.variant}/${r.seed}`
    for (const l of done) {
      const c = synced.find((s) => key(s) === key(l))!
      expect(c, key(l)).toBeDefined()
      expect(c.testAccuracy, key(l)).toBe(l.testAccuracy)
      expect(c.testLoss, key(l)).toBe(l.testLoss)
      // The device it really trained on travels with it (here: the same machine).
      expect(c.deviceInfo ?? null, key(l)).toEqual(l.deviceInfo ?? null)
      const strip = (m: { durationMs: number; samplesPerSec: number }[]) =>
        m.map(({ durationMs: _d, samplesPerSec: _s, ...rest }) => rest)
      expect(strip(core.store.runs.metrics(c.id)), key(l)).toEqual(strip(core.store.runs.metrics(l.id)))
    }
  })

  it('scancel of a running task makes it a failed run with Slurm state; retry completes it', async () => {
    const sub = await core.cluster.submit({
      plan: { ...PLAN, variants: ['baseline'], seeds: [7] },
      workdir: workdir(),
      options: {},
    })
    await waitUntil(sub.jobDir, (s) => s.rows[0]!.state === 'running')
    expect((await core.cluster.cancel(sub.jobDir, [0])).cancelled).toEqual([`${sub.submissions[0]!.jobId}_0`])
    const st = await waitUntil(sub.jobDir, drained)
    expect(st.rows[0]!.state).toBe('failed')
    expect(st.rows[0]!.reason).toMatch(/Slurm: CANCELLED/)
    const s1 = await core.cluster.sync(sub.jobDir)
    const run = core.store.runs.list({ experimentId: s1.experimentId })[0]!
    expect(run.status).toBe('failed')
    expect(run.failureReason).toMatch(/CANCELLED/)

    const retry = await core.cluster.retry(sub.jobDir)
    expect(retry.rows).toEqual([0])
    await waitUntil(sub.jobDir, drained)
    const s2 = await core.cluster.sync(sub.jobDir)
    expect(s2).toMatchObject({ added: 0, updated: 1 })
    const after = core.store.runs.list({ experimentId: s1.experimentId })
    expect(after).toHaveLength(1)
    expect(after[0]!.id).toBe(run.id)
    expect(after[0]!.status).toBe('completed')
    expect(after[0]!.failureReason).toBeNull()
    expect(core.store.runs.metrics(run.id)).toHaveLength(1)
    expect(await core.cluster.retry(sub.jobDir)).toEqual({ rows: [], submissions: [] })
  })

  it('a failing teacher stops its students: never started, synced as failed naming it; retry runs both', async () => {
    const sub = await core.cluster.submit({
      plan: { ...PLAN, variants: ['kd'], seeds: [1] },
      workdir: workdir(),
      options: {},
    })
    const teacherUuid = JSON.parse(readFileSync(join(sub.jobDir, 'manifest.json'), 'utf8')).rows[0]
      .uuid as string
    // The teacher's task crashes: its process is killed outright, so it writes no marker.
    const events = taskPaths(sub.jobDir, teacherUuid).events
    await waitUntil(sub.jobDir, () => readEvents(events).some((e) => e.type === 'task'), 120_000)
    const task = readEvents(events).find((e) => e.type === 'task')!
    process.kill((task as { pid: number }).pid, 'SIGKILL')
    const st = await waitUntil(sub.jobDir, drained)
    expect(st.rows[0]!.state).toBe('failed')
    expect(st.rows[0]!.reason).toMatch(/Slurm: FAILED/)
    expect(st.rows[1]!.state).toBe('failed')
    expect(st.rows[1]!.reason).toMatch(
      /not started: its teacher teacher:stronger failed; Slurm: CANCELLED \(DependencyNeverSatisfied\)/,
    )
    // The student never ran: no task folder at all.
    expect(readEvents(taskPaths(sub.jobDir, st.rows[1]!.uuid).events)).toEqual([])
    const s = await core.cluster.sync(sub.jobDir)
    const runs = core.store.runs.list({ experimentId: s.experimentId })
    expect(runs.map((r) => r.status)).toEqual(['failed', 'failed'])
    const student = runs.find((r) => r.role === 'student')!
    expect(student.failureReason).toMatch(/its teacher teacher:stronger failed/)
    expect(student.startedAt).toBeNull()

    // Retry: the teacher again, and its student waiting for the new teacher task (afterok).
    const retry = await core.cluster.retry(sub.jobDir)
    expect(retry.rows).toEqual([0, 1])
    const [t2, s2] = retry.submissions
    expect(s2!.after).toEqual([`${t2!.jobId}_0`])
    await waitUntil(sub.jobDir, drained)
    expect(await core.cluster.sync(sub.jobDir)).toMatchObject({ added: 0, updated: 2 })
    const healed = core.store.runs.list({ experimentId: s.experimentId })
    expect(healed.map((r) => r.status)).toEqual(['completed', 'completed'])
    const teacher = healed.find((r) => r.role === 'teacher')!
    const d = core.store.runs.detail(healed.find((r) => r.role === 'student')!.id)!
    expect(d.teacherRunId).toBe(teacher.id)
    expect(d.teacherEpoch).toBe(1)
  })
})
