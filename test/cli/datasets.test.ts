import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '../../src/shared/errors'
import { tempHome } from '../helpers'
import { digits, writeIdx, writeImageFolder } from '../core/data/fixtures'
import { datasetCommandsOn } from '../support/cli'

let tmp: ReturnType<typeof tempHome>

beforeAll(() => {
  tmp = tempHome('tfkd-cli-ds-')
})
afterAll(() => tmp.cleanup())

const tfkd = (...args: string[]) => datasetCommandsOn(join(tmp.dir, 'home'))(...args)

describe('tfkd datasets', () => {
  it('imports, lists and shows', async () => {
    const set = digits(10)
    const dir = join(tmp.dir, 'digits')
    await writeImageFolder(dir, set, { kinds: ['png'] })
    const imp = await tfkd(
      'datasets',
      'import',
      dir,
      '--name',
      'digits',
      '--size',
      '14x14',
      '--rgb',
      '--no-progress',
    )
    expect(imp.out).toMatch(/dataset \d+ "digits" \(image-folder\): 14x14x3, 10 classes, train 80, test 20/)

    const list = await tfkd('datasets', 'list')
    expect(list.out).toContain('mnist-10k')
    expect(list.out).toMatch(/digits\s+image-folder\s+14x14x3\s+10\s+80\s+20/)

    const show = await tfkd('datasets', 'show', 'digits')
    expect(show.out).toContain('shape 14x14x3')
    expect(show.out).toContain('imbalance (largest / smallest class): train 1.00, test 1.00')
    expect(show.out).toMatch(/per-channel mean [\d.]+, [\d.]+, [\d.]+; std/)
    const grid = /sample grid: (.+\.png)/.exec(show.out)?.[1]
    expect(grid && existsSync(grid)).toBe(true)

    const bundled = await tfkd('datasets', 'show', 'mnist-10k')
    expect(bundled.out).toContain('train 8000')
  })

  it('reports a duplicate and a bad source as errors naming them', async () => {
    const dir = join(tmp.dir, 'idx')
    const set = digits(3)
    writeIdx(dir, set, set)
    await tfkd('datasets', 'import', dir, '--no-progress')
    const dup = await tfkd('datasets', 'import', dir, '--no-progress').catch((e: unknown) => e)
    expect(dup).toBeInstanceOf(AppError)
    expect((dup as AppError).message).toMatch(/already imported with the same settings as dataset \d+ "idx"/)
    const missing = await tfkd('datasets', 'import', join(tmp.dir, 'nope'), '--no-progress').catch(
      (e: unknown) => e,
    )
    expect((missing as AppError).message).toContain('nope: not found')
  })
})
