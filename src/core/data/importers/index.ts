/**
 * The importer registry: one entry per format id (FORMAT_IDS in ./types; a missing entry is a
 * compile error). Each importer detects its own sources; `detectFormat` asks them all.
 */
import { lstat } from 'node:fs/promises'
import { basename } from 'node:path'
import { bundledImporter } from './bundled'
import { readdirNames } from './fs-safe'
import { cifar100Importer, cifar10Importer } from './cifar'
import { csvImporter } from './csv'
import { idxImporter } from './idx'
import { imageFolderImporter } from './image-folder'
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
): Promise<K> {
  const p = await probe(source)
  let best: { id: K; score: number } | null = null
  for (const id of Object.keys(importers) as K[]) {
    const score = await importers[id].detect(p)
    if (score > DETECT.no && (!best || score > best.score)) best = { id, score }
  }
  if (best) return best.id
  if (p.kind === null) throw new ImportError(`${source}: not found`)
  throw new ImportError(
    `${source}: cannot tell the format from the name; pass --format (${Object.keys(importers)
      .filter((f) => f !== 'bundled')
      .join(', ')})`,
  )
}

/** Guesses the format of a path from names (and a quick look inside folders). */
export function detectFormat(source: string): Promise<FormatId> {
  return detectFormatIn(IMPORTERS, source)
}
