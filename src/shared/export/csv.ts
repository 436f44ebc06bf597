/** CSV writers for run tables: the UI's exports and `tfkd export` write the same bytes. */
import type { RunDetail, RunSummary } from '../types'

/**
 * One CSV cell. A non-finite number is written `NaN`, `Infinity` or `-Infinity` (what pandas, R and
 * spreadsheets read back as such), never as an empty cell: empty means "no value".
 */
export function csvCell(v: unknown): string {
  const s =
    typeof v === 'number'
      ? String(v)
      : v === null || v === undefined
        ? ''
        : Array.isArray(v)
          ? v.join(' ')
          : String(v)
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header.join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\n') + '\n'
}

export const RUNS_CSV_HEADER = [
  'run_id',
  'experiment_id',
  'role',
  'status',
  'dataset',
  'model',
  'variant',
  'seed',
  'teacher_run_id',
  'epochs_done',
  'epochs_planned',
  'best_epoch',
  'best_val_accuracy',
  'test_accuracy',
  'test_loss',
  'backend',
  'device',
  'duration_s',
  'failure_reason',
] as const

/** One row per run; accuracies as fractions, durations in seconds. */
export function runsCsv(runs: readonly RunSummary[]): string {
  return toCsv(
    RUNS_CSV_HEADER,
    runs.map((r) => [
      r.id,
      r.experimentId,
      r.role,
      r.status,
      r.datasetName,
      r.model,
      r.variant,
      r.seed,
      r.teacherRunId,
      r.epochsDone,
      r.epochsPlanned,
      r.bestEpoch,
      r.bestValAccuracy,
      r.testAccuracy,
      r.testLoss,
      r.backend,
      r.device,
      r.startedAt !== null && r.finishedAt !== null ? (r.finishedAt - r.startedAt) / 1000 : null,
      r.failureReason,
    ]),
  )
}

export const METRICS_CSV_HEADER = [
  'run_id',
  'variant',
  'seed',
  'epoch',
  'train_loss',
  'train_accuracy',
  'val_loss',
  'val_accuracy',
  'val_top5',
  'val_ece',
  'learning_rate',
  'duration_ms',
  'samples_per_sec',
] as const

/** One row per run and epoch. */
export function metricsCsv(runs: readonly RunDetail[]): string {
  return toCsv(
    METRICS_CSV_HEADER,
    runs.flatMap((r) =>
      r.metrics.map((m) => [
        r.id,
        r.variant,
        r.seed,
        m.epoch,
        m.trainLoss,
        m.trainAccuracy,
        m.valLoss,
        m.valAccuracy,
        m.valTop5,
        m.valEce,
        m.learningRate,
        m.durationMs,
        m.samplesPerSec,
      ]),
    ),
  )
}
