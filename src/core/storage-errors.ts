/**
 * Disk full, read-only and permission errors as ordinary, explained errors. Node's fs errors carry
 * a path only sometimes (never for `writeSync`) and better-sqlite3's carry none, so the message is
 * rebuilt here: what failed, on which path, and what the user can do about it.
 */

/** The kinds of storage trouble a user can act on; null for anything else. */
export type StorageTrouble = 'full' | 'read-only' | 'denied'

export function storageTrouble(err: unknown): StorageTrouble | null {
  const code = (err as { code?: unknown } | null)?.code
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
  }
  // A SQLite I/O error underneath is often the disk filling up (short write in the WAL).
  if (typeof code === 'string' && code.startsWith('SQLITE_IOERR')) return 'full'
  return null
}

const ADVICE: Record<StorageTrouble, string> = {
  full: 'no space left on the disk holding it: free some space, or set TFKD_HOME to a folder on a disk with room',
  'read-only': 'it is on a read-only file system: remount it writable, or set TFKD_HOME to a writable folder',
  denied:
    'permission denied: make it writable by this user (check its owner and mode), or set TFKD_HOME to a folder you own',
}

/** "<action> <path>: <advice> (<original message>)", or the original message for other errors. */
export function explainStorageError(err: unknown, action: string, path: string): string {
  const message = err instanceof Error ? err.message : String(err)
  const trouble = storageTrouble(err)
  if (!trouble) return `${action} ${path}: ${message}`
  return `${action} ${path}: ${ADVICE[trouble]} (${message})`
}

/** An Error with an explained message that keeps the original `code`. */
export class StorageError extends Error {
  readonly code: string | undefined
  constructor(err: unknown, action: string, path: string) {
    super(explainStorageError(err, action, path))
    this.name = 'StorageError'
    this.code = (err as { code?: string } | null)?.code
  }
}
