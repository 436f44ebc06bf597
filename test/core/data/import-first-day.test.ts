/**
 * What a first-day import tripped over (issue 22, item 8): a CSV whose label is in a middle column
 * was refused with advice to skip bad rows (which would skip every row) instead of naming the label
 * column; the folder importer's notes named settings the app's form does not have; a 3-row dataset
 * was accepted though no run could split it. Real files in a temp dir, a real SQLite store.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliFieldNames } from '../../../src/cli/datasets'
import { dataPaths, type DataPaths } from '../../../src/core/paths'
import {
  importDataset,
  splitSizeProblem,
  type DatasetImportOptions,
  type ImportDatasetArgs,
} from '../../../src/core/services/dataset-service'
import { openDatabase } from '../../../src/core/store/db'
import { createStore, type Store } from '../../../src/core/store/store'
import { AppError } from '../../../src/shared/errors'
import { tempHome } from '../../helpers'
import { digits, writeImageFolder } from './fixtures'

let tmp: ReturnType<typeof tempHome>
let paths: DataPaths
let store: Store
let n = 0

beforeAll(() => {
  tmp = tempHome('tfkd-import-day1-')
  paths = dataPaths(join(tmp.dir, 'home'))
  store = createStore(openDatabase(paths.database))
})
afterAll(() => {
  store.close()
  tmp.cleanup()
})

function folder(name: string): string {
  const d = join(tmp.dir, `${name}-${++n}`)
  mkdirSync(d, { recursive: true })
  return d
}

function csv(lines: string[]): string {
  const f = join(folder('csv'), 'table.csv')
  writeFileSync(f, `${lines.join('\n')}\n`)
  return f
}

const imp = (source: string, options: DatasetImportOptions = {}, extra: Partial<ImportDatasetArgs> = {}) =>
  importDataset({ store, paths, source, options, ...extra })

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(AppError)
  return err as AppError
}

/** Iris-like rows: two features, the species in the middle, two more features. */
function irisRows(count: number): string[] {
  const species = ['setosa', 'versicolor', 'virginica']
  return [
    'sepal_length,sepal_width,species,petal_length,petal_width',
    ...Array.from(
      { length: count },
      (_, i) => `${4 + (i % 4)},${2 + (i % 3)},${species[i % 3]},${1 + (i % 5)},${i % 2}`,
    ),
  ]
}

describe('a CSV with the label in a middle column', () => {
  it('is refused naming that column as the label column, not advising to skip every row', async () => {
    const f = csv(irisRows(30))
    const web = await refusal(imp(f, {}, { host: 'web' }))
    expect(web.message).toMatch(
      /line 2: column "species" is "setosa", expected a number; if column "species" holds the class labels, choose it as the label column: species/,
    )
    expect(web.message).not.toMatch(/choose skip/)
    const cli = await refusal(imp(f, {}, { fieldName: cliFieldNames }))
    expect(cli.message).toMatch(/choose it as the label column \(--label\): species/)
  })

  it('imports with that column as the label', async () => {
    const r = await imp(csv(irisRows(30)), { labelColumn: 'species' })
    expect(r.dataset.classNames).toEqual(['setosa', 'versicolor', 'virginica'])
    expect(r.dataset.inputShape).toEqual([2, 2, 1])
    expect(r.dataset.counts.train + r.dataset.counts.test).toBe(30)
  })

  it('a bad row further down still gets the skip advice', async () => {
    const lines = irisRows(30).map((l, i) => (i === 10 ? '1,x,setosa,3,4' : l))
    const err = await refusal(imp(csv(lines), { labelColumn: 'species' }, { host: 'web' }))
    expect(err.message).toMatch(
      /line 11: column "sepal_width" is "x", expected a number; to import the other rows, choose skip/,
    )
  })
})

describe('folder import notes', () => {
  it('in the app, name no setting its form lacks; in the CLI, name the flag', async () => {
    const dir = folder('images')
    await writeImageFolder(dir, digits(3), { kinds: ['png'] })
    const web = await imp(dir, {}, { host: 'web' })
    expect(web.notes.join('\n')).toMatch(/images resized to 28x28 \(from the first image, [^)]+\)$/m)
    expect(web.notes.join('\n')).toMatch(/grayscale chosen from the first image \([^)]+\)$/m)
    expect(web.notes.join('\n')).not.toMatch(/image size|colour/)
    const again = folder('images')
    await writeImageFolder(again, digits(3), { kinds: ['png', 'bmp'] })
    const cli = await imp(again, {}, { fieldName: cliFieldNames })
    expect(cli.notes.join('\n')).toMatch(/choose the image size \(--size\) to change it/)
    expect(cli.notes.join('\n')).toMatch(/choose the colour \(--grayscale or --rgb\) to change it/)
  })
})

describe('a dataset too small to split', () => {
  it('a 3-row CSV is refused with the split sizes and the smallest size that works; nothing stored', async () => {
    const before = store.datasets.list().length
    const err = await refusal(imp(csv(['a,b,label', '1,2,x', '3,4,y', '5,6,x'])))
    expect(err.message).toMatch(
      /table\.csv: 3 samples are too few to split: at test fraction 0\.2 and validation fraction 0\.1 they give 2 train, 0 validation and 1 test samples, so the validation split is empty; import at least 6 samples/,
    )
    expect(store.datasets.list()).toHaveLength(before)
  })

  it('the smallest size it names is enough, and one less is not', () => {
    expect(splitSizeProblem({ train: 5, test: 1 }, 0.2, 0.1)).toBeNull()
    expect(splitSizeProblem({ train: 4, test: 1 }, 0.2, 0.1)).toMatch(/import at least 6 samples/)
    expect(splitSizeProblem({ train: 2, test: 0 }, 0, 0)).toBeNull()
    expect(splitSizeProblem({ train: 1, test: 0 }, 0.2, 0)).toMatch(/the test split is empty/)
  })
})
