import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  baseLearningRate,
  learningRateAt,
  warmupSteps,
  type ScheduleConfig,
} from '../../../src/core/train/schedule'

const cfg = (over: Partial<ScheduleConfig> = {}): ScheduleConfig => ({
  learningRate: 0.1,
  batchSize: 128,
  lrSchedule: 'multistep',
  warmupEpochs: 1,
  lrMilestones: [60, 120, 160],
  lrGamma: 0.2,
  epochs: 200,
  ...over,
})

describe('learning-rate schedule', () => {
  it('scales the base rate by batch / 128', () => {
    expect(baseLearningRate({ learningRate: 0.1, batchSize: 64 })).toBeCloseTo(0.05, 12)
    expect(baseLearningRate({ learningRate: 0.1, batchSize: 256 })).toBeCloseTo(0.2, 12)
  })

  it('warms up linearly per iteration over warmupEpochs, then reaches the base rate', () => {
    const c = cfg()
    const spe = 10
    expect(learningRateAt(c, 0, spe)).toBeCloseTo(0.01, 12)
    expect(learningRateAt(c, 4, spe)).toBeCloseTo(0.05, 12)
    expect(learningRateAt(c, 9, spe)).toBeCloseTo(0.1, 12)
    expect(learningRateAt(c, 10, spe)).toBeCloseTo(0.1, 12)
    for (let i = 1; i < 10; i++)
      expect(learningRateAt(c, i, spe)).toBeGreaterThan(learningRateAt(c, i - 1, spe))
  })

  it('supports fractional warm-up and none', () => {
    expect(warmupSteps(0.5, 10)).toBe(5)
    expect(warmupSteps(0.01, 10)).toBe(1)
    expect(warmupSteps(0, 10)).toBe(0)
    const c = cfg({ warmupEpochs: 0.5 })
    expect(learningRateAt(c, 0, 10)).toBeCloseTo(0.02, 12)
    expect(learningRateAt(c, 4, 10)).toBeCloseTo(0.1, 12)
    expect(learningRateAt(cfg({ warmupEpochs: 0 }), 0, 10)).toBeCloseTo(0.1, 12)
  })

  it('multistep: x gamma after each milestone epoch (the repository: 60, 120, 160 as 0-based indices)', () => {
    const c = cfg()
    const spe = 5
    const at = (epoch: number) => learningRateAt(c, (epoch - 1) * spe + 2, spe)
    expect(at(2)).toBeCloseTo(0.1, 12)
    expect(at(60)).toBeCloseTo(0.1, 12)
    expect(at(61)).toBeCloseTo(0.02, 12)
    expect(at(120)).toBeCloseTo(0.02, 12)
    expect(at(121)).toBeCloseTo(0.004, 12)
    expect(at(160)).toBeCloseTo(0.004, 12)
    expect(at(161)).toBeCloseTo(0.0008, 12)
    expect(at(200)).toBeCloseTo(0.0008, 12)
    // epochs per rate: 1 warm-up + 59 at 0.1, 60 at 0.02, 40 at 0.004, 40 at 0.0008
    const perRate = new Map<string, number>()
    for (let e = 2; e <= 200; e++) {
      const k = at(e).toPrecision(6)
      perRate.set(k, (perRate.get(k) ?? 0) + 1)
    }
    expect([...perRate.values()]).toEqual([59, 60, 40, 40])
  })

  it("replays PyTorch's 200-epoch sequence of the repository (warm-up + MultiStepLR) step by step", () => {
    // Fixture written by scripts/lr-schedule-fixture.py with PyTorch (see there to regenerate).
    const fixture = JSON.parse(
      readFileSync(new URL('../../fixtures/lr-schedule-repository.json', import.meta.url), 'utf8'),
    ) as { config: ScheduleConfig; stepsPerEpoch: number; baselinePath: number[]; kdPath: number[] }
    const spe = fixture.stepsPerEpoch
    expect(fixture.baselinePath).toHaveLength(200 * spe)
    for (const path of [fixture.baselinePath, fixture.kdPath]) {
      path.forEach((expected, i) => {
        const got = learningRateAt(fixture.config, i, spe)
        // The repository's warm-up divides by (iters + 1e-8), a relative 1e-8 / 7 off; nothing else differs.
        if (Math.abs(got - expected) > 1e-8 * expected) {
          throw new Error(`step ${i} (epoch ${Math.floor(i / spe) + 1}): ours ${got}, PyTorch ${expected}`)
        }
      })
    }
  })

  it('cosine: base right after warm-up, half way at the middle, 0 at the end of the last epoch', () => {
    const c = cfg({ lrSchedule: 'cosine', warmupEpochs: 0, epochs: 10 })
    const spe = 10
    expect(learningRateAt(c, 0, spe)).toBeCloseTo(0.1, 12)
    expect(learningRateAt(c, 50, spe)).toBeCloseTo(0.05, 12)
    expect(learningRateAt(c, 99, spe)).toBeLessThan(1e-4)
    expect(learningRateAt(c, 100, spe)).toBeCloseTo(0, 12)
    const w = cfg({ lrSchedule: 'cosine', warmupEpochs: 1, epochs: 11 })
    expect(learningRateAt(w, 10, spe)).toBeCloseTo(0.1, 12)
    expect(learningRateAt(w, 60, spe)).toBeCloseTo(0.05, 12)
  })

  it('constant after warm-up', () => {
    const c = cfg({ lrSchedule: 'constant', warmupEpochs: 2 })
    expect(learningRateAt(c, 0, 3)).toBeCloseTo(0.1 / 6, 12)
    expect(learningRateAt(c, 6, 3)).toBeCloseTo(0.1, 12)
    expect(learningRateAt(c, 599, 3)).toBeCloseTo(0.1, 12)
  })
})
