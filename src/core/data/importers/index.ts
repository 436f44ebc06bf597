/** The importer registry and format detection. */
import { lstat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { readdirNames } from './fs-safe'
import { MNIST_10K } from '../bundled'
import { bundledImporter } from './bundled'
import { cifar100Importer, cifar10Importer } from './cifar'
import { csvImporter } from './csv'
import { idxImporter } from './idx'
import { imageFolderImporter } from './image-folder'
import { FORMAT_IDS, ImportError, type FormatId, type Importer } from './types'

export * from './types'

export const IMPORTERS = {
  'image-folder': imageFolderImporter,
  cifar10: cifar10Importer,
  cifar100: cifar100Importer,
  idx: idxImporter,
  csv: csvImporter,
  bundled: bundledImporter,
} satisfies Record<FormatId, Importer>

export function isFormatId(s: string): s is FormatId {
  return (FORMAT_IDS as readonly string[]).includes(s)
}

const IDX_RE = /idx3[-._]ubyte(\.gz)?$/i

function cifarFromNames(names: string[]): FormatId | null {
  if (names.includes('data_batch_1.bin') || names.includes('test_batch.bin')) return 'cifar10'
  if (names.includes('train.bin') && (names.includes('fine_label_names.txt') || names.includes('test.bin')))
    return 'cifar100'
  return null
}

/** Guesses the format of a path from names (and a quick look inside folders). */
export async function detectFormat(source: string): Promise<FormatId> {
  if (source === MNIST_10K.name) return 'bundled'
  let st
  try {
    st = await lstat(source)
  } catch {
    throw new ImportError(`${source}: not found`)
  }
  const name = basename(source).toLowerCase()
  if (!st.isDirectory()) {
    if (name.endsWith('.csv')) return 'csv'
    if (IDX_RE.test(name)) return 'idx'
    if (/\.(tar\.gz|tgz)$/.test(name)) {
      if (name.includes('cifar-100') || name.includes('cifar100')) return 'cifar100'
      if (name.includes('cifar-10') || name.includes('cifar10')) return 'cifar10'
    }
    throw new ImportError(
      `${source}: cannot tell the format from the name; pass --format (${FORMAT_IDS.filter((f) => f !== 'bundled').join(', ')})`,
    )
  }
  // Names that are not valid UTF-8 are reported by the importer's own walk; here they are ignored.
  const names = await readdirNames(source, () => undefined)
  const direct = cifarFromNames(names)
  if (direct) return direct
  if (names.some((n) => IDX_RE.test(n))) return 'idx'
  for (const n of names) {
    const p = join(source, n)
    if ((await lstat(p)).isDirectory() && /cifar/i.test(n)) {
      const inner = cifarFromNames(await readdirNames(p, () => undefined))
      if (inner) return inner
    }
  }
  return 'image-folder'
}
