/**
 * Schemas of what the app reads back from places it does not control while it runs: JSON stored in
 * the database (a run's config and result, a dataset's shape, a teacher's preprocessing, a run's
 * device). They check shape and type, not the input limits of schemas.ts (limits are policy for new
 * input and may change; a row stored under older limits still reads). Each schema's output is
 * checked against its type below, so a field added to a type without its schema fails to compile.
 */
import { z } from 'zod'
import { BACKEND_IDS } from './backends'
import {
  ONNX_EXECUTION_PROVIDERS,
  TEACHER_LOGITS_MODES,
  TENSOR_LAYOUTS,
  type TeacherPreprocessing,
} from './onnx'
import {
  LR_SCHEDULES,
  OPTIMIZER_IDS,
  VARIANT_IDS,
  type DatasetSummary,
  type EpochMetrics,
  type RunConfig,
  type RunDevice,
  type RunResultDetails,
} from './types'

/** Any number, NaN and +-Infinity included (a diverged metric); z.number() refuses those. */
export const real = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' })
const int = z.number().int()

const teacherRef = z.object({
  runId: int,
  epoch: int.nullable(),
  // Absent in runs stored before snapshots by accuracy existed.
  targetAccuracy: z.number().nullable().default(null),
})

const importedTeacherRef = z.object({
  id: int,
  sha256: z.string().optional(),
  executionProvider: z.enum(ONNX_EXECUTION_PROVIDERS).optional(),
})

export const runConfigRecord = z.object({
  dataset: z.string(),
  model: z.string(),
  variant: z.enum(VARIANT_IDS),
  epochs: int,
  batchSize: int,
  optimizer: z.enum(OPTIMIZER_IDS),
  learningRate: z.number(),
  lrSchedule: z.enum(LR_SCHEDULES),
  warmupEpochs: z.number(),
  lrMilestones: z.array(z.number()),
  lrGamma: z.number(),
  augment: z.object({ cropPadding: int, horizontalFlip: z.boolean(), rotationDegrees: z.number() }),
  momentum: z.number(),
  weightDecay: z.number(),
  seed: int,
  validationFraction: z.number(),
  maxTrainSamples: int,
  splitSeed: int.nullable().optional(),
  backend: z.enum([...BACKEND_IDS, 'auto']),
  variantParams: z.record(z.string(), z.unknown()),
  teacher: teacherRef.nullable(),
  importedTeacher: importedTeacherRef.nullable().optional(),
  teacherLogits: z.enum(TEACHER_LOGITS_MODES).optional(),
})

const evalReport = z.object({
  epoch: int,
  loss: real,
  accuracy: real,
  top5: real,
  ece: real,
  perClassAccuracy: z.array(real),
  confusion: z.array(z.array(z.number())),
  reliability: z.object({
    bins: int,
    counts: z.array(z.number()),
    confidence: z.array(real),
    accuracy: z.array(real),
  }),
})

export const runResultRecord = z.object({
  best: evalReport,
  last: evalReport,
  selection: z.enum(['validation', 'test (no validation split)']),
  teacherCost: z
    .object({
      kind: z.enum(['tfjs-run', 'onnx']),
      logits: z.enum(TEACHER_LOGITS_MODES),
      device: z.string(),
      steps: int,
      teacherForwardMsPerStep: real.nullable(),
      teacherWaitMsPerStep: real,
      studentStepMsPerStep: real,
      sha256: z.string().optional(),
      cache: z
        .object({ file: z.string(), teacherSha256: z.string(), logitsSha256: z.string(), hit: z.boolean() })
        .optional(),
    })
    .optional(),
})

export const runDeviceRecord = z.object({
  backend: z.enum(BACKEND_IDS),
  kind: z.enum(['gpu', 'cpu']),
  name: z.string(),
  threads: int.nullable(),
  detail: z.string().optional(),
})

export const datasetShapeRecord = {
  classNames: z.array(z.string()),
  inputShape: z.tuple([int, int, int]),
  // Loose: an imported dataset's counts also carry perClass, validationFraction, importSettings and skipped.
  counts: z.object({ train: int, test: int }).loose(),
}

export const teacherPreprocessingRecord = z.object({
  layout: z.enum(TENSOR_LAYOUTS),
  mean: z.array(z.number()),
  std: z.array(z.number()),
  inputSize: z.tuple([int, int]),
  channels: int,
  inputName: z.string(),
  outputName: z.string(),
  outputClasses: int,
  classMap: z.array(int).nullable(),
})

export const epochMetricsRecord = z.object({
  epoch: int,
  trainLoss: real,
  trainAccuracy: real,
  valLoss: real,
  valAccuracy: real,
  valTop5: real.optional(),
  valEce: real.optional(),
  learningRate: real,
  durationMs: real,
  samplesPerSec: real,
})

/** Compile-time: a schema's output and its type are the same (both ways, optional keys included). */
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Same<A, B> = Mutual<A, B> extends true ? Mutual<keyof A, keyof B> : false
export const recordSchemasMatchTypes: [
  Same<z.output<typeof runConfigRecord>, RunConfig>,
  Same<z.output<typeof runResultRecord>, RunResultDetails>,
  Same<
    NonNullable<z.output<typeof runResultRecord>['teacherCost']>,
    NonNullable<RunResultDetails['teacherCost']>
  >,
  Same<z.output<typeof runDeviceRecord>, RunDevice>,
  Same<z.output<typeof teacherPreprocessingRecord>, TeacherPreprocessing>,
  Same<z.output<typeof epochMetricsRecord>, EpochMetrics>,
  Same<z.output<typeof datasetShapeRecord.inputShape>, DatasetSummary['inputShape']>,
  Same<Pick<z.output<typeof datasetShapeRecord.counts>, 'train' | 'test'>, DatasetSummary['counts']>,
] = [true, true, true, true, true, true, true, true]
