/**
 * SQLite stores a bound NaN as NULL, losing the fact that a metric diverged. Non-finite numbers are
 * therefore written as TEXT ('NaN', 'Infinity', '-Infinity') into REAL columns (SQLite keeps text
 * that does not look numeric as text) and turned back into numbers on read.
 */
export function encodeReal(value: number | null | undefined): number | string | null {
  if (value === null || value === undefined) return null
  if (Number.isFinite(value)) return value
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'
}

export function decodeReal(value: unknown): number | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'number') return value
  if (value === 'NaN') return NaN
  if (value === 'Infinity') return Infinity
  if (value === '-Infinity') return -Infinity
  throw new Error(`expected a REAL or a non-finite marker in the database, got ${JSON.stringify(value)}`)
}

/** JSON that keeps non-finite numbers (JSON.stringify would write null): they become marker strings. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? `__${encodeReal(v)}__` : v,
  )
}

export function decodeJson<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v === '__NaN__') return NaN
    if (v === '__Infinity__') return Infinity
    if (v === '__-Infinity__') return -Infinity
    return v
  }) as T
}
