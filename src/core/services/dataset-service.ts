/**
 * Dataset import as one transaction-like step: fingerprint the source (a duplicate is refused before
 * any decoding), stream decoded samples into a temp cache, rename it into place, and only then insert
 * the record. Any failure or cancellation removes the temp files and the cache, and leaves no record.
 */
import { createHash } from 'node:crypto'
import { lstat, rm } from 'node:fs/promises'
import { basename, isAbsolute, join, relative, resolve } from 'node:path'
import { AppError } from '../../shared/errors'
import {
  IMPORT_FORM_FIELDS,
  neutralFieldNames,
  type CsvEncoding,
  type FieldNamer,
  type OnBadRows,
} from '../../shared/import-fields'
import type { AppInfo } from '../../shared/types'
import { createCacheWriter, loadDatasetCache } from '../data/cache'
import { MNIST_10K } from '../data/bundled'
import { loadMnist10k } from '../data/mnist10k'
import {
  DEFAULT_LIMITS,
  detectFormat,
  IMPORTERS,
  severalDatasetsIn,
  ImportError,
  type FormatId,
  type Importer,
  type ImportLimits,
  type ImportOptions,
  type ImportProgress,
  type SkippedFile,
} from '../data/importers/index'
import { previewFromCache, previewFromSets, writeSampleGrid, type DatasetPreview } from '../data/preview'
import type { DataPaths } from '../paths'
import { errorPath, storageAppError } from '../storage-errors'
import type { DatasetRecord, NewDataset, Store } from '../store/store'

export interface DatasetImportOptions {
  /** Source format; detected from the path when absent. */
  format?: FormatId
  /** Dataset name; from the source's file or folder name when absent (suffixed -2, -3... if taken). */
  name?: string
  /** Target image size [height, width]. */
  size?: [number, number]
  color?: 'grayscale' | 'rgb'
  /** CSV label column, by header name or 0-based index. */
  labelColumn?: string
  /** CIFAR-100 label granularity. */
  labelMode?: 'fine' | 'coarse'
  /** CSV rows that cannot be used: refuse the file (default) or skip them and list them. */
  onBadRows?: OnBadRows
  /** CSV text encoding: utf8 (default, checked), latin1 or utf16le. */
  encoding?: CsvEncoding
  /** Validation fraction runs carve from train by default (recorded with the dataset). Default 0.1. */
  validationFraction?: number
  /** Test fraction held out at import when the source has no test split. Default 0.2. */
  testFraction?: number
  /** Seed of the test split carved at import. Default 0. */
  seed?: number
  /** Names of the classes in label order (label 0 first), replacing the source's labels (e.g. 0-9). */
  classNames?: string[]
  limits?: Partial<ImportLimits>
}

/** What `counts` holds for an imported dataset (the record's `counts` JSON carries all of it). */
export interface ImportedCounts {
  train: number
  test: number
  /** Samples per class index, per split. */
  perClass: { train: number[]; test: number[] }
  validationFraction: number
  /** The settings of the import: test fraction and seed (used only when the source had no test split). */
  importSettings: { testFraction: number; seed: number }
  skipped: number
}

export interface ImportDatasetArgs {
  store: Store
  paths: DataPaths
  source: string
  options?: DatasetImportOptions
  signal?: AbortSignal
  onProgress?: (p: ImportProgress) => void
  /** Each skipped file as it is found. */
  onSkip?: (s: SkippedFile) => void
  /** How messages name a setting: the CLI passes its flags; the UI's words when absent. */
  fieldName?: FieldNamer
  /** The host, for the words about paths (the CLI resolves against its working folder). Default 'cli'. */
  host?: AppInfo['host']
  /** The folder a relative source is resolved against; the process's working folder when absent. */
  relativeTo?: string
}

export interface ImportDatasetResult {
  dataset: DatasetRecord
  skipped: SkippedFile[]
  notes: string[]
  cacheBytes: number
}

function defaultName(source: string): string {
  const base = basename(resolve(source)).replace(/\.(tar\.gz|tgz|gz|csv|zip)$/i, '')
  return base.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'dataset'
}

function uniqueName(store: Store, base: string): string {
  if (!store.datasets.byName(base)) return base
  for (let i = 2; ; i++) if (!store.datasets.byName(`${base}-${i}`)) return `${base}-${i}`
}

function fraction(x: number | undefined, fallback: number, what: string): number {
  const v = x ?? fallback
  if (!(v >= 0 && v < 1)) throw new AppError('invalid_input', `${what} must be in [0, 1), got ${v}`)
  return v
}

/** Where the source path is: what the host says about it (`hostWhere`) and the absolute path. */
function hostWords(host: AppInfo['host']): { base: string; where: string } {
  if (host === 'cli') return { base: 'the current folder', where: '' }
  if (host === 'web') return { base: "the server's working folder", where: ' on the server' }
  return { base: "the app's working folder", where: ' on this computer' }
}

/**
 * The absolute path of the source, or an error that says what was looked for: a relative path
 * names the folder it was resolved against (a UI user never chose one) and asks for an absolute one.
 */
async function locateSource(
  source: string,
  host: AppInfo['host'],
  base: string,
  notes: string[],
): Promise<string> {
  const abs = resolve(base, source)
  const words = hostWords(host)
  let exists = true
  try {
    await lstat(abs)
  } catch {
    exists = false
  }
  if (isAbsolute(source)) {
    if (!exists)
      throw new AppError('bad_dataset', `${source}: not found (nothing at this path${words.where})`)
    return abs
  }
  if (!exists) {
    throw new AppError(
      'bad_dataset',
      `${source}: not found; a relative path is resolved against ${words.base} (${base}), giving ${abs}, where nothing is. ` +
        `Give the absolute path of the file or folder${words.where} (starting with ${process.platform === 'win32' ? 'a drive, e.g. C:\\' : '/'})`,
      { resolvedPath: abs, relativeTo: base },
    )
  }
  if (host !== 'cli') notes.push(`the relative path ${source} was resolved against ${words.base} as ${abs}`)
  return abs
}

const describeFormat = (id: FormatId): string => (IMPORTERS[id] as Importer).title ?? id

/** Refuses a folder that holds several datasets (importing it would take one, or all as classes). */
async function refuseParentFolder(source: string, name: FieldNamer): Promise<void> {
  const inner = await severalDatasetsIn(source)
  if (inner.length === 0) return
  const shown = inner.slice(0, 12).map((d) => `${d.name} (${describeFormat(d.format)})`)
  throw new AppError(
    'invalid_input',
    `${source}: this folder holds ${inner.length} datasets: ${shown.join(', ')}${inner.length > 12 ? ', ...' : ''}; choose one of them ` +
      `(e.g. ${join(source, inner[0]!.name)}), or choose the ${name('format')} to import the folder itself as one dataset`,
    { datasets: inner },
  )
}

/** The refusal of a source already imported with these settings, naming the dataset and the way out. */
function alreadyImported(
  source: string,
  existing: DatasetRecord,
  name: FieldNamer,
  host: AppInfo['host'],
): AppError {
  // The settings that make another cache are offered only where the host has all of them (the CLI).
  const other =
    host === 'cli'
      ? `, or change the ${name('size')}, ${name('color')}, ${name('testFraction')} or ${name('seed')}`
      : ''
  return new AppError(
    'conflict',
    `${source} was already imported with the same settings as dataset ${existing.id} "${existing.name}" (listed under that name). ` +
      `To import it again, delete "${existing.name}" first${other}`,
    { datasetId: existing.id, name: existing.name },
  )
}

type CacheWriter = Awaited<ReturnType<typeof createCacheWriter>>

/** The checked settings of one import: importer options, the validation fraction, how to word it. */
interface ImportPlan {
  o: DatasetImportOptions
  options: ImportOptions
  validationFraction: number
  name: FieldNamer
  host: AppInfo['host']
}

/** Checks the requested options before anything is read: fractions, size, name and format. */
function planImport(args: ImportDatasetArgs): ImportPlan {
  const o = args.options ?? {}
  const options: ImportOptions = {
    size: o.size,
    color: o.color,
    labelColumn: o.labelColumn,
    labelMode: o.labelMode,
    onBadRows: o.onBadRows,
    encoding: o.encoding,
    fieldName: args.fieldName,
    // The CLI has a flag for every setting; the app's form has the ones IMPORT_FORM_FIELDS lists.
    offers:
      args.fieldName !== undefined || (args.host ?? 'cli') === 'cli'
        ? undefined
        : (field) => IMPORT_FORM_FIELDS.includes(field),
    testFraction: fraction(o.testFraction, 0.2, 'test fraction'),
    seed: o.seed ?? 0,
    limits: { ...DEFAULT_LIMITS, ...o.limits },
  }
  const validationFraction = fraction(o.validationFraction, 0.1, 'validation fraction')
  if (o.size && !o.size.every((s) => Number.isInteger(s) && s > 0 && s <= 4096)) {
    throw new AppError('invalid_input', `size must be HxW with sides in 1..4096, got ${o.size.join('x')}`)
  }
  if (o.name !== undefined && !/^[\w][\w.-]{0,99}$/.test(o.name)) {
    throw new AppError(
      'invalid_input',
      `dataset name "${o.name}": use letters, digits, '.', '-' and '_' (at most 100)`,
    )
  }
  const name = args.fieldName ?? neutralFieldNames
  const host = args.host ?? 'cli'
  if (o.format !== undefined && !Object.hasOwn(IMPORTERS, o.format)) {
    throw new AppError(
      'invalid_input',
      `unknown ${name('format')} "${String(o.format)}"; known: ${Object.keys(IMPORTERS).join(', ')}`,
    )
  }
  return { o, options, validationFraction, name, host }
}

/**
 * The source's absolute path (the bundled sample keeps its name) and its format: the requested one,
 * or detected after refusing a folder that holds several datasets.
 */
async function resolveSource(
  args: ImportDatasetArgs,
  plan: ImportPlan,
  pathNotes: string[],
): Promise<{ sourcePath: string; format: FormatId }> {
  const { source } = args
  const { o, name, host } = plan
  const isBundled = o.format === 'bundled' || (o.format === undefined && source === MNIST_10K.name)
  const sourcePath = isBundled
    ? source
    : await locateSource(source, host, args.relativeTo ?? process.cwd(), pathNotes)
  if (o.format === undefined && !isBundled) await refuseParentFolder(sourcePath, name)
  const format = o.format ?? (await detectFormat(sourcePath, name))
  return { sourcePath, format }
}

/**
 * The dataset's content hash (source fingerprint plus the settings the cache depends on), after
 * refusing a source already imported with these settings or a requested name already taken.
 */
async function checkNotImported(
  args: ImportDatasetArgs,
  plan: ImportPlan,
  sourcePath: string,
  format: FormatId,
  signal: AbortSignal,
  onProgress: (p: ImportProgress) => void,
): Promise<string> {
  const { store, source } = args
  const { o, options, name, host } = plan
  onProgress({ phase: 'hashing', done: 0, total: 0, unit: 'bytes' })
  const sourceHash = await IMPORTERS[format].fingerprint(sourcePath, options, { signal, onProgress })
  // Everything the cache depends on besides the source bytes: the same source imported with other
  // settings is a different dataset.
  const settings = JSON.stringify([
    format,
    options.size ?? null,
    options.color ?? null,
    options.testFraction,
    options.seed,
    // Only when given, so datasets imported before the option keep their hash.
    ...(options.encoding && options.encoding !== 'utf8' ? [options.encoding] : []),
    // Appended only when given, so the hash of an import without names stays what it was.
    ...(o.classNames ? [o.classNames] : []),
  ])
  const contentHash = createHash('sha256').update(`${sourceHash}\0${settings}`).digest('hex')
  const existing = store.datasets.byHash(contentHash)
  if (existing) throw alreadyImported(source, existing, name, host)
  if (o.name && store.datasets.byName(o.name)) {
    throw new AppError(
      'conflict',
      `a dataset named "${o.name}" already exists; choose another ${name('name')}`,
    )
  }
  return contentHash
}

/** Runs the importer into the cache writer (progress, cancel, skipped files); refuses an empty train split. */
async function runImporter(
  args: ImportDatasetArgs,
  plan: ImportPlan,
  sourcePath: string,
  format: FormatId,
  writer: CacheWriter,
  signal: AbortSignal,
  onProgress: (p: ImportProgress) => void,
  skipped: SkippedFile[],
): Promise<Awaited<ReturnType<Importer['run']>>> {
  const result = await IMPORTERS[format].run(sourcePath, plan.options, {
    signal,
    sink: writer,
    onProgress,
    skip(file, reason) {
      const s = { file, reason }
      skipped.push(s)
      args.onSkip?.(s)
    },
  })
  const counts = writer.counts()
  if (counts.train === 0) {
    throw new ImportError(
      `${args.source}: no training samples were imported${counts.test ? ` (only ${counts.test} test samples)` : ''}`,
    )
  }
  const tooSmall = splitSizeProblem(counts, plan.options.testFraction, plan.validationFraction)
  if (tooSmall) throw new ImportError(`${args.source}: ${tooSmall}`)
  return result
}

/** The importer's result with the given class names in place of the source's labels (same count). */
function withClassNames<R extends { classNames: string[]; notes: string[] }>(
  result: R,
  names: string[] | undefined,
  source: string,
  name: FieldNamer,
): R {
  if (!names) return result
  const what = `${source}: the ${name('classNames')}`
  if (names.length !== result.classNames.length) {
    throw new ImportError(
      `${what} list ${names.length} names, but the data has ${result.classNames.length} classes (${result.classNames.slice(0, 12).join(', ')}${result.classNames.length > 12 ? ', ...' : ''}); give one name per class, in label order`,
    )
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup !== undefined) throw new ImportError(`${what} name "${dup}" twice; each class needs its own name`)
  const pairs = result.classNames.slice(0, 4).map((l, i) => `${l} = ${names[i]}`)
  return {
    ...result,
    classNames: [...names],
    notes: [...result.notes, `class names given: ${pairs.join(', ')}${names.length > 4 ? ', ...' : ''}`],
  }
}

/** The three splits a run uses: test from the import, validation carved from train by the run's seed. */
function splitSizes(total: number, testFraction: number, validationFraction: number) {
  const test = Math.round(total * testFraction)
  const validation = Math.round((total - test) * validationFraction)
  return { train: total - test - validation, validation, test }
}

/**
 * Why the imported samples are too few for a run to have a training, a validation and a test sample
 * (each asked-for split non-empty), with the smallest size that works; null when they suffice.
 */
export function splitSizeProblem(
  counts: { train: number; test: number },
  testFraction: number,
  validationFraction: number,
): string | null {
  const validation = Math.round(counts.train * validationFraction)
  const empty = [
    counts.train - validation < 1 ? 'train' : null,
    validationFraction > 0 && validation < 1 ? 'validation' : null,
    testFraction > 0 && counts.test < 1 ? 'test' : null,
  ].filter((x) => x !== null)
  if (empty.length === 0) return null
  const total = counts.train + counts.test
  let enough = total + 1
  for (; enough < 100_000; enough++) {
    const z = splitSizes(enough, testFraction, validationFraction)
    if (
      z.train >= 1 &&
      (validationFraction === 0 || z.validation >= 1) &&
      (testFraction === 0 || z.test >= 1)
    )
      break
  }
  return (
    `${total} samples are too few to split: at test fraction ${testFraction} and validation fraction ` +
    `${validationFraction} they give ${counts.train - validation} train, ${validation} validation and ${counts.test} test ` +
    `samples, so the ${empty.join(' and ')} split${empty.length > 1 ? 's are' : ' is'} empty; import at least ${enough} samples`
  )
}

/** Inserts the dataset record in one transaction, re-checking the hash and name against a racing import. */
function storeDataset(
  args: ImportDatasetArgs,
  o: DatasetImportOptions,
  contentHash: string,
  record: Omit<NewDataset, 'name' | 'contentHash'>,
): DatasetRecord {
  const { store, source } = args
  return store.db.transaction(() => {
    const dup = store.datasets.byHash(contentHash)
    if (dup)
      throw new AppError('conflict', `${source} was imported meanwhile as dataset ${dup.id} "${dup.name}"`)
    const name =
      o.name ?? uniqueName(store, defaultName(record.format === 'bundled' ? `${source}-cache` : source))
    if (store.datasets.byName(name))
      throw new AppError('conflict', `a dataset named "${name}" already exists`)
    return store.datasets.insert({ name, contentHash, ...record })
  })()
}

/** The error an import failure is reported as: cancellation, a bad source, or the error itself. */
function importFailure(
  err: unknown,
  signal: AbortSignal,
  skipped: SkippedFile[],
  paths: DataPaths,
): AppError {
  if (err instanceof AppError) return err
  if ((err as Error)?.name === 'AbortError' || signal.aborted)
    return new AppError('cancelled', 'import cancelled')
  if (err instanceof ImportError)
    return new AppError('bad_dataset', err.message, { skipped: skipped.slice(0, 100) })
  // Writing the cache (full disk, read-only or unwritable data folder): a storage error naming the
  // datasets folder, the same from every host. Reading the source stays a bad dataset.
  const path = errorPath(err)
  const inData = path === undefined || !relative(paths.home, path).startsWith('..')
  const storage = inData ? storageAppError(err, 'cannot write the dataset cache in', paths.datasets) : null
  if (storage) return storage
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR')
      return new AppError('bad_dataset', err.message)
  }
  return AppError.from(err)
}

export async function importDataset(args: ImportDatasetArgs): Promise<ImportDatasetResult> {
  const signal = args.signal ?? new AbortController().signal
  const onProgress = args.onProgress ?? (() => {})
  const skipped: SkippedFile[] = []
  const plan = planImport(args)
  const pathNotes: string[] = []
  let writer: CacheWriter | null = null
  let cachePath: string | null = null
  try {
    const { sourcePath, format } = await resolveSource(args, plan, pathNotes)
    const contentHash = await checkNotImported(args, plan, sourcePath, format, signal, onProgress)
    writer = await createCacheWriter(args.paths.datasets, { maxBytes: plan.options.limits.maxDatasetBytes })
    const imported = await runImporter(args, plan, sourcePath, format, writer, signal, onProgress, skipped)
    const result = withClassNames(imported, plan.o.classNames, args.source, plan.name)
    const counts = writer.counts()
    if (signal.aborted) throw new AppError('cancelled', 'import cancelled')
    onProgress({ phase: 'writing', done: 0, total: 0, unit: 'bytes' })
    const fin = await writer.finish({
      classNames: result.classNames,
      fileName: `${contentHash.slice(0, 24)}.tfkd`,
    })
    cachePath = fin.path
    if (signal.aborted) throw new AppError('cancelled', 'import cancelled')
    const full: ImportedCounts = {
      train: counts.train,
      test: counts.test,
      perClass: { train: fin.header.splits.train.classCounts, test: fin.header.splits.test.classCounts },
      validationFraction: plan.validationFraction,
      importSettings: { testFraction: plan.options.testFraction, seed: plan.options.seed },
      skipped: skipped.length,
    }
    const dataset = storeDataset(args, plan.o, contentHash, {
      format,
      sourcePath,
      classNames: result.classNames,
      inputShape: fin.header.shape,
      counts: full,
      cachePath: fin.path,
    })
    return { dataset, skipped, notes: [...pathNotes, ...result.notes], cacheBytes: fin.bytes }
  } catch (err) {
    await writer?.abort()
    if (cachePath) await rm(cachePath, { force: true })
    throw importFailure(err, signal, skipped, args.paths)
  }
}

/** The train/test splits of a dataset record: its cache, or the bundled sample. */
export function loadDatasetSplits(d: DatasetRecord): ReturnType<typeof loadDatasetCache> {
  if (d.cachePath) return loadDatasetCache(d.cachePath)
  if (d.format === 'bundled' && d.name === MNIST_10K.name)
    return { ...loadMnist10k(), classNames: d.classNames }
  throw new AppError('not_found', `dataset ${d.id} "${d.name}" has no cache file`)
}

export interface DatasetDetails {
  dataset: DatasetRecord
  preview: DatasetPreview
  /** The validation fraction runs carve by default. */
  validationFraction: number
  /** Path of the written sample-grid PNG. */
  gridPath: string
}

/** Stats and a sample grid PNG (written under the datasets folder). */
export async function describeDataset(args: {
  store: Store
  paths: DataPaths
  idOrName: string
}): Promise<DatasetDetails> {
  const dataset = args.store.datasets.require(args.idOrName)
  const splits = loadDatasetSplits(dataset)
  const preview = dataset.cachePath ? previewFromCache(dataset.cachePath) : previewFromSets(splits)
  const gridPath = await writeSampleGrid(
    splits.train,
    splits.classNames.length,
    join(args.paths.datasets, 'previews', `${dataset.id}-samples.png`),
  )
  const vf = (dataset.counts as Partial<ImportedCounts>).validationFraction
  return { dataset, preview, validationFraction: typeof vf === 'number' ? vf : 0.1, gridPath }
}
