/**
 * Migrations by name: every earlier schema version (a database migrated the old way, user_version =
 * number of files applied) upgrades to the recorded-by-id schema without losing rows, and a gap, a
 * reorder or an unknown id is refused with the id and the file named.
 */
import Database from 'better-sqlite3'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../../../src/core/store/db'
import { migrate } from '../../../src/core/store/migrate'
import { LEGACY_COUNTED, MIGRATIONS, type Migration } from '../../../src/core/store/migrations/index'
import { createStore } from '../../../src/core/store/store'
import { ROOT, tempHome } from '../../helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

function home(): string {
  const t = tempHome()
  cleanup = t.cleanup
  return t.dir
}

/** The migrator before ids were recorded (as it was in db.ts): user_version counts the files applied. */
function migrateTheOldWay(db: Database.Database, migrations: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!.sql)
      db.pragma(`user_version = ${v + 1}`)
    }).immediate()
  }
}

function schemaOf(db: Database.Database): unknown[] {
  return db
    .prepare(`SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
    .all()
}

function applied(db: Database.Database): string[] {
  return db.prepare('SELECT id FROM schema_migrations ORDER BY seq').pluck().all() as string[]
}

const oldMigrations = MIGRATIONS.filter((m) => LEGACY_COUNTED.includes(m.id))

describe('migrations by name', () => {
  it('lists every .sql file of the migrations folder once, by its file name, in order', () => {
    const files = readdirSync(join(ROOT, 'src/core/store/migrations'))
      .filter((f) => f.endsWith('.sql'))
      .map((f) => f.replace(/\.sql$/, ''))
      .sort()
    expect(MIGRATIONS.map((m) => m.id)).toEqual(files)
    expect(LEGACY_COUNTED).toEqual(MIGRATIONS.slice(0, LEGACY_COUNTED.length).map((m) => m.id))
  })

  it('records each migration by id, with the time applied, on a fresh database', () => {
    const file = join(home(), 'fresh.sqlite')
    const db = openDatabase(file)
    expect(applied(db)).toEqual(MIGRATIONS.map((m) => m.id))
    const times = db.prepare('SELECT applied_at FROM schema_migrations').pluck().all() as number[]
    expect(times.every((t) => typeof t === 'number' && t > 0)).toBe(true)
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
    db.close()
  })

  const versions = Array.from({ length: LEGACY_COUNTED.length + 1 }, (_, k) => k)
  it.each(versions)('upgrades a database of the old schema version %i, keeping its rows', (k) => {
    const dir = home()
    const reference = openDatabase(join(dir, 'reference.sqlite'))
    const file = join(dir, `v${k}.sqlite`)
    const old = new Database(file)
    migrateTheOldWay(old, oldMigrations.slice(0, k))
    expect(old.pragma('user_version', { simple: true })).toBe(k)
    if (k >= 1) {
      old
        .prepare(
          `INSERT INTO datasets (name, format, class_names, input_shape, counts, created_at)
           VALUES ('kept', 'x', '["a"]', '[1,1,1]', '{"train":1,"test":1}', 0)`,
        )
        .run()
    }
    old.close()

    const db = openDatabase(file)
    expect(applied(db)).toEqual(MIGRATIONS.map((m) => m.id))
    const adopted = db
      .prepare('SELECT COUNT(*) FROM schema_migrations WHERE applied_at IS NULL')
      .pluck()
      .get()
    expect(adopted).toBe(k)
    expect(schemaOf(db)).toEqual(schemaOf(reference))
    if (k >= 1) expect(createStore(db).datasets.byName('kept')).toMatchObject({ classNames: ['a'] })
    db.close()
    reference.close()
    // Opening again changes nothing.
    const again = openDatabase(file)
    expect(applied(again)).toEqual(MIGRATIONS.map((m) => m.id))
    again.close()
  })

  it('refuses an old-style database newer than the counted migrations, naming the file', () => {
    const file = join(home(), 'newer.sqlite')
    const db = new Database(file)
    db.pragma(`user_version = ${LEGACY_COUNTED.length + 1}`)
    db.close()
    expect(() => openDatabase(file)).toThrow(`${file}: schema version 8 is newer than this app knows`)
  })

  it('refuses an applied id this app does not know, naming the id and the file', () => {
    const file = join(home(), 'unknown.sqlite')
    const db = openDatabase(file)
    db.prepare(
      `INSERT INTO schema_migrations (seq, id, applied_at) VALUES (?, '099_from_the_future', 1)`,
    ).run(MIGRATIONS.length + 1)
    db.close()
    expect(() => openDatabase(file)).toThrow(
      new RegExp(
        `^${file}: migration "099_from_the_future" is recorded as applied, but this app does not know it`,
      ),
    )
  })

  it('refuses a gap: a migration listed before one already applied, naming both and the file', () => {
    const file = join(home(), 'gap.sqlite')
    const db = new Database(file)
    const withoutResults = MIGRATIONS.filter((m) => m.id !== '002_results' && m.id < '005')
    migrate(db, withoutResults)
    expect(applied(db)).toEqual(['001_init', '003_host_pid'])
    // A build whose list has 002 before 003 (e.g. after merging a branch that added it) refuses.
    expect(() => migrate(db, MIGRATIONS)).toThrow(
      `${file}: migration "002_results" was never applied, yet the later "003_host_pid" was`,
    )
    expect(applied(db)).toEqual(['001_init', '003_host_pid'])
    db.close()
  })

  it('refuses a reorder: the same migrations applied in another order', () => {
    const file = join(home(), 'reorder.sqlite')
    const db = new Database(file)
    migrate(db, MIGRATIONS.slice(0, 1))
    // Another build listed 011_b before 010_a and applied them in that order.
    const a = { id: '010_a', sql: 'CREATE TABLE a (x)' }
    const b = { id: '011_b', sql: 'CREATE TABLE b (x)' }
    migrate(db, [MIGRATIONS[0]!, a, b])
    db.prepare(`UPDATE schema_migrations SET seq = seq + 10 WHERE id IN ('010_a', '011_b')`).run()
    db.prepare(`UPDATE schema_migrations SET seq = 2 WHERE id = '011_b'`).run()
    db.prepare(`UPDATE schema_migrations SET seq = 3 WHERE id = '010_a'`).run()
    expect(() => migrate(db, [MIGRATIONS[0]!, a, b])).toThrow(
      `${file}: migration "011_b" was applied as number 2, but this app orders it number 3, after "010_a"`,
    )
    db.close()
  })

  it('refuses a list out of id order or with a duplicate, before touching the database', () => {
    const db = new Database(':memory:')
    const a = { id: '010_a', sql: 'CREATE TABLE a (x)' }
    const b = { id: '011_b', sql: 'CREATE TABLE b (x)' }
    expect(() => migrate(db, [b, a])).toThrow('migration "010_a" is listed after "011_b"')
    expect(() => migrate(db, [a, a])).toThrow('migration "010_a" is listed after "010_a"')
    expect(() => migrate(db, [{ id: 'init', sql: '' }])).toThrow('migration id "init" is not like')
    expect(db.prepare(`SELECT COUNT(*) FROM sqlite_master`).pluck().get()).toBe(0)
    db.close()
  })

  it('rolls a failing migration back with its record, and applies it once fixed', () => {
    const file = join(home(), 'broken.sqlite')
    const db = openDatabase(file)
    const broken = { id: '999_broken', sql: 'CREATE TABLE z (x); CREATE TABLE runs (x);' }
    expect(() => migrate(db, [...MIGRATIONS, broken])).toThrow(/already exists/)
    expect(applied(db)).toEqual(MIGRATIONS.map((m) => m.id))
    migrate(db, [...MIGRATIONS, { id: '999_broken', sql: 'CREATE TABLE z (x)' }])
    expect(applied(db).at(-1)).toBe('999_broken')
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1)
    db.close()
  })
})
