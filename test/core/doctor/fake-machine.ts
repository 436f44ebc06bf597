/**
 * A doctor report of a fake machine (an H100 behind a fake nvidia-smi, no CUDA 11 libraries, no
 * tfjs-node), produced by the real runDoctor; the renderer's component test shows it.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runDoctor } from '../../../src/core/doctor/doctor'
import type { DoctorReport } from '../../../src/shared/doctor'

export async function h100WithoutCudaLibraries(): Promise<DoctorReport> {
  const root = mkdtempSync(join(tmpdir(), 'tfkd-fake-machine-'))
  try {
    mkdirSync(join(root, 'bin'))
    writeFileSync(
      join(root, 'bin', 'nvidia-smi'),
      '#!/bin/sh\necho "0, NVIDIA H100 80GB HBM3, 81559, 9.0, 580.65.06, 00000000:02:00.0"\n',
    )
    chmodSync(join(root, 'bin', 'nvidia-smi'), 0o755)
    return await runDoctor({
      env: { PATH: join(root, 'bin') },
      appLibraryDir: join(root, 'cuda11'),
      fsRoot: root,
      systemDirs: [],
      ldconfig: null,
      home: root,
      platform: 'linux',
      packages: {
        'tensorflow-gpu': 'installed',
        webgpu: 'installed',
        tensorflow: 'missing',
        wasm: 'installed',
        cpu: 'installed',
      },
    })
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
