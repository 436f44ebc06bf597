/**
 * Issue 25 item 7: storage errors name the path, the cause (read-only, full, damaged) and the way
 * out, and the web host answers the same code and message as the CLI for the same failure. Real
 * parts only: a read-only tmpfs, small tmpfs mounts that fill up (an import, an upload), a damaged database file, the real
 * `tfkd` process and the real web host over HTTP.
 *
 * The mounts need root; where that is impossible the mount cases say so and skip (CI runs as root).
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { createAppCore } from '../../src/core/app/app-core'
import { createForkSpawner } from '../../src/core/services/fork-trainer'
import { startWebServer } from '../../src/server/index'
import type { SerializedAppError } from '../../src/shared/errors'
import { CLI_ENTRY, requireBuiltTrainer, ROOT, tempHome } from '../helpers'

const TOKEN = 'storage-messages-token-0123456789'
const tmp = tempHome('tfkd-storage-msg-')
const mounts: string[] = []
afterAll(() => {
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m])
  tmp.cleanup()
})

function mountTmpfs(dir: string, options: string): boolean {
  if (process.getuid?.() !== 0) return false
  mkdirSync(dir, { recursive: true })
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]).status === 0
  if (ok) mounts.push(dir)
  return ok
}

function tfkd(home: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    env: { ...process.env, TFKD_HOME: home },
    encoding: 'utf8',
    timeout: 120_000,
    cwd: ROOT,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** The CLI's one error line, without the `tfkd: ` prefix. */
function cliError(err: string): string {
  const line = err.split('\n').find((l) => l.startsWith('tfkd: '))
  expect(line, err).toBeDefined()
  return line!.slice('tfkd: '.length)
}

/** One invoke through a real web host over HTTP, on the data folder `home`; its error. */
async function webError(home: string, channel: string, input: unknown): Promise<SerializedAppError> {
  const core = createAppCore({
    dataHome: home,
    host: 'web',
    spawnTrainer: createForkSpawner(requireBuiltTrainer(), { silent: true }),
  })
  const server = await startWebServer({ core, staticDir: join(home, 'static'), token: TOKEN })
  try {
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: `/api/invoke/${channel}`,
          headers: { 'content-type': 'application/json', 'x-tfkd-token': TOKEN },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve(Buffer.concat(chunks).toString()))
        },
      )
      req.on('error', reject)
      req.end(JSON.stringify(input))
    })
    const envelope = JSON.parse(text) as { ok: boolean; error?: SerializedAppError }
    expect(envelope.ok, text).toBe(false)
    return envelope.error!
  } finally {
    await server.close()
    await core.close()
  }
}

const webImport = (home: string, path: string) =>
  webError(home, 'datasets:import', { path, jobId: 'storage-1' })

/** A CSV of `rows` rows of 64 features and a label (the last column): two classes. */
function csv(file: string, rows: number): string {
  const lines = [[...Array.from({ length: 64 }, (_, i) => `f${i}`), 'label'].join(',')]
  for (let r = 0; r < rows; r++) {
    const features = Array.from({ length: 64 }, (_, i) => (r * 7 + i) % 97)
    lines.push([...features, r % 2 ? 'odd' : 'even'].join(','))
  }
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}

describe('a damaged run database', () => {
  it('names the file and how to recover, deletes nothing; serve says the same', () => {
    const home = join(tmp.dir, 'damaged')
    mkdirSync(home)
    const db = join(home, 'tfkd.sqlite')
    const junk = Buffer.alloc(8192, 0x5a)
    writeFileSync(db, junk)
    const r = tfkd(home, ['runs'])
    expect(r.code).toBe(1)
    const message = cliError(r.err)
    expect(message).toMatch(
      new RegExp(
        `^cannot open the run database ${db}: the file is damaged \\(not a readable SQLite database\\)`,
      ),
    )
    expect(message).toContain(`move it aside (mv "${db}" "${db}.damaged"; do not delete it)`)
    expect(message).not.toMatch(/showing a read-only copy/)
    expect(readFileSync(db).equals(junk)).toBe(true)
    // The web host (and so the app) refuses to start with the same words.
    const serve = tfkd(home, ['serve', '--port', '0'])
    expect(serve.code).toBe(1)
    expect(cliError(serve.err)).toBe(message)
  })
})

const roDir = join(tmp.dir, 'ro')
const haveRo = mountTmpfs(roDir, 'size=1m,ro')
const roHome = join(tmp.dir, 'ro-home')
const haveRoHome = haveRo && mountTmpfs(roHome, 'size=16m')
if (!haveRoHome) console.warn('skipping the read-only cases: mounting a tmpfs needs root (mount -t tmpfs)')

describe.skipIf(!haveRoHome)('a read-only mount', () => {
  it('a data folder to create on it: read-only, not "ENOENT ... mkdir"', () => {
    const home = join(roDir, 'tfkd-home')
    const r = tfkd(home, ['runs'])
    expect(r.code).toBe(1)
    const message = cliError(r.err)
    expect(message).not.toMatch(/ENOENT/)
    expect(message).toMatch(
      new RegExp(
        `^cannot create the data folder ${home}: it is on a read-only file system: remount it writable, or set TFKD_HOME`,
      ),
    )
  })

  it('datasets import into a read-only data folder: CLI and web host give the same code and message', async () => {
    expect(tfkd(roHome, ['runs']).code).toBe(0)
    expect(spawnSync('mount', ['-o', 'remount,ro', roHome]).status).toBe(0)
    const source = csv(join(tmp.dir, 'small.csv'), 40)
    const r = tfkd(roHome, ['datasets', 'import', source])
    expect(r.code).toBe(1)
    const message = cliError(r.err)
    expect(message).toMatch(
      new RegExp(
        `^cannot write the dataset cache in ${join(roHome, 'datasets')}: it is on a read-only file system`,
      ),
    )
    expect(message).not.toMatch(/^EROFS/)
    expect(await webImport(roHome, source)).toEqual({ code: 'storage', message })
  })
})

const fullHome = join(tmp.dir, 'full')
const haveFull = mountTmpfs(fullHome, 'size=512k')
if (!haveFull)
  console.warn('skipping the full-disk import: mounting a 512 KB tmpfs needs root (mount -t tmpfs)')

describe.skipIf(!haveFull)('a full disk during an import (512 KB tmpfs)', () => {
  it('the web host answers `storage` naming the folder, as the CLI does (not `internal`)', async () => {
    expect(tfkd(fullHome, ['runs']).code).toBe(0)
    const source = csv(join(tmp.dir, 'big.csv'), 10_000)
    const web = await webImport(fullHome, source)
    expect(web.code).toBe('storage')
    expect(web.message).toMatch(
      new RegExp(
        `^cannot write the dataset cache in ${join(fullHome, 'datasets')}: no space left on the disk holding it: free some space`,
      ),
    )
    const r = tfkd(fullHome, ['datasets', 'import', source])
    expect(r.code).toBe(1)
    expect(cliError(r.err)).toBe(web.message)
  }, 60_000)
})

const exportHome = join(tmp.dir, 'export-home')
const exportsRo = join(exportHome, 'exports')
const haveExportsRo = mountTmpfs(exportsRo, 'size=1m,ro')
if (!haveExportsRo)
  console.warn('skipping the export-model case: mounting a tmpfs needs root (mount -t tmpfs)')

describe.skipIf(!haveExportsRo)('export-model to a read-only folder', () => {
  it('names the folder and the cause (not a raw EROFS), the same from the CLI and the web host', async () => {
    requireBuiltTrainer()
    const run = tfkd(exportHome, [
      'run',
      '--model',
      'mlp',
      '--epochs',
      '1',
      '--max-train',
      '128',
      '--no-progress',
    ])
    expect(run.code, run.err).toBe(0)
    const r = tfkd(exportHome, ['export-model', '1', '--format', 'onnx'])
    expect(r.code, r.err).toBe(1)
    const message = cliError(r.err)
    expect(message).toMatch(
      new RegExp(
        `^cannot write the export to ${join(exportsRo, 'run-1-best-onnx')}: it is on a read-only file system: remount it writable`,
      ),
    )
    expect(await webError(exportHome, 'exports:model', { runId: 1, format: 'onnx' })).toEqual({
      code: 'storage',
      message,
    })
    // A folder the user chose (--out): the way out is another folder.
    const out = join(roDir, 'mine')
    const mine = tfkd(exportHome, ['export-model', '1', '--format', 'onnx', '--out', out])
    expect(mine.code).toBe(1)
    expect(cliError(mine.err)).toMatch(
      new RegExp(
        `^cannot write the export to ${out}: it is on a read-only file system: choose another output folder`,
      ),
    )
  }, 120_000)
})

const uploadHome = join(tmp.dir, 'upload-home')
const uploadsFull = join(uploadHome, 'uploads')
const haveUploadsFull = mountTmpfs(uploadsFull, 'size=1m')
if (!haveUploadsFull)
  console.warn('skipping the full-disk upload: mounting a tmpfs needs root (mount -t tmpfs)')

/** POSTs an archive to /api/upload; the status and the error. */
function upload(port: number, body: Buffer): Promise<{ status: number; error?: SerializedAppError }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/upload?name=set.zip',
        agent: false,
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(body.length),
          'x-tfkd-token': TOKEN,
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const json = JSON.parse(Buffer.concat(chunks).toString()) as { error?: SerializedAppError }
          resolve({ status: res.statusCode ?? 0, error: json.error })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** A zip of `n` stored (uncompressed) entries of random bytes: its size is what it unpacks to. */
function storedZip(n: number, size: number): Promise<Buffer> {
  const z = new yazl.ZipFile()
  for (let i = 0; i < n; i++) z.addBuffer(randomBytes(size), `set/c${i % 2}/${i}.bin`, { compress: false })
  z.end()
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    z.outputStream.on('data', (c: Buffer) => chunks.push(c))
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
    z.outputStream.on('error', reject)
  })
}

describe.skipIf(!haveUploadsFull)('an upload onto a full disk (1 MB tmpfs)', () => {
  it('answers 507 `storage` naming the uploads folder, mid-upload and mid-extraction, leaving nothing', async () => {
    const core = createAppCore({
      dataHome: uploadHome,
      host: 'web',
      spawnTrainer: () => {
        throw new Error('no training in this test')
      },
    })
    const server = await startWebServer({
      core,
      staticDir: join(uploadHome, 'static'),
      token: TOKEN,
      upload: { dir: uploadsFull },
    })
    try {
      const expected = new RegExp(
        `^cannot store the upload in ${uploadsFull}: no space left on the disk holding it: free some space`,
      )
      // 2 MB: the disk fills while the archive arrives.
      const big = await upload(server.port, await storedZip(8, 256 * 1024))
      expect(big.status, JSON.stringify(big)).toBe(507)
      expect(big.error?.code).toBe('storage')
      expect(big.error?.message).toMatch(expected)
      expect(readdirSync(uploadsFull)).toEqual([])
      // 640 KB: it arrives, and the disk fills while it unpacks.
      const unpack = await upload(server.port, await storedZip(10, 64 * 1024))
      expect(unpack.status, JSON.stringify(unpack)).toBe(507)
      expect(unpack.error).toMatchObject({ code: 'storage' })
      expect(unpack.error?.message).toMatch(expected)
      expect(readdirSync(uploadsFull)).toEqual([])
    } finally {
      await server.close()
      await core.close()
    }
  }, 60_000)
})
