/**
 * The importer contract. An importer reads one source format and streams decoded, uint8 NHWC
 * samples into a `SampleSink` (the cache writer); it never holds a whole dataset in memory unless
 * the format forces it, never writes files itself, and reports skipped inputs instead of failing
 * when the rest of the source is usable.
 */

import {
  neutralFieldNames,
  type FieldNamer,
  type ImportField,
  type CsvEncoding,
  type OnBadRows,
} from '../../../shared/import-fields'

export const FORMAT_IDS = ['image-folder', 'cifar10', 'cifar100', 'idx', 'csv', 'bundled'] as const
export type FormatId = (typeof FORMAT_IDS)[number]

export type SplitId = 'train' | 'test'

/** Caps checked from headers before anything is decoded or allocated. */
export interface ImportLimits {
  /** Largest width * height one image may declare. */
  maxPixelsPerImage: number
  /** Largest sum of declared pixels over all images of one import. */
  maxTotalPixels: number
  /** Largest single input file (image, IDX, CIFAR batch, decompressed tar entry). */
  maxFileBytes: number
  /** Largest decoded dataset (n * h * w * c bytes) the cache may hold. */
  maxDatasetBytes: number
  /** Most files a folder walk or manifest may list. */
  maxFiles: number
  /** Most distinct classes. */
  maxClasses: number
  /** Longest CSV record in bytes (a 10 MB line is rejected, not buffered). */
  maxCsvRecordBytes: number
  /** Most CSV columns. */
  maxCsvColumns: number
}

export const DEFAULT_LIMITS: ImportLimits = {
  maxPixelsPerImage: 40_000_000,
  maxTotalPixels: 20_000_000_000,
  maxFileBytes: 256 * 1024 * 1024,
  maxDatasetBytes: 16 * 1024 ** 3,
  maxFiles: 2_000_000,
  maxClasses: 1000,
  maxCsvRecordBytes: 1024 * 1024,
  maxCsvColumns: 100_000,
}

export interface ImportOptions {
  /** Target image size [height, width]; images are resized to it (default: per format). */
  size?: [number, number]
  /** Target channels; default: per format (first image's colour for folders). */
  color?: 'grayscale' | 'rgb'
  /** CSV: the label column, by header name or 0-based index; default the last column. */
  labelColumn?: string
  /** CIFAR-100: fine (100) or coarse (20) labels. */
  labelMode?: 'fine' | 'coarse'
  /** CSV: refuse the file at the first unusable row (default), or skip such rows and list them. */
  onBadRows?: OnBadRows
  /** CSV: the text encoding; utf8 (default) refuses bytes that are not UTF-8, naming the line. */
  encoding?: CsvEncoding
  /** How messages name a setting (the CLI adds its flags); host-neutral words when absent. */
  fieldName?: FieldNamer
  /** Whether the host lets the user set `field`, so a note may suggest it; every field when absent. */
  offers?: (field: ImportField) => boolean
  /** Fraction of the samples held out as test when the source has no test split. */
  testFraction: number
  /** Seed of the test split carved at import (validation is carved later by each run's seed). */
  seed: number
  limits: ImportLimits
}

export interface ImportProgress {
  phase: 'hashing' | 'scanning' | 'importing' | 'writing'
  done: number
  /** 0 when unknown. */
  total: number
  unit: 'bytes' | 'files' | 'rows' | 'samples'
}

export interface SkippedFile {
  file: string
  reason: string
}

export interface SampleSink {
  /** Called once, before the first sample. */
  begin(meta: { shape: [number, number, number] }): Promise<void>
  /** Copies `pixels` (length h*w*c). */
  add(split: SplitId, pixels: Uint8Array, label: number): Promise<void>
}

export interface ImportContext {
  signal: AbortSignal
  sink: SampleSink
  onProgress(p: ImportProgress): void
  /** Records an input left out, with the reason; the import goes on. */
  skip(file: string, reason: string): void
}

export interface ImportResult {
  classNames: string[]
  /** Notes for the user (defaults taken, files missing but optional). */
  notes: string[]
}

/** What format detection knows of a source before any importer reads it. */
export interface SourceProbe {
  /** The path as given (or a bundled dataset's name). */
  source: string
  /** Lower-case base name. */
  name: string
  /** What is at the path; null when nothing is (a bundled dataset is named, not a path). */
  kind: 'file' | 'directory' | null
  /** A folder's entries ([] for a file or nothing). */
  entries: string[]
}

/**
 * Detection confidence, highest wins (ties: registry order). The built-in importers use these
 * levels, so a new one can slot in between.
 */
export const DETECT = {
  /** Not this format. */
  no: 0,
  /** Only a fallback: any folder could be an image folder. */
  fallback: 10,
  /** Found one level down (a cifar-* folder inside the folder given). */
  nested: 70,
  /** Some entries of the folder look like this format. */
  entries: 80,
  /** The name or the folder's own files say so. */
  certain: 90,
  /** An exact name (a bundled dataset). */
  exact: 100,
} as const

export interface Importer {
  id: FormatId
  /** A short name for menus; the id when absent. */
  title?: string
  /** One line on what it reads, in words for any host (no CLI flags). */
  description: string
  /** The settings only this format reads (the form shows them when it is chosen). */
  fields?: readonly ImportField[]
  /** File name endings (lower case, with the dot) that `detect` takes as this format. */
  extensions?: readonly string[]
  /** How sure this importer is that it reads the source (DETECT levels); 0 when it does not. */
  detect(probe: SourceProbe): number | Promise<number>
  /** A digest of everything the result depends on in the source (bytes, names). */
  fingerprint(
    source: string,
    options: ImportOptions,
    ctx: Pick<ImportContext, 'signal' | 'onProgress'>,
  ): Promise<string>
  run(source: string, options: ImportOptions, ctx: ImportContext): Promise<ImportResult>
}

/** Thrown for bad input; the message names the file (and line) and what was expected. */
export class ImportError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ImportError'
  }
}

/** A limit of the whole import was crossed: the import stops instead of skipping a file. */
export class ImportLimitError extends ImportError {
  constructor(message: string) {
    super(message)
    this.name = 'ImportLimitError'
  }
}

/** A setting's name in a message, in the words of the host that will show it. */
export function fieldName(options: Pick<ImportOptions, 'fieldName'>, field: ImportField): string {
  return (options.fieldName ?? neutralFieldNames)(field)
}

/** "; choose the <field> to change it" where the host offers that setting, else nothing. */
export function changeHint(options: Pick<ImportOptions, 'fieldName' | 'offers'>, field: ImportField): string {
  return (options.offers?.(field) ?? true) ? `; choose the ${fieldName(options, field)} to change it` : ''
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) {
    const e = new Error('import cancelled')
    e.name = 'AbortError'
    throw e
  }
}
