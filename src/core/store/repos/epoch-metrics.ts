/** The `epoch_metrics` table: one row per finished epoch of a run. */
import type { EpochMetrics } from '../../../shared/types'
import { decodeReal, encodeReal } from '../real'
import type { RepoDeps, Row } from './types'

function toMetrics(r: Row): EpochMetrics {
  const n = (k: string): number => decodeReal(r[k]) ?? NaN
  return {
    epoch: r.epoch as number,
    trainLoss: n('train_loss'),
    trainAccuracy: n('train_accuracy'),
    valLoss: n('val_loss'),
    valAccuracy: n('val_accuracy'),
    ...(r.val_top5 !== null && r.val_top5 !== undefined ? { valTop5: n('val_top5') } : {}),
    ...(r.val_ece !== null && r.val_ece !== undefined ? { valEce: n('val_ece') } : {}),
    learningRate: n('learning_rate'),
    durationMs: n('duration_ms'),
    samplesPerSec: n('samples_per_sec'),
  }
}

export function createEpochMetricsRepo({ db }: RepoDeps) {
  return {
    metrics(runId: number): EpochMetrics[] {
      return (
        db.prepare('SELECT * FROM epoch_metrics WHERE run_id = ? ORDER BY epoch').all(runId) as Row[]
      ).map(toMetrics)
    },
    /** Records one finished epoch; idempotent for a resumed run that repeats an epoch. */
    recordEpoch(runId: number, m: EpochMetrics): void {
      db.prepare(
        `INSERT OR REPLACE INTO epoch_metrics (run_id, epoch, train_loss, train_accuracy, val_loss,
           val_accuracy, learning_rate, duration_ms, samples_per_sec, val_top5, val_ece)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        runId,
        m.epoch,
        encodeReal(m.trainLoss),
        encodeReal(m.trainAccuracy),
        encodeReal(m.valLoss),
        encodeReal(m.valAccuracy),
        encodeReal(m.learningRate),
        encodeReal(m.durationMs),
        encodeReal(m.samplesPerSec),
        encodeReal(m.valTop5),
        encodeReal(m.valEce),
      )
    },
    /** Measured samples/s of every epoch, newest run and epoch first, with the run's model. */
    throughputByModel(): { model: string; sps: number }[] {
      return db
        .prepare(
          `SELECT r.model AS model, m.samples_per_sec AS sps FROM epoch_metrics m JOIN runs r ON r.id = m.run_id
           WHERE m.samples_per_sec > 0 ORDER BY m.run_id DESC, m.epoch DESC`,
        )
        .all() as { model: string; sps: number }[]
    },
  }
}

export type EpochMetricsRepo = ReturnType<typeof createEpochMetricsRepo>
