/**
 * Issue 25 item 8: a CSV that is not valid UTF-8 throughout is refused naming the first bad line and
 * byte offset, unless its encoding is given (`tfkd datasets import --encoding latin1`, and the same
 * `encoding` field of datasets:import for the app and the web host). Before, a file mixing UTF-8
 * `café` and Latin-1 `caf\xe9` imported silently as two classes, `café` and `caf\ufffd`.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { registerDatasetCommands } from '../../src/cli/datasets'
import { createAppCore } from '../../src/core/app/app-core'
import { firstInvalidUtf8 } from '../../src/core/data/importers/text-decode'
import { AppError } from '../../src/shared/errors'
import { tempHome } from '../helpers'

let tmp: ReturnType<typeof tempHome>
beforeAll(() => {
  tmp = tempHome('tfkd-cli-encoding-')
})
afterAll(() => tmp.cleanup())

const core = () =>
  createAppCore({
    dataHome: join(tmp.dir, 'home'),
    host: 'cli',
    spawnTrainer: () => {
      throw new Error('no trainer in this test')
    },
  })

async function tfkd(...args: string[]): Promise<{ out: string; err: string }> {
  const program = new Command('tfkd').exitOverride()
  registerDatasetCommands(program, core)
  let out = ''
  let err = ''
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true))
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true))
  try {
    await program.parseAsync(['node', 'tfkd', ...args])
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
  return { out, err }
}

function file(name: string, bytes: Buffer): string {
  const p = join(tmp.dir, name)
  writeFileSync(p, bytes)
  return p
}

const utf8Cafe = Buffer.from('café', 'utf8')
const latin1Cafe = Buffer.from('café', 'latin1')

/** x,y,label with `café` in UTF-8 on lines 2 and 6 and in Latin-1 on line 4. */
function mixed(): Buffer {
  const l = (s: string) => Buffer.from(s, 'latin1')
  return Buffer.concat([
    l('x,y,label\n1,2,'),
    utf8Cafe,
    l('\n3,4,tea\n5,6,'),
    latin1Cafe,
    l('\n7,8,tea\n1,3,'),
    utf8Cafe,
    l('\n2,4,tea\n'),
  ])
}

describe('CSV text encoding', () => {
  it('a file mixing UTF-8 and Latin-1 is refused naming the first bad line and byte offset', async () => {
    const bytes = mixed()
    const path = file('mixed.csv', bytes)
    const offset = bytes.indexOf(latin1Cafe) + 3
    const err = await tfkd('datasets', 'import', path, '--json').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppError)
    expect((err as AppError).code).toBe('bad_dataset')
    expect((err as AppError).message).toBe(
      `${path}: line 4: byte offset ${offset} is not valid UTF-8 (the file is in another encoding, or mixes two); ` +
        'give its encoding (--encoding), e.g. latin1 for ISO-8859-1, or save it as UTF-8',
    )
    // The app and the web host (datasets:import) refuse it the same way, naming the setting by its words.
    const c = core()
    const r = await c.dispatch('datasets:import', { path, jobId: 'enc-1' })
    await c.close()
    expect(r.ok).toBe(false)
    expect((r as { error: { message: string } }).error.message).toContain(
      `line 4: byte offset ${offset} is not valid UTF-8`,
    )
  })

  it('with --encoding latin1 every byte is one character: the classes are named as Latin-1 reads them', async () => {
    const latin = file(
      'latin.csv',
      Buffer.from('x,y,label\n1,2,café\n3,4,tea\n5,6,café\n7,8,tea\n', 'latin1'),
    )
    const { out } = await tfkd('datasets', 'import', latin, '--encoding', 'latin1', '--json')
    expect(JSON.parse(out).classNames).toEqual(['café', 'tea'])
    // The mixed file: its UTF-8 bytes read as Latin-1 are two characters (Ã©), as the user asked.
    const { out: mixedOut } = await tfkd(
      'datasets',
      'import',
      file('mixed2.csv', mixed()),
      '--encoding',
      'latin1',
      '--json',
    )
    expect(JSON.parse(mixedOut).classNames.sort()).toEqual(['cafÃ©', 'café', 'tea'])
    // The same through datasets:import (the app's and the web host's import).
    const c = core()
    const r = await c.dispatch('datasets:import', {
      path: file('latin-web.csv', Buffer.from('x,y,label\n1,2,thé\n3,4,tea\n5,6,thé\n7,8,tea\n', 'latin1')),
      jobId: 'enc-2',
      encoding: 'latin1',
    })
    await c.close()
    expect(r.ok, JSON.stringify(r)).toBe(true)
    expect((r as { value: { dataset: { classNames: string[] } } }).value.dataset.classNames).toEqual([
      'tea',
      'thé',
    ])
  })

  it('valid UTF-8 imports as before, also with a character cut across read chunks (256 KiB)', async () => {
    // A long header so that the 2-byte é of the first label straddles the first chunk boundary.
    const head = `x,y,${'l'.repeat(256 * 1024 - 10)}\n`
    const body = Buffer.from(`${head}1,2,\u00e9t\u00e9\n3,4,tea\n5,6,\u00e9t\u00e9\n7,8,tea\n`, 'utf8')
    expect(body[256 * 1024 - 1]).toBe(0xc3) // the lead byte is the last of the first chunk
    const { out } = await tfkd('datasets', 'import', file('chunked.csv', body), '--json')
    expect(JSON.parse(out).classNames).toEqual(['été', 'tea'])
  })

  it('the validator: overlongs, surrogates and cut sequences are invalid; the rest is not', () => {
    expect(firstInvalidUtf8(Buffer.from('abc é € 𝄞', 'utf8'))).toBe(-1)
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80]))).toBe(1) // overlong NUL
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0) // a surrogate
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xe2, 0x82]))).toBe(2) // cut by the end
    expect(firstInvalidUtf8(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]))).toBe(3) // Latin-1 é
  })
})
