/** `tfkd datasets import|list|show`: dataset import and previews from the command line. */
import { readFileSync } from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'
import cliProgress from 'cli-progress'
import { AppError } from '../shared/errors'
import {
  IMPORT_FIELD_NAMES,
  ON_BAD_ROWS,
  type FieldNamer,
  type ImportField,
  type CsvEncoding,
  type OnBadRows,
  CSV_ENCODINGS,
} from '../shared/import-fields'
import type { AppCore } from '../core/app/app-core'
import { dataPaths, type DataPaths } from '../core/paths'
import {
  FORMAT_IDS,
  type FormatId,
  type ImportProgress,
  type SkippedFile,
} from '../core/data/importers/types'
import {
  describeDataset,
  importDataset,
  type DatasetDetails,
  type DatasetImportOptions,
  type ImportDatasetResult,
} from '../core/services/dataset-service'
import { table } from './format'

function parseSize(v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/i.exec(v.trim())
  if (!m) throw new InvalidArgumentError(`--size must be HxW (e.g. 32x32), got "${v}"`)
  return [Number(m[1]), Number(m[2])]
}
function parseFraction(name: string) {
  return (v: string): number => {
    const n = Number(v)
    if (!(n >= 0 && n < 1)) throw new InvalidArgumentError(`${name} must be a number in [0, 1), got "${v}"`)
    return n
  }
}
function parseSeed(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new InvalidArgumentError(`--seed must be an integer 0..2^32-1, got "${v}"`)
  return n
}

async function pathsOf(core: AppCore): Promise<DataPaths> {
  const info = await core.handlers['app:info']({})
  return dataPaths(info.dataHome)
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '-')

/** Each import setting's flag: core messages name a setting, the CLI adds the flag that sets it. */
const FLAGS: Record<ImportField, string> = {
  format: '--format',
  name: '--name',
  labelColumn: '--label',
  onBadRows: '--on-bad-rows',
  encoding: '--encoding',
  size: '--size',
  color: '--grayscale or --rgb',
  labelMode: '--labels',
  testFraction: '--test-fraction',
  seed: '--seed',
  classNames: '--class-names',
}
export const cliFieldNames: FieldNamer = (field) => `${IMPORT_FIELD_NAMES[field]} (${FLAGS[field]})`

interface ImportFlags {
  format?: FormatId
  name?: string
  label?: string
  onBadRows?: OnBadRows
  encoding?: CsvEncoding
  labels?: 'fine' | 'coarse'
  size?: [number, number]
  grayscale?: boolean
  rgb?: boolean
  valFraction?: number
  testFraction?: number
  classNames?: string
  seed?: number
  progress?: boolean
  json?: boolean
}

function printSkipped(skipped: SkippedFile[], max = 20): void {
  if (skipped.length === 0) return
  process.stderr.write(`skipped ${skipped.length} (files, or CSV rows by line):\n`)
  for (const s of skipped.slice(0, max)) process.stderr.write(`  ${s.file}: ${s.reason}\n`)
  if (skipped.length > max) process.stderr.write(`  ... and ${skipped.length - max} more\n`)
}

/** The core's import options from the command's flags. */
function importOptionsOf(o: ImportFlags): DatasetImportOptions {
  if (o.grayscale && o.rgb) throw new AppError('invalid_input', '--grayscale and --rgb exclude each other')
  return {
    format: o.format,
    name: o.name,
    labelColumn: o.label,
    onBadRows: o.onBadRows,
    encoding: o.encoding,
    labelMode: o.labels,
    size: o.size,
    color: o.grayscale ? 'grayscale' : o.rgb ? 'rgb' : undefined,
    validationFraction: o.valFraction,
    testFraction: o.testFraction,
    seed: o.seed,
    classNames: o.classNames === undefined ? undefined : readClassNames(o.classNames),
  }
}

/** A names file: a JSON array of strings, or one name per line (label 0 first). */
export function readClassNames(file: string): string[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new AppError('invalid_input', `--class-names ${file}: cannot read it (${(err as Error).message})`)
  }
  const trimmed = text.trim()
  let names: unknown
  if (trimmed.startsWith('[')) {
    try {
      names = JSON.parse(trimmed)
    } catch (err) {
      throw new AppError('invalid_input', `--class-names ${file}: not valid JSON (${(err as Error).message})`)
    }
  } else names = trimmed.split(/\r?\n/).map((l) => l.trim())
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || n.trim() === '')) {
    throw new AppError(
      'invalid_input',
      `--class-names ${file}: expected one non-empty name per line or a JSON array of strings`,
    )
  }
  return (names as string[]).map((n) => n.trim())
}

/** Ctrl-C cancels the import; a second Ctrl-C exits at once. `dispose` removes the handler. */
function cancelOnSigint(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController()
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(130)
    process.stderr.write('\ncancelling the import (Ctrl-C again to force)...\n')
    ac.abort()
  }
  process.on('SIGINT', onSigint)
  return { signal: ac.signal, dispose: () => process.off('SIGINT', onSigint) }
}

/** A progress bar on stderr that restarts at each import phase (none when `show` is false). */
function importProgressBar(show: boolean): { onProgress: (p: ImportProgress) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    {
      format: '{phase} |{bar}| {value}/{total} {unit} | ETA {eta_formatted}',
      barsize: 30,
      hideCursor: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  )
  let phase = ''
  let barOn = false
  const onProgress = (p: ImportProgress) => {
    if (!show) return
    if (p.phase !== phase || !barOn) {
      if (barOn) bar.stop()
      phase = p.phase
      bar.start(Math.max(p.total, 1), p.done, { phase: p.phase.padEnd(9), unit: p.unit })
      barOn = true
    }
    if (p.total > 0) bar.setTotal(p.total)
    bar.update(p.done)
  }
  const stop = () => {
    if (barOn) bar.stop()
    barOn = false
  }
  return { onProgress, stop }
}

/** Skipped files and notes on stderr; the record (or a one-line summary) on stdout. */
function printImported(r: ImportDatasetResult, json: boolean | undefined): void {
  printSkipped(r.skipped)
  for (const n of r.notes) process.stderr.write(`note: ${n}\n`)
  const d = r.dataset
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...d, skipped: r.skipped, notes: r.notes }, null, 2)}\n`)
  } else {
    process.stdout.write(
      `dataset ${d.id} "${d.name}" (${d.format}): ${d.inputShape.join('x')}, ${d.classNames.length} classes, ` +
        `train ${d.counts.train}, test ${d.counts.test}; cache ${(r.cacheBytes / 1e6).toFixed(1)} MB\n`,
    )
  }
}

/** `tfkd datasets import <path>`: imports with a progress bar; Ctrl-C cancels (exit code 130). */
async function importAction(path: string, o: ImportFlags, openCore: () => AppCore): Promise<void> {
  const options = importOptionsOf(o)
  const core = openCore()
  const cancel = cancelOnSigint()
  const bar = importProgressBar(o.progress !== false && process.stderr.isTTY)
  try {
    const r = await importDataset({
      store: core.store,
      paths: await pathsOf(core),
      source: path,
      options,
      signal: cancel.signal,
      onProgress: bar.onProgress,
      fieldName: cliFieldNames,
      host: 'cli',
    })
    bar.stop()
    printImported(r, o.json)
  } catch (err) {
    bar.stop()
    const e = AppError.from(err)
    const details = e.details as { skipped?: SkippedFile[] } | undefined
    if (details?.skipped) printSkipped(details.skipped)
    if (e.code === 'cancelled') process.exitCode = 130
    throw e
  } finally {
    cancel.dispose()
    await core.close()
  }
}

/** `tfkd datasets list`: a table, or JSON. */
async function listAction(o: { json?: boolean }, openCore: () => AppCore): Promise<void> {
  const core = openCore()
  try {
    const list = core.store.datasets.list()
    if (o.json) {
      process.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
      return
    }
    process.stdout.write(
      `${table(
        ['id', 'name', 'format', 'shape', 'classes', 'train', 'test', 'source'],
        list.map((d) => [
          String(d.id),
          d.name,
          d.format,
          d.inputShape.join('x'),
          String(d.classNames.length),
          String(d.counts.train),
          String(d.counts.test),
          d.sourcePath ?? '(bundled)',
        ]),
      )}\n`,
    )
  } finally {
    await core.close()
  }
}

/** The text of `tfkd datasets show`: splits, imbalance, channel stats, class table, grid path. */
function describeText(d: DatasetDetails): string {
  const { dataset: ds, preview: p } = d
  const val = Math.round(p.train.n * d.validationFraction)
  const lines = [
    `dataset ${ds.id} "${ds.name}" (${ds.format})${ds.sourcePath ? ` from ${ds.sourcePath}` : ''}`,
    `shape ${p.shape.join('x')} (height x width x channels), ${p.classNames.length} classes`,
    `splits: train ${p.train.n} (runs carve about ${val} for validation, fraction ${d.validationFraction}), test ${p.test.n}`,
    `imbalance (largest / smallest class): train ${p.train.imbalance?.toFixed(2) ?? '-'}, test ${p.test.imbalance?.toFixed(2) ?? '-'}`,
    `per-channel mean ${p.mean.map((x) => fmt(x)).join(', ')}; std ${p.std.map((x) => fmt(x)).join(', ')} (0..1 units)`,
    '',
    table(
      ['class', 'name', 'train', 'test'],
      p.classNames.map((name, i) => [
        String(i),
        name,
        String(p.train.classCounts[i] ?? 0),
        String(p.test.classCounts[i] ?? 0),
      ]),
    ),
    '',
    `sample grid: ${d.gridPath}`,
  ]
  return `${lines.join('\n')}\n`
}

/** `tfkd datasets show <id|name>`: the description, or JSON. */
async function showAction(idOrName: string, o: { json?: boolean }, openCore: () => AppCore): Promise<void> {
  const core = openCore()
  try {
    const d = await describeDataset({ store: core.store, paths: await pathsOf(core), idOrName })
    process.stdout.write(o.json ? `${JSON.stringify(d, null, 2)}\n` : describeText(d))
  } finally {
    await core.close()
  }
}

/** `tfkd datasets import`: its arguments and flags (the action is importAction). */
function registerImportCommand(datasets: Command, openCore: () => AppCore): void {
  datasets
    .command('import')
    .description('import a dataset into the app (image folder, CIFAR-10/100, IDX, CSV)')
    .argument('<path>', 'file or folder to import (or "mnist-10k" with --format bundled)')
    .addOption(new Option('--format <id>', 'source format (detected when absent)').choices([...FORMAT_IDS]))
    .option('--name <name>', 'dataset name (default: from the file or folder name)')
    .option('--label <column>', 'CSV: label column by header name or 0-based index (default: last)')
    .addOption(
      new Option(
        '--on-bad-rows <what>',
        'CSV rows with a wrong field count, a non-numeric feature or no label: refuse the file (error) or skip them and list them (skip)',
      )
        .choices([...ON_BAD_ROWS])
        .default('error'),
    )
    .addOption(
      new Option(
        '--encoding <name>',
        'CSV text encoding: utf8 refuses a file that is not valid UTF-8 throughout, naming the first bad line',
      )
        .choices([...CSV_ENCODINGS])
        .default('utf8'),
    )
    .addOption(new Option('--labels <kind>', 'CIFAR-100 labels').choices(['fine', 'coarse']))
    .option(
      '--size <HxW>',
      'resize images to HxW (image folders, manifests; CSV: reshape features)',
      parseSize,
    )
    .option('--grayscale', 'one channel')
    .option('--rgb', 'three channels')
    .option(
      '--val-fraction <x>',
      'validation fraction runs carve from train by default',
      parseFraction('--val-fraction'),
    )
    .option(
      '--test-fraction <x>',
      'test fraction held out when the source has no test split',
      parseFraction('--test-fraction'),
    )
    .option('--seed <n>', 'seed of the test split carved at import', parseSeed)
    .option('--class-names <file>', 'class names in label order: one per line, or a JSON array')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the dataset record as JSON')
    .action((path: string, o: ImportFlags) => importAction(path, o, openCore))
}

export function registerDatasetCommands(program: Command, openCore: () => AppCore): void {
  const datasets = program.command('datasets').description('import, list and preview datasets')
  registerImportCommand(datasets, openCore)

  datasets
    .command('list')
    .description('list the datasets')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => listAction(o, openCore))

  datasets
    .command('show')
    .description('class counts, imbalance, shape, per-channel mean/std, and a sample-grid PNG')
    .argument('<id|name>', 'dataset id or name')
    .option('--json', 'print JSON')
    .action((idOrName: string, o: { json?: boolean }) => showAction(idOrName, o, openCore))
}
