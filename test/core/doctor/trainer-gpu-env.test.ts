/**
 * The trainer gets what the doctor found: a queued run waits for the host-side probes once, then
 * its trainer process starts with the CUDA library folders first on LD_LIBRARY_PATH (PATH on
 * Windows) and the GPU facts; the host's own environment is untouched. A real child process prints
 * the environment it was started with.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { REQUIRED_LIBRARIES } from '../../../src/core/doctor/cuda-libs'
import { createAppCore, type AppCore } from '../../../src/core/app/app-core'
import { createForkSpawner } from '../../../src/core/services/fork-trainer'
import { trainerEnv } from '../../../src/core/train/trainer-env'
import { requireBuiltTrainer } from '../../helpers'

let core: AppCore | undefined
const dirs: string[] = []
afterEach(async () => {
  await core?.close()
  core = undefined
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'tfkd-gpuenv-'))
  dirs.push(d)
  return d
}

/** A stand-in trainer that answers a start by reporting its environment, then fails the run. */
const ECHO_TRAINER = `
process.on('message', (m) => {
  if (m.type === 'start') {
    process.send({ type: 'log', level: 'warn', message: JSON.stringify({
      ld: process.env.LD_LIBRARY_PATH ?? null,
      facts: process.env.TFKD_GPU_FACTS ?? null,
      cache: process.env.CUDA_CACHE_MAXSIZE ?? null,
      growth: process.env.TF_FORCE_GPU_ALLOW_GROWTH ?? null,
    }) })
    process.send({ type: 'failed', runId: m.runId, reason: 'env echoed' })
  }
  if (m.type === 'shutdown') process.exit(0)
})
process.send({ type: 'ready', pid: process.pid })
`

describe('the trainer environment', () => {
  it('a run that may use a GPU starts its trainer with the folders and GPUs the doctor found', async () => {
    const root = temp()
    const bin = join(root, 'bin')
    mkdirSync(bin)
    writeFileSync(
      join(bin, 'nvidia-smi'),
      '#!/bin/sh\necho "0, NVIDIA H100 80GB HBM3, 81559, 9.0, 580.65.06, 00000000:02:00.0"\n',
    )
    chmodSync(join(bin, 'nvidia-smi'), 0o755)
    const libs = join(root, 'cuda-libs')
    mkdirSync(libs)
    for (const l of REQUIRED_LIBRARIES) writeFileSync(join(libs, l.linux), '')
    const entry = join(root, 'echo-trainer.cjs')
    writeFileSync(entry, ECHO_TRAINER)
    const hostLd = process.env.LD_LIBRARY_PATH
    core = createAppCore({
      dataHome: join(root, 'home'),
      host: 'cli',
      spawnTrainer: createForkSpawner(entry, { silent: true }),
      env: { PATH: bin, HOME: root, TFKD_CUDA_LIBS: libs, LD_LIBRARY_PATH: '/already/there' },
      doctorOptions: { systemDirs: [], ldconfig: null, home: root, fsRoot: root },
    })
    const logs: string[] = []
    core.on('runs:log', (l) => logs.push(l.message))
    const run = core.runs.start({ ...(await import('../../../src/shared/schemas')).DEFAULT_RUN_CONFIG })
    const done = await core.runs.waitFor(run.id)
    expect(done.failureReason).toBe('env echoed')
    const seen = JSON.parse(logs[0]!) as { ld: string; facts: string; cache: string; growth: string }
    expect(seen.ld).toBe(`${libs}:/already/there`)
    expect(JSON.parse(seen.facts)).toEqual([
      {
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        memoryMiB: 81559,
        computeCapability: '9.0',
        busId: '00000000:02:00.0',
      },
    ])
    expect(seen.cache).toBe(String(4 * 1024 ** 3))
    expect(seen.growth).toBe('true')
    // The folders went to the trainer only.
    expect(process.env.LD_LIBRARY_PATH).toBe(hostLd)
    expect(core.doctor.current()?.libraryDirs).toEqual([libs])
  })

  it('on Windows the folders go first on PATH, whatever its spelling', () => {
    const env = trainerEnv(
      { Path: 'C:\\Windows\\System32', CUDA_CACHE_MAXSIZE: '1' },
      { platform: 'win32', libraryDirs: ['D:\\cuda11\\bin'], gpus: [] },
    )
    expect(env.Path).toBe('D:\\cuda11\\bin;C:\\Windows\\System32')
    expect(env.PATH).toBeUndefined()
    expect(env.LD_LIBRARY_PATH).toBeUndefined()
  })

  it('a run pinned to a CPU rung does not wait for the GPU probe', async () => {
    const root = temp()
    core = createAppCore({
      dataHome: join(root, 'home'),
      host: 'cli',
      spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
      doctorOptions: { systemDirs: [], ldconfig: null, home: root, fsRoot: root },
    })
    const { DEFAULT_RUN_CONFIG } = await import('../../../src/shared/schemas')
    const run = core.runs.start({
      ...DEFAULT_RUN_CONFIG,
      model: 'mlp',
      epochs: 1,
      maxTrainSamples: 256,
      backend: 'wasm',
    })
    const done = await core.runs.waitFor(run.id)
    expect(done.status).toBe('completed')
    expect(core.doctor.current()).toBeNull()
    // The device it really used is stored with the run.
    expect(done.deviceInfo).toMatchObject({ backend: 'wasm', kind: 'cpu', name: cpus()[0]!.model.trim() })
    expect(done.deviceInfo!.threads).toBeGreaterThanOrEqual(1)
    expect(core.store.runs.list({}).find((r) => r.id === run.id)!.deviceInfo?.backend).toBe('wasm')
  })
})
