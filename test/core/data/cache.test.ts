import { existsSync, readdirSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { channelStats } from '../../../src/core/data/arrays'
import { createCacheWriter, loadDatasetCache, readCacheHeader } from '../../../src/core/data/cache'
import { IMPORTERS, DEFAULT_LIMITS } from '../../../src/core/data/importers/index'
import { tempHome } from '../../helpers'

let tmp: ReturnType<typeof tempHome>
beforeAll(() => {
  tmp = tempHome('tfkd-cache-')
})
afterAll(() => tmp.cleanup())

const sample = fc
  .record({ h: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 1, max: 5 }), c: fc.constantFrom(1, 3) })
  .chain(({ h, w, c }) =>
    fc.record({
      shape: fc.constant([h, w, c] as [number, number, number]),
      classes: fc.integer({ min: 1, max: 4 }),
      rows: fc.array(
        fc.record({
          test: fc.boolean(),
          label: fc.nat(3),
          px: fc.uint8Array({ minLength: h * w * c, maxLength: h * w * c }),
        }),
        { minLength: 1, maxLength: 30 },
      ),
    }),
  )

describe('dataset cache', () => {
  it('round-trips any samples exactly, with class counts and train stats (property)', async () => {
    let k = 0
    await fc.assert(
      fc.asyncProperty(sample, async ({ shape, classes, rows }) => {
        const dir = join(tmp.dir, `prop-${k++}`)
        const w = await createCacheWriter(dir)
        await w.begin({ shape })
        for (const r of rows) await w.add(r.test ? 'test' : 'train', r.px, r.label % classes)
        const names = Array.from({ length: classes }, (_, i) => `c${i}`)
        const { path, header } = await w.finish({ classNames: names, fileName: 'd.tfkd' })
        const c = loadDatasetCache(path)
        expect(c.classNames).toEqual(names)
        for (const split of ['train', 'test'] as const) {
          const want = rows.filter((r) => r.test === (split === 'test'))
          const set = c[split]
          expect(set.n).toBe(want.length)
          expect(set.shape).toEqual(shape)
          const size = shape[0] * shape[1] * shape[2]
          want.forEach((r, i) => {
            expect(Array.from(set.images.subarray(i * size, (i + 1) * size))).toEqual(Array.from(r.px))
            expect(set.labels[i]).toBe(r.label % classes)
          })
          const counts = names.map((_, ci) => want.filter((r) => r.label % classes === ci).length)
          expect(header.splits[split].classCounts).toEqual(counts)
        }
        if (c.train.n > 0) {
          const s = channelStats(c.train)
          header.mean.forEach((m, i) => expect(m).toBeCloseTo(s.mean[i]!, 6))
        }
        expect(readdirSync(dir)).toEqual(['d.tfkd'])
      }),
      { numRuns: 60 },
    )
  })

  it('abort removes every temp file; a truncated or foreign file is refused by name', async () => {
    const dir = join(tmp.dir, 'abort')
    const w = await createCacheWriter(dir)
    await w.begin({ shape: [2, 2, 1] })
    for (let i = 0; i < 10; i++) await w.add('train', new Uint8Array(4).fill(i), 0)
    await w.abort()
    expect(readdirSync(dir)).toEqual([])

    const w2 = await createCacheWriter(dir)
    await w2.begin({ shape: [2, 2, 1] })
    for (let i = 0; i < 10; i++) await w2.add('train', new Uint8Array(4).fill(i), 0)
    const { path, header } = await w2.finish({ classNames: ['a'], fileName: 't.tfkd' })
    truncateSync(path, header.splits.train.labelsOffset + 8)
    expect(() => loadDatasetCache(path)).toThrow(path)
    const foreign = join(dir, 'foreign.tfkd')
    writeFileSync(foreign, 'hello world, not a cache')
    expect(() => readCacheHeader(foreign)).toThrow(/not a tfkd dataset cache/)
    await expect(w2.add('train', new Uint8Array(3), 0)).rejects.toThrow(/expected 4/)
  })

  it('a CSV of byte values imports exactly (property)', async () => {
    let k = 0
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }).chain((f) =>
          fc.array(
            fc.tuple(
              fc.array(fc.integer({ min: 0, max: 255 }), { minLength: f, maxLength: f }),
              fc.constantFrom('a', 'b', 'c'),
            ),
            {
              minLength: 2,
              maxLength: 40,
            },
          ),
        ),
        async (table) => {
          const f = join(tmp.dir, `t${k++}.csv`)
          writeFileSync(f, table.map(([v, l]) => `${v.join(',')},${l}`).join('\n'))
          const got: string[] = []
          let classNames: string[] = []
          const r = await IMPORTERS.csv.run(
            f,
            { testFraction: 0.25, seed: 3, limits: DEFAULT_LIMITS },
            {
              signal: new AbortController().signal,
              onProgress() {},
              skip() {},
              sink: {
                async begin() {},
                async add(_split, px, label) {
                  got.push(`${Array.from(px).join(',')}|${label}`)
                },
              },
            },
          )
          classNames = r.classNames
          const want = table.map(([v, l]) => `${v.join(',')}|${classNames.indexOf(l)}`)
          expect(got.sort()).toEqual(want.sort())
        },
      ),
      { numRuns: 60 },
    )
    expect(existsSync(tmp.dir)).toBe(true)
  })
})
