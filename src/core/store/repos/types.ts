/** What every repository is built from: the open database and the clock it stamps rows with. */
import type { Db } from '../db'

export interface RepoDeps {
  db: Db
  now: () => number
}

/** A row as better-sqlite3 returns it; each repository maps its own columns. */
export type Row = Record<string, unknown>
