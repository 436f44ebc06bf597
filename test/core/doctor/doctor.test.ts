/**
 * The doctor's branches, driven with fake `nvidia-smi`, `ldconfig` and `python3` scripts on PATH and
 * fake library trees in temp dirs: driver found or not (nvidia-smi, /proc, old driver), each CUDA
 * library found in each kind of place or missing, compute capability below and at 9.0, and probes
 * that hang (a command, a trainer) ending in a timeout.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { findCudaLibraries, PIP_PINS, REQUIRED_LIBRARIES } from '../../../src/core/doctor/cuda-libs'
import { execProbe } from '../../../src/core/doctor/exec'
import { probeNvidia } from '../../../src/core/doctor/nvidia'
import { runDoctor, probeTrainer } from '../../../src/core/doctor/doctor'
import { createForkSpawner } from '../../../src/core/services/fork-trainer'
import type { BackendId } from '../../../src/shared/types'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tfkd-doctor-'))
  dirs.push(d)
  return d
}

/** An executable shell script (absolute /bin paths: PATH holds only the fake bin folder). */
function script(dir: string, name: string, body: string): void {
  mkdirSync(dir, { recursive: true })
  const p = join(dir, name)
  writeFileSync(p, `#!/bin/sh\n${body}\n`)
  chmodSync(p, 0o755)
}

function touch(dir: string, file: string): string {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, file), 'not a real library')
  return join(dir, file)
}

const SMI_3090 = 'echo "0, NVIDIA GeForce RTX 3090, 24576, 8.6, 550.54.14, 00000000:01:00.0"'
const SMI_H100 =
  'echo "0, NVIDIA GeForce RTX 3090, 24576, 8.6, 580.65.06, 00000000:01:00.0"\necho "1, NVIDIA H100 80GB HBM3, 81559, 9.0, 580.65.06, 00000000:02:00.0"'

describe('NVIDIA driver and GPUs', () => {
  it('reads name, memory and compute capability from nvidia-smi', async () => {
    const bin = temp()
    script(bin, 'nvidia-smi', SMI_3090)
    const { facts, probes } = await probeNvidia({ env: { PATH: bin }, timeoutMs: 5000, fsRoot: temp() })
    expect(facts.source).toBe('nvidia-smi')
    expect(facts.driverVersion).toBe('550.54.14')
    expect(facts.gpus).toEqual([
      {
        index: 0,
        name: 'NVIDIA GeForce RTX 3090',
        memoryMiB: 24576,
        computeCapability: '8.6',
        busId: '00000000:01:00.0',
      },
    ])
    expect(probes[0]!.outcome).toBe('ok')
  })

  it('asks an old driver again without compute_cap and says why it is unknown', async () => {
    const bin = temp()
    script(
      bin,
      'nvidia-smi',
      'case "$1" in *compute_cap*) echo \'Field "compute_cap" is not a valid field to query.\' >&2; exit 2;; esac\necho "0, Tesla T4, 15360, 470.82.01, 00000000:00:04.0"',
    )
    const { facts } = await probeNvidia({ env: { PATH: bin }, timeoutMs: 5000, fsRoot: temp() })
    expect(facts.driverVersion).toBe('470.82.01')
    expect(facts.gpus[0]).toMatchObject({ name: 'Tesla T4', memoryMiB: 15360, computeCapability: null })
    expect(facts.notes.join(' ')).toMatch(/does not report compute capability/)
  })

  it('falls back to /proc/driver/nvidia when nvidia-smi hangs, and stops it at the timeout', async () => {
    const bin = temp()
    script(bin, 'nvidia-smi', 'exec /bin/sleep 30')
    const root = temp()
    mkdirSync(join(root, 'proc/driver/nvidia/gpus/0000:01:00.0'), { recursive: true })
    writeFileSync(
      join(root, 'proc/driver/nvidia/version'),
      'NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n',
    )
    writeFileSync(
      join(root, 'proc/driver/nvidia/gpus/0000:01:00.0/information'),
      'Model: \t\t NVIDIA A100-SXM4-40GB\nIRQ:   \t\t 42\n',
    )
    const t0 = Date.now()
    const { facts, probes } = await probeNvidia({ env: { PATH: bin }, timeoutMs: 400, fsRoot: root })
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(probes[0]!.outcome).toBe('timeout')
    expect(facts.notes.join(' ')).toMatch(/did not answer within 0.4 s/)
    expect(facts.source).toBe('/proc/driver/nvidia')
    expect(facts.driverVersion).toBe('535.104.05')
    expect(facts.gpus).toEqual([
      {
        index: 0,
        name: 'NVIDIA A100-SXM4-40GB',
        memoryMiB: null,
        computeCapability: null,
        busId: '0000:01:00.0',
      },
    ])
  })

  it('says plainly when there is no driver at all', async () => {
    const { facts, probes } = await probeNvidia({ env: { PATH: temp() }, timeoutMs: 2000, fsRoot: temp() })
    expect(probes[0]!.outcome).toBe('absent')
    expect(facts.driverVersion).toBeNull()
    expect(facts.gpus).toEqual([])
    expect(facts.notes.join(' ')).toMatch(/no NVIDIA driver found/)
  })

  it('a hung probe is killed with its whole process group', async () => {
    const bin = temp()
    const marker = join(temp(), 'still-running')
    // The child of the script would keep the pipe open if only the script were killed.
    script(bin, 'slow', `/bin/sleep 2 && echo late > ${marker} &\nexec /bin/sleep 30`)
    const o = await execProbe('slow', [], { timeoutMs: 300, env: { PATH: bin } })
    expect(o.kind).toBe('timeout')
    await new Promise((r) => setTimeout(r, 2500))
    const { existsSync } = await import('node:fs')
    expect(existsSync(marker)).toBe(false)
  })
})

describe('CUDA 11 / cuDNN 8 libraries', () => {
  it('finds each library in each kind of place, and prepends only what the loader would not search', async () => {
    const root = temp()
    const bin = join(root, 'bin')
    const settings = join(root, 'settings-libs')
    const envDir = join(root, 'env-libs')
    const app = join(root, 'app', 'cuda11')
    const ld = join(root, 'ld')
    const cuda = join(root, 'cuda-11.8')
    const conda = join(root, 'conda-env')
    const home = join(root, 'home')
    const site = join(root, 'site-packages')
    const sys = join(root, 'sys')
    touch(settings, 'libcudart.so.11.0')
    touch(join(envDir, 'nvidia', 'cublas', 'lib'), 'libcublas.so.11') // pip --target layout
    touch(join(app, 'nvidia', 'cufft', 'lib'), 'libcufft.so.10')
    touch(ld, 'libcurand.so.10')
    touch(join(cuda, 'lib64'), 'libcusolver.so.11')
    touch(join(conda, 'lib'), 'libcusparse.so.11')
    touch(join(home, 'miniconda3', 'envs', 'tf', 'lib'), 'libcublasLt.so.11')
    for (const f of REQUIRED_LIBRARIES.filter((l) => l.linux.startsWith('libcudnn'))) {
      touch(join(site, 'nvidia', 'cudnn', 'lib'), f.linux)
    }
    const sysCudart = touch(sys, 'libcudart.so.11.0')
    script(bin, 'python3', `echo '{"exe": "/fake/python3", "sites": ["${site}"]}'`)
    script(
      bin,
      'ldconfig',
      `echo "1 libs found in cache"\necho "\tlibcudart.so.11.0 (libc6,x86-64) => ${sysCudart}"`,
    )
    const r = await findCudaLibraries({
      env: { PATH: bin, TFKD_CUDA_LIBS: envDir, LD_LIBRARY_PATH: ld, CUDA_PATH: cuda, CONDA_PREFIX: conda },
      platform: 'linux',
      settingsDirs: [settings],
      appLibraryDir: app,
      timeoutMs: 5000,
      systemDirs: [],
      ldconfig: 'ldconfig',
      home,
    })
    const where = Object.fromEntries(r.libraries.map((l) => [l.file, l.found?.kind ?? 'missing']))
    expect(where).toMatchObject({
      'libcudart.so.11.0': 'settings',
      'libcublas.so.11': 'settings',
      'libcufft.so.10': 'app-folder',
      'libcurand.so.10': 'LD_LIBRARY_PATH',
      'libcusolver.so.11': 'CUDA_PATH',
      'libcusparse.so.11': 'conda',
      'libcublasLt.so.11': 'conda',
      'libcudnn.so.8': 'pip',
      'libcudnn_cnn_train.so.8': 'pip',
    })
    expect(r.libraries.find((l) => l.file === 'libcublas.so.11')!.found!.via).toBe('TFKD_CUDA_LIBS')
    expect(r.libraries.find((l) => l.file === 'libcudart.so.11.0')!.alsoIn).toEqual([
      { kind: 'system', dir: sys, via: 'ldconfig -p' },
    ])
    expect(r.libraries.every((l) => l.found)).toBe(true)
    expect(r.installCommand).toBeNull()
    // Settings, the app folder, CUDA_PATH, conda and pip folders go first; LD_LIBRARY_PATH is already there.
    expect(r.libraryDirs).toEqual([
      settings,
      join(envDir, 'nvidia', 'cublas', 'lib'),
      join(app, 'nvidia', 'cufft', 'lib'),
      join(cuda, 'lib64'),
      join(conda, 'lib'),
      join(home, 'miniconda3', 'envs', 'tf', 'lib'),
      join(site, 'nvidia', 'cudnn', 'lib'),
    ])
    expect(r.libraryDirs).not.toContain(ld)
  })

  it('a library only the system has is found through ldconfig and not prepended', async () => {
    const root = temp()
    const bin = join(root, 'bin')
    const lib = touch(join(root, 'usr-lib'), 'libcudart.so.11.0')
    script(bin, 'ldconfig', `echo "\tlibcudart.so.11.0 (libc6,x86-64) => ${lib}"`)
    const r = await findCudaLibraries({
      env: { PATH: bin },
      platform: 'linux',
      appLibraryDir: join(root, 'app'),
      timeoutMs: 5000,
      systemDirs: [],
      ldconfig: 'ldconfig',
      home: root,
    })
    expect(r.libraries[0]!.found).toMatchObject({ kind: 'system', via: 'ldconfig -p', path: lib })
    expect(r.libraryDirs).toEqual([])
  })

  it('reports every library missing and the pinned pip command into the app folder', async () => {
    const root = temp()
    const r = await findCudaLibraries({
      env: { PATH: join(root, 'empty') },
      platform: 'linux',
      appLibraryDir: join(root, 'app', 'cuda11'),
      timeoutMs: 2000,
      systemDirs: [],
      ldconfig: null,
      home: root,
    })
    expect(r.libraries.map((l) => l.file)).toEqual([
      'libcudart.so.11.0',
      'libcublas.so.11',
      'libcublasLt.so.11',
      'libcufft.so.10',
      'libcurand.so.10',
      'libcusolver.so.11',
      'libcusparse.so.11',
      'libcudnn.so.8',
      'libcudnn_ops_infer.so.8',
      'libcudnn_ops_train.so.8',
      'libcudnn_cnn_infer.so.8',
      'libcudnn_cnn_train.so.8',
      'libcudnn_adv_infer.so.8',
      'libcudnn_adv_train.so.8',
    ])
    expect(r.libraries.every((l) => l.found === null)).toBe(true)
    expect(r.installCommand).toBe(
      `python3 -m pip install --target "${join(root, 'app', 'cuda11')}" ${Object.entries(PIP_PINS)
        .map(([p, v]) => `${p}==${v}`)
        .join(' ')}`,
    )
    expect(r.installCommand).toMatch(/nvidia-cudnn-cu11==8\./)
  })

  it('a Python that hangs is stopped and the search goes on', async () => {
    const root = temp()
    const bin = join(root, 'bin')
    script(bin, 'python3', 'exec /bin/sleep 30')
    const t0 = Date.now()
    const r = await findCudaLibraries({
      env: { PATH: bin },
      platform: 'linux',
      appLibraryDir: join(root, 'app'),
      timeoutMs: 300,
      systemDirs: [],
      ldconfig: null,
      home: root,
    })
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(r.probes.find((p) => p.name === 'python3 site-packages')!.outcome).toBe('timeout')
    expect(r.libraries.every((l) => l.found === null)).toBe(true)
  })
})

const ALL_INSTALLED: Record<BackendId, 'installed'> = {
  'tensorflow-gpu': 'installed',
  webgpu: 'installed',
  tensorflow: 'installed',
  wasm: 'installed',
  cpu: 'installed',
}

/** A machine with an NVIDIA GPU and every CUDA 11 library in the app's pip folder. */
function gpuMachine(smi: string): { bin: string; app: string; root: string } {
  const root = temp()
  const bin = join(root, 'bin')
  const app = join(root, 'cuda11')
  script(bin, 'nvidia-smi', smi)
  for (const l of REQUIRED_LIBRARIES)
    touch(join(app, 'nvidia', l.pipPackage.replace(/-cu11$/, ''), 'lib'), l.linux)
  return { bin, app, root }
}

describe('verdicts', () => {
  it('compute capability below 9: the CUDA rung has what it needs, no warning', async () => {
    const m = gpuMachine(SMI_3090)
    const r = await runDoctor({
      env: { PATH: m.bin },
      appLibraryDir: m.app,
      fsRoot: m.root,
      systemDirs: [],
      ldconfig: null,
      home: m.root,
      platform: 'linux',
      packages: ALL_INSTALLED,
    })
    const cuda = r.verdicts.find((v) => v.id === 'tensorflow-gpu')!
    expect(cuda.state).toBe('ready')
    expect(cuda.summary).toMatch(
      /all CUDA 11 \/ cuDNN 8 libraries found for NVIDIA GeForce RTX 3090 \(compute capability 8.6\)/,
    )
    expect(r.libraryDirs.length).toBeGreaterThan(0)
    expect(r.warnings).toEqual([])
    expect(r.headline[0]).toBe('NVIDIA driver 550.54.14 with NVIDIA GeForce RTX 3090.')
    expect(r.headline[2]).toMatch(/unknown: the ladder was not probed/)
  })

  it('compute capability 9.0 (the GPU TensorFlow will use): warned before the rung is tried', async () => {
    const m = gpuMachine(SMI_H100)
    const r = await runDoctor({
      env: { PATH: m.bin },
      appLibraryDir: m.app,
      fsRoot: m.root,
      systemDirs: [],
      ldconfig: null,
      home: m.root,
      platform: 'linux',
      packages: ALL_INSTALLED,
    })
    const cuda = r.verdicts.find((v) => v.id === 'tensorflow-gpu')!
    expect(cuda.state).toBe('warning')
    expect(cuda.summary).toMatch(
      /NVIDIA H100 80GB HBM3 has compute capability 9.0: libtensorflow 2.9.1 has no native kernels/,
    )
    expect(r.warnings.join(' ')).toMatch(/PTX/)
    // CUDA_VISIBLE_DEVICES=0 leaves only the 3090: no warning then.
    const r0 = await runDoctor({
      env: { PATH: m.bin, CUDA_VISIBLE_DEVICES: '0' },
      appLibraryDir: m.app,
      fsRoot: m.root,
      systemDirs: [],
      ldconfig: null,
      home: m.root,
      platform: 'linux',
      packages: ALL_INSTALLED,
    })
    expect(r0.verdicts.find((v) => v.id === 'tensorflow-gpu')!.state).toBe('ready')
  })

  it('no driver, missing libraries, package missing: unavailable with each next step in order', async () => {
    const root = temp()
    const r = await runDoctor({
      env: { PATH: join(root, 'empty') },
      appLibraryDir: join(root, 'cuda11'),
      fsRoot: root,
      systemDirs: [],
      ldconfig: null,
      home: root,
      platform: 'linux',
      packages: { ...ALL_INSTALLED, 'tensorflow-gpu': 'missing', webgpu: 'missing' },
    })
    const cuda = r.verdicts.find((v) => v.id === 'tensorflow-gpu')!
    expect(cuda.state).toBe('unavailable')
    expect(cuda.summary).toMatch(
      /^no NVIDIA driver found; @tensorflow\/tfjs-node-gpu is not installed; none of the 14/,
    )
    expect(cuda.nextStep).toMatch(
      /^1\) install the NVIDIA driver .* 2\) npm install @tensorflow\/tfjs-node-gpu@4.22.0 .* 3\) python3 -m pip install --target/,
    )
    expect(r.verdicts.find((v) => v.id === 'webgpu')!.summary).toMatch(/webgpu.*not installed/)
    expect(r.headline[0]).toBe('No NVIDIA driver found.')
    expect(r.verdicts.find((v) => v.id === 'wasm')!.state).toBe('ready')
  })

  it('macOS: the CUDA rung points to WebGPU', async () => {
    const root = temp()
    const r = await runDoctor({
      env: { PATH: join(root, 'empty') },
      appLibraryDir: join(root, 'cuda11'),
      fsRoot: root,
      systemDirs: [],
      ldconfig: null,
      home: root,
      platform: 'darwin',
      packages: ALL_INSTALLED,
    })
    expect(r.verdicts[0]).toMatchObject({ id: 'tensorflow-gpu', state: 'unavailable' })
    expect(r.verdicts[0]!.nextStep).toMatch(/webgpu/)
  })
})

describe('the trainer probe', () => {
  it('a trainer that never answers is killed at the timeout and the report says so', async () => {
    const root = temp()
    const entry = join(root, 'hang.mjs')
    writeFileSync(entry, 'setInterval(() => {}, 1000)\n')
    const spawn = createForkSpawner(entry, { silent: true })
    let pid: number | undefined
    const t0 = Date.now()
    const r = await probeTrainer(
      (o) => {
        const h = spawn(o)
        pid = h.pid
        return h
      },
      { PATH: process.env.PATH ?? '' },
      500,
    )
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(r.probe.outcome).toBe('timeout')
    expect(r.problem).toMatch(/did not answer within 0.5 s \(stuck probing the WebGPU adapter\)/)
    expect(r.webgpu).toEqual({ adapter: null, reason: 'the adapter probe did not answer within 0.5 s' })
    await new Promise((res) => setTimeout(res, 200))
    expect(() => process.kill(pid!, 0)).toThrow()
  })
})
