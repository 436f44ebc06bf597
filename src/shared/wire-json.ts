/**
 * JSON that keeps NaN and ±Infinity. Plain `JSON.stringify` turns them into `null`, so a diverged
 * run's NaN loss would read as "no value". On the wire (web API, `tfkd ... --json`, JSON exports) a
 * non-finite number is written as `{ "nonFinite": "NaN" | "Infinity" | "-Infinity" }`; `parseWire`
 * turns those objects back into numbers. Finite numbers and everything else are plain JSON.
 */

export type NonFiniteName = 'NaN' | 'Infinity' | '-Infinity'
export interface EncodedNonFinite {
  nonFinite: NonFiniteName
}

const NAMES: ReadonlySet<string> = new Set(['NaN', 'Infinity', '-Infinity'])

/** The wire form of a number: itself when finite, else the `{ nonFinite }` marker. */
export function encodeNumber(n: number): number | EncodedNonFinite {
  if (Number.isFinite(n)) return n
  return { nonFinite: Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity' }
}

function isMarker(v: unknown): v is EncodedNonFinite {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const keys = Object.keys(v)
  return keys.length === 1 && keys[0] === 'nonFinite' && NAMES.has(String((v as EncodedNonFinite).nonFinite))
}

/** `JSON.stringify` with non-finite numbers encoded as `{ "nonFinite": ... }`. */
export function stringifyWire(value: unknown, space?: number): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? encodeNumber(v) : v),
    space,
  )
}

/** `JSON.parse` that turns `{ "nonFinite": ... }` markers back into NaN / ±Infinity. */
export function parseWire(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => (isMarker(v) ? Number(v.nonFinite) : v))
}
