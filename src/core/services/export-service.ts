/**
 * `tfkd export-model` and the History export action: a run's best or last checkpoint as ONNX or
 * TF.js, written (and checked against the app's logits) by a trainer child into the data folder's
 * exports/ or a folder the caller names.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { AppError } from '../../shared/errors'
import type { ModelExportFormat, ModelExportResult } from '../../shared/onnx'
import { neutralTeacherFieldNames, type TeacherFieldNamer } from '../../shared/teacher-fields'
import type { DataPaths } from '../paths'
import type { Store } from '../store/store'
import { trainerDataset } from './teacher-service'
import type { SpawnTrainer } from '../train/trainer-handle'
import { runTrainerJob } from './trainer-job'

export interface ModelExportInput {
  runId: number
  format: ModelExportFormat
  checkpoint?: 'best' | 'last'
  /** Output folder (default: <data>/exports/run-<id>-<checkpoint>-<format>). */
  outDir?: string
  /** How messages name a setting (the CLI adds its flags); neutral when not given. */
  fieldName?: TeacherFieldNamer
  /**
   * 'download': written to a temporary folder, checked, read back into the answer and removed, so
   * that a browser on the web host saves the files and nothing is left in the host's folders.
   */
  deliver?: 'folder' | 'download'
}

const MIME: Record<string, string> = {
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.json': 'application/json',
}

/**
 * The file name a download gets. ONNX files are named after the run (`run-12-best.onnx`); TF.js
 * keeps model.json / weights.bin, since model.json refers to its weights by that name.
 */
function downloadName(file: string, r: Pick<ModelExportResult, 'runId' | 'checkpoint' | 'format'>): string {
  const name = basename(file)
  if (r.format !== 'onnx') return name
  return name === 'model.onnx'
    ? `run-${r.runId}-${r.checkpoint}.onnx`
    : `run-${r.runId}-${r.checkpoint}-${name}`
}

export function createExportService(deps: {
  store: Store
  paths: DataPaths
  spawnTrainer: SpawnTrainer
  env?: NodeJS.ProcessEnv
}) {
  const { store, paths } = deps
  const service = {
    async exportModel(
      input: ModelExportInput,
      opts: { signal?: AbortSignal } = {},
    ): Promise<ModelExportResult> {
      if (input.deliver === 'download') {
        const tmp = mkdtempSync(join(tmpdir(), 'tfkd-export-'))
        try {
          const r = await service.exportModel({ ...input, deliver: 'folder', outDir: join(tmp, 'out') }, opts)
          const downloads = r.files.map((f) => ({
            name: downloadName(f, r),
            mime: MIME[f.slice(f.lastIndexOf('.'))] ?? 'application/octet-stream',
            base64: readFileSync(f).toString('base64'),
          }))
          return { ...r, dir: '', files: downloads.map((d) => d.name), downloads }
        } finally {
          rmSync(tmp, { recursive: true, force: true })
        }
      }
      const run = store.runs.detail(input.runId)
      if (!run) throw new AppError('not_found', `run ${input.runId} not found`)
      const which = input.checkpoint ?? 'best'
      let path: string | undefined
      let epoch: number | null = null
      if (which === 'best') {
        path = join(paths.checkpoints, String(run.id), 'best.tfkd')
        epoch = run.bestEpoch
        if (run.status !== 'completed' || epoch === null || !existsSync(path)) {
          throw new AppError(
            'invalid_input',
            `run ${run.id} has no best checkpoint (it is ${run.status}${existsSync(path) ? '' : `, ${path} is missing`}); choose the last ${(input.fieldName ?? neutralTeacherFieldNames)('checkpoint')}`,
            { field: 'checkpoint' },
          )
        }
      } else {
        const last = store.checkpoints.latest(run.id)
        if (!last || !existsSync(last.path)) {
          throw new AppError('invalid_input', `run ${run.id} has no checkpoint on disk to export`, {
            field: 'checkpoint',
          })
        }
        path = last.path
        epoch = last.epoch
      }
      const ds = store.datasets.get(run.datasetId)!
      const outDir = resolve(input.outDir ?? join(paths.exports, `run-${run.id}-${which}-${input.format}`))
      const answer = await runTrainerJob(
        deps.spawnTrainer,
        {
          type: 'export-model',
          runId: run.id,
          config: run.config,
          dataset: trainerDataset(ds),
          checkpointPath: path,
          checkpoint: which,
          epoch,
          format: input.format,
          outDir,
          // A folder the user chose: the way out of a read-only or full one is another folder.
          ...(input.outDir ? { storageWayOut: 'choose another output folder' } : {}),
        },
        { env: deps.env, signal: opts.signal },
      )
      if (answer.type !== 'export-result')
        throw new AppError('internal', `unexpected trainer answer ${answer.type}`)
      return answer.result
    },
  }
  return service
}

export type ExportService = ReturnType<typeof createExportService>
