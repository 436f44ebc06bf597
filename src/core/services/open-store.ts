/**
 * Opens the data folder's run history for a host. A writable folder is opened in place: folders
 * created, schema migrated, runs left behind by a host that is gone settled. A folder this user
 * cannot write (read-only mount, another user's files) is still readable: the database is copied
 * to a private temp folder and opened read-only there, so `tfkd runs`, `compare` and the UI's
 * history work, and anything that would write fails with a message naming the folder.
 */
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { AppError } from '../../shared/errors'
import { BUNDLED_DATASETS } from '../data/bundled'
import type { DataPaths } from '../paths'
import { explainStorageError, storageTrouble } from '../storage-errors'
import { openDatabase } from '../store/db'
import { createStore, type Store } from '../store/store'
import { sweepAndReport } from './leftovers'
import Database from 'better-sqlite3'

export interface OpenedStore {
  store: Store
  /** Why the data folder is read-only for this process, or null when it is writable. */
  readOnly: string | null
  /** Closes the database and removes a read-only snapshot. */
  close(): void
}

export function ensureBundledDatasets(store: Store): void {
  for (const d of BUNDLED_DATASETS) if (!store.datasets.byName(d.name)) store.datasets.insert(d)
}

/** Null when this process can write the folder (and its database), else the error that says why not. */
function writeProblem(paths: DataPaths): NodeJS.ErrnoException | null {
  try {
    if (existsSync(paths.home)) accessSync(paths.home, constants.W_OK)
    if (existsSync(paths.database)) accessSync(paths.database, constants.W_OK)
    return null
  } catch (err) {
    return err as NodeJS.ErrnoException
  }
}

function openWritable(paths: DataPaths, nativeBinding: string | undefined, log: (m: string) => void): Store {
  try {
    mkdirSync(paths.checkpoints, { recursive: true })
    mkdirSync(paths.datasets, { recursive: true })
  } catch (err) {
    throw new AppError('storage', explainStorageError(err, 'cannot create the data folder', paths.home))
  }
  let store: Store
  try {
    store = createStore(openDatabase(paths.database, { nativeBinding }))
  } catch (err) {
    const trouble = storageTrouble(err)
    if (!trouble) throw err
    throw new AppError('storage', explainStorageError(err, 'cannot open the run database', paths.database), {
      trouble,
    })
  }
  sweepAndReport(paths, log)
  try {
    store.runs.settleOrphans()
    ensureBundledDatasets(store)
  } catch (err) {
    // A full disk must not stop the host from starting: reading the history still works, and the
    // runs left behind are settled at the next start with room.
    if (!storageTrouble(err)) throw err
    log(explainStorageError(err, 'could not settle runs left behind in', paths.database))
  }
  return store
}

/**
 * A private copy of the database (and its WAL, which holds the last commits), migrated and then
 * reopened read-only. SQLite cannot open a WAL database read-only in a folder it cannot write
 * (it needs the -shm file), hence the copy.
 */
function openSnapshot(paths: DataPaths, nativeBinding: string | undefined): { store: Store; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tfkd-readonly-'))
  const copy = join(dir, basename(paths.database))
  try {
    copyFileSync(paths.database, copy)
    if (existsSync(`${paths.database}-wal`)) copyFileSync(`${paths.database}-wal`, `${copy}-wal`)
    const prepared = createStore(openDatabase(copy, { nativeBinding }))
    ensureBundledDatasets(prepared)
    prepared.close()
    const db = new Database(copy, {
      readonly: true,
      fileMustExist: true,
      ...(nativeBinding ? { nativeBinding } : {}),
    })
    return { store: createStore(db), dir }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw new AppError('storage', explainStorageError(err, 'cannot read the run database', paths.database))
  }
}

export function openDataStore(
  paths: DataPaths,
  opts: { nativeBinding?: string; log?: (message: string) => void } = {},
): OpenedStore {
  const log = opts.log ?? ((m: string) => process.stderr.write(`tfkd: ${m}\n`))
  const problem = writeProblem(paths)
  let readOnly: string
  if (!problem) {
    try {
      const store = openWritable(paths, opts.nativeBinding, log)
      return { store, readOnly: null, close: () => store.close() }
    } catch (err) {
      // A disk so full that SQLite cannot even map its -shm file: still show the history (not
      // for a damaged database, which no copy can read).
      if (!(err instanceof AppError && err.code === 'storage') || !existsSync(paths.database)) throw err
      if ((err.details as { trouble?: string } | undefined)?.trouble === 'corrupt') throw err
      readOnly = err.message
      log(`${readOnly}; showing a read-only copy of the history`)
    }
  } else {
    if (!existsSync(paths.database)) {
      throw new AppError(
        'storage',
        explainStorageError(problem, 'cannot create the run database in', paths.home),
      )
    }
    readOnly = explainStorageError(problem, 'cannot write to the data folder', paths.home)
  }
  const { store, dir } = openSnapshot(paths, opts.nativeBinding)
  return {
    store,
    readOnly,
    close: () => {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
