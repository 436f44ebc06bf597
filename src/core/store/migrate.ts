/**
 * Schema migrations by name. Each applied migration's id is recorded in `schema_migrations`, in the
 * order applied; at open the recorded ids must be exactly the first ones of the app's list, so a
 * gap (a migration skipped), a reorder or an id this app does not know is refused with the id and
 * the database file named, instead of silently running the wrong SQL. A database from before the
 * table existed is adopted from its `user_version` (the count of files applied, LEGACY_COUNTED).
 * `user_version` is still kept at the number applied, so an older app refuses a newer database.
 */
import type Database from 'better-sqlite3'
import { LEGACY_COUNTED, MIGRATIONS, type Migration } from './migrations/index'

type Db = Database.Database

const TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  seq         INTEGER PRIMARY KEY,   -- 1, 2, ...: the order applied
  id          TEXT    NOT NULL UNIQUE,
  applied_at  INTEGER                -- ms since epoch; NULL when adopted from user_version
)`

const ID = /^\d{3}_[a-z0-9_]+$/

/** The app's own list must be well formed: ids like "010_name", unique, in increasing order. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (!ID.test(m.id)) throw new Error(`migration id "${m.id}" is not like "010_some_name"`)
    const prev = migrations[i - 1]
    if (prev && prev.id >= m.id) {
      throw new Error(`migration "${m.id}" is listed after "${prev.id}": list migrations once, in id order`)
    }
  })
}

function fileOf(db: Db): string {
  return db.name === ':memory:' || db.name === '' ? 'an in-memory database' : db.name
}

/** Records the ids a database from before `schema_migrations` applied, from its user_version. */
function adoptLegacy(db: Db): void {
  const recorded = db.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get() as number
  if (recorded > 0) return
  const counted = db.pragma('user_version', { simple: true }) as number
  if (counted > LEGACY_COUNTED.length) {
    throw new Error(
      `${fileOf(db)}: schema version ${counted} is newer than this app knows (${LEGACY_COUNTED.length}); update tfkd-studio`,
    )
  }
  const insert = db.prepare('INSERT INTO schema_migrations (seq, id, applied_at) VALUES (?, ?, NULL)')
  LEGACY_COUNTED.slice(0, counted).forEach((id, i) => insert.run(i + 1, id))
}

/** The next migration to apply, or undefined when up to date; throws when the recorded ids do not fit. */
export function nextMigration(
  applied: readonly string[],
  migrations: readonly Migration[],
  file: string,
): Migration | undefined {
  const position = new Map(migrations.map((m, i) => [m.id, i]))
  applied.forEach((id, i) => {
    const at = position.get(id)
    if (at === undefined) {
      throw new Error(
        `${file}: migration "${id}" is recorded as applied, but this app does not know it ` +
          `(a newer or different build of tfkd-studio wrote this database); update tfkd-studio`,
      )
    }
    if (at === i) return
    const expected = migrations[i]!.id
    if (!applied.includes(expected)) {
      throw new Error(
        `${file}: migration "${expected}" was never applied, yet the later "${id}" was ` +
          `(a gap: the database was migrated by a build with a different list); refusing to open it`,
      )
    }
    throw new Error(
      `${file}: migration "${id}" was applied as number ${i + 1}, but this app orders it number ${at + 1}, ` +
        `after "${expected}" (a reorder); refusing to open it`,
    )
  })
  return migrations[applied.length]
}

/** The ids recorded as applied, in the order applied. */
export function appliedMigrations(db: Db): string[] {
  return db.prepare('SELECT id FROM schema_migrations ORDER BY seq').pluck().all() as string[]
}

/**
 * Brings a database up to date. Each step reads the recorded ids, checks them and applies the next
 * migration in one IMMEDIATE transaction, so two hosts opening one file never apply a step twice,
 * and a failing migration rolls back whole, its record included.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): void {
  checkMigrationList(migrations)
  db.transaction(() => {
    db.exec(TABLE)
    adoptLegacy(db)
  }).immediate()
  const step = db.transaction((): boolean => {
    const applied = appliedMigrations(db)
    const next = nextMigration(applied, migrations, fileOf(db))
    if (!next) return false
    db.exec(next.sql)
    db.prepare('INSERT INTO schema_migrations (seq, id, applied_at) VALUES (?, ?, ?)').run(
      applied.length + 1,
      next.id,
      Date.now(),
    )
    db.pragma(`user_version = ${applied.length + 1}`)
    return true
  })
  while (step.immediate()) {
    // one migration per transaction
  }
}
