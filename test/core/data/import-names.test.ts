/**
 * Issue 11's import boundaries: a file name that is not valid UTF-8 is skipped with its bytes shown
 * (it used to abort the whole import with a misleading ENOENT), and a folder in which every image
 * is refused says why, file by file.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
  tmp = tempHome('tfkd-import-names-')
  paths = dataPaths(join(tmp.dir, 'home'))
  store = createStore(openDatabase(paths.database))
})
afterAll(() => {
  store.close()
  tmp.cleanup()
})

/** A file whose name has raw bytes (Buffer paths reach the file system unchanged). */
function writeRawName(dir: string, nameBytes: Buffer, data: Uint8Array): void {
  writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), nameBytes]), data)
}

describe('import: file names and refusal reasons', () => {
  it('skips a file name that is not valid UTF-8, showing its bytes, and imports the rest', async () => {
    const set = digits(2)
    const root = join(tmp.dir, 'bad-names')
    for (let i = 0; i < set.n; i++) {
      const cls = join(root, String(set.labels[i]))
      mkdirSync(cls, { recursive: true })
      writeFileSync(join(cls, `${i}.png`), await encodeDigit(digit(set, i), 'png'))
    }
    // "caf\xe9.png" in Latin-1: \xe9 alone is not UTF-8.
    writeRawName(
      join(root, '3'),
      Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x70, 0x6e, 0x67]),
      await encodeDigit(digit(set, 0), 'png'),
    )
    // A class folder with such a name too: left out, reported.
    const badDir = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x78, 0xff])])
    mkdirSync(badDir)
    const r = await importDataset({ store, paths, source: root, options: { name: 'bad-names' } })
    expect(r.dataset.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(r.dataset.counts.train + r.dataset.counts.test).toBe(set.n)
    const reasons = r.skipped.map((s) => `${s.file}: ${s.reason}`)
    expect(reasons).toContain(
      '3/caf\\xe9.png: file name is not valid UTF-8; skipped (rename it to import it)',
    )
    expect(reasons).toContain('x\\xff: file name is not valid UTF-8; skipped (rename it to import it)')
  })

  it('a folder whose every image is refused lists the reason of each file', async () => {
    const root = join(tmp.dir, 'all-bad')
    mkdirSync(join(root, 'a'), { recursive: true })
    mkdirSync(join(root, 'b'), { recursive: true })
    writeFileSync(join(root, 'a', 'empty.png'), Buffer.alloc(0))
    writeFileSync(join(root, 'b', 'text.jpg'), 'this is not a JPEG')
    const err = await importDataset({ store, paths, source: root, options: { name: 'all-bad' } }).catch(
      (e: unknown) => e as Error,
    )
    expect(err).toBeInstanceOf(Error)
    const msg = (err as Error).message
    expect(msg).toMatch(/none of the first 2 image files could be read or decoded/)
    expect(msg).toMatch(/a\/empty\.png: .+/)
    expect(msg).toMatch(/b\/text\.jpg: .+/)
  })
})
