/**
 * Trainer messages are parsed where they arrive. A malformed one neither crashes the receiver nor
 * leaves anyone waiting: it becomes the failure its waiting party understands, naming the run and
 * the field. Both directions run against real processes: the built trainer (out/node/trainer.js)
 * receives a malformed start; a stand-in child sends malformed reports to the host's fork spawner.
 */
import { fork } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createForkSpawner } from '../../../src/core/services/fork-trainer'
import { resolveRunConfig } from '../../../src/shared/schemas'
import type { TrainerToHost } from '../../../src/shared/trainer-protocol'
import { parseHostToTrainer, parseTrainerToHost } from '../../../src/shared/trainer-schemas'
import { ROOT, requireBuiltTrainer } from '../../helpers'

function collect(
  child: ReturnType<typeof fork>,
  until: (m: TrainerToHost) => boolean,
): Promise<TrainerToHost[]> {
  const seen: TrainerToHost[] = []
  return new Promise((resolve, reject) => {
    child.on('message', (m) => {
      seen.push(parseTrainerToHost(m))
      if (until(seen.at(-1)!)) resolve(seen)
    })
    child.on('exit', () => resolve(seen))
    child.on('error', reject)
  })
}

describe('trainer messages', () => {
  it('the trainer answers a malformed start with the run failed, naming the field', async () => {
    const child = fork(requireBuiltTrainer(), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    })
    const config = { ...resolveRunConfig({}), epochs: 'three' }
    child.send({
      type: 'start',
      runId: 12,
      config,
      checkpointDir: '/tmp/x',
      dataset: { kind: 'bundled', name: 'mnist-10k' },
    })
    const seen = await collect(child, (m) => m.type === 'failed')
    child.send({ type: 'shutdown' })
    expect(seen.at(-1)).toEqual({
      type: 'failed',
      runId: 12,
      reason: expect.stringMatching(
        /^malformed "start" message from the host for run 12: config\.epochs: /,
      ) as string,
    })
  })

  it('the host turns malformed reports into the failures their waiters understand', async () => {
    const handle = createForkSpawner(join(ROOT, 'test/fixtures/malformed-trainer.cjs'), { silent: true })({
      env: { ...process.env } as Record<string, string>,
    })
    const seen: TrainerToHost[] = []
    await new Promise<void>((resolve) => {
      handle.onMessage((m) => seen.push(m))
      handle.onExit(() => resolve())
    })
    expect(seen[0]).toMatchObject({ type: 'ready' })
    expect(seen[1]).toEqual({
      type: 'failed',
      runId: 5,
      reason: expect.stringMatching(
        /^malformed "epoch" message from the trainer for run 5: metrics\.epoch: /,
      ) as string,
    })
    expect(seen[2]).toEqual({
      type: 'job-failed',
      reason: expect.stringContaining(
        'malformed "export-result" message from the trainer: result: expected an export result',
      ) as string,
    })
    expect(seen[3]).toMatchObject({
      type: 'log',
      level: 'error',
      message: expect.stringContaining('"no-such-type"') as string,
    })
  })

  it('keeps well-formed messages whole, NaN metrics included', () => {
    const epoch = {
      type: 'epoch',
      runId: 1,
      metrics: {
        epoch: 1,
        trainLoss: NaN,
        trainAccuracy: 0.5,
        valLoss: Infinity,
        valAccuracy: 0.4,
        learningRate: 0.1,
        durationMs: 5,
        samplesPerSec: 9,
      },
    } as const
    expect(parseTrainerToHost(epoch)).toEqual(epoch)
    expect(parseHostToTrainer({ type: 'cancel' })).toEqual({ ok: true, msg: { type: 'cancel' } })
    expect(parseHostToTrainer({ type: 'bench', model: 3 })).toMatchObject({
      ok: false,
      reply: { type: 'bench-failed' },
    })
  })
})
