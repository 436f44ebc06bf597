/**
 * Input schemas for every invoke channel. Hosts validate at the boundary with these; unknown keys
 * are errors so that a typo in a plan file or a request never silently falls back to a default.
 */
import { z } from 'zod'
import { BACKEND_IDS, OPTIMIZER_IDS, RUN_STATUSES, VARIANT_IDS } from './types'
import type { RunConfig } from './types'

export const DEFAULT_RUN_CONFIG: RunConfig = {
  dataset: 'mnist-10k',
  model: 'cnn-small',
  variant: 'baseline',
  epochs: 2,
  batchSize: 64,
  optimizer: 'sgd',
  learningRate: 0.1,
  momentum: 0.9,
  weightDecay: 5e-4,
  seed: 230,
  validationFraction: 0.1,
  maxTrainSamples: 0,
  backend: 'auto',
}

const id = z.number().int().positive()

export const runConfigInput = z
  .object({
    dataset: z.string().min(1),
    model: z.string().min(1),
    variant: z.enum(VARIANT_IDS),
    epochs: z.number().int().min(1).max(10_000),
    batchSize: z.number().int().min(1).max(65_536),
    optimizer: z.enum(OPTIMIZER_IDS),
    learningRate: z.number().positive().max(100),
    momentum: z.number().min(0).max(1),
    weightDecay: z.number().min(0).max(1),
    seed: z.number().int().min(0).max(2 ** 31 - 1),
    validationFraction: z.number().min(0).max(0.9),
    maxTrainSamples: z.number().int().min(0),
    backend: z.enum([...BACKEND_IDS, 'auto']),
  })
  .partial()
  .strict()

export type RunConfigInput = z.infer<typeof runConfigInput>

export function resolveRunConfig(input: RunConfigInput): RunConfig {
  return { ...DEFAULT_RUN_CONFIG, ...input }
}

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
} as const
