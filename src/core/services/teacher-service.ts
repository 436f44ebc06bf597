/**
 * Imported ONNX teachers: `tfkd teachers import` and the Teachers section of the UI. The trainer
 * checks the model against the dataset and measures its test accuracy (runTrainerJob); the host
 * then copies the file into the data folder under its hash and stores the teacher, flagging a
 * near-chance accuracy. Nothing is stored when any step fails.
 */
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, mkdirSync, renameSync, copyFileSync, statSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'
import { AppError } from '../../shared/errors'
import { isNearChance, type ImportedTeacherRef, type OnnxTeacherSummary } from '../../shared/onnx'
import { fieldTable, neutralTeacherFieldNames, type TeacherFieldNamer } from '../../shared/teacher-fields'
import type { TeacherImportFields } from '../../shared/schemas'
import type { TrainerDataset, TrainerOnnxTeacher } from '../../shared/trainer-protocol'
import { readClassMap } from '../onnx/preprocess'
import type { DataPaths } from '../paths'
import type { DatasetRecord } from '../store/store'
import type { Store } from '../store/store'
import type { SpawnTrainer } from '../train/trainer-handle'
import { runTrainerJob } from './trainer-job'

export interface TeacherImportInput extends TeacherImportFields {
  /** How messages name a setting (the CLI adds its flags); neutral when not given. */
  fieldName?: TeacherFieldNamer
}

export interface TeacherServiceDeps {
  store: Store
  paths: DataPaths
  spawnTrainer: SpawnTrainer
  env?: NodeJS.ProcessEnv
}

export function trainerDataset(ds: DatasetRecord): TrainerDataset {
  return ds.format === 'bundled'
    ? { kind: 'bundled', name: 'mnist-10k' }
    : { kind: 'cache', path: ds.cachePath ?? '' }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer)
  return h.digest('hex')
}

/** The message a near-chance teacher carries. */
export function nearChanceWarning(
  t: Pick<OnnxTeacherSummary, 'testAccuracy' | 'chanceAccuracy' | 'preprocessing'>,
  name: TeacherFieldNamer = neutralTeacherFieldNames,
): string {
  const p = t.preprocessing
  return (
    `test accuracy ${(100 * t.testAccuracy).toFixed(2)}% is near chance (${(100 * t.chanceAccuracy).toFixed(2)}%, always the most frequent class): ` +
    `the preprocessing is the usual cause. Check the ${name('layout')} (used ${p.layout}), the ${name('mean')} and ${name('std')} (used ${p.mean.join(',')} / ${p.std.join(',')}, in [0, 1] pixel units as the model was trained), ` +
    `the ${name('inputSize')} and the ${name('classMap')}`
  )
}

/** The ONNX file's size; a missing or unreadable file is an input error on `path`. */
function onnxFileSize(file: string): number {
  try {
    const st = statSync(file)
    if (!st.isFile()) throw new Error('not a file')
    return st.size
  } catch (err) {
    throw new AppError('invalid_input', `${file}: cannot read the ONNX file (${(err as Error).message})`, {
      field: 'path',
    })
  }
}

/** The class map file resolved against the dataset's classes; a bad map is an input error. */
function classMapOf(path: string, classNames: string[], fieldName?: TeacherFieldNamer): number[] {
  try {
    return readClassMap(path, classNames, fieldName)
  } catch (err) {
    throw new AppError('invalid_input', (err as Error).message, { field: 'classMap' })
  }
}

/** Copies the teacher into `dir` as `<sha256>.onnx` (once: same content, same file); returns its path. */
async function storeTeacherCopy(file: string, sha256: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true })
  const stored = join(dir, `${sha256}.onnx`)
  if (!existsSync(stored)) {
    const tmp = `${stored}.tmp-${process.pid}`
    try {
      copyFileSync(file, tmp)
      renameSync(tmp, stored)
    } catch (err) {
      rmSync(tmp, { force: true })
      throw new AppError('internal', `cannot copy ${file} into ${dir}: ${(err as Error).message}`)
    }
  }
  return stored
}

export function createTeacherService(deps: TeacherServiceDeps) {
  const { store, paths } = deps
  return {
    async import(
      input: TeacherImportInput,
      opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
    ): Promise<{ teacher: OnnxTeacherSummary; warnings: string[] }> {
      const file = input.path
      const size = onnxFileSize(file)
      const ds = store.datasets.require(input.dataset)
      const classMap = input.classMap ? classMapOf(input.classMap, ds.classNames, input.fieldName) : null
      const answer = await runTrainerJob(
        deps.spawnTrainer,
        {
          type: 'onnx-eval',
          file,
          dataset: trainerDataset(ds),
          datasetName: ds.name,
          executionProvider: input.executionProvider ?? 'cpu',
          ...(input.fieldName ? { fieldNames: fieldTable(input.fieldName) } : {}),
          options: {
            ...(input.layout ? { layout: input.layout } : {}),
            ...(input.mean ? { mean: input.mean } : {}),
            ...(input.std ? { std: input.std } : {}),
            ...(input.inputSize ? { inputSize: input.inputSize } : {}),
            classMap,
          },
        },
        { env: deps.env, signal: opts.signal, onProgress: opts.onProgress },
      )
      if (answer.type !== 'onnx-eval-result')
        throw new AppError('internal', `unexpected trainer answer ${answer.type}`)
      const r = answer.result
      // The copy runs use, named by content: the user's file may move or change later.
      const sha256 = await sha256File(file)
      const stored = await storeTeacherCopy(file, sha256, paths.teachers)
      const nearChance = isNearChance(r.accuracy, r.chance)
      const teacher = store.onnxTeachers.insert({
        name: input.name ?? basename(file).replace(/\.onnx$/i, ''),
        datasetId: ds.id,
        path: stored,
        sourcePath: file,
        sha256,
        bytes: size,
        producer: `${r.producer}${r.opset !== null ? `, opset ${r.opset}` : ''}`,
        preprocessing: r.preprocessing,
        testAccuracy: r.accuracy,
        testCount: r.n,
        chanceAccuracy: r.chance,
        nearChance,
        evalDevice: r.device,
        evalMs: r.ms,
      })
      return { teacher, warnings: nearChance ? [nearChanceWarning(teacher, input.fieldName)] : [] }
    },
    list: (datasetId?: number) => store.onnxTeachers.list(datasetId === undefined ? {} : { datasetId }),
    get(id: number): OnnxTeacherSummary {
      const t = store.onnxTeachers.get(id)
      if (!t) throw new AppError('not_found', `ONNX teacher ${id} not found`, { field: 'teacher' })
      return t
    },
    /** Deletes a teacher; runs that used it keep its hash in their config. */
    delete(id: number): { deleted: boolean; runs: number[] } {
      const t = store.onnxTeachers.get(id)
      if (!t) throw new AppError('not_found', `ONNX teacher ${id} not found`)
      const runs = store.onnxTeachers.runsUsing(id)
      const active = runs.filter((r) => ['queued', 'running'].includes(store.runs.get(r)?.status ?? ''))
      if (active.length)
        throw new AppError(
          'conflict',
          `ONNX teacher ${id} is used by run${active.length > 1 ? 's' : ''} ${active.join(', ')}, still ${active.length > 1 ? 'queued or running' : store.runs.get(active[0]!)?.status}`,
        )
      store.onnxTeachers.delete(id)
      if (store.onnxTeachers.usingPath(t.path) === 0) rmSync(t.path, { force: true })
      return { deleted: true, runs }
    },
  }
}

export type TeacherService = ReturnType<typeof createTeacherService>

/**
 * Checks a run's imported teacher (exists, same dataset, file present) and returns the reference
 * with the file's hash, which the run's config keeps as its lineage.
 */
export function checkImportedTeacher(
  store: Store,
  ref: ImportedTeacherRef,
  ds: DatasetRecord,
): ImportedTeacherRef {
  const t = store.onnxTeachers.get(ref.id)
  if (!t) {
    const known = store.onnxTeachers.list({ datasetId: ds.id }).map((x) => `${x.id} (${x.name})`)
    throw new AppError(
      'not_found',
      `ONNX teacher ${ref.id} not found; teachers imported for ${ds.name}: ${known.join(', ') || 'none (tfkd teachers import)'}`,
      { field: 'importedTeacher.id' },
    )
  }
  if (t.datasetId !== ds.id) {
    throw new AppError(
      'invalid_input',
      `ONNX teacher ${t.id} (${t.name}) was imported for dataset ${t.datasetName}, not ${ds.name}`,
      { field: 'importedTeacher.id' },
    )
  }
  if (ref.sha256 && ref.sha256 !== t.sha256) {
    throw new AppError(
      'conflict',
      `ONNX teacher ${t.id}: the run expects file ${ref.sha256.slice(0, 12)}, the teacher is ${t.sha256.slice(0, 12)}`,
    )
  }
  return { ...ref, sha256: t.sha256, executionProvider: ref.executionProvider ?? 'cpu' }
}

/** What a trainer needs to open a run's imported teacher, or why it cannot. */
export function onnxTeacherStart(
  store: Store,
  ref: ImportedTeacherRef,
): { ok: true; start: TrainerOnnxTeacher } | { ok: false; reason: string } {
  const t = store.onnxTeachers.get(ref.id)
  if (!t)
    return {
      ok: false,
      reason: `ONNX teacher ${ref.id} no longer exists (file ${ref.sha256?.slice(0, 12) ?? '?'})`,
    }
  if (ref.sha256 && ref.sha256 !== t.sha256)
    return {
      ok: false,
      reason: `ONNX teacher ${t.id} is no longer the file ${ref.sha256.slice(0, 12)} this run used`,
    }
  if (!existsSync(t.path)) return { ok: false, reason: `ONNX teacher ${t.id}: its file ${t.path} is missing` }
  return {
    ok: true,
    start: {
      id: t.id,
      path: t.path,
      sha256: t.sha256,
      preprocessing: t.preprocessing,
      executionProvider: ref.executionProvider ?? 'cpu',
    },
  }
}
