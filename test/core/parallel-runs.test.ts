/**
 * The queue trains several runs at once (`parallel`): each trainer gets its share of the CPUs
 * (TFKD_THREADS), students still wait for their teachers, a signal stops every active run, and the
 * numbers are the ones of the same plan trained one run at a time on as many threads per trainer.
 * (The native kernels sum per-thread partials, so a different thread count moves the last bits:
 * the comparison pins the sequential plan to the packed trainers' share.)
 */
import { existsSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { parallelFor, parseParallel, threadsPerRun, usableCpuCount } from '../../src/core/services/parallel'
import type { SpawnTrainer } from '../../src/core/train/trainer-handle'
import type { EpochMetrics, RunSummary } from '../../src/shared/types'
import { resolveRunConfig } from '../../src/shared/schemas'
import { requireBuiltTrainer, tempHome } from '../helpers'

const cleanups: (() => void)[] = []
let cores: AppCore[] = []
afterEach(async () => {
  await Promise.all(cores.map((c) => c.close()))
  cores = []
  cleanups.splice(0).forEach((c) => c())
})

function startCore(env: NodeJS.ProcessEnv = process.env) {
  const home = tempHome()
  cleanups.push(home.cleanup)
  const threads: (string | undefined)[] = []
  const fork = createForkSpawner(requireBuiltTrainer(), { silent: true })
  const spawnTrainer: SpawnTrainer = (o) => {
    threads.push(o.env?.TFKD_THREADS)
    return fork(o)
  }
  const core = createAppCore({ dataHome: home.dir, host: 'cli', spawnTrainer, env })
  cores.push(core)
  // The most runs in `running` at once, from the status events the live views get.
  const running = new Set<number>()
  const peak = { running: 0 }
  core.on('runs:status', (s) => {
    if (s.status === 'running') running.add(s.runId)
    else running.delete(s.runId)
    peak.running = Math.max(peak.running, running.size)
  })
  return { core, threads, peak }
}

const plan = {
  student: 'mlp',
  strongerTeacher: 'cnn-small',
  variants: ['baseline', 'kd'] as ('baseline' | 'kd')[],
  seeds: [1],
  teacherEpochs: 1,
  // Enough images that the teacher and the baseline overlap in time on a slow or loaded machine.
  training: { epochs: 1, maxTrainSamples: 768, batchSize: 64, backend: 'wasm' as const },
}

const key = (r: RunSummary) => `${r.role} ${r.model} ${r.variant} ${r.seed}`
const strip = (m: EpochMetrics) => ({ ...m, durationMs: 0, samplesPerSec: 0 })

async function runPlan(parallel: number, env?: NodeJS.ProcessEnv) {
  const s = startCore(env)
  s.core.runs.setParallel(parallel)
  const exp = s.core.plans.start(plan)
  const done = await Promise.all(exp.runs.map((r) => s.core.runs.waitFor(r.id)))
  const numbers = Object.fromEntries(
    done.map((r) => [
      key(r),
      { status: r.status, test: r.testAccuracy, epochs: s.core.store.runs.metrics(r.id).map(strip) },
    ]),
  )
  return { ...s, done, numbers }
}

describe('runs packed onto cores', () => {
  it('parallel 2 gives the numbers of parallel 1; two runs train at once; students wait for teachers', async () => {
    const share = String(threadsPerRun(usableCpuCount(), 2))
    const one = await runPlan(1, { ...process.env, TFKD_THREADS: share })
    const two = await runPlan(2)
    expect(Object.values(one.numbers).map((n) => n.status)).toEqual(['completed', 'completed', 'completed'])
    expect(two.numbers).toEqual(one.numbers)
    expect(one.peak.running).toBe(1)
    expect(two.peak.running).toBe(2)
    expect(one.threads).toEqual([share, share, share])
    expect(two.threads).toEqual([share, share, share])
    const teacher = two.done.find((r) => r.role === 'teacher')!
    const kd = two.done.find((r) => r.variant === 'kd')!
    expect(kd.startedAt!).toBeGreaterThanOrEqual(teacher.finishedAt!)
    // The student had no augmentation: its teacher's logits came from the file beside the checkpoint.
    const cost = two.core.store.runs.detail(kd.id)!.result?.teacherCost
    expect(cost).toMatchObject({ kind: 'tfjs-run', logits: 'cached-unaugmented', cache: { hit: false } })
    expect(existsSync(cost!.cache!.file)).toBe(true)
  })

  it('a signal stops every active run (the stored setting, no --parallel)', async () => {
    const { core, peak } = startCore()
    core.runs.storeParallel(2)
    const exp = core.plans.start({
      ...plan,
      training: { ...plan.training, epochs: 50, maxTrainSamples: 2048 },
    })
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (peak.running === 2) resolve()
      }, 50)
      timer.unref()
      core.on('runs:status', () => peak.running === 2 && (clearInterval(timer), resolve()))
    })
    await core.runs.stop({ why: 'SIGINT', graceMs: 10_000 })
    const done = await Promise.all(exp.runs.map((r) => core.runs.waitFor(r.id)))
    expect(done.map((r) => r.status).sort()).toEqual(['cancelled', 'cancelled', 'interrupted'])
  })

  it('auto: small CPU runs pack (each on its share of the CPUs); a run pinned to a GPU trains alone', async () => {
    const spawnedBy = async (backend: 'wasm' | 'webgpu') => {
      const home = tempHome()
      cleanups.push(home.cleanup)
      const threads: (string | undefined)[] = []
      // Trainers that never answer: the test only counts how many the queue starts at once.
      const spawnTrainer: SpawnTrainer = (o) => {
        threads.push(o.env.TFKD_THREADS)
        const exits: ((i: { code: number | null; signal: string | null }) => void)[] = []
        return {
          pid: undefined,
          send: () => undefined,
          onMessage: () => undefined,
          onExit: (l) => void exits.push(l),
          kill: (signal) => exits.forEach((l) => l({ code: null, signal: signal ?? 'SIGTERM' })),
        }
      }
      const env = { ...process.env, TFKD_THREADS: '8' }
      const core = createAppCore({ dataHome: home.dir, host: 'cli', spawnTrainer, env })
      cores.push(core)
      core.runs.setParallel('auto')
      for (let i = 0; i < 5; i++) core.runs.start(resolveRunConfig({ model: 'mlp', backend }))
      // A GPU run first waits for the doctor's host probes.
      for (let t = 0; t < 100 && threads.length === 0; t++) await new Promise((r) => setTimeout(r, 100))
      await new Promise((r) => setTimeout(r, 200))
      return threads
    }
    // 8 CPUs: mlp is small, one run per 2 CPUs: 4 at once, 2 threads each.
    expect(await spawnedBy('wasm')).toEqual(['2', '2', '2', '2'])
    expect(await spawnedBy('webgpu')).toEqual(['8'])
  })

  it('auto: one run per 2 CPUs for small models, one per 8 for larger; bad values named', () => {
    expect(parallelFor('auto', 'mlp', 2)).toBe(1)
    expect(parallelFor('auto', 'cnn-small', 16)).toBe(8)
    expect(parallelFor('auto', 'resnet8', 4)).toBe(1)
    expect(parallelFor('auto', 'resnet8', 16)).toBe(2)
    expect(parallelFor(3, 'resnet8', 2)).toBe(3)
    expect(threadsPerRun(16, 8)).toBe(2)
    expect(threadsPerRun(2, 3)).toBe(1)
    expect(parseParallel('auto')).toBe('auto')
    expect(parseParallel('4')).toBe(4)
    expect(() => parseParallel('0')).toThrow(
      '--parallel: expected auto or a whole number from 1 to 256, got "0"',
    )
    expect(() => parseParallel('two')).toThrow('--parallel')
  })
})
