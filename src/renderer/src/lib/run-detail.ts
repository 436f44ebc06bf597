/**
 * What the run detail shows, built from a stored run as pure functions (unit-tested in Node): the
 * config as label/value rows, how the best epoch was chosen, and the run's times, each saying how it
 * was obtained (training time is the sum of epoch durations; wall time includes downtime).
 */
import type { EpochMetrics, RunConfig, RunDetail, RunSummary } from '../../../shared/types'
import { formatDuration } from './estimate'

export interface DetailRow {
  label: string
  value: string
}

const json = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v))

/** A learning rate with 4 significant digits, no float noise (0.025, not 0.025000000000000001). */
const lr = (x: number): string => String(Number(x.toPrecision(4)))

/**
 * The rate the optimizer really starts from: the trainer scales the nominal rate by batch / 128
 * (the repository's recipe, core/train/schedule.ts `baseLearningRate`).
 */
export const trainedLearningRate = (c: Pick<RunConfig, 'learningRate' | 'batchSize'>): number =>
  c.learningRate * (c.batchSize / 128)

/** The schedule in words, with the rates the recorded epochs really used (first, last, lowest). */
function scheduleValue(c: RunConfig, metrics: readonly EpochMetrics[]): string {
  const how =
    c.lrSchedule === 'multistep'
      ? `multistep x${c.lrGamma} at epochs ${c.lrMilestones.join(', ') || '–'}`
      : c.lrSchedule
  const warm =
    c.warmupEpochs > 0
      ? `, linear warm-up over ${c.warmupEpochs} epoch${c.warmupEpochs === 1 ? '' : 's'}`
      : ''
  const seen = [...metrics].filter((m) => Number.isFinite(m.learningRate)).sort((a, b) => a.epoch - b.epoch)
  if (seen.length === 0) return `${how}${warm}`
  const first = seen[0]!
  const last = seen.at(-1)!
  const used =
    first === last
      ? `epoch ${first.epoch} ended at ${lr(first.learningRate)}`
      : `epoch ${first.epoch} ended at ${lr(first.learningRate)}, epoch ${last.epoch} at ${lr(last.learningRate)}`
  return `${how}${warm}; as trained: ${used}`
}

/**
 * The config as rows: hyperparameters, variant parameters, data and backend. With the run's
 * dataset name and recorded epochs, the dataset is named (not its id) and the learning rate is the
 * one trained with, beside the nominal one.
 */
export function configRows(
  c: RunConfig,
  run: { datasetName?: string; metrics?: readonly EpochMetrics[] } = {},
): DetailRow[] {
  const dataset =
    run.datasetName && run.datasetName !== c.dataset
      ? `${run.datasetName} (id ${c.dataset})`
      : (run.datasetName ?? c.dataset)
  const rows: DetailRow[] = [
    { label: 'Model', value: c.model },
    { label: 'Variant', value: c.variant },
    { label: 'Dataset', value: dataset },
    { label: 'Seed', value: String(c.seed) },
    { label: 'Split seed', value: String(c.splitSeed ?? c.seed) },
    { label: 'Epochs', value: String(c.epochs) },
    { label: 'Batch size', value: String(c.batchSize) },
    { label: 'Optimizer', value: c.optimizer },
    {
      label: 'Learning rate',
      value: `${lr(trainedLearningRate(c))} as trained (nominal ${c.learningRate} x batch ${c.batchSize} / 128)`,
    },
    { label: 'LR schedule', value: scheduleValue(c, run.metrics ?? []) },
    { label: 'Warm-up epochs', value: String(c.warmupEpochs) },
    { label: 'Momentum', value: String(c.momentum) },
    { label: 'Weight decay', value: String(c.weightDecay) },
    { label: 'Validation fraction', value: String(c.validationFraction) },
    { label: 'Max train samples', value: c.maxTrainSamples === 0 ? 'all' : String(c.maxTrainSamples) },
    { label: 'Augmentation', value: json(c.augment) },
    {
      label: 'Backend',
      value: c.backend === 'auto' ? 'auto (the trainer climbs the ladder)' : `pinned: ${c.backend}`,
    },
  ]
  for (const [k, v] of Object.entries(c.variantParams))
    rows.push({ label: `${c.variant}: ${k}`, value: json(v) })
  if (c.teacherLogits) rows.push({ label: 'Teacher logits', value: c.teacherLogits })
  return rows
}

/** How the best epoch was chosen, in words. */
export function selectionRule(d: Pick<RunDetail, 'result' | 'config' | 'bestEpoch'>): string {
  if (!d.result) {
    return d.bestEpoch !== null
      ? `best epoch ${d.bestEpoch} so far: highest validation accuracy`
      : 'no epoch finished yet'
  }
  const by =
    d.result.selection === 'validation'
      ? `highest validation accuracy (validation split ${(d.config.validationFraction * 100).toFixed(0)}% of train)`
      : 'highest test accuracy (no validation split: optimistic, not a held-out estimate)'
  return `best epoch ${d.result.best.epoch}, chosen by ${by}`
}

/** The run's times, each labelled with what it counts. */
export function timeRows(r: RunSummary, metricsCount: number): DetailRow[] {
  const rows: DetailRow[] = [
    {
      label: 'Training time',
      value: `${formatDuration(r.trainingMs ?? null)} (sum of ${metricsCount} recorded epoch${metricsCount === 1 ? '' : 's'}; no queue or downtime)`,
    },
  ]
  if (r.startedAt !== null && r.finishedAt !== null) {
    rows.push({
      label: 'Wall time',
      value: `${formatDuration(r.finishedAt - r.startedAt)} from first start to end (includes data loading, test evaluation and any time stopped before a resume)`,
    })
  }
  if (r.startedAt !== null) {
    const waited = r.startedAt - r.createdAt
    rows.push({ label: 'Waited in queue', value: `${formatDuration(waited)} before its first start` })
  }
  return rows
}

/** Training time for a table cell: recorded epochs only; '–' before the first epoch ends. */
export function trainingTime(r: RunSummary): string {
  return r.trainingMs !== undefined && r.trainingMs > 0 ? formatDuration(r.trainingMs) : '–'
}
