/**
 * What a killed process left in the data folder (src/core/services/leftovers.ts): removed when its
 * writer is gone, kept while it lives; import folders of an older build (no pid in the name) only
 * once they are an hour old. Real files in a temp folder; `isAlive` stands in for the process table.
 */
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { dataPaths } from '../../src/core/paths'
import { describeLeftovers, sweepLeftovers } from '../../src/core/services/leftovers'
import { tempHome } from '../helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

function home() {
  const h = tempHome('tfkd-leftovers-')
  cleanup = h.cleanup
  const paths = dataPaths(h.dir)
  for (const d of [paths.datasets, join(paths.checkpoints, '3'), paths.teachers, paths.exports]) {
    mkdirSync(d, { recursive: true })
  }
  return paths
}

describe('leftovers sweep', () => {
  it('removes the files of writers that are gone, keeps those of live writers and complete files', () => {
    const paths = home()
    const alive = (pid: number) => pid === 200
    const put = (p: string, bytes: number) => writeFileSync(p, Buffer.alloc(bytes))
    mkdirSync(join(paths.datasets, '.import-100-aaaaaa'))
    put(join(paths.datasets, '.import-100-aaaaaa', 'train.images'), 1536)
    mkdirSync(join(paths.datasets, '.import-200-bbbbbb'))
    put(join(paths.checkpoints, '3', 'epoch-0001.tfkd.tmp-100'), 10)
    put(join(paths.checkpoints, '3', 'epoch-0002.tfkd.tmp-200'), 10)
    put(join(paths.checkpoints, '3', 'epoch-0001.tfkd'), 10)
    put(join(paths.teachers, 'abc.onnx.tmp-100'), 5)
    put(join(paths.datasets, '7.cache'), 5)

    const gone = sweepLeftovers(paths, { isAlive: alive })
    expect(gone.map((g) => g.path).sort()).toEqual(
      [
        join(paths.checkpoints, '3', 'epoch-0001.tfkd.tmp-100'),
        join(paths.datasets, '.import-100-aaaaaa'),
        join(paths.teachers, 'abc.onnx.tmp-100'),
      ].sort(),
    )
    expect(gone.find((g) => g.path.endsWith('aaaaaa'))!.bytes).toBe(1536)
    for (const kept of [
      join(paths.datasets, '.import-200-bbbbbb'),
      join(paths.checkpoints, '3', 'epoch-0002.tfkd.tmp-200'),
      join(paths.checkpoints, '3', 'epoch-0001.tfkd'),
      join(paths.datasets, '7.cache'),
    ]) {
      expect(existsSync(kept), kept).toBe(true)
    }
    expect(describeLeftovers(paths.home, gone)).toMatch(
      /^removed what a killed tfkd process left in .* \(1\.5 kB\): .*datasets\/\.import-100-aaaaaa \(1\.5 kB\)/,
    )
  })

  it('an import folder named without a pid goes only once it is an hour old', () => {
    const paths = home()
    const young = join(paths.datasets, '.import-Young1')
    const old = join(paths.datasets, '.import-Old123')
    mkdirSync(young)
    mkdirSync(old)
    const now = Date.now()
    utimesSync(old, (now - 2 * 3_600_000) / 1000, (now - 2 * 3_600_000) / 1000)
    const gone = sweepLeftovers(paths, { isAlive: () => false, now })
    expect(gone.map((g) => g.path)).toEqual([old])
    expect(existsSync(young)).toBe(true)
  })

  it('a data folder that does not exist yet has nothing to sweep', () => {
    const paths = dataPaths(join(home().home, 'not-there'))
    expect(sweepLeftovers(paths)).toEqual([])
  })
})
