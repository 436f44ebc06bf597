/** `tfkd datasets import --on-bad-rows error|skip` for a CSV with bad rows, through the real command. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '../../src/shared/errors'
import { tempHome } from '../helpers'
import { datasetCommandsOn } from '../support/cli'

let tmp: ReturnType<typeof tempHome>

beforeAll(() => {
  tmp = tempHome('tfkd-cli-badrows-')
})
afterAll(() => tmp.cleanup())

const tfkd = (...args: string[]) => datasetCommandsOn(join(tmp.dir, 'home'))(...args)

describe('tfkd datasets import --on-bad-rows', () => {
  it('refuses a ragged CSV by default naming the flag, imports the rest with skip and lists the lines', async () => {
    const csv = join(tmp.dir, 'ragged.csv')
    const rows = ['a,b,c,d,species']
    for (let i = 0; i < 30; i++) rows.push(`${i % 5},${(i * 2) % 7},${i % 3},${i % 4},${i % 3 ? 'x' : 'y'}`)
    rows.splice(6, 0, '1,2,3,y')
    rows.splice(12, 0, '1,2,oops,4,x')
    writeFileSync(csv, `${rows.join('\n')}\n`)

    const refused = await tfkd('datasets', 'import', csv, '--no-progress').catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(AppError)
    expect((refused as AppError).message).toBe(
      `${csv}: line 7: expected 5 fields (as the header has), found 4; to import the other rows, choose skip for bad rows (--on-bad-rows)`,
    )

    const bad = await tfkd('datasets', 'import', csv, '--on-bad-rows', 'maybe', '--no-progress').catch(
      (e: unknown) => e,
    )
    expect(String((bad as Error).message)).toMatch(
      /argument 'maybe' is invalid. Allowed choices are error, skip/,
    )

    const ok = await tfkd(
      'datasets',
      'import',
      csv,
      '--on-bad-rows',
      'skip',
      '--label',
      'species',
      '--no-progress',
    )
    expect(ok.out).toMatch(/dataset \d+ "ragged" \(csv\): 2x2x1, 2 classes, train 24, test 6/)
    expect(ok.err).toContain('skipped 2 (files, or CSV rows by line):')
    expect(ok.err).toContain(`${csv}: line 7: expected 5 fields (as the header has), found 4`)
    expect(ok.err).toContain(`${csv}: line 13: column "c" is "oops", expected a number`)
    expect(ok.err).toContain('note: 2 bad rows skipped')
  })
})
