/**
 * CSV bad rows (refuse or skip, pandas' `on_bad_lines`) and the import's messages in the words of
 * the host that shows them: no CLI flags outside the CLI, relative paths that say what they were
 * resolved against, a parent folder of several datasets named as such, a real duplicate named
 * with the way to import it again. Real files in a temp dir, a real SQLite store.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliFieldNames } from '../../../src/cli/datasets'
import { describeFormats, FORMAT_IDS } from '../../../src/core/data/importers/index'
import { LISTED_BAD_ROWS } from '../../../src/core/data/importers/csv'
import { dataPaths, type DataPaths } from '../../../src/core/paths'
import {
  importDataset,
  type DatasetImportOptions,
  type ImportDatasetArgs,
} from '../../../src/core/services/dataset-service'
import { openDatabase } from '../../../src/core/store/db'
import { createStore, type Store } from '../../../src/core/store/store'
import { AppError } from '../../../src/shared/errors'
import { tempHome } from '../../helpers'
import { cifarFiles, digits, writeCifarFolder, writeImageFolder } from './fixtures'

let tmp: ReturnType<typeof tempHome>
let paths: DataPaths
let store: Store
let n = 0

beforeAll(() => {
  tmp = tempHome('tfkd-import-msg-')
  paths = dataPaths(join(tmp.dir, 'home'))
  store = createStore(openDatabase(paths.database))
})
afterAll(() => {
  store.close()
  tmp.cleanup()
})

/** A fresh folder under the temp dir. */
function folder(name: string): string {
  const d = join(tmp.dir, `${name}-${++n}`)
  mkdirSync(d, { recursive: true })
  return d
}

/** Rows of a 4-feature CSV with a header; `label` cycles over a, b. */
function goodRows(count: number, start = 0): string[] {
  return Array.from({ length: count }, (_, i) => {
    const k = start + i
    return `${k % 7},${(k * 3) % 11},${(k * 5) % 13},${k % 2},${k % 2 ? 'b' : 'a'}`
  })
}
const HEADER = 'f1,f2,f3,f4,label'

async function imp(
  source: string,
  options: DatasetImportOptions = {},
  extra: Partial<ImportDatasetArgs> = {},
) {
  return importDataset({ store, paths, source, options, ...extra })
}
async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(AppError)
  return err as AppError
}

describe('CSV bad rows', () => {
  const ragged = () => {
    const f = join(folder('ragged'), 'table.csv')
    // line 1 header, 2-21 good, 22 ragged (4 fields), 23 good, 24 non-numeric, 25 empty label, 26 too many
    const lines = [
      HEADER,
      ...goodRows(20),
      '1,2,3,a',
      ...goodRows(1, 20),
      '1,x,3,4,a',
      '1,2,3,4, ',
      '1,2,3,4,5,a',
      ...goodRows(10, 21),
    ]
    writeFileSync(f, `${lines.join('\n')}\n`)
    return f
  }

  it('refuses a ragged row by default, naming file, line and the field counts, in host-neutral words', async () => {
    const f = ragged()
    const e = await refusal(imp(f))
    expect(e.code).toBe('bad_dataset')
    expect(e.message).toContain(f)
    expect(e.message).toMatch(/line 22: expected 5 fields \(as the header has\), found 4/)
    expect(e.message).toContain('to import the other rows, choose skip for bad rows')
    expect(e.message).not.toMatch(/--[a-z]/)
    expect(store.datasets.list().some((d) => d.sourcePath === f)).toBe(false)
  })

  it('the CLI words name its flag', async () => {
    const e = await refusal(imp(ragged(), {}, { fieldName: cliFieldNames }))
    expect(e.message).toContain('choose skip for bad rows (--on-bad-rows)')
  })

  it('skip imports the other rows and lists each skipped line with its reason', async () => {
    const f = ragged()
    const r = await imp(f, { onBadRows: 'skip', testFraction: 0.2 })
    expect(r.dataset.counts.train + r.dataset.counts.test).toBe(31)
    expect(r.dataset.inputShape).toEqual([2, 2, 1])
    expect(r.skipped).toEqual([
      { file: `${f}: line 22`, reason: 'expected 5 fields (as the header has), found 4' },
      { file: `${f}: line 24`, reason: 'column "f2" is "x", expected a number' },
      { file: `${f}: line 25`, reason: 'empty label' },
      { file: `${f}: line 26`, reason: 'expected 5 fields (as the header has), found 6' },
    ])
    expect(r.notes).toContain('4 bad rows skipped')
    expect(r.dataset.classNames).toEqual(['a', 'b'])
  })

  it(`skip lists the first ${LISTED_BAD_ROWS} bad lines and counts the rest`, async () => {
    const f = join(folder('many'), 'many.csv')
    const lines = [HEADER]
    for (let i = 0; i < 150; i++) lines.push(...goodRows(2, i * 2), '9,9,a')
    writeFileSync(f, `${lines.join('\n')}\n`)
    const r = await imp(f, { onBadRows: 'skip' })
    expect(r.dataset.counts.train + r.dataset.counts.test).toBe(300)
    expect(r.skipped).toHaveLength(LISTED_BAD_ROWS + 1)
    expect(r.skipped[0]).toEqual({
      file: `${f}: line 4`,
      reason: 'expected 5 fields (as the header has), found 3',
    })
    expect(r.skipped[LISTED_BAD_ROWS - 1]!.file).toBe(`${f}: line ${3 * LISTED_BAD_ROWS + 1}`)
    expect(r.skipped.at(-1)).toEqual({ file: f, reason: '50 more bad rows, not listed (150 skipped in all)' })
    expect(r.notes).toContain(`150 bad rows skipped (the first ${LISTED_BAD_ROWS} listed)`)
  })

  it('a file whose every row is bad is refused even with skip, with an example', async () => {
    const f = join(folder('allbad'), 'allbad.csv')
    writeFileSync(f, `${HEADER}\n1,2\n3,4\n`)
    const e = await refusal(imp(f, { onBadRows: 'skip' }))
    expect(e.message).toMatch(/no data rows \(all 2 rows are bad, e\.g\. expected 5 fields/)
  })

  it('a ragged row of an image manifest is refused, or skipped with its line', async () => {
    const dir = folder('manifest')
    const set = digits(2)
    await writeImageFolder(join(dir, 'img'), set, { splits: false, kinds: ['png'] })
    const rows = ['path,label']
    for (let i = 0; i < 20; i++) rows.push(`img/${set.labels[i]}/${i}.png,${set.labels[i]}`)
    rows.splice(3, 0, 'img/0/0.png')
    const f = join(dir, 'list.csv')
    writeFileSync(f, `${rows.join('\n')}\n`)
    const e = await refusal(imp(f))
    expect(e.message).toMatch(/line 4: expected 2 fields \(path,label\), found 1; to import the other rows/)
    const r = await imp(f, { onBadRows: 'skip' })
    expect(r.skipped).toContainEqual({
      file: `${f}: line 4`,
      reason: 'expected 2 fields (path,label), found 1',
    })
    expect(r.dataset.counts.train + r.dataset.counts.test).toBe(20)
  })
})

describe('import messages for the host that shows them', () => {
  it('no message of the UI hosts names a CLI flag', async () => {
    const dir = folder('neutral')
    writeFileSync(join(dir, 'notes.txt'), 'hello')
    const unknown = await refusal(imp(join(dir, 'notes.txt'), {}, { host: 'web' }))
    expect(unknown.message).toMatch(
      /cannot tell the format from the name; choose the format \(image-folder, /,
    )
    const csv = join(dir, 't.csv')
    writeFileSync(csv, `${HEADER}\n${goodRows(10).join('\n')}\n`)
    const noCol = await refusal(imp(csv, { labelColumn: 'klass' }, { host: 'web' }))
    expect(noCol.message).toContain('no column "klass" for the label column (columns: f1, f2, f3, f4, label)')
    const cli = await refusal(imp(csv, { labelColumn: 'klass' }, { fieldName: cliFieldNames }))
    expect(cli.message).toContain('for the label column (--label)')
    for (const e of [unknown, noCol]) expect(e.message).not.toMatch(/--[a-z]/)
    // The registry's descriptions are shown in the form: words, no flags.
    for (const f of describeFormats()) expect(f.description).not.toMatch(/--[a-z]/)
  })

  it('the registry lists every format with its title and the settings it reads', () => {
    const formats = describeFormats()
    expect(formats.map((f) => f.id)).toEqual([...FORMAT_IDS].sort((a, b) => order(a) - order(b)))
    const csv = formats.find((f) => f.id === 'csv')!
    expect(csv).toMatchObject({
      title: 'CSV',
      fields: ['labelColumn', 'onBadRows', 'encoding'],
      extensions: ['.csv'],
    })
    expect(formats.find((f) => f.id === 'cifar10')!.title).toBe('CIFAR-10')
  })

  it('a relative path that names nothing says what it was resolved against and asks for an absolute path', async () => {
    const base = folder('cwd')
    for (const host of ['web', 'electron'] as const) {
      const e = await refusal(imp('data/x.csv', {}, { host, relativeTo: base }))
      expect(e.message).toContain('data/x.csv: not found')
      expect(e.message).toContain(
        `resolved against ${host === 'web' ? "the server's" : "the app's"} working folder (${base})`,
      )
      expect(e.message).toContain(`giving ${join(base, 'data/x.csv')}`)
      expect(e.message).toContain('Give the absolute path')
    }
    const abs = await refusal(imp(join(base, 'nope.csv'), {}, { host: 'web' }))
    expect(abs.message).toBe(`${join(base, 'nope.csv')}: not found (nothing at this path on the server)`)
  })

  it('a relative path that names a file imports it and notes where it was found', async () => {
    const base = folder('rel')
    mkdirSync(join(base, 'data'))
    writeFileSync(join(base, 'data', 'rel.csv'), `${HEADER}\n${goodRows(12).join('\n')}\n`)
    const r = await imp('data/rel.csv', {}, { host: 'web', relativeTo: base })
    expect(r.dataset.sourcePath).toBe(join(base, 'data', 'rel.csv'))
    expect(r.notes[0]).toBe(
      `the relative path data/rel.csv was resolved against the server's working folder as ${join(base, 'data', 'rel.csv')}`,
    )
  })

  it('a parent folder of several datasets says so and lists them, even when one was imported before', async () => {
    const parent = folder('parent')
    const set = digits(10)
    const train = {
      ...set,
      n: 80,
      images: set.images.subarray(0, 80 * 784),
      labels: set.labels.subarray(0, 80),
    }
    const test = { ...set, n: 20, images: set.images.subarray(80 * 784), labels: set.labels.subarray(80) }
    writeCifarFolder(join(parent, 'cifar-10-batches-bin'), cifarFiles(train, test, 'cifar10'))
    // The CIFAR folder alone is a dataset; imported first, as in the walkthrough.
    const first = await imp(join(parent, 'cifar-10-batches-bin'))
    writeFileSync(join(parent, 'iris.csv'), `${HEADER}\n${goodRows(10).join('\n')}\n`)
    await writeImageFolder(join(parent, 'pets'), digits(2), { splits: false, kinds: ['png'] })
    const e = await refusal(imp(parent, {}, { host: 'web' }))
    expect(e.message).not.toContain('already imported')
    expect(e.message).toContain(
      `${parent}: this folder holds 3 datasets: cifar-10-batches-bin (CIFAR-10), iris.csv (CSV), pets (Image folder); choose one of them (e.g. ${join(parent, 'cifar-10-batches-bin')}), or choose the format to import the folder itself as one dataset`,
    )
    expect(e.details).toMatchObject({
      datasets: [{ name: 'cifar-10-batches-bin', format: 'cifar10' }, {}, {}],
    })

    // A genuine duplicate names the dataset and how to import it again.
    const dup = await refusal(imp(join(parent, 'cifar-10-batches-bin'), {}, { host: 'web' }))
    expect(dup.message).toContain(`as dataset ${first.dataset.id} "${first.dataset.name}"`)
    expect(dup.message).toMatch(new RegExp(`To import it again, delete "${first.dataset.name}" first$`))
    expect(dup.message).not.toMatch(/--[a-z]/)
    const cli = await refusal(imp(join(parent, 'cifar-10-batches-bin'), {}, { fieldName: cliFieldNames }))
    expect(cli.message).toContain(
      `first, or change the image size (--size), colour (--grayscale or --rgb), test fraction (--test-fraction) or seed (--seed)`,
    )
  })

  it('a folder of one nested dataset, an image folder with train/test, and an explicit format still import', async () => {
    const one = folder('one')
    const set = digits(10)
    const train = {
      ...set,
      n: 80,
      images: set.images.subarray(0, 80 * 784),
      labels: set.labels.subarray(0, 80),
    }
    const test = { ...set, n: 20, images: set.images.subarray(80 * 784), labels: set.labels.subarray(80) }
    writeCifarFolder(join(one, 'cifar-10-batches-bin'), cifarFiles(train, test, 'cifar10'))
    writeFileSync(join(one, 'readme.txt'), 'CIFAR-10')
    expect((await imp(one, { seed: 3 })).dataset.format).toBe('cifar10')

    const split = folder('split')
    await writeImageFolder(split, digits(3), { kinds: ['png'] })
    expect((await imp(split)).dataset.format).toBe('image-folder')

    // Chosen explicitly, the parent is imported as one image folder (its sub-folders as classes).
    const parent = folder('explicit')
    writeFileSync(join(parent, 'a.csv'), `${HEADER}\n${goodRows(10).join('\n')}\n`)
    writeFileSync(join(parent, 'b.csv'), `${HEADER}\n${goodRows(10).join('\n')}\n`)
    await writeImageFolder(join(parent, 'pets'), digits(2), { splits: false, kinds: ['png'] })
    await writeImageFolder(join(parent, 'more'), digits(2), { splits: false, kinds: ['png'] })
    expect((await refusal(imp(parent))).message).toContain('this folder holds 4 datasets')
    const r = await imp(parent, { format: 'image-folder' })
    expect(r.dataset.classNames).toEqual(['more', 'pets'])
  })

  it('an unknown format id from a host is refused with the known ones', async () => {
    const e = await refusal(imp(folder('x'), { format: 'parquet' as never }, { host: 'web' }))
    expect(e.code).toBe('invalid_input')
    expect(e.message).toBe(`unknown format "parquet"; known: ${Object.keys(orderMap).join(', ')}`)
  })
})

const orderMap = { 'image-folder': 0, cifar10: 1, cifar100: 2, idx: 3, csv: 4, bundled: 5 }
const order = (id: string) => orderMap[id as keyof typeof orderMap]
