/**
 * Repositories over the run history, one module per table under repos/, composed here. SQL lives
 * only in src/core/store. Every multi-row write runs in one transaction.
 */
import type { Db } from './db'
import { createCheckpointsRepo } from './repos/checkpoints'
import { createDatasetsRepo } from './repos/datasets'
import { createEpochMetricsRepo } from './repos/epoch-metrics'
import { createExperimentsRepo } from './repos/experiments'
import { createOnnxTeachersRepo } from './repos/onnx-teachers'
import { createRunsRepo } from './repos/runs'
import { createRunDevicesRepo } from './repos/run-devices'
import { createSettingsRepo } from './repos/settings'

export type { NewDataset, DatasetRecord } from './repos/datasets'
export type { NewRun } from './repos/runs'
export type { CheckpointRecord } from './repos/checkpoints'
export type { ExperimentRecord } from './repos/experiments'

export function createStore(db: Db, now: () => number = Date.now) {
  const deps = { db, now }
  return {
    db,
    datasets: createDatasetsRepo(deps),
    runs: createRunsRepo(deps),
    experiments: createExperimentsRepo(deps),
    checkpoints: createCheckpointsRepo(deps),
    epochMetrics: createEpochMetricsRepo(deps),
    onnxTeachers: createOnnxTeachersRepo(deps),
    runDevices: createRunDevicesRepo(deps),
    settings: createSettingsRepo(deps),
    close: () => db.close(),
  }
}

export type Store = ReturnType<typeof createStore>
