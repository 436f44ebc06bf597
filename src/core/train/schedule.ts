/**
 * The learning-rate schedule, as a pure function of the global iteration. The repository's recipe:
 * base = lr x batch / 128; per-iteration linear warm-up over the first `warmupEpochs` (one in the
 * repository), then x gamma at each milestone epoch (60, 120, 160). Cosine and constant are options.
 *
 * Conventions (documented because they decide the exact figures):
 * - `iteration` is the 0-based index of the optimizer step over the whole run; the step belongs to
 *   epoch `floor(iteration / stepsPerEpoch) + 1` (epochs are 1-based).
 * - Warm-up lasts `W = round(warmupEpochs x stepsPerEpoch)` steps (at least 1 when warmupEpochs > 0);
 *   step i < W uses base x (i + 1) / W, so it rises linearly from near 0 and the last warm-up step
 *   uses the full base rate. Warm-up overrides the schedule below while it lasts.
 * - multistep: the 1-based epoch e uses base x gamma^k, k = the number of milestones m < e, i.e.
 *   m <= e - 1: the repository steps PyTorch's MultiStepLR with the 0-based epoch index at the start of
 *   each epoch after the warm-up one, so milestone 60 first lowers the rate of the 61st epoch
 *   (1 warm-up + 59 epochs at 0.1, ..., 40 epochs at the last rate for 60/120/160 over 200).
 *   test/core/train/schedule.test.ts replays PyTorch's sequence from test/fixtures/lr-schedule-repository.json.
 * - cosine: per iteration from the end of warm-up, base x (1 + cos(pi x t)) / 2 with
 *   t = (i - W) / (T - W), T = epochs x stepsPerEpoch, so it reaches 0 at the end of the last epoch.
 * - constant: base.
 */
import type { RunConfig } from '../../shared/types'

export type ScheduleConfig = Pick<
  RunConfig,
  'learningRate' | 'batchSize' | 'lrSchedule' | 'warmupEpochs' | 'lrMilestones' | 'lrGamma' | 'epochs'
>

/** The repository's batch-size scaling: lr x batch / 128. */
export function baseLearningRate(cfg: Pick<RunConfig, 'learningRate' | 'batchSize'>): number {
  return cfg.learningRate * (cfg.batchSize / 128)
}

/** Number of warm-up steps for `warmupEpochs` at `stepsPerEpoch`. */
export function warmupSteps(warmupEpochs: number, stepsPerEpoch: number): number {
  if (!(warmupEpochs > 0)) return 0
  return Math.max(1, Math.round(warmupEpochs * stepsPerEpoch))
}

/** The learning rate of the optimizer step `iteration` (0-based, over the whole run). */
export function learningRateAt(cfg: ScheduleConfig, iteration: number, stepsPerEpoch: number): number {
  if (!(stepsPerEpoch >= 1)) throw new Error(`stepsPerEpoch must be >= 1, got ${stepsPerEpoch}`)
  const base = baseLearningRate(cfg)
  const warm = warmupSteps(cfg.warmupEpochs, stepsPerEpoch)
  if (iteration < warm) return (base * (iteration + 1)) / warm
  switch (cfg.lrSchedule) {
    case 'constant':
      return base
    case 'multistep': {
      // 0-based epoch index, as the repository passes it to MultiStepLR.step(epoch)
      const epochIndex = Math.floor(iteration / stepsPerEpoch)
      let k = 0
      for (const m of cfg.lrMilestones) if (m <= epochIndex) k++
      return base * cfg.lrGamma ** k
    }
    case 'cosine': {
      const total = cfg.epochs * stepsPerEpoch
      if (total <= warm) return base
      const t = Math.min(1, (iteration - warm) / (total - warm))
      return (base * (1 + Math.cos(Math.PI * t))) / 2
    }
  }
}
