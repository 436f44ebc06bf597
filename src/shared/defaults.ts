/**
 * The one set of training defaults: a single run (`tfkd run`, runs:start) and a plan's `training`
 * both start from these. Only the epoch count differs, on purpose (see DEFAULT_RUN_CONFIG).
 */
import type { RunConfig } from './types'

/** The training fields of a run config: everything but what, on which data, and which seed. */
export type TrainingConfig = Omit<
  RunConfig,
  'dataset' | 'model' | 'variant' | 'seed' | 'variantParams' | 'teacher'
>

export const DEFAULT_TRAINING: TrainingConfig = {
  /** A plan's students and teachers: 3 epochs, minutes on a laptop CPU for the bundled digits. */
  epochs: 3,
  batchSize: 64,
  optimizer: 'sgd',
  learningRate: 0.1,
  lrSchedule: 'constant',
  warmupEpochs: 0,
  lrMilestones: [],
  lrGamma: 0.2,
  momentum: 0.9,
  weightDecay: 5e-4,
  validationFraction: 0.1,
  maxTrainSamples: 0,
  backend: 'auto',
  splitSeed: null,
  augment: { cropPadding: 0, horizontalFlip: false, rotationDegrees: 0 },
}

export const DEFAULT_RUN_CONFIG: RunConfig = {
  ...DEFAULT_TRAINING,
  // A single run is a quick look, not a comparison: 2 epochs (as it always was).
  epochs: 2,
  dataset: 'mnist-10k',
  model: 'cnn-small',
  variant: 'baseline',
  seed: 230,
  variantParams: {},
  teacher: null,
}
