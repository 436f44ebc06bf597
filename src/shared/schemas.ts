/**
 * Input schemas for every invoke channel. Hosts validate at the boundary with these; unknown keys
 * are errors so that a typo in a plan file or a request never silently falls back to a default.
 */
import { z } from 'zod'
import { RUN_STATUSES, VARIANT_IDS } from './types'
import type { RunConfig } from './types'
import { DEFAULT_RUN_CONFIG } from './defaults'
import { AppError } from './errors'
import { augmentFields, experimentPlanInput, trainingFields } from './plan'
import { VARIANT_PARAMS, completeVariantParams } from './variants'
import { MARGIN_MAX_PP, MARGIN_MIN_PP, REPRODUCE_HYPERPARAMETERS, REPRODUCE_SCALES } from './reproduce'
import { CSV_ENCODINGS, ON_BAD_ROWS } from './import-fields'
import { MODEL_EXPORT_FORMATS, ONNX_EXECUTION_PROVIDERS, TEACHER_LOGITS_MODES, TENSOR_LAYOUTS } from './onnx'

/** A run's imported ONNX teacher (`tfkd teachers import`); the host adds the file's hash. */
export const importedTeacherInput = z
  .object({
    id: z.number().int().positive(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    executionProvider: z.enum(ONNX_EXECUTION_PROVIDERS).optional(),
  })
  .strict()
import { clusterJobRef, clusterSubmitInput } from './cluster'

/** What importing an ONNX teacher takes (the UI's form, `tfkd teachers import`, teachers:import). */
export const teacherImportInput = z
  .object({
    path: z.string().min(1).max(4096),
    /** Dataset id or name. */
    dataset: z.string().min(1).max(200),
    name: z.string().min(1).max(100).optional(),
    layout: z.enum(TENSOR_LAYOUTS).optional(),
    mean: z.array(z.number().finite()).min(1).max(4).optional(),
    std: z.array(z.number().positive()).min(1).max(4).optional(),
    inputSize: z.tuple([z.number().int().min(1).max(4096), z.number().int().min(1).max(4096)]).optional(),
    /** A class map file: teacher output j -> dataset class (JSON array or one name per line). */
    classMap: z.string().min(1).max(4096).optional(),
    executionProvider: z.enum(ONNX_EXECUTION_PROVIDERS).optional(),
  })
  .strict()

export type TeacherImportFields = z.output<typeof teacherImportInput>

export { DEFAULT_RUN_CONFIG }

const id = z.number().int().positive()

export const runConfigInput = z
  .object({
    dataset: z.string().min(1),
    model: z.string().min(1),
    variant: z.enum(VARIANT_IDS),
    ...trainingFields,
    augment: z
      .object({
        cropPadding: augmentFields.cropPadding.default(0),
        horizontalFlip: augmentFields.horizontalFlip.default(false),
        rotationDegrees: augmentFields.rotationDegrees.default(0),
      })
      .strict(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
    variantParams: z.record(z.string(), z.unknown()),
    teacher: z
      .object({
        runId: id,
        epoch: z.number().int().min(1).nullable().default(null),
        targetAccuracy: z.number().gt(0).lt(1).nullable().default(null),
      })
      .strict()
      .nullable(),
    importedTeacher: importedTeacherInput.nullable(),
    teacherLogits: z.enum(TEACHER_LOGITS_MODES),
  })
  .partial()
  .strict()

export type RunConfigInput = z.infer<typeof runConfigInput>

/**
 * Applies the defaults, including the variant's hyperparameter defaults (and the repository's
 * per-model values); a bad hyperparameter throws an AppError naming `variantParams.<key>`.
 */
export function resolveRunConfig(input: RunConfigInput): RunConfig {
  const merged = { ...DEFAULT_RUN_CONFIG, ...input, teacher: input.teacher ?? null }
  const parsed = VARIANT_PARAMS[merged.variant].safeParse(merged.variantParams ?? {})
  if (!parsed.success) {
    const i = parsed.error.issues[0]!
    throw new AppError(
      'invalid_input',
      `variantParams.${i.path.join('.') || '?'}: ${i.message} (variant ${merged.variant})`,
      { field: `variantParams.${i.path.join('.')}` },
    )
  }
  return {
    ...merged,
    // Completed from the one parse above, not parsed again.
    variantParams: completeVariantParams(merged.variant, parsed.data, merged.variantParams, merged.model),
  }
}

/** A claims margin in percentage points (src/shared/reproduce.ts): the range `tfkd report --margin` takes. */
const marginPp = z.number().min(MARGIN_MIN_PP).max(MARGIN_MAX_PP)

export const inputSchemas = {
  'app:info': z.object({}).strict(),
  'runs:list': z
    .object({
      status: z.enum(RUN_STATUSES).optional(),
      experimentId: id.optional(),
      limit: z.number().int().min(1).max(10_000).optional(),
    })
    .strict(),
  'runs:get': z.object({ runId: id }).strict(),
  'runs:start': runConfigInput,
  'runs:cancel': z.object({ runId: id }).strict(),
  'datasets:list': z.object({}).strict(),
  'models:list': z.object({}).strict(),
  'diagnostics:backends': z.object({ refresh: z.boolean().optional() }).strict(),
  'runs:resume': z.object({ runId: id }).strict(),
  'runs:rerun': z.object({ runId: id }).strict(),
  'experiments:start': experimentPlanInput,
  'experiments:list': z.object({}).strict(),
  'experiments:get': z.object({ experimentId: id }).strict(),
  'experiments:cancel': z.object({ experimentId: id }).strict(),
  'experiments:resume': z.object({ experimentId: id }).strict(),
  'experiments:plan': z.object({ experimentId: id }).strict(),
  'compare:get': z
    .object({
      experimentId: id.optional(),
      runIds: z.array(id).max(10_000).optional(),
      metric: z.enum(['best', 'last']).optional(),
      /** The variant the others are compared with (default baseline). */
      reference: z.string().min(1).max(100).optional(),
    })
    .strict(),
  'reproduce:start': z
    .object({
      dataset: z.string().min(1),
      scale: z.enum(REPRODUCE_SCALES),
      seeds: z.number().int().min(1).max(100).optional(),
      hyperparameters: z.enum(REPRODUCE_HYPERPARAMETERS).optional(),
    })
    .strict(),
  'reproduce:power': z
    .object({
      dataset: z.string().min(1),
      scale: z.enum(REPRODUCE_SCALES),
      seeds: z.number().int().min(1).max(100),
    })
    .strict(),
  'report:get': z.object({ experimentId: id, marginPp: marginPp.optional() }).strict(),
  'report:render': z
    .object({
      experimentId: id,
      format: z.enum(['md', 'latex', 'html']),
      marginPp: marginPp.optional(),
    })
    .strict(),
  'variants:list': z.object({}).strict(),
  'presets:list': z.object({}).strict(),
  'dialog:openPath': z
    .object({ kind: z.enum(['folder', 'file']), title: z.string().max(200).optional() })
    .strict(),
  'datasets:import': z
    .object({
      /** Caller-chosen id that progress pushes and datasets:cancel refer to. */
      jobId: z.string().min(1).max(100),
      path: z.string().min(1).max(4096),
      name: z.string().min(1).max(100).optional(),
      size: z.tuple([z.number().int().min(1).max(4096), z.number().int().min(1).max(4096)]).optional(),
      color: z.enum(['grayscale', 'rgb']).optional(),
      testFraction: z.number().min(0).lt(1).optional(),
      validationFraction: z.number().min(0).lt(1).optional(),
      /** A format id of the importer registry (`datasets:formats`); detected when absent. */
      format: z.string().min(1).max(40).optional(),
      /** CSV: the label column by header name or 0-based index; the last column when absent. */
      labelColumn: z.string().trim().min(1).max(200).optional(),
      onBadRows: z.enum(ON_BAD_ROWS).optional(),
      /** CSV: the file's text encoding; utf8 (checked, the default), latin1 or utf16le. */
      encoding: z.enum(CSV_ENCODINGS).optional(),
      /** Names of the classes in label order (label 0 first), replacing the source's labels. */
      classNames: z.array(z.string().trim().min(1).max(200)).min(1).max(100_000).optional(),
    })
    .strict(),
  'datasets:formats': z.object({}).strict(),
  'datasets:cancel': z.object({ jobId: z.string().min(1).max(100) }).strict(),
  'datasets:preview': z.object({ datasetId: id }).strict(),
  'datasets:rename': z
    .object({
      datasetId: id,
      name: z.string().regex(/^[\w][\w.-]{0,99}$/, "use letters, digits, '.', '-' and '_' (at most 100)"),
    })
    .strict(),
  'datasets:delete': z.object({ datasetId: id }).strict(),
  'runs:delete': z.object({ runIds: z.array(id).min(1).max(10_000) }).strict(),
  'runs:tag': z.object({ runId: id, tags: z.array(z.string().trim().min(1).max(40)).max(20) }).strict(),
  'runs:tags': z.object({}).strict(),
  'runs:details': z.object({ runIds: z.array(id).min(1).max(500) }).strict(),
  'throughput:get': z.object({}).strict(),
  'teachers:list': z.object({ datasetId: id.optional() }).strict(),
  'teachers:import': teacherImportInput.extend({ jobId: z.string().min(1).max(100) }).strict(),
  'teachers:cancel': z.object({ jobId: z.string().min(1).max(100) }).strict(),
  'teachers:delete': z.object({ teacherId: id }).strict(),
  'exports:model': z
    .object({
      runId: id,
      format: z.enum(MODEL_EXPORT_FORMATS),
      // No output folder over IPC/HTTP: the UI's exports go to the data folder's exports/, or, with
      // deliver 'download' (a browser on the web host), come back in the answer and stay nowhere.
      checkpoint: z.enum(['best', 'last']).optional(),
      deliver: z.enum(['folder', 'download']).optional(),
    })
    .strict(),
  'cluster:available': z.object({}).strict(),
  'cluster:submit': clusterSubmitInput,
  'cluster:jobs': z.object({}).strict(),
  'cluster:status': clusterJobRef,
  'cluster:sync': clusterJobRef,
  'cluster:retry': clusterJobRef,
  'cluster:cancel': clusterJobRef,
  'diagnostics:doctor': z
    .object({
      /** Run the probes again instead of answering the last report. */
      refresh: z.boolean().optional(),
      /** Also spawn a trainer for the WebGPU adapter and the ladder (default true). */
      probe: z.boolean().optional(),
    })
    .strict(),
  /** Without dirs: read the folders; with dirs: replace them. */
  'diagnostics:cudaFolders': z
    .object({ dirs: z.array(z.string().min(1).max(4096)).max(20).optional() })
    .strict(),
} as const
