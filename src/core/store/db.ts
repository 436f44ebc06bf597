/**
 * Opens the run history database. WAL with synchronous=FULL: a committed epoch survives a power
 * loss, and a crash of any process never corrupts the file. A busy timeout lets a second host (the
 * CLI beside the desktop app) wait for the write lock instead of failing.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { MIGRATIONS } from './migrations/index'

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

export function migrate(db: Db, migrations = MIGRATIONS): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > migrations.length) {
    throw new Error(
      `database schema version ${current} is newer than this app knows (${migrations.length}); update tfkd-studio`,
    )
  }
  for (let v = current; v < migrations.length; v++) {
    const m = migrations[v]!
    // Each migration and its version bump commit together or not at all.
    db.transaction(() => {
      db.exec(m.sql)
      db.pragma(`user_version = ${v + 1}`)
    }).immediate()
  }
}
