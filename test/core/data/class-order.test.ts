/**
 * Issue 14: image-folder classes are imported in natural order ("zero, one, two", "class2" before
 * "class10"), not alphabetically ("eight, five, four"); the order is stored with the dataset, so a
 * dataset imported earlier keeps its own.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sortClassNames } from '../../../src/core/data/importers/class-order'
import { dataPaths, type DataPaths } from '../../../src/core/paths'
import { importDataset } from '../../../src/core/services/dataset-service'
import { openDatabase } from '../../../src/core/store/db'
import { createStore, type Store } from '../../../src/core/store/store'
import { tempHome } from '../../helpers'
import { digit, digits, encodeDigit } from './fixtures'

let tmp: ReturnType<typeof tempHome>
let paths: DataPaths
let store: Store

beforeAll(() => {
  tmp = tempHome('tfkd-class-order-')
  paths = dataPaths(join(tmp.dir, 'home'))
  store = createStore(openDatabase(paths.database))
})
afterAll(() => {
  store.close()
  tmp.cleanup()
})

async function classFolders(root: string, names: readonly string[]): Promise<void> {
  const set = digits(1)
  for (const [i, name] of names.entries()) {
    mkdirSync(join(root, name), { recursive: true })
    for (let k = 0; k < 3; k++) {
      writeFileSync(join(root, name, `${k}.png`), await encodeDigit(digit(set, (i + k) % set.n), 'png'))
    }
  }
}

describe('class order', () => {
  it('orders number words by value and numbers inside names numerically', () => {
    expect(
      sortClassNames(['eight', 'five', 'four', 'nine', 'one', 'seven', 'six', 'three', 'two', 'zero']),
    ).toEqual(['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'])
    expect(sortClassNames(['Ten', 'Two', 'Eleven'])).toEqual(['Two', 'Ten', 'Eleven'])
    expect(sortClassNames(['class10', 'class2', 'class1'])).toEqual(['class1', 'class2', 'class10'])
    expect(sortClassNames(['10', '9', '100'])).toEqual(['9', '10', '100'])
    // Not all number words: plain natural order for every name.
    expect(sortClassNames(['two', 'cat', 'one'])).toEqual(['cat', 'one', 'two'])
  })

  it('imports an image folder of number-word classes in value order', async () => {
    const root = join(tmp.dir, 'words')
    const names = ['eight', 'five', 'four', 'nine', 'one', 'seven', 'six', 'three', 'two', 'zero']
    await classFolders(root, names)
    const r = await importDataset({ store, paths, source: root, options: { name: 'words' } })
    expect(r.dataset.classNames).toEqual([
      'zero',
      'one',
      'two',
      'three',
      'four',
      'five',
      'six',
      'seven',
      'eight',
      'nine',
    ])
    // Stored at import: the dataset read back has the same order.
    expect(store.datasets.byName('words')?.classNames).toEqual(r.dataset.classNames)
  })

  it('imports class2 before class10, under train/ and test/ too', async () => {
    const root = join(tmp.dir, 'numbered')
    await classFolders(join(root, 'train'), ['class10', 'class2', 'class1'])
    await classFolders(join(root, 'test'), ['class10', 'class2', 'class1'])
    const r = await importDataset({ store, paths, source: root, options: { name: 'numbered' } })
    expect(r.dataset.classNames).toEqual(['class1', 'class2', 'class10'])
  })
})
