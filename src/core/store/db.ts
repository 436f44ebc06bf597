/**
 * Opens the run history database. WAL with synchronous=FULL: a committed epoch survives a power
 * loss, and a crash of any process never corrupts the file. A busy timeout lets a second host (the
 * CLI beside the desktop app) wait for the write lock instead of failing.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { migrate } from './migrate'

export { migrate } from './migrate'

export type Db = Database.Database

export interface OpenOptions {
  /** Path of a better_sqlite3.node built for this runtime's ABI (Electron), if not the default. */
  nativeBinding?: string
  busyTimeoutMs?: number
}

export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file, opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {})
  db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  migrate(db)
  return db
}
