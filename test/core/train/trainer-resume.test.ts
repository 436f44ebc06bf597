/**
 * The built trainer process (out/node/trainer.js) honours `resumeFrom`: a run cancelled after its
 * 2nd epoch checkpoint and restarted in a fresh process from that checkpoint reports exactly the
 * epochs and result of an uninterrupted run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createForkSpawner } from '../../../src/core/services/fork-trainer'
import type { TestResult, TrainerStart, TrainerToHost } from '../../../src/shared/trainer-protocol'
import { resolveRunConfig } from '../../../src/shared/schemas'
import type { EpochMetrics } from '../../../src/shared/types'
import { requireBuiltTrainer } from '../../helpers'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const config = resolveRunConfig({
  model: 'mlp',
  epochs: 3,
  maxTrainSamples: 512,
  batchSize: 64,
  seed: 21,
  backend: 'wasm',
  lrSchedule: 'multistep',
  warmupEpochs: 1,
  lrMilestones: [3],
  augment: { cropPadding: 2, horizontalFlip: false, rotationDegrees: 8 },
})

interface Outcome {
  epochs: EpochMetrics[]
  checkpoints: { epoch: number; path: string }[]
  result: TestResult | null
  end: string
}

function runTrainer(opts: {
  cancelAfterCheckpoint?: number
  resumeFrom?: TrainerStart['resumeFrom']
  dir: string
}) {
  const spawn = createForkSpawner(requireBuiltTrainer(), { silent: true })
  const env = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >
  const t = spawn({ env })
  const out: Outcome = { epochs: [], checkpoints: [], result: null, end: '' }
  return new Promise<Outcome>((resolve, reject) => {
    const finish = (end: string) => {
      out.end = end
      t.send({ type: 'shutdown' })
      resolve(out)
    }
    t.onExit(({ code }) => (out.end ? undefined : reject(new Error(`trainer exited (${code})`))))
    t.onMessage((m: TrainerToHost) => {
      if (m.type === 'ready') {
        t.send({
          type: 'start',
          runId: 7,
          config,
          checkpointDir: opts.dir,
          dataset: { kind: 'bundled', name: 'mnist-10k' },
          ...(opts.resumeFrom ? { resumeFrom: opts.resumeFrom } : {}),
        })
      } else if (m.type === 'epoch') out.epochs.push(m.metrics)
      else if (m.type === 'checkpoint') {
        out.checkpoints.push({ epoch: m.epoch, path: m.path })
        if (m.epoch === opts.cancelAfterCheckpoint) t.send({ type: 'cancel' })
      } else if (m.type === 'completed') {
        out.result = m.result
        finish('completed')
      } else if (m.type === 'cancelled') finish('cancelled')
      else if (m.type === 'failed') reject(new Error(m.reason))
    })
  })
}

const strip = (m: EpochMetrics) => ({ ...m, durationMs: 0, samplesPerSec: 0 })

describe('trainer process resume', () => {
  it('continues a cancelled run from its last checkpoint with identical metrics', async () => {
    const tmp = () => {
      const d = mkdtempSync(join(tmpdir(), 'tfkd-resume-'))
      dirs.push(d)
      return d
    }
    const whole = await runTrainer({ dir: tmp() })
    expect(whole.end).toBe('completed')
    expect(whole.epochs.map((m) => m.epoch)).toEqual([1, 2, 3])
    expect(whole.result?.details?.selection).toBe('validation')

    const dir = tmp()
    const cut = await runTrainer({ dir, cancelAfterCheckpoint: 2 })
    expect(cut.end).toBe('cancelled')
    expect(cut.checkpoints.map((c) => c.epoch)).toEqual([1, 2])
    const last = cut.checkpoints[1]!
    const resumed = await runTrainer({ dir, resumeFrom: { path: last.path, epoch: last.epoch } })
    expect(resumed.end).toBe('completed')
    expect(resumed.epochs.map((m) => m.epoch)).toEqual([3])
    expect(resumed.checkpoints.map((c) => c.epoch)).toEqual([3])
    expect([...cut.epochs, ...resumed.epochs].map(strip)).toEqual(whole.epochs.map(strip))
    expect(resumed.result).toEqual(whole.result)
  })
})
