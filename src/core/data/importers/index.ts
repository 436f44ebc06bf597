/**
 * The importer registry: one entry per format id (FORMAT_IDS in ./types; a missing entry is a
 * compile error). Each importer detects its own sources; `detectFormat` asks them all.
 */
import { lstat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { neutralFieldNames, type FieldNamer, type ImportFormatInfo } from '../../../shared/import-fields'
import { bundledImporter } from './bundled'
import { readdirNames } from './fs-safe'
import { cifar100Importer, cifar10Importer } from './cifar'
import { csvImporter } from './csv'
import { idxImporter } from './idx'
import { imageFolderImporter, naturalOrder } from './image-folder'
import { isImageName } from './image-list'
import { DETECT, ImportError, type FormatId, type Importer, type SourceProbe } from './types'

export * from './types'

export const IMPORTERS = {
  'image-folder': imageFolderImporter,
  cifar10: cifar10Importer,
  cifar100: cifar100Importer,
  idx: idxImporter,
  csv: csvImporter,
  bundled: bundledImporter,
} satisfies Record<FormatId, Importer>

/** Looks at a path once (stat and, for a folder, its entries) for the importers' `detect`. */
async function probe(source: string): Promise<SourceProbe> {
  const name = basename(source).toLowerCase()
  let st
  try {
    st = await lstat(source)
  } catch {
    return { source, name, kind: null, entries: [] }
  }
  if (!st.isDirectory()) return { source, name, kind: 'file', entries: [] }
  // Names that are not valid UTF-8 are reported by the importer's own walk; here they are ignored.
  return { source, name, kind: 'directory', entries: await readdirNames(source, () => undefined) }
}

/**
 * The format of a source in `importers`: each importer says how sure it is (its `detect`), the
 * surest wins, ties go to the registry's order. Tests pass their own registry.
 */
export async function detectFormatIn<K extends string>(
  importers: Record<K, Pick<Importer, 'detect'>>,
  source: string,
  name: FieldNamer = neutralFieldNames,
): Promise<K> {
  const p = await probe(source)
  const best = await rank(importers, p)
  if (best) return best.id
  if (p.kind === null) throw new ImportError(`${source}: not found`)
  throw new ImportError(
    `${source}: cannot tell the format from the name; choose the ${name('format')} (${Object.keys(importers)
      .filter((f) => f !== 'bundled')
      .join(', ')})`,
  )
}

/** The surest importer for a probed source, with its DETECT level; null when none reads it. */
async function rank<K extends string>(
  importers: Record<K, Pick<Importer, 'detect'>>,
  p: SourceProbe,
): Promise<{ id: K; score: number } | null> {
  let best: { id: K; score: number } | null = null
  for (const id of Object.keys(importers) as K[]) {
    const score = await importers[id].detect(p)
    if (score > DETECT.no && (!best || score > best.score)) best = { id, score }
  }
  return best
}

/** Guesses the format of a path from names (and a quick look inside folders). */
export function detectFormat(source: string, name?: FieldNamer): Promise<FormatId> {
  return detectFormatIn(IMPORTERS, source, name)
}

/** The registry's formats in words for a form: title, description, the settings each one reads. */
export function describeFormats(): ImportFormatInfo[] {
  return Object.values<Importer>(IMPORTERS).map((i) => ({
    id: i.id,
    title: i.title ?? i.id,
    description: i.description,
    fields: [...(i.fields ?? [])],
    extensions: [...(i.extensions ?? [])],
  }))
}

/** A dataset found one level inside a folder. */
export interface InnerDataset {
  name: string
  format: FormatId
}

/** Looks at most this many entries of a folder for datasets inside it (a huge folder stays fast). */
const MAX_INNER_ENTRIES = 200

/** A folder holding class folders of images: some sub-folder of it directly holds an image file. */
async function looksLikeImageFolder(dir: string, entries: string[]): Promise<boolean> {
  for (const n of entries.slice(0, 20)) {
    const inner = join(dir, n)
    if (!(await lstat(inner)).isDirectory()) continue
    const files = await readdirNames(inner, () => undefined)
    if (files.slice(0, 50).some((f) => isImageName(f))) return true
  }
  return false
}

/**
 * The datasets inside `source` when it is a parent folder of several rather than one dataset: its
 * own entries do not say it is one (only a nested or fallback detection), and at least two of its
 * entries are datasets, one of them a clearly detected format (a folder of image folders alone
 * cannot be told from an image folder whose class folders have sub-folders). [] otherwise.
 */
export async function severalDatasetsIn(source: string): Promise<InnerDataset[]> {
  const p = await probe(source)
  if (p.kind !== 'directory') return []
  const own = await rank(IMPORTERS, p)
  if (own && own.score >= DETECT.entries) return []
  // Formats a file or folder's own names say; any folder could be an image folder (checked apart).
  const specific = Object.fromEntries(
    Object.entries<Importer>(IMPORTERS).filter(([id]) => id !== 'bundled' && id !== 'image-folder'),
  ) as Record<FormatId, Importer>
  const splitNames = /^(train|test|val|valid|validation)$/i
  // An image folder split into train/ and test/ is one dataset (its split folders are not two).
  if (p.entries.some((n) => /^train$/i.test(n))) return []
  const found: (InnerDataset & { isSpecific: boolean })[] = []
  for (const name of [...p.entries].sort(naturalOrder).slice(0, MAX_INNER_ENTRIES)) {
    if (name.startsWith('.') || splitNames.test(name)) continue
    const child = await probe(join(source, name))
    const best = await rank(specific, child)
    if (best && best.score >= DETECT.nested) found.push({ name, format: best.id, isSpecific: true })
    else if (child.kind === 'directory' && (await looksLikeImageFolder(child.source, child.entries)))
      found.push({ name, format: 'image-folder', isSpecific: false })
  }
  const isParent = found.length >= 2 && (own?.score === DETECT.nested || found.some((f) => f.isSpecific))
  return isParent ? found.map(({ name, format }) => ({ name, format })) : []
}
