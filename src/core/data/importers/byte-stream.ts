/**
 * Reads exact byte counts from a stream of chunks (a file, maybe gunzipped), with a cap on the bytes
 * a decompressor may produce, so a gzip bomb stops at the cap instead of filling memory.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'
import type { Readable } from 'node:stream'
import { ImportError } from './types'

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b
}

export class ByteReader {
  private it: AsyncIterator<Buffer>
  private pending: Buffer = Buffer.alloc(0)
  private ended = false
  /** Bytes consumed so far. */
  position = 0

  constructor(
    private readonly stream: Readable,
    readonly name: string,
    private readonly maxBytes: number,
    private readonly cleanup: () => void = () => {},
  ) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  }

  private async fill(n: number): Promise<boolean> {
    const parts: Buffer[] = [this.pending]
    let have = this.pending.length
    while (have < n && !this.ended) {
      let r: IteratorResult<Buffer>
      try {
        r = await this.it.next()
      } catch (err) {
        throw new ImportError(
          `${this.name}: read failed at byte ${this.position + have}: ${(err as Error).message}`,
        )
      }
      if (r.done) this.ended = true
      else {
        parts.push(r.value)
        have += r.value.length
        if (this.position + have > this.maxBytes + 1) break
      }
    }
    this.pending = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
    return this.pending.length >= n
  }

  /** Exactly n bytes (a view, valid until the next call); throws naming the offset when short. */
  async read(n: number, what: string): Promise<Buffer> {
    if (this.position + n > this.maxBytes) {
      throw new ImportError(`${this.name}: reading ${what} would pass the limit of ${this.maxBytes} bytes`)
    }
    if (this.pending.length < n && !(await this.fill(n))) {
      throw new ImportError(
        `${this.name}: file ends at byte ${this.position + this.pending.length}, expected ${n} more bytes of ${what}`,
      )
    }
    const out = this.pending.subarray(0, n)
    this.pending = this.pending.subarray(n)
    this.position += n
    return out
  }

  /** Whether the stream has more bytes (then the file has trailing data). */
  async hasMore(): Promise<boolean> {
    if (this.pending.length > 0) return true
    return this.fill(1)
  }

  close(): void {
    this.stream.destroy()
    this.cleanup()
  }
}

/** Opens a file, gunzipping when it starts with the gzip magic. */
export async function openMaybeGzip(
  path: string,
  name: string,
  maxBytes: number,
  signal: AbortSignal,
): Promise<ByteReader> {
  const fh = await open(path, 'r')
  const head = Buffer.alloc(2)
  try {
    await fh.read(head, 0, 2, 0)
  } finally {
    await fh.close()
  }
  const file = createReadStream(path, { highWaterMark: 1 << 20, signal })
  if (!isGzip(head)) return new ByteReader(file, name, maxBytes)
  const gunzip = createGunzip({ chunkSize: 1 << 16 })
  file.on('error', (e) => gunzip.destroy(e))
  return new ByteReader(file.pipe(gunzip), name, maxBytes, () => file.destroy())
}
