/**
 * The web host's dataset upload: a real server and core, real archives (zip by yazl, tar by
 * tar-stream) of real PNGs, uploaded over HTTP, extracted and imported. Hostile archives (path
 * traversal, symlinks, bombs, too large, not an archive) are refused with a clear message and leave
 * nothing behind.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import sharp from 'sharp'
import tar from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { unsafeEntryName } from '../../src/core/data/archive-extract'
import { createAppCore, type AppCore } from '../../src/core/app/app-core'
import { startWebServer, type WebServer } from '../../src/server/index'
import { uploadBaseName } from '../../src/server/upload'

const TOKEN = 'upload-test-token-0123456789'

function post(
  port: number,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{
  status: number
  json: { ok: boolean; value?: Record<string, unknown>; error?: { message: string } }
}> {
  const all: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-length': String(body.length),
    'x-tfkd-token': TOKEN,
    ...headers,
  }
  // An empty value drops the header (a chunked body has no Content-Length).
  for (const [k, v] of Object.entries(all)) if (v === '') delete all[k]
  return new Promise((resolve, reject) => {
    // A fresh connection each time: a kept-alive one the server closes while the next archive is
    // built (its keep-alive timeout is 5 s) would reset the next request.
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path, headers: all, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString()
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} })
        })
      },
    )
    // The server may answer (413) and close before the body is sent: that is the point.
    req.on('error', (err) => reject(err))
    req.end(body)
  })
}

async function png(value: number): Promise<Buffer> {
  return sharp(Buffer.alloc(8 * 8, value), { raw: { width: 8, height: 8, channels: 1 } })
    .png()
    .toBuffer()
}

function zip(entries: { name: string; data?: Buffer; mode?: number; compress?: boolean }[]): Promise<Buffer> {
  const z = new yazl.ZipFile()
  for (const e of entries) {
    if (e.data === undefined) z.addEmptyDirectory(e.name)
    else z.addBuffer(e.data, e.name, { mode: e.mode, compress: e.compress ?? true })
  }
  z.end()
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    z.outputStream.on('data', (c: Buffer) => chunks.push(c))
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
    z.outputStream.on('error', reject)
  })
}

/** Renames an entry in both zip headers (same length), to make names yazl itself refuses. */
function renameInZip(buf: Buffer, from: string, to: string): Buffer {
  expect(to.length).toBe(from.length)
  const out = Buffer.from(buf)
  let at = out.indexOf(from)
  let n = 0
  while (at >= 0) {
    out.write(to, at, 'latin1')
    n++
    at = out.indexOf(from, at + 1)
  }
  expect(n).toBe(2)
  return out
}

interface TarEntry {
  name: string
  type: 'file' | 'directory' | 'symlink' | 'link'
  size?: number
  linkname?: string
}

function tarball(entries: TarEntry[], data: Record<string, Buffer> = {}): Promise<Buffer> {
  const pack = tar.pack()
  for (const h of entries) {
    const body = data[h.name] ?? (h.type === 'file' ? Buffer.alloc(0) : undefined)
    if (body) pack.entry(h, body)
    else pack.entry(h)
  }
  pack.finalize()
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    pack.on('data', (c) => chunks.push(c as Buffer))
    pack.on('end', () => resolve(Buffer.concat(chunks)))
  })
}

let home: string
let core: AppCore
let server: WebServer
const uploads = () => join(home, 'uploads')

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tfkd-upload-'))
  core = createAppCore({
    dataHome: home,
    host: 'web',
    spawnTrainer: () => {
      throw new Error('no training in this test')
    },
  })
  server = await startWebServer({
    core,
    staticDir: join(home, 'static'),
    token: TOKEN,
    upload: {
      dir: uploads(),
      maxBytes: 4 * 1024 * 1024,
      limits: { maxEntries: 200, maxTotalBytes: 8 * 1024 * 1024, maxRatio: 200 },
    },
  })
})

afterAll(async () => {
  await server.close()
  await core.close()
  rmSync(home, { recursive: true, force: true })
})

/** Nothing but what successful uploads left: no .part files, no half-extracted folders. */
function leftovers(): string[] {
  return existsSync(uploads()) ? readdirSync(uploads()).filter((n) => n.endsWith('.part')) : []
}

describe('dataset archive upload (web host)', () => {
  it('a zip of class folders is extracted and imports as a dataset', async () => {
    const entries: { name: string; data?: Buffer }[] = [
      { name: 'digits/' },
      { name: '__MACOSX/digits/._a.png', data: Buffer.from('junk') },
    ]
    for (const cls of ['zero', 'one']) {
      for (let i = 0; i < 12; i++)
        entries.push({ name: `digits/${cls}/${i}.png`, data: await png(cls === 'zero' ? i : 200 + i) })
    }
    const r = await post(server.port, '/api/upload?name=My%20digits.zip', await zip(entries))
    expect(r.status, JSON.stringify(r.json)).toBe(200)
    const v = r.json.value as { path: string; kind: string; files: number; skipped: unknown[] }
    expect(v.kind).toBe('zip')
    expect(v.files).toBe(24)
    expect(v.skipped).toEqual([{ entry: '__MACOSX/digits/._a.png', reason: 'macOS metadata' }])
    // The single top folder is what gets imported (named after it).
    expect(v.path.endsWith(join('My-digits', 'digits'))).toBe(true)
    const imported = await core.dispatch('datasets:import', { path: v.path, jobId: 'upload-1' })
    expect(imported.ok, JSON.stringify(imported)).toBe(true)
    const ds = (imported as { value: { dataset: { name: string; classNames: string[] } } }).value.dataset
    expect(ds.name).toBe('digits')
    expect([...ds.classNames].sort()).toEqual(['one', 'zero'])
  })

  it('a tar.gz is extracted too', async () => {
    const a = await png(10)
    const b = await png(250)
    const t = await tarball(
      [
        { name: 'a/', type: 'directory' },
        { name: 'a/x.png', type: 'file', size: a.length },
        { name: 'b/y.png', type: 'file', size: b.length },
      ],
      { 'a/x.png': a, 'b/y.png': b },
    )
    const r = await post(server.port, '/api/upload?name=set.tar.gz', gzipSync(t))
    expect(r.status, JSON.stringify(r.json)).toBe(200)
    expect(r.json.value).toMatchObject({ kind: 'tar.gz', files: 2 })
    expect(readdirSync(r.json.value!.path as string).sort()).toEqual(['a', 'b'])
  })

  it('refuses path traversal, absolute paths and symlinks, leaving nothing behind', async () => {
    const before = readdirSync(uploads()).length
    const slip = renameInZip(
      await zip([{ name: 'xx/xx/evil.txt', data: Buffer.from('pwned') }]),
      'xx/xx/evil.txt',
      '../../evil.txt',
    )
    const cases: [string, Buffer, RegExp][] = [
      ['zip-slip.zip', slip, /invalid relative path|leaves the folder|\.\./],
      [
        'abs.tar',
        await tarball([{ name: '/etc/evil', type: 'file', size: 4 }], { '/etc/evil': Buffer.from('evil') }),
        /absolute path/,
      ],
      [
        'dots.tar',
        await tarball([{ name: 'a/../../evil', type: 'file', size: 4 }], {
          'a/../../evil': Buffer.from('evil'),
        }),
        /leaves the folder/,
      ],
      ['link.tar', await tarball([{ name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }]), /symlink/],
      ['hard.tar', await tarball([{ name: 'h', type: 'link', linkname: '/etc/passwd' }]), /link/],
      [
        'link.zip',
        await zip([{ name: 'passwd', data: Buffer.from('/etc/passwd'), mode: 0o120777 }]),
        /symlink/,
      ],
    ]
    for (const [name, body, why] of cases) {
      const r = await post(server.port, `/api/upload?name=${name}`, body)
      expect(r.status, name).toBe(400)
      expect(r.json.error?.message, name).toMatch(why)
    }
    expect(readdirSync(uploads()).length).toBe(before)
    expect(existsSync(join(home, 'evil.txt'))).toBe(false)
    expect(existsSync(join(uploads(), 'evil.txt'))).toBe(false)
    expect(leftovers()).toEqual([])
  })

  it('refuses bombs: a high compression ratio, too many bytes unpacked, too many entries', async () => {
    const ratio = await zip([{ name: 'zeros.bin', data: Buffer.alloc(6 * 1024 * 1024) }])
    expect(ratio.length).toBeLessThan(100_000)
    const r1 = await post(server.port, '/api/upload?name=bomb.zip', ratio)
    expect(r1.status).toBe(400)
    expect(r1.json.error?.message).toMatch(/compression ratio \d+:1 is over 200:1/)

    // Entries that compress no more than real data pass the ratio check (about 6:1 here); the
    // unpacked total is counted as written.
    const noise = Buffer.from(randomBytes(3 * 1024 * 1024).map((b) => 97 + (b & 1)))
    const total = gzipSync(
      await tarball(
        ['1', '2', '3'].map((n) => ({ name: `f${n}.bin`, type: 'file' as const, size: noise.length })),
        { 'f1.bin': noise, 'f2.bin': noise, 'f3.bin': noise },
      ),
    )
    const r2 = await post(server.port, '/api/upload?name=big.tgz', total)
    expect(r2.status).toBe(400)
    expect(r2.json.error?.message).toMatch(/unpacks to more than 8388608 bytes/)

    const many = await tarball(
      Array.from({ length: 201 }, (_, i) => ({ name: `d${i}/`, type: 'directory' as const })),
    )
    const r3 = await post(server.port, '/api/upload?name=many.tar', many)
    expect(r3.status).toBe(400)
    expect(r3.json.error?.message).toMatch(/more than 200 entries/)
    expect(leftovers()).toEqual([])
  })

  it('enforces the size limit, the token, the content type, and archives only', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 1)
    const r1 = await post(server.port, '/api/upload?name=big.zip', big)
    expect(r1.status).toBe(413)
    expect(r1.json.error?.message).toMatch(/limited to 4194304 bytes/)
    // A lying Content-Length is caught as the bytes arrive (chunked body, no length).
    const r1b = await post(server.port, '/api/upload?name=big.zip', big, { 'content-length': '' })
    expect(r1b.status).toBe(413)

    const small = await zip([{ name: 'a.txt', data: Buffer.from('x') }])
    expect(
      (await post(server.port, '/api/upload', small, { 'x-tfkd-token': 'wrong-token-wrong-token' })).status,
    ).toBe(401)
    const form = await post(server.port, '/api/upload', small, {
      'content-type': 'multipart/form-data; boundary=x',
    })
    expect(form.status).toBe(415)
    const cross = await post(server.port, '/api/upload', small, { origin: 'http://evil.example' })
    expect(cross.status).toBe(403)
    const notArchive = await post(server.port, '/api/upload?name=data.csv', Buffer.from('a,b\n1,2\n'))
    expect(notArchive.status).toBe(400)
    expect(notArchive.json.error?.message).toMatch(/not a zip, tar or tar\.gz archive/)
    expect(leftovers()).toEqual([])
  })

  it('names: entry names and upload names are sanitised', () => {
    for (const bad of ['/etc/passwd', 'C:/x', 'a/../../b', 'a\\b', 'a\0b', '..'])
      expect(unsafeEntryName(bad), bad).not.toBeNull()
    for (const ok of ['a/b.png', 'a/..b/c', 'x/./y']) expect(unsafeEntryName(ok), ok).toBeNull()
    expect(uploadBaseName('../../My data (v2).tar.gz')).toBe('My-data-v2-')
    expect(uploadBaseName('C:\\Users\\me\\cifar.zip')).toBe('cifar')
    expect(uploadBaseName('...')).toBe('upload')
    expect(uploadBaseName(null)).toBe('upload')
  })
})
