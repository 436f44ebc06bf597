/**
 * Image folders: one sub-folder per class (`root/<class>/*.png`), optionally under `train/` and
 * `test/` (or `val/`, `validation/`) at the top. Without a test folder, test is carved at import.
 */
import { createHash } from 'node:crypto'
import { lstat, realpath } from 'node:fs/promises'
import { join } from 'node:path'
import { naturalOrder, sortClassNames } from './class-order'
import { hashFile, INVALID_NAME_REASON, readdirNames, walkFiles, type WalkEntry } from './fs-safe'
import { importImageList, isImageName, type ImageItem } from './image-list'
import {
  DETECT,
  ImportError,
  throwIfAborted,
  type ImportContext,
  type Importer,
  type ImportOptions,
  type SplitId,
} from './types'

const TEST_NAMES = ['test', 'val', 'validation', 'valid']
export { naturalOrder }

/** Class folders; a folder whose name is not valid UTF-8 is left out (and reported as stray). */
async function subdirs(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const name of await readdirNames(dir, () => undefined)) {
    if ((await lstat(join(dir, name))).isDirectory()) out.push(name)
  }
  return out.sort(naturalOrder)
}

interface Layout {
  root: string
  classNames: string[]
  /** [split or null, class index, folder] */
  folders: { split: SplitId | null; label: number; dir: string; relBase: string }[]
  /** Files at the top of a split folder or the root, outside any class folder. */
  stray: string[]
}

async function layout(source: string): Promise<Layout> {
  let root: string
  try {
    root = await realpath(source)
  } catch {
    throw new ImportError(`${source}: folder not found`)
  }
  if (!(await lstat(root)).isDirectory())
    throw new ImportError(`${source}: expected a folder of class folders`)
  const top = await subdirs(root)
  const lower = new Map(top.map((d) => [d.toLowerCase(), d]))
  const trainDir = lower.get('train')
  const testDir = TEST_NAMES.map((n) => lower.get(n)).find((d) => d !== undefined)
  const folders: Layout['folders'] = []
  const stray: string[] = []
  const strayIn = async (dir: string, rel: string) => {
    const names = await readdirNames(dir, (escaped) =>
      stray.push(`${rel ? `${rel}/${escaped}` : escaped}\0${INVALID_NAME_REASON}`),
    )
    for (const name of names) {
      const st = await lstat(join(dir, name))
      if (st.isSymbolicLink())
        stray.push(`${rel ? `${rel}/${name}` : name}\0symlink at the top level; not followed`)
      else if (!st.isDirectory()) stray.push(rel ? `${rel}/${name}` : name)
    }
  }
  await strayIn(root, '')
  let classNames: string[]
  if (trainDir) {
    const splitDirs: [SplitId, string][] = [['train', trainDir]]
    if (testDir) splitDirs.push(['test', testDir])
    const perSplit = await Promise.all(splitDirs.map(async ([, d]) => subdirs(join(root, d))))
    classNames = sortClassNames([...new Set(perSplit.flat())])
    for (let s = 0; s < splitDirs.length; s++) {
      const [split, d] = splitDirs[s]!
      await strayIn(join(root, d), d)
      for (const cls of perSplit[s]!) {
        folders.push({
          split: testDir ? split : null,
          label: classNames.indexOf(cls),
          dir: join(root, d, cls),
          relBase: root,
        })
      }
    }
  } else {
    classNames = sortClassNames(top)
    for (const cls of top)
      folders.push({ split: null, label: classNames.indexOf(cls), dir: join(root, cls), relBase: root })
  }
  if (classNames.length === 0) {
    throw new ImportError(
      `${source}: expected one sub-folder per class (e.g. ${source}/cat/*.png), found none`,
    )
  }
  return { root, classNames, folders, stray }
}

async function listItems(
  l: Layout,
  options: ImportOptions,
  signal: AbortSignal,
  skip: (file: string, reason: string) => void,
): Promise<(ImageItem & { entry: WalkEntry })[]> {
  if (l.classNames.length > options.limits.maxClasses) {
    throw new ImportError(
      `${l.root}: ${l.classNames.length} class folders, over the limit of ${options.limits.maxClasses}`,
    )
  }
  const items: (ImageItem & { entry: WalkEntry })[] = []
  for (const f of l.folders) {
    const entries = await walkFiles(l.root, f.dir, {
      maxFiles: options.limits.maxFiles - items.length,
      signal,
      skip,
      relBase: f.relBase,
    })
    for (const e of entries) {
      if (!isImageName(e.rel))
        skip(e.rel, 'not an image file name (expected .png, .jpg, .jpeg, .webp, .bmp or .gif)')
      else items.push({ path: e.path, rel: e.rel, split: f.split, label: f.label, entry: e })
    }
  }
  return items
}

export const imageFolderImporter = {
  id: 'image-folder',
  title: 'Image folder',
  description: 'one sub-folder per class of PNG/JPEG/WebP/BMP/GIF images, optionally under train/ and test/',
  // Any folder could be one; every more specific format outranks it.
  detect: ({ kind }) => (kind === 'directory' ? DETECT.fallback : DETECT.no),
  async fingerprint(source, options, ctx) {
    const l = await layout(source)
    const items = await listItems(l, options, ctx.signal, () => {})
    const hash = createHash('sha256')
    let i = 0
    for (const it of items) {
      throwIfAborted(ctx.signal)
      hash.update(`${it.split ?? '-'}\0${l.classNames[it.label]}\0${it.rel}\0`)
      await hashFile(it.path, hash, ctx.signal)
      ctx.onProgress({ phase: 'hashing', done: ++i, total: items.length, unit: 'files' })
    }
    return hash.digest('hex')
  },
  async run(source, options, ctx: ImportContext) {
    const l = await layout(source)
    for (const s of l.stray) {
      const [file, reason] = s.split('\0')
      ctx.skip(file!, reason ?? 'not inside a class folder')
    }
    const items = await listItems(l, options, ctx.signal, ctx.skip)
    if (items.length === 0) throw new ImportError(`${source}: the class folders hold no image files`)
    const notes: string[] = []
    await importImageList(items, source, options, ctx, notes)
    return { classNames: l.classNames, notes }
  },
} satisfies Importer
