/** `datasets:*` channels: list, import (with progress and cancel), preview, rename, delete. */
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { DatasetImportOutcome, HandlerInput } from '../../shared/contract'
import { AppError } from '../../shared/errors'
import type { DatasetSummary } from '../../shared/types'
import { describeFormats, type FormatId } from '../data/importers/index'
import { describeDataset, importDataset } from '../services/dataset-service'
import type { DatasetRecord } from '../store/store'
import type { DomainHandlers, HandlerContext } from './context'

const toSummary = (d: DatasetRecord): DatasetSummary => ({
  id: d.id,
  name: d.name,
  format: d.format,
  classNames: d.classNames,
  inputShape: d.inputShape,
  counts: d.counts,
  createdAt: d.createdAt,
})

/** The sample grid as a data URL, or null when it could not be read. */
function readGrid(gridPath: string): string | null {
  try {
    return `data:image/png;base64,${readFileSync(gridPath).toString('base64')}`
  } catch {
    return null
  }
}

/** One import job: refuses a job id already running, pushes throttled progress, can be cancelled. */
async function runImport(
  { store, paths, emit, app }: HandlerContext,
  imports: Map<string, AbortController>,
  { jobId, path, format, ...options }: HandlerInput<'datasets:import'>,
): Promise<DatasetImportOutcome> {
  if (imports.has(jobId)) throw new AppError('conflict', `import job "${jobId}" is already running`)
  const controller = new AbortController()
  imports.set(jobId, controller)
  let skipped = 0
  let lastEmit = 0
  try {
    const result = await importDataset({
      store,
      paths,
      source: path,
      // importDataset refuses an id outside the registry, naming the known ones.
      options: { ...options, format: format as FormatId | undefined },
      signal: controller.signal,
      host: app.host,
      onSkip: () => void skipped++,
      onProgress: (p) => {
        // At most ~10 pushes a second: progress is for eyes, not for bookkeeping.
        const now = Date.now()
        if (now - lastEmit < 100 && p.done < p.total) return
        lastEmit = now
        emit('datasets:progress', { jobId, ...p, skipped })
      },
    })
    return { dataset: toSummary(result.dataset), skipped: result.skipped, notes: result.notes }
  } finally {
    imports.delete(jobId)
  }
}

export function createDatasetHandlers(ctx: HandlerContext): DomainHandlers<'datasets'> {
  const { store, paths } = ctx
  /** Dataset imports in flight, by the caller's job id. */
  const imports = new Map<string, AbortController>()
  const datasetOf = (datasetId: number): DatasetRecord => {
    const d = store.datasets.get(datasetId)
    if (!d) throw new AppError('not_found', `dataset ${datasetId} not found`)
    return d
  }

  return {
    'datasets:list': () => store.datasets.list(),
    'datasets:import': (input) => runImport(ctx, imports, input),
    'datasets:formats': () => describeFormats(),
    'datasets:cancel': ({ jobId }) => {
      const c = imports.get(jobId)
      c?.abort()
      return { cancelled: c !== undefined }
    },
    'datasets:preview': async ({ datasetId }) => {
      const d = datasetOf(datasetId)
      const details = await describeDataset({ store, paths, idOrName: String(d.id) })
      return {
        dataset: toSummary(d),
        ...details.preview,
        validationFraction: details.validationFraction,
        sampleGridDataUrl: readGrid(details.gridPath),
        runCount: store.runs.countByDataset(d.id),
      }
    },
    'datasets:rename': ({ datasetId, name }) => {
      const d = datasetOf(datasetId)
      if (d.format === 'bundled')
        throw new AppError('conflict', `the bundled dataset "${d.name}" keeps its name`)
      const other = store.datasets.byName(name)
      if (other && other.id !== d.id)
        throw new AppError('conflict', `a dataset named "${name}" already exists`)
      store.datasets.rename(d.id, name)
      return toSummary(datasetOf(d.id))
    },
    'datasets:delete': async ({ datasetId }) => {
      const d = datasetOf(datasetId)
      if (d.format === 'bundled')
        throw new AppError('conflict', `the bundled dataset "${d.name}" cannot be deleted`)
      const n = store.runs.countByDataset(d.id)
      if (n > 0) {
        throw new AppError(
          'conflict',
          `dataset "${d.name}" is used by ${n} run${n === 1 ? '' : 's'}; delete those runs first`,
          { runCount: n },
        )
      }
      store.datasets.deleteWithExperiments(d.id)
      if (d.cachePath) await rm(d.cachePath, { force: true })
      await rm(join(paths.datasets, 'previews', `${d.id}-samples.png`), { force: true })
      return { deleted: true }
    },
  }
}
