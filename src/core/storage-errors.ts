/**
 * Disk full, read-only, permission and corrupt-database errors as ordinary, explained errors.
 * Node's fs errors carry a path only sometimes (never for `writeSync`) and better-sqlite3's carry
 * none, so the message is rebuilt here: what failed, on which path, why (the cause) and what the
 * user can do about it. A recursive mkdir on a read-only mount fails with a misleading ENOENT;
 * that is diagnosed again here (the nearest existing folder is probed) before it is explained.
 */
import { accessSync, constants, existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { AppError } from '../shared/errors'

/** The kinds of storage trouble a user can act on; null for anything else. */
export type StorageTrouble = 'full' | 'read-only' | 'denied' | 'corrupt'

function troubleOfCode(code: unknown): StorageTrouble | null {
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'SQLITE_FULL':
      return 'full'
    case 'EROFS':
    case 'SQLITE_READONLY':
    case 'SQLITE_READONLY_DIRECTORY':
    case 'SQLITE_READONLY_DBMOVED':
      return 'read-only'
    case 'EACCES':
    case 'EPERM':
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
      return 'denied'
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return 'corrupt'
  }
  // A SQLite I/O error underneath is often the disk filling up (short write in the WAL).
  if (typeof code === 'string' && code.startsWith('SQLITE_IOERR')) return 'full'
  return null
}

/**
 * The error that really happened. `mkdirSync(p, { recursive: true })` under a read-only or
 * unwritable folder reports ENOENT for a folder it could not create: the nearest existing folder
 * above it is probed for writing, and its EROFS/EACCES is returned instead. Anything else as is.
 */
export function rediagnose(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException | null
  if (e?.code !== 'ENOENT' || (e.syscall !== 'mkdir' && e.syscall !== 'mkdtemp') || !e.path) return err
  let dir = dirname(e.path)
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir)
  try {
    accessSync(dir, constants.W_OK)
    return err
  } catch (probe) {
    return troubleOfCode((probe as NodeJS.ErrnoException).code) ? probe : err
  }
}

export function storageTrouble(err: unknown): StorageTrouble | null {
  return troubleOfCode((rediagnose(err) as { code?: unknown } | null)?.code)
}

const CAUSE: Record<StorageTrouble, string> = {
  full: 'no space left on the disk holding it',
  'read-only': 'it is on a read-only file system',
  denied: 'permission denied',
  corrupt: 'the file is damaged (not a readable SQLite database)',
}

function wayOut(trouble: StorageTrouble, path: string): string {
  switch (trouble) {
    case 'full':
      return 'free some space, or set TFKD_HOME to a folder on a disk with room'
    case 'read-only':
      return 'remount it writable, or set TFKD_HOME to a writable folder'
    case 'denied':
      return 'make it writable by this user (check its owner and mode), or set TFKD_HOME to a folder you own'
    case 'corrupt':
      return (
        `move it aside (mv "${path}" "${path}.damaged"; do not delete it) and start again for a fresh history, ` +
        `or put back a backup; the moved file may still be recovered (sqlite3 "${path}.damaged" .recover)`
      )
  }
}

/**
 * "<action> <path>: <cause>: <way out> (<original message>)", or "<action> <path>: <message>" for
 * other errors. `way` replaces the default way out (e.g. "choose another output folder" where the
 * user picked the folder).
 */
export function explainStorageError(err: unknown, action: string, path: string, way?: string): string {
  const real = rediagnose(err)
  // mkdtemp's message names the random folder it tried: dropped, so a failure reads the same each time.
  const message = (real instanceof Error ? real.message : String(real)).replace(
    /, mkdtemp '[^']*'$/,
    ', mkdtemp',
  )
  const trouble = storageTrouble(real)
  if (!trouble) return `${action} ${path}: ${message}`
  return `${action} ${path}: ${CAUSE[trouble]}: ${way ?? wayOut(trouble, path)} (${message})`
}

/** The path a Node fs error names, if any. */
export function errorPath(err: unknown): string | undefined {
  const p = (err as { path?: unknown } | null)?.path
  return typeof p === 'string' ? p : undefined
}

/** An AppError with code `storage` and the explained message for a storage failure; null for any other error. */
export function storageAppError(err: unknown, action: string, path: string, way?: string): AppError | null {
  if (err instanceof AppError || !storageTrouble(err)) return null
  return new AppError('storage', explainStorageError(err, action, path, way))
}

/** An Error with an explained message that keeps the original `code`. */
export class StorageError extends Error {
  readonly code: string | undefined
  constructor(err: unknown, action: string, path: string) {
    super(explainStorageError(err, action, path))
    this.name = 'StorageError'
    this.code = (rediagnose(err) as { code?: string } | null)?.code
  }
}
