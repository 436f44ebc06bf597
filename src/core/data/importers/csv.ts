/**
 * CSV, streamed in bounded memory whatever the file size:
 * - tabular: numeric feature columns + a label column (`--label NAME` or index; the last by default).
 *   Two passes: the first validates every row and finds each column's range and the classes, the
 *   second writes. Features that are all integers in 0..255 are kept as they are (MNIST-as-CSV);
 *   otherwise each column is scaled from its [min, max] to 0..255.
 * - manifest: `path,label` rows naming image files relative to the CSV (they must stay under its
 *   folder), decoded like an image folder.
 * The delimiter is always ',' (auto-detection guesses wrong on some inputs); a BOM is stripped; empty
 * lines are skipped; ragged rows, non-numeric or non-finite values and over-long records are errors
 * that name the line.
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
import { createTestSplitter } from './split'
import {
  DETECT,
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
  relax_column_count: false,
})

/** Streams the CSV's non-empty records. (Line numbers cost a copy per record; see `lineOf`.) */
async function* rows(
  file: string,
  options: ImportOptions,
  signal: AbortSignal,
  withLines = false,
): AsyncGenerator<Row> {
  const parser = parse({ ...parseOptions(options), info: withLines })
  const input = createReadStream(file, { highWaterMark: 256 * 1024, signal })
  pipeline(input, parser, () => {})
  let index = 0
  try {
    if (withLines) {
      for await (const r of parser as AsyncIterable<{ info: Info; record: string[] }>) {
        yield { index: index++, fields: r.record, line: r.info.lines }
      }
    } else
      for await (const r of parser as AsyncIterable<string[]>) yield { index: index++, fields: r, line: -1 }
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err
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
  pipeline(input, parser, () => {})
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
        `${file}: no column "${options.labelColumn}"${header ? ` (columns: ${header.slice(0, 20).join(', ')}${width > 20 ? ', ...' : ''})` : ' (the file has no header row; give a 0-based index)'}`,
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
    const rel = r.fields[pathIndex]!.trim()
    const label = r.fields[cols.labelIndex]!.trim()
    const where = `${file}: line ${r.line}`
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

async function importTabular(
  file: string,
  cols: Columns,
  options: ImportOptions,
  ctx: ImportContext,
  bytes: number,
) {
  const features = cols.width - 1
  const min = new Float64Array(features).fill(Infinity)
  const max = new Float64Array(features).fill(-Infinity)
  let isBytes = true
  const classes = new Map<string, number>()
  let n = 0
  let first = true
  const featureName = (j: number) => {
    const col = j < cols.labelIndex ? j : j + 1
    return cols.header ? `column "${cols.header[col]}"` : `column ${col + 1}`
  }
  const fail = async (r: Row, msg: string): Promise<never> => {
    const line = r.line >= 0 ? r.line : await lineOf(file, r.index, options, ctx.signal)
    throw new ImportError(`${file}: line ${line}: ${msg}`)
  }
  // pass 1: validate, ranges, classes
  for await (const r of rows(file, options, ctx.signal)) {
    if (first && cols.header) {
      first = false
      continue
    }
    first = false
    if ((n & 8191) === 0) {
      throwIfAborted(ctx.signal)
      ctx.onProgress({ phase: 'scanning', done: n, total: 0, unit: 'rows' })
    }
    const label = r.fields[cols.labelIndex]!.trim()
    if (!label) await fail(r, 'empty label')
    if (!classes.has(label)) {
      if (classes.size >= options.limits.maxClasses) {
        await fail(
          r,
          `more than ${options.limits.maxClasses} distinct labels in the label column; is it a class label? (choose it with --label)`,
        )
      }
      classes.set(label, classes.size)
    }
    for (let j = 0, col = 0; col < cols.width; col++) {
      if (col === cols.labelIndex) continue
      const s = r.fields[col]!
      if (!isNumber(s)) {
        await fail(
          r,
          `${featureName(j)} is ${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s)}, expected a number`,
        )
      }
      const v = Number(s)
      if (!Number.isFinite(v)) await fail(r, `${featureName(j)} is ${s.trim()}, expected a finite number`)
      if (v < min[j]!) min[j] = v
      if (v > max[j]!) max[j] = v
      if (isBytes && !(Number.isInteger(v) && v >= 0 && v <= 255)) isBytes = false
      j++
    }
    n++
  }
  if (n === 0) throw new ImportError(`${file}: no data rows`)
  let shape: [number, number, number]
  if (options.size) {
    if (options.size[0] * options.size[1] !== features) {
      throw new ImportError(
        `${file}: ${features} feature columns cannot be shaped as ${options.size[0]}x${options.size[1]}`,
      )
    }
    shape = [options.size[0], options.size[1], 1]
  } else {
    const s = Math.round(Math.sqrt(features))
    shape = s * s === features && s > 1 ? [s, s, 1] : [1, features, 1]
  }
  if (n * features > options.limits.maxDatasetBytes)
    throw new ImportError(`${file}: ${n} rows x ${features} features is over the dataset limit`)
  const notes: string[] = [`${n} rows, ${features} features shaped as ${shape.join('x')}`]
  if (!isBytes)
    notes.push('features are not all integers in 0..255: each column is scaled from its [min, max] to 0..255')
  const classNames = sortClasses(classes.keys())
  const index = new Map(classNames.map((c, i) => [c, i]))
  await ctx.sink.begin({ shape })
  const carve = createTestSplitter(n, options.testFraction, options.seed)
  const px = new Uint8Array(features)
  const scale = Float64Array.from(min, (m, j) => (max[j]! > m ? 255 / (max[j]! - m) : 0))
  // pass 2: write
  let i = 0
  first = true
  for await (const r of rows(file, options, ctx.signal)) {
    if (first && cols.header) {
      first = false
      continue
    }
    first = false
    if ((i & 8191) === 0) {
      throwIfAborted(ctx.signal)
      ctx.onProgress({ phase: 'importing', done: i, total: n, unit: 'rows' })
    }
    if (i >= n)
      throw new ImportError(`${file}: the file changed during the import (more rows than the first pass)`)
    for (let j = 0, col = 0; col < cols.width; col++) {
      if (col === cols.labelIndex) continue
      const v = Number(r.fields[col])
      px[j] = isBytes ? v : Math.round((v - min[j]!) * scale[j]!)
      j++
    }
    const label = index.get(r.fields[cols.labelIndex]!.trim())
    if (label === undefined) return fail(r, 'the file changed during the import')
    await ctx.sink.add(carve(), px, label)
    i++
  }
  if (i !== n)
    throw new ImportError(`${file}: the file changed during the import (${i} rows, first pass saw ${n})`)
  void bytes
  return { classNames, notes }
}

export const csvImporter = {
  id: 'csv',
  description:
    'CSV: numeric features + a label column (--label NAME, last by default), or path,label rows of images',
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
    const bytes = await statRegularFile(source, Number.MAX_SAFE_INTEGER).catch((e: Error) => {
      throw new ImportError(`${source}: ${e.message}`)
    })
    const [first, second] = await head(source, options, ctx.signal)
    if (!first) throw new ImportError(`${source}: the file is empty`)
    const cols = chooseColumns(first, second, options, source)
    return cols.isManifest
      ? importManifest(source, cols, options, ctx)
      : importTabular(source, cols, options, ctx, bytes)
  },
} satisfies Importer
