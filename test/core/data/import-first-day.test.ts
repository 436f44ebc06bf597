/**
 * What a first-day import tripped over (issue 22, item 8): a CSV whose label is in a middle column
 * was refused with advice to skip bad rows (which would skip every row) instead of naming the label
 * column; the folder importer's notes named settings the app's form does not have; a 3-row dataset
 * was accepted though no run could split it. Real files in a temp dir, a real SQLite store.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliFieldNames, readClassNames } from '../../../src/cli/datasets'
import { loadDatasetCache } from '../../../src/core/data/cache'
import { createStratifiedSplitter } from '../../../src/core/data/importers/split'
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

describe('stratified test split at import', () => {
  const testPerClass = (cachePath: string, k: number): number[] => {
    const c = loadDatasetCache(cachePath)
    const out = new Array<number>(k).fill(0)
    for (const l of c.test.labels) out[l]!++
    return out
  }

  it('every class gives its share to test, whatever the seed (CSV and image folder)', async () => {
    // 44 of "a", 6 of "b": 20 % is 8.8 + 1.2, so 9 a and 1 b (10 = round(50 * 0.2)) for every seed.
    const lines = [
      'x,y,label',
      ...Array.from({ length: 50 }, (_, i) => `${i},${i % 7},${i % 25 < 3 ? 'b' : 'a'}`),
    ]
    const f = csv(lines)
    for (let seed = 0; seed < 6; seed++) {
      const r = await imp(f, { seed, name: `strat-${seed}` })
      expect({ seed, test: testPerClass(r.dataset.cachePath!, 2) }).toEqual({ seed, test: [9, 1] })
    }
    const dir = folder('strat-images')
    await writeImageFolder(dir, digits(7), { splits: false, kinds: ['png'] })
    const r = await imp(dir, { seed: 3 })
    // 70 images, 14 to test: 1.4 per class, so 1 each and the 4 largest remainders (ties: lower label) 2.
    expect(testPerClass(r.dataset.cachePath!, 10).reduce((a, b) => a + b, 0)).toBe(14)
    expect(testPerClass(r.dataset.cachePath!, 10).every((c) => c === 1 || c === 2)).toBe(true)
  })

  it('quotas add up to round(n * fraction), are deterministic and never exceed a class', () => {
    const draw = (counts: number[], f: number, seed: number) => {
      const split = createStratifiedSplitter(counts, f, seed)
      const got = counts.map(() => 0)
      counts.forEach((c, label) => {
        for (let i = 0; i < c; i++) if (split(label) === 'test') got[label]!++
      })
      return got
    }
    expect(draw([3, 3, 3], 0.5, 1).reduce((a, b) => a + b)).toBe(5)
    expect(draw([1, 1, 98], 0.2, 2)).toEqual([0, 0, 20])
    expect(draw([10, 0, 10], 0.2, 3)).toEqual([2, 0, 2])
    expect(draw([2, 2], 1, 4)).toEqual([2, 2])
    const a = createStratifiedSplitter([5, 5], 0.4, 9)
    const b = createStratifiedSplitter([5, 5], 0.4, 9)
    for (let i = 0; i < 10; i++) expect(a(i % 2)).toBe(b(i % 2))
  })
})

describe('class names at import', () => {
  const numeric = () => csv(['a,b,label', ...Array.from({ length: 30 }, (_, i) => `${i},${i % 5},${i % 3}`)])

  it('a names file (one per line or JSON) names the numeric labels, in label order', async () => {
    const dir = folder('names')
    writeFileSync(join(dir, 'names.txt'), 'T-shirt/top\nTrouser\r\nPullover\n')
    writeFileSync(join(dir, 'names.json'), '["T-shirt/top", "Trouser", "Pullover"]')
    expect(readClassNames(join(dir, 'names.txt'))).toEqual(['T-shirt/top', 'Trouser', 'Pullover'])
    expect(readClassNames(join(dir, 'names.json'))).toEqual(['T-shirt/top', 'Trouser', 'Pullover'])
    const r = await imp(numeric(), { classNames: readClassNames(join(dir, 'names.txt')) })
    expect(r.dataset.classNames).toEqual(['T-shirt/top', 'Trouser', 'Pullover'])
    expect(r.notes).toContain('class names given: 0 = T-shirt/top, 1 = Trouser, 2 = Pullover')
    expect(loadDatasetCache(r.dataset.cachePath!).classNames).toEqual(['T-shirt/top', 'Trouser', 'Pullover'])
  })

  it('refuses a list of the wrong length or with a repeated name, and an unreadable file', async () => {
    const short = await refusal(imp(numeric(), { classNames: ['x', 'y'] }, { fieldName: cliFieldNames }))
    expect(short.message).toMatch(
      /the class names \(--class-names\) list 2 names, but the data has 3 classes \(0, 1, 2\); give one name per class, in label order/,
    )
    const twice = await refusal(imp(numeric(), { classNames: ['x', 'y', 'x'] }))
    expect(twice.message).toMatch(/the class names name "x" twice/)
    const dir = folder('bad-names')
    writeFileSync(join(dir, 'blank.txt'), 'a\n\nb\n')
    expect(() => readClassNames(join(dir, 'blank.txt'))).toThrow(/one non-empty name per line/)
    expect(() => readClassNames(join(dir, 'missing.txt'))).toThrow(
      /--class-names .*missing\.txt: cannot read it/,
    )
  })
})
