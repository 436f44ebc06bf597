/** Small HTTP helpers shared by the web host's modules: JSON answers and typed HTTP errors. */
import type { ServerResponse } from 'node:http'
import type { Envelope, ErrorCode } from '../shared/errors'
import { stringifyWire } from '../shared/wire-json'

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/** JSON with non-finite numbers encoded (see `src/shared/wire-json.ts`), never cached. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = stringifyWire(body)
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  })
  res.end(text)
}

export function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  sendJson(res, status, { ok: false, error: { code, message } } satisfies Envelope<never>)
}
