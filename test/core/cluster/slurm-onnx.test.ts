/**
 * Cluster jobs with an imported ONNX teacher, on a real one-node Slurm cluster: the teacher (made
 * by PyTorch, test/onnx-helpers.ts) travels in the job folder, the node's task checks its sha256
 * before use, the synced kd run records the hash as a local run does; a damaged copy fails the task
 * naming the file, and a teacher file changed since import is refused at submit time. Needs
 * `npm run build:node` (the array tasks run bin/tfkd.js), Slurm as root, and PyTorch.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEvents, taskPaths } from '../../../src/core/cluster/job-folder'
import type { Manifest } from '../../../src/core/cluster/manifest'
import { createAppCore, type AppCore } from '../../../src/core/app/app-core'
import { createForkSpawner } from '../../../src/core/services/fork-trainer'
import type { ClusterJobStatus } from '../../../src/shared/cluster'
import type { ExperimentPlanInput } from '../../../src/shared/plan'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../../helpers'
import { pytorchPart, torchTeacher } from '../../onnx-helpers'
import { slurmPart, startSlurm, type TestCluster } from '../../support/slurm'
import { needsSystemPart } from '../../support/system-parts'

const skip = needsSystemPart(slurmPart) || needsSystemPart(pytorchPart())

describe.skipIf(skip)('cluster jobs with an imported ONNX teacher (real Slurm, PyTorch teacher)', () => {
  let cluster: TestCluster
  let core: AppCore
  let teacherId: number
  let sha: string
  const cleanups: (() => void)[] = []

  const plan = (seed: number): ExperimentPlanInput => ({
    student: 'mlp',
    variants: ['kd'],
    seeds: [seed],
    training: { epochs: 1, maxTrainSamples: 256, batchSize: 64 },
    importedTeachers: { stronger: teacherId },
  })

  function workdir(): string {
    const w = tempHome('tfkd-cluster-onnx-work-')
    cleanups.push(w.cleanup)
    return w.dir
  }

  async function waitDrained(jobDir: string, timeoutMs = 180_000): Promise<ClusterJobStatus> {
    const end = Date.now() + timeoutMs
    for (;;) {
      const s = await core.handlers['cluster:status']({ job: jobDir })
      if (s.rows.every((r) => !['pending', 'running', 'unknown'].includes(r.state))) return s
      if (Date.now() > end) throw new Error(`timed out; last status ${JSON.stringify(s.counts)}`)
      await new Promise((r) => setTimeout(r, 500))
    }
  }

  beforeAll(async () => {
    requireBuiltTrainer()
    const t = torchTeacher()
    cluster = await startSlurm()
    const home = tempHome('tfkd-cluster-onnx-home-')
    cleanups.push(home.cleanup)
    core = createAppCore({
      dataHome: home.dir,
      host: 'cli',
      spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
      tfkdInstall: { node: process.execPath, tfkd: CLI_ENTRY },
    })
    const imported = await core.teachers.import({
      path: t.onnxPath,
      dataset: 'mnist-10k',
      mean: [t.mean],
      std: [t.std],
    })
    teacherId = imported.teacher.id
    sha = createHash('sha256').update(readFileSync(t.onnxPath)).digest('hex')
    expect(imported.teacher.sha256).toBe(sha)
  }, 300_000)

  afterAll(async () => {
    await core?.close()
    await cluster?.stop()
    for (const c of cleanups) c()
  }, 60_000)

  it('carries the teacher in the job folder, checks it on the node, and records its hash on sync', async () => {
    const sub = await core.cluster.submit({ plan: plan(1), workdir: workdir(), options: {} })
    // No teacher row to train: the imported teacher teaches the student directly.
    expect(sub.rows).toBe(1)
    expect(sub.submissions.map((s) => s.group)).toEqual(['students'])
    const manifest = JSON.parse(readFileSync(join(sub.jobDir, 'manifest.json'), 'utf8')) as Manifest
    expect(manifest.onnxTeachers).toEqual([
      expect.objectContaining({ id: teacherId, sha256: sha, file: `teachers/${sha}.onnx` }),
    ])
    const copy = join(sub.jobDir, 'teachers', `${sha}.onnx`)
    expect(createHash('sha256').update(readFileSync(copy)).digest('hex')).toBe(sha)

    const st = await waitDrained(sub.jobDir)
    expect(st.rows[0]!.state, st.rows[0]!.reason ?? '').toBe('completed')
    const events = readEvents(taskPaths(sub.jobDir, st.rows[0]!.uuid).events)
    expect(events.find((e) => e.type === 'onnx-teacher')).toMatchObject({
      id: teacherId,
      sha256: sha,
      file: `teachers/${sha}.onnx`,
    })
    const synced = await core.cluster.sync(sub.jobDir)
    const [run] = core.store.runs.list({ experimentId: synced.experimentId })
    expect(run!.status).toBe('completed')
    const d = core.store.runs.detail(run!.id)!
    // Lineage as for a local run: the config's ref and the trainer's teacher cost carry the hash.
    expect(d.config.importedTeacher).toMatchObject({ id: teacherId, sha256: sha })
    expect(d.result?.teacherCost).toMatchObject({ kind: 'onnx', sha256: sha })
    const row = core.plans
      .compare({ experimentId: synced.experimentId })
      .rows.find((r) => r.variant === 'kd')!
    expect(row.teacher).toContain(`sha256 ${sha.slice(0, 8)}`)

    // The same plan run here gives the same student (same seed, same teacher logits).
    const local = core.plans.start(plan(1))
    const [done] = await Promise.all(local.runs.map((r) => core.runs.waitFor(r.id)))
    expect(done!.status).toBe('completed')
    expect(run!.testAccuracy).toBe(done!.testAccuracy)
    expect(run!.testLoss).toBe(done!.testLoss)
  })

  it('a damaged copy in the job folder fails the task naming the file; nothing trains from it', async () => {
    // Held at submit, so the copy can be damaged before the node starts the task.
    const sub = await core.cluster.submit({
      plan: plan(2),
      workdir: workdir(),
      options: { sbatchArgs: ['--hold'] },
    })
    const copy = join(sub.jobDir, 'teachers', `${sha}.onnx`)
    appendFileSync(copy, Buffer.from([0]))
    execFileSync('scontrol', ['release', sub.submissions[0]!.jobId])
    const st = await waitDrained(sub.jobDir)
    expect(st.rows[0]!.state).toBe('failed')
    expect(st.rows[0]!.reason).toContain(copy)
    expect(st.rows[0]!.reason).toMatch(new RegExp(`expected ${sha}`))
    // The trainer never started.
    const events = readEvents(taskPaths(sub.jobDir, st.rows[0]!.uuid).events)
    expect(events.some((e) => e.type === 'started')).toBe(false)
    const synced = await core.cluster.sync(sub.jobDir)
    const [run] = core.store.runs.list({ experimentId: synced.experimentId })
    expect(run!.status).toBe('failed')
    expect(run!.failureReason).toContain(copy)
  })

  it('refuses at submit time a teacher whose file changed since it was imported', async () => {
    const stored = core.store.onnxTeachers.get(teacherId)!.path
    expect(existsSync(stored)).toBe(true)
    appendFileSync(stored, Buffer.from([0]))
    const err = await core.cluster
      .submit({ plan: plan(3), workdir: workdir(), options: {}, dryRun: true })
      .then(
        () => null,
        (e: unknown) => e as Error,
      )
    expect(err?.message).toContain(stored)
    expect(err?.message).toMatch(/imported as [0-9a-f]{12}.*import it again/)
  })
})
