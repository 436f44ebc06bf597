/**
 * The store's trust boundary: JSON columns are parsed with their schema (src/shared/record-schemas.ts)
 * as they are read, so the rest of the core trusts the types it gets. A corrupt value throws an
 * AppError naming the record, its id, the column and the field, e.g.
 * `run 12: stored config is unreadable at teacher.runId: expected number, received string`.
 */
import type { z } from 'zod'
import { AppError } from '../../shared/errors'
import { decodeJson } from './real'

export interface StoredAt {
  /** What the row is, as a user would say it: "run", "dataset", "teacher". */
  record: string
  id: unknown
  column: string
}

function unreadable(at: StoredAt, field: string, why: string): AppError {
  const where = field ? `${at.column}.${field}` : at.column
  return new AppError('internal', `${at.record} ${String(at.id)}: stored ${where} is unreadable: ${why}`, {
    record: at.record,
    id: at.id,
    field: where,
  })
}

/** Parses a stored JSON text (non-finite markers decoded) with its schema. */
export function parseStoredJson<S extends z.ZodType>(schema: S, text: unknown, at: StoredAt): z.output<S> {
  if (typeof text !== 'string')
    throw unreadable(at, '', `expected JSON text, found ${text === null ? 'NULL' : typeof text}`)
  let value: unknown
  try {
    value = decodeJson<unknown>(text)
  } catch (e) {
    throw unreadable(at, '', `not JSON (${(e as Error).message})`)
  }
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  throw unreadable(at, issue.path.join('.'), issue.message)
}
