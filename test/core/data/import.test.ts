import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import sharp from 'sharp'
import { AppError } from '../../../src/shared/errors'
import { dataPaths, type DataPaths } from '../../../src/core/paths'
import { openDatabase } from '../../../src/core/store/db'
import { createStore, type Store } from '../../../src/core/store/store'
import { loadDatasetCache } from '../../../src/core/data/cache'
import {
  describeDataset,
  importDataset,
  type DatasetImportOptions,
  type ImportedCounts,
} from '../../../src/core/services/dataset-service'
import { tempHome } from '../../helpers'
import {
  CIFAR10_NAMES,
  CIFAR100_COARSE,
  CIFAR100_FINE,
  cifarFiles,
  cifarTarGz,
  digit,
  digits,
  mnistCsv,
  writeCifarFolder,
  writeIdx,
  writeImageFolder,
} from './fixtures'

let tmp: ReturnType<typeof tempHome>
let paths: DataPaths
let store: Store
const set = digits(12) // 120 digits
const train = {
  ...set,
  n: 100,
  images: set.images.subarray(0, 100 * 784),
  labels: set.labels.subarray(0, 100),
}
const test = { ...set, n: 20, images: set.images.subarray(100 * 784), labels: set.labels.subarray(100) }

beforeAll(() => {
  tmp = tempHome('tfkd-import-')
  paths = dataPaths(join(tmp.dir, 'home'))
  store = createStore(openDatabase(paths.database))
})
afterAll(() => {
  store.close()
  tmp.cleanup()
})

function src(name: string): string {
  const p = join(tmp.dir, 'src', name)
  mkdirSync(join(tmp.dir, 'src'), { recursive: true })
  return p
}

async function imp(source: string, options: DatasetImportOptions = {}) {
  return importDataset({ store, paths, source, options })
}

function cacheFiles(): string[] {
  return existsSync(paths.datasets) ? readdirSync(paths.datasets).filter((f) => f !== 'previews') : []
}

describe('import each format', () => {
  it('image folder with train/test, five image kinds, resized and grayscale', async () => {
    const dir = src('folder')
    await writeImageFolder(dir, set)
    const r = await imp(dir, { size: [16, 16] })
    expect(r.skipped).toEqual([])
    expect(r.dataset.format).toBe('image-folder')
    expect(r.dataset.inputShape).toEqual([16, 16, 1])
    expect(r.dataset.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(r.dataset.counts).toMatchObject({ train: 96, test: 24 })
    const c = loadDatasetCache(r.dataset.cachePath!)
    expect(c.train.n).toBe(96)
    expect(c.test.n).toBe(24)
    expect(c.train.images.length).toBe(96 * 256)
  })

  it('image folder without splits carves test by seed, keeps native size, detects grayscale', async () => {
    const dir = src('flat')
    await writeImageFolder(dir, set, { splits: false, kinds: ['png'] })
    const r = await imp(dir, { testFraction: 0.25, seed: 7 })
    expect(r.dataset.inputShape).toEqual([28, 28, 1])
    expect(r.dataset.counts).toMatchObject({ train: 90, test: 30 })
    // PNG is lossless: the decoded pixels are the digits
    const c = loadDatasetCache(r.dataset.cachePath!)
    const all = [...Array(c.train.n).keys()].map((i) =>
      Buffer.from(c.train.images.subarray(i * 784, (i + 1) * 784)).toString('hex'),
    )
    expect(all).toContain(Buffer.from(digit(set, 1)).toString('hex'))
  })

  it('IDX pairs, plain and gzipped, round-trip exactly', async () => {
    for (const gz of [false, true]) {
      const dir = src(`idx-${gz}`)
      writeIdx(dir, train, test, gz)
      const r = await imp(dir)
      expect(r.dataset.format).toBe('idx')
      expect(r.dataset.inputShape).toEqual([28, 28, 1])
      const c = loadDatasetCache(r.dataset.cachePath!)
      expect(c.train.n).toBe(100)
      expect(c.test.n).toBe(20)
      expect(Buffer.from(c.train.images).equals(Buffer.from(train.images))).toBe(true)
      expect(Array.from(c.test.labels)).toEqual(Array.from(test.labels))
    }
  })

  it('CIFAR-10 extracted folder and .tar.gz, with class names from the meta file', async () => {
    const files = cifarFiles(train, test, 'cifar10')
    const dir = src('cifar10')
    writeCifarFolder(join(dir, 'cifar-10-batches-bin'), files)
    const r1 = await imp(dir)
    expect(r1.dataset.format).toBe('cifar10')
    expect(r1.dataset.classNames).toEqual(CIFAR10_NAMES)
    expect(r1.dataset.inputShape).toEqual([32, 32, 3])
    const c = loadDatasetCache(r1.dataset.cachePath!)
    expect(c.train.n).toBe(100)
    expect(c.test.n).toBe(20)
    expect(Array.from(c.train.labels)).toEqual(Array.from(train.labels))
    // pixel (2,2) of image 0 is digit pixel (0,0): R = v, G = v >> 1, B = 255 - v
    const v = train.images[3 * 28 + 3]!
    const o = ((3 + 2) * 32 + 3 + 2) * 3
    expect([c.train.images[o], c.train.images[o + 1], c.train.images[o + 2]]).toEqual([v, v >> 1, 255 - v])
    const tgz = src('cifar-10-binary.tar.gz')
    writeFileSync(tgz, await cifarTarGz('cifar-10-batches-bin', files))
    const r2 = await imp(tgz)
    expect(r2.dataset.format).toBe('cifar10')
    const c2 = loadDatasetCache(r2.dataset.cachePath!)
    expect(Buffer.from(c2.train.images).equals(Buffer.from(c.train.images))).toBe(true)
  })

  it('CIFAR-100 .tar.gz with fine and coarse labels', async () => {
    const tgz = src('cifar-100-binary.tar.gz')
    writeFileSync(tgz, await cifarTarGz('cifar-100-binary', cifarFiles(train, test, 'cifar100')))
    const fine = await imp(tgz)
    expect(fine.dataset.format).toBe('cifar100')
    expect(fine.dataset.classNames).toEqual(CIFAR100_FINE)
    const coarse = await imp(tgz, { labelMode: 'coarse', name: 'c100-coarse', color: 'grayscale' })
    expect(coarse.dataset.classNames).toEqual(CIFAR100_COARSE)
    expect(coarse.dataset.inputShape).toEqual([32, 32, 1])
    const c = loadDatasetCache(coarse.dataset.cachePath!)
    expect(Array.from(c.train.labels)).toEqual(Array.from(train.labels, (l) => l % 5))
  })

  it('CSV tabular (MNIST as CSV, BOM, CRLF, label column by name) and manifest', async () => {
    const csv = src('mnist.csv')
    writeFileSync(csv, mnistCsv(set, { bom: true, crlf: true }))
    const r = await imp(csv, { labelColumn: 'label' })
    expect(r.dataset.format).toBe('csv')
    expect(r.dataset.inputShape).toEqual([28, 28, 1])
    expect(r.dataset.counts).toMatchObject({ train: 96, test: 24 })
    const c = loadDatasetCache(r.dataset.cachePath!)
    const rows = new Set([...Array(set.n).keys()].map((i) => Buffer.from(digit(set, i)).toString('hex')))
    for (let i = 0; i < c.train.n; i++)
      expect(rows.has(Buffer.from(c.train.images.subarray(i * 784, (i + 1) * 784)).toString('hex'))).toBe(
        true,
      )

    const iris = src('iris.csv')
    writeFileSync(
      iris,
      'a,b,"c",species\n\n5.1,3.5,1.4,setosa\n4.9,3.0,1.4,setosa\n6.3,3.3,6.0,virginica\n5.8,2.7,5.1,virginica\n7.0,3.2,4.7,versicolor\n6.4,3.2,4.5,versicolor\n',
    )
    const t = await imp(iris, { testFraction: 0.2 })
    expect(t.dataset.inputShape).toEqual([1, 3, 1])
    expect(t.dataset.classNames).toEqual(['setosa', 'versicolor', 'virginica'])
    expect(t.dataset.counts).toMatchObject({ train: 5, test: 1 })

    const dir = src('manifest')
    mkdirSync(join(dir, 'img'), { recursive: true })
    const lines = ['path,label']
    for (let i = 0; i < 30; i++) {
      const png = await sharp(Buffer.from(digit(set, i)), { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toBuffer()
      writeFileSync(join(dir, 'img', `${i}.png`), png)
      lines.push(`img/${i}.png,digit-${set.labels[i]}`)
    }
    lines.push('../outside.png,digit-1', 'img/missing.png,digit-2')
    writeFileSync(join(dir, 'list.csv'), `${lines.join('\n')}\n`)
    const m = await imp(join(dir, 'list.csv'))
    expect(m.dataset.classNames).toEqual(['digit-0', 'digit-1', 'digit-2'])
    expect(m.dataset.counts.train + m.dataset.counts.test).toBe(30)
    expect(m.skipped.map((s) => s.file)).toEqual([
      expect.stringContaining('../outside.png'),
      expect.stringContaining('img/missing.png'),
    ])
  })

  it('bundled mnist-10k into a cache', async () => {
    const r = await imp('mnist-10k')
    expect(r.dataset.counts).toMatchObject({ train: 8000, test: 2000 })
    const d = await describeDataset({ store, paths, idOrName: String(r.dataset.id) })
    expect(d.preview.train.n).toBe(8000)
    expect(d.preview.classNames).toHaveLength(10)
    expect(d.preview.mean[0]).toBeGreaterThan(0.05)
    expect(existsSync(d.gridPath)).toBe(true)
    const meta = await sharp(d.gridPath).metadata()
    expect(meta.format).toBe('png')
  })
})

describe('duplicates, bad input, cancellation', () => {
  it('refuses the same source twice, naming the existing dataset', async () => {
    const dir = src('dup')
    writeIdx(dir, test, train)
    const first = await imp(dir, { name: 'dup-a' })
    const err = await imp(dir, { name: 'dup-b' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).code).toBe('conflict')
    expect((err as AppError).message).toContain(`dataset ${first.dataset.id} "dup-a"`)
  })

  it('skips bad files with reasons, and stops when nothing valid is left', async () => {
    const dir = src('hostile')
    await writeImageFolder(dir, digits(2), { splits: false, kinds: ['png'] })
    writeFileSync(join(dir, '3', 'empty.png'), '')
    writeFileSync(join(dir, '3', 'text.jpg'), 'this is not a jpeg')
    writeFileSync(join(dir, '3', 'notes.txt'), 'x')
    writeFileSync(join(dir, 'stray.png'), 'x')
    symlinkSync('/etc/passwd', join(dir, '3', 'passwd.png'))
    symlinkSync('..', join(dir, '3', 'loop'))
    symlinkSync(tmp.dir, join(dir, 'zz-outside'))
    execFileSync('mkfifo', [join(dir, '3', 'fifo.png')])
    const r = await imp(dir)
    const reasons = Object.fromEntries(r.skipped.map((s) => [s.file, s.reason]))
    expect(Object.keys(reasons).sort()).toEqual([
      '3/empty.png',
      '3/fifo.png',
      '3/loop',
      '3/notes.txt',
      '3/passwd.png',
      '3/text.jpg',
      'stray.png',
      'zz-outside',
    ])
    expect(reasons['3/passwd.png']).toContain('outside the import folder')
    expect(reasons['3/fifo.png']).toContain('not a regular file')
    expect(reasons['3/text.jpg']).toContain('not a PNG, JPEG')
    expect(r.dataset.counts.train + r.dataset.counts.test).toBe(20)
    expect((r.dataset.counts as unknown as ImportedCounts).skipped).toBe(8)

    const bad = src('all-bad')
    mkdirSync(join(bad, 'a'), { recursive: true })
    writeFileSync(join(bad, 'a', 'x.png'), 'nope')
    const before = cacheFiles()
    const err = await imp(bad).catch((e: unknown) => e)
    expect((err as AppError).code).toBe('bad_dataset')
    expect((err as AppError).message).toContain(bad)
    expect(cacheFiles()).toEqual(before)
  })

  it('a FIFO given as the source is refused, not read', async () => {
    const fifo = src('pipe.csv')
    execFileSync('mkfifo', [fifo])
    const err = await imp(fifo).catch((e: unknown) => e)
    expect((err as AppError).code).toBe('bad_dataset')
    expect((err as AppError).message).toContain('not a regular file')
  })

  it('CSV errors name the line', async () => {
    const cases: [string, RegExp][] = [
      ['a,b,label\n1,2,x\n3,4\n', /line 3/],
      ['a,b,label\n1,2,x\n3,oops,y\n', /line 3: column "b" is "oops", expected a number/],
      ['a,b,label\n1,2,x\n\n1e999,2,y\n', /line 4: column "a" is 1e999, expected a finite number/],
      ['a,b,label\n1,2,x\n3,0x10,y\n', /line 3: column "b" is "0x10"/],
      ['a,b,label\n1,2,x\n3,"4\n', /line 3/],
    ]
    for (const [text, re] of cases) {
      const f = src(`bad-${Math.random().toString(36).slice(2)}.csv`)
      writeFileSync(f, text)
      const err = await imp(f).catch((e: unknown) => e)
      expect((err as AppError).code).toBe('bad_dataset')
      expect((err as AppError).message).toContain(f)
      expect((err as AppError).message).toMatch(re)
    }
  })

  it('a cancelled import leaves no record and no files', async () => {
    const dir = src('cancel')
    await writeImageFolder(dir, digits(6), { splits: false, kinds: ['png'] })
    const before = { files: cacheFiles(), records: store.datasets.list().length }
    const ac = new AbortController()
    const err = await importDataset({
      store,
      paths,
      source: dir,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase === 'importing' && p.done >= 8) ac.abort()
      },
    }).catch((e: unknown) => e)
    expect((err as AppError).code).toBe('cancelled')
    expect(cacheFiles()).toEqual(before.files)
    expect(store.datasets.list()).toHaveLength(before.records)
  })
})
