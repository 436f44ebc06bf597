/**
 * CSV, streamed in bounded memory whatever the file size:
 * - tabular: numeric feature columns + a label column (`--label NAME` or index; the last by default).
 *   Two passes: the first validates every row and finds each column's range and the classes, the
 *   second writes. Features that are all integers in 0..255 are kept as they are (MNIST-as-CSV);
 *   otherwise each column is scaled from its [min, max] to 0..255.
 * - manifest: `path,label` rows naming image files relative to the CSV (they must stay under its
 *   folder), decoded like an image folder.
 * The text is UTF-8 unless `encoding` says otherwise (latin1, utf16le); bytes that are not valid
 * UTF-8 refuse the file naming the first bad line (text-decode.ts), never turn into U+FFFD.
 * The delimiter is always ',' (auto-detection guesses wrong on some inputs); a BOM is stripped; empty
 * lines are skipped; over-long records and broken quoting are errors that name the line. A bad row
 * (a field count unlike the first row's, a non-numeric or non-finite feature, an empty label) is an
 * error naming the file, line and what was expected by default (`onBadRows: 'error'`), or, with
 * `'skip'` (pandas' `on_bad_lines`), left out and listed in the import report with its line.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { realpath } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { pipeline } from 'node:stream'
import { parse, type Info } from 'csv-parse'
import { hashFile, resolveInside, statRegularFile } from './fs-safe'
import { naturalOrder } from './image-folder'
import { importImageList, isImageName, type ImageItem } from './image-list'
import { createStratifiedSplitter } from './split'
import { decodeToUtf8 } from './text-decode'
import {
  DETECT,
  fieldName,
  ImportError,
  throwIfAborted,
  type ImportContext,
  type Importer,
  type ImportOptions,
} from './types'

const NUMBER_RE = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/

interface Row {
  /** 0-based index of the record among the file's non-empty records. */
  index: number
  fields: string[]
  /** Line where the record ends; only when asked for (`withLines`), else -1. */
  line: number
}

const parseOptions = (options: ImportOptions) => ({
  bom: true,
  delimiter: ',',
  skip_empty_lines: true,
  max_record_size: options.limits.maxCsvRecordBytes,
  // Ragged rows are found by the importers (to refuse or skip them by the bad-rows choice).
  relax_column_count: true,
})

/** The file's bytes as UTF-8 by its encoding; bytes that are not UTF-8 (the default) refuse the file. */
function decoder(file: string, options: ImportOptions) {
  return decodeToUtf8(
    options.encoding ?? 'utf8',
    (line, offset) =>
      new ImportError(
        `${file}: line ${line}: byte offset ${offset} is not valid UTF-8 (the file is in another encoding, ` +
          `or mixes two); give its ${fieldName(options, 'encoding')}, e.g. latin1 for ISO-8859-1, or save it as UTF-8`,
      ),
  )
}

/** Streams the CSV's non-empty records. (Line numbers cost a copy per record; see `lineOf`.) */
async function* rows(
  file: string,
  options: ImportOptions,
  signal: AbortSignal,
  withLines = false,
): AsyncGenerator<Row> {
  const parser = parse({ ...parseOptions(options), info: withLines })
  const input = createReadStream(file, { highWaterMark: 256 * 1024, signal })
  pipeline(input, decoder(file, options), parser, () => {})
  let index = 0
  try {
    if (withLines) {
      for await (const r of parser as AsyncIterable<{ info: Info; record: string[] }>) {
        yield { index: index++, fields: r.record, line: r.info.lines }
      }
    } else
      for await (const r of parser as AsyncIterable<string[]>) yield { index: index++, fields: r, line: -1 }
  } catch (err) {
    if ((err as Error)?.name === 'AbortError' || err instanceof ImportError) throw err
    const e = err as Error & { lines?: number; code?: string }
    const msg = (e?.message ?? String(err)).replace(/^Invalid Record Length: /, '')
    throw new ImportError(`${file}${e?.lines ? `: line ${e.lines}` : ''}: ${msg}`)
  } finally {
    input.destroy()
    parser.destroy()
  }
}

/** The line number where record `index` ends, found by a second scan (only on an error). */
async function lineOf(
  file: string,
  index: number,
  options: ImportOptions,
  signal: AbortSignal,
): Promise<number> {
  const parser = parse({ ...parseOptions(options), info: true })
  const input = createReadStream(file, { highWaterMark: 256 * 1024, signal })
  pipeline(input, decoder(file, options), parser, () => {})
  let i = 0
  try {
    for await (const r of parser as AsyncIterable<{ info: Info }>) if (i++ === index) return r.info.lines
  } finally {
    input.destroy()
    parser.destroy()
  }
  return -1
}

function isNumber(s: string): boolean {
  return NUMBER_RE.test(s)
}

interface Columns {
  header: string[] | null
  labelIndex: number
  width: number
  isManifest: boolean
}

function chooseColumns(first: Row, second: Row | undefined, options: ImportOptions, file: string): Columns {
  const width = first.fields.length
  if (width > options.limits.maxCsvColumns)
    throw new ImportError(`${file}: line ${first.line}: ${width} columns, over the limit`)
  if (width < 2)
    throw new ImportError(
      `${file}: line ${first.line}: one column; expected features and a label, or path,label`,
    )
  const looksManifest = (r: Row) => r.fields.some((f) => isImageName(f.trim()))
  // A header row has a text field where the next row has a number or an image path.
  const hasHeader =
    second !== undefined &&
    !looksManifest(first) &&
    first.fields.some((f, i) => {
      const below = second.fields[i]?.trim() ?? ''
      return !isNumber(f) && (isNumber(below) || isImageName(below))
    })
  const header = hasHeader ? first.fields.map((f) => f.trim()) : null
  const data = hasHeader ? second : first
  let labelIndex = width - 1
  if (options.labelColumn !== undefined) {
    const byName = header?.indexOf(options.labelColumn) ?? -1
    if (byName >= 0) labelIndex = byName
    else if (/^\d+$/.test(options.labelColumn) && Number(options.labelColumn) < width)
      labelIndex = Number(options.labelColumn)
    else {
      throw new ImportError(
        `${file}: no column "${options.labelColumn}" for the ${fieldName(options, 'labelColumn')}${header ? ` (columns: ${header.slice(0, 20).join(', ')}${width > 20 ? ', ...' : ''})` : ' (the file has no header row; give the column as a 0-based index)'}`,
      )
    }
  }
  const isManifest =
    data !== undefined && data.fields.some((f, i) => i !== labelIndex && isImageName(f.trim()))
  if (isManifest && width !== 2) {
    throw new ImportError(
      `${file}: line ${data.line}: an image manifest has two columns (path,label), found ${width}`,
    )
  }
  return { header, labelIndex, width, isManifest }
}

function sortClasses(labels: Iterable<string>): string[] {
  const all = [...labels]
  if (all.every((l) => /^[+-]?\d+$/.test(l))) return all.sort((a, b) => Number(a) - Number(b))
  return all.sort(naturalOrder)
}

async function head(file: string, options: ImportOptions, signal: AbortSignal): Promise<Row[]> {
  const out: Row[] = []
  for await (const r of rows(file, options, signal, true)) {
    out.push(r)
    if (out.length === 2) break
  }
  return out
}

async function importManifest(file: string, cols: Columns, options: ImportOptions, ctx: ImportContext) {
  const root = await realpath(dirname(file))
  const pathIndex = 1 - cols.labelIndex
  const classes = new Map<string, number>()
  const raw: { path: string; rel: string; label: string; line: number }[] = []
  let skippedHeader = cols.header === null
  for await (const r of rows(file, options, ctx.signal, true)) {
    if (!skippedHeader) {
      skippedHeader = true
      continue
    }
    const where = `${file}: line ${r.line}`
    if (r.fields.length !== cols.width) {
      const problem = `expected ${cols.width} fields (path,label), found ${r.fields.length}`
      if (options.onBadRows !== 'skip') {
        throw new ImportError(
          `${where}: ${problem}; to import the other rows, choose skip for ${fieldName(options, 'onBadRows')}`,
        )
      }
      ctx.skip(where, problem)
      continue
    }
    const rel = r.fields[pathIndex]!.trim()
    const label = r.fields[cols.labelIndex]!.trim()
    if (!label) {
      ctx.skip(`${where}: ${rel}`, 'empty label')
      continue
    }
    if (!isImageName(rel)) {
      ctx.skip(`${where}: ${rel}`, 'not an image file name (expected .png, .jpg, .jpeg, .webp, .bmp or .gif)')
      continue
    }
    let real: string
    try {
      real = await resolveInside(root, resolve(root, rel))
    } catch (err) {
      ctx.skip(`${where}: ${rel}`, (err as Error).message)
      continue
    }
    if (!classes.has(label)) {
      if (classes.size >= options.limits.maxClasses)
        throw new ImportError(`${where}: more than ${options.limits.maxClasses} classes`)
      classes.set(label, classes.size)
    }
    raw.push({ path: real, rel: `${rel} (line ${r.line})`, label, line: r.line })
    if (raw.length > options.limits.maxFiles)
      throw new ImportError(`${file}: more than ${options.limits.maxFiles} rows`)
  }
  if (raw.length === 0) throw new ImportError(`${file}: the manifest names no usable image files`)
  const classNames = sortClasses(classes.keys())
  const index = new Map(classNames.map((c, i) => [c, i]))
  const items: ImageItem[] = raw.map((r) => ({
    path: r.path,
    rel: r.rel,
    split: null,
    label: index.get(r.label)!,
  }))
  const notes: string[] = []
  await importImageList(items, file, options, ctx, notes)
  return { classNames, notes }
}

/** How many skipped rows the import report lists one by one (the rest are counted). */
export const LISTED_BAD_ROWS = 100

interface BadRows {
  count: number
  /** Record indices of every skipped row, ascending (pass 2 leaves them out). */
  indices: number[]
  /** The first LISTED_BAD_ROWS, with the reason. */
  listed: { index: number; reason: string }[]
}

interface Scan {
  n: number
  min: Float64Array
  max: Float64Array
  /** Every feature an integer in 0..255: kept as it is (MNIST as CSV). */
  isBytes: boolean
  /** Each label and how many good rows have it. */
  classes: Map<string, number>
  bad: BadRows
}

/** Names a feature (j counts the non-label columns) by its header or its 1-based column number. */
function featureNamer(cols: Columns): (j: number) => string {
  return (j) => {
    const col = j < cols.labelIndex ? j : j + 1
    return cols.header ? `column "${cols.header[col]}"` : `column ${col + 1}`
  }
}

/** Why a data row cannot be used (wrong field count, empty label, a feature not a finite number), or null. */
function rowProblem(r: Row, cols: Columns, featureName: (j: number) => string): string | null {
  if (r.fields.length !== cols.width) {
    return `expected ${cols.width} fields (as ${cols.header ? 'the header has' : 'the first row has'}), found ${r.fields.length}`
  }
  if (!r.fields[cols.labelIndex]!.trim()) return 'empty label'
  for (let j = 0, col = 0; col < cols.width; col++) {
    if (col === cols.labelIndex) continue
    const s = r.fields[col]!
    if (!isNumber(s))
      return `${featureName(j)} is ${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s)}, expected a number`
    if (!Number.isFinite(Number(s))) return `${featureName(j)} is ${s.trim()}, expected a finite number`
    j++
  }
  return null
}

/**
 * What to do about a refused row. A text value in a feature column of the *first* data row is a
 * column of text, most often the class labels in a column other than the last: choosing skip would
 * drop every row, so the advice names that column as the label column instead.
 */
function badRowAdvice(
  problem: string,
  r: Row,
  cols: Columns,
  firstRow: boolean,
  options: ImportOptions,
): string {
  const textColumn =
    r.fields.length === cols.width
      ? r.fields.findIndex((f, col) => col !== cols.labelIndex && !isNumber(f))
      : -1
  if (firstRow && textColumn >= 0) {
    const name = cols.header ? cols.header[textColumn]! : String(textColumn)
    const label = cols.header ? `column "${name}"` : `column ${textColumn + 1} (0-based index ${textColumn})`
    return (
      `${problem}; if ${label} holds the class labels, choose it as the ${fieldName(options, 'labelColumn')}: ${name}` +
      ` (skipping bad rows would skip every row that has text there)`
    )
  }
  return `${problem}; to import the other rows, choose skip for ${fieldName(options, 'onBadRows')}`
}

/** The data rows of the file (its header, if any, left out). */
async function* dataRows(file: string, cols: Columns, options: ImportOptions, signal: AbortSignal) {
  let first = true
  for await (const r of rows(file, options, signal)) {
    if (first && cols.header) {
      first = false
      continue
    }
    first = false
    yield r
  }
}

/** Pass 1: validates every row (refusing or setting bad ones aside), finds the ranges and classes. */
async function scanTabular(file: string, cols: Columns, options: ImportOptions, ctx: ImportContext) {
  const features = cols.width - 1
  const scan: Scan = {
    n: 0,
    min: new Float64Array(features).fill(Infinity),
    max: new Float64Array(features).fill(-Infinity),
    isBytes: true,
    classes: new Map(),
    bad: { count: 0, indices: [], listed: [] },
  }
  const featureName = featureNamer(cols)
  const fail = async (r: Row, msg: string): Promise<never> => {
    const line = r.line >= 0 ? r.line : await lineOf(file, r.index, options, ctx.signal)
    throw new ImportError(`${file}: line ${line}: ${msg}`)
  }
  let seen = 0
  for await (const r of dataRows(file, cols, options, ctx.signal)) {
    if ((seen++ & 8191) === 0) {
      throwIfAborted(ctx.signal)
      ctx.onProgress({ phase: 'scanning', done: scan.n, total: 0, unit: 'rows' })
    }
    const problem = rowProblem(r, cols, featureName)
    if (problem !== null) {
      if (options.onBadRows !== 'skip') await fail(r, badRowAdvice(problem, r, cols, scan.n === 0, options))
      scan.bad.count++
      scan.bad.indices.push(r.index)
      if (scan.bad.listed.length < LISTED_BAD_ROWS) scan.bad.listed.push({ index: r.index, reason: problem })
      continue
    }
    const label = r.fields[cols.labelIndex]!.trim()
    if (!scan.classes.has(label)) {
      if (scan.classes.size >= options.limits.maxClasses) {
        await fail(
          r,
          `more than ${options.limits.maxClasses} distinct labels in the label column; is it a class label? Choose the ${fieldName(options, 'labelColumn')}`,
        )
      }
      scan.classes.set(label, 0)
    }
    scan.classes.set(label, scan.classes.get(label)! + 1)
    for (let j = 0, col = 0; col < cols.width; col++) {
      if (col === cols.labelIndex) continue
      const v = Number(r.fields[col])
      if (v < scan.min[j]!) scan.min[j] = v
      if (v > scan.max[j]!) scan.max[j] = v
      if (scan.isBytes && !(Number.isInteger(v) && v >= 0 && v <= 255)) scan.isBytes = false
      j++
    }
    scan.n++
  }
  return scan
}

/** Each listed record index's line number, in one scan that stops after the last one. */
async function linesOf(
  file: string,
  indices: number[],
  options: ImportOptions,
  signal: AbortSignal,
): Promise<Map<number, number>> {
  const out = new Map<number, number>()
  const last = indices.at(-1)
  if (last === undefined) return out
  const wanted = new Set(indices)
  for await (const r of rows(file, options, signal, true)) {
    if (wanted.has(r.index)) out.set(r.index, r.line)
    if (r.index >= last) break
  }
  return out
}

/** Lists the skipped rows in the import report: line and reason, the first LISTED_BAD_ROWS of them. */
async function reportBadRows(file: string, bad: BadRows, options: ImportOptions, ctx: ImportContext) {
  const lines = await linesOf(
    file,
    bad.listed.map((b) => b.index),
    options,
    ctx.signal,
  )
  for (const b of bad.listed) ctx.skip(`${file}: line ${lines.get(b.index) ?? '?'}`, b.reason)
  if (bad.count > bad.listed.length) {
    ctx.skip(file, `${bad.count - bad.listed.length} more bad rows, not listed (${bad.count} skipped in all)`)
  }
}

/** Height x width x 1 for the features: the size asked for, a square when it is one, else a row. */
function tabularShape(file: string, features: number, options: ImportOptions): [number, number, number] {
  if (options.size) {
    if (options.size[0] * options.size[1] !== features) {
      throw new ImportError(
        `${file}: ${features} feature columns cannot be shaped as ${options.size[0]}x${options.size[1]} (the ${fieldName(options, 'size')})`,
      )
    }
    return [options.size[0], options.size[1], 1]
  }
  const s = Math.round(Math.sqrt(features))
  return s * s === features && s > 1 ? [s, s, 1] : [1, features, 1]
}

/** Pass 2: writes the good rows (the same ones pass 1 kept), scaled unless they are bytes already. */
async function writeTabular(
  file: string,
  cols: Columns,
  scan: Scan,
  index: Map<string, number>,
  options: ImportOptions,
  ctx: ImportContext,
) {
  const features = cols.width - 1
  const { n, min, max, isBytes } = scan
  const perClass = new Array<number>(index.size).fill(0)
  for (const [label, count] of scan.classes) perClass[index.get(label)!] = count
  const carve = createStratifiedSplitter(perClass, options.testFraction, options.seed)
  const px = new Uint8Array(features)
  const scale = Float64Array.from(min, (m, j) => (max[j]! > m ? 255 / (max[j]! - m) : 0))
  const changed = (detail = '') => new ImportError(`${file}: the file changed during the import${detail}`)
  let i = 0
  let nextBad = 0
  for await (const r of dataRows(file, cols, options, ctx.signal)) {
    if (scan.bad.indices[nextBad] === r.index) {
      nextBad++
      continue
    }
    if ((i & 8191) === 0) {
      throwIfAborted(ctx.signal)
      ctx.onProgress({ phase: 'importing', done: i, total: n, unit: 'rows' })
    }
    if (i >= n || r.fields.length !== cols.width) throw changed(' (more rows than the first pass)')
    for (let j = 0, col = 0; col < cols.width; col++) {
      if (col === cols.labelIndex) continue
      const v = Number(r.fields[col])
      px[j] = isBytes ? v : Math.round((v - min[j]!) * scale[j]!)
      j++
    }
    const label = index.get(r.fields[cols.labelIndex]!.trim())
    if (label === undefined) throw changed()
    await ctx.sink.add(carve(label), px, label)
    i++
  }
  if (i !== n) throw changed(` (${i} rows, first pass saw ${n})`)
}

async function importTabular(file: string, cols: Columns, options: ImportOptions, ctx: ImportContext) {
  const features = cols.width - 1
  const scan = await scanTabular(file, cols, options, ctx)
  const { n, bad } = scan
  if (n === 0) {
    throw new ImportError(
      `${file}: no data rows${bad.count ? ` (all ${bad.count} rows are bad, e.g. ${bad.listed[0]?.reason})` : ''}`,
    )
  }
  const shape = tabularShape(file, features, options)
  if (n * features > options.limits.maxDatasetBytes)
    throw new ImportError(`${file}: ${n} rows x ${features} features is over the dataset limit`)
  const notes: string[] = [`${n} rows, ${features} features shaped as ${shape.join('x')}`]
  if (bad.count > 0) {
    notes.push(
      `${bad.count} bad row${bad.count === 1 ? '' : 's'} skipped${bad.count > bad.listed.length ? ` (the first ${bad.listed.length} listed)` : ''}`,
    )
    await reportBadRows(file, bad, options, ctx)
  }
  if (!scan.isBytes)
    notes.push('features are not all integers in 0..255: each column is scaled from its [min, max] to 0..255')
  const classNames = sortClasses(scan.classes.keys())
  const index = new Map(classNames.map((c, i) => [c, i]))
  await ctx.sink.begin({ shape })
  await writeTabular(file, cols, scan, index, options, ctx)
  return { classNames, notes }
}

export const csvImporter = {
  id: 'csv',
  title: 'CSV',
  description:
    'numeric features and a label column (the last unless chosen), or path,label rows naming images',
  fields: ['labelColumn', 'onBadRows', 'encoding'],
  extensions: ['.csv'],
  detect: ({ kind, name }) => (kind === 'file' && name.endsWith('.csv') ? DETECT.certain : DETECT.no),
  async fingerprint(source, options, ctx) {
    const hash = createHash('sha256')
    hash.update(`csv\0${options.labelColumn ?? ''}\0`)
    const total = await statRegularFile(source, Number.MAX_SAFE_INTEGER).catch((e: Error) => {
      throw new ImportError(`${source}: ${e.message}`)
    })
    let done = 0
    await hashFile(source, hash, ctx.signal, (n) => {
      done += n
      ctx.onProgress({ phase: 'hashing', done, total, unit: 'bytes' })
    })
    return hash.digest('hex')
  },
  async run(source, options: ImportOptions, ctx: ImportContext) {
    await statRegularFile(source, Number.MAX_SAFE_INTEGER).catch((e: Error) => {
      throw new ImportError(`${source}: ${e.message}`)
    })
    const [first, second] = await head(source, options, ctx.signal)
    if (!first) throw new ImportError(`${source}: the file is empty`)
    const cols = chooseColumns(first, second, options, source)
    return cols.isManifest
      ? importManifest(source, cols, options, ctx)
      : importTabular(source, cols, options, ctx)
  },
} satisfies Importer
