/**
 * AppError: the one error type that crosses process boundaries. Electron's IPC passes only the
 * message of a thrown error, so hosts serialise it into the `{ ok: false, error }` envelope and the
 * renderer rebuilds a real AppError from it.
 */
export type ErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'trainer_crashed'
  | 'backend_unavailable'
  | 'bad_dataset'
  /** The data folder cannot be written (disk full, read-only, permission denied); the message says what to do. */
  | 'storage'
  | 'cancelled'
  | 'internal'

export interface SerializedAppError {
  code: ErrorCode
  message: string
  details?: unknown
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly details?: unknown

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.details = details
  }

  toJSON(): SerializedAppError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }

  static from(err: unknown): AppError {
    if (err instanceof AppError) return err
    if (err instanceof Error) return new AppError('internal', err.message)
    return new AppError('internal', String(err))
  }

  static fromJSON(e: SerializedAppError): AppError {
    return new AppError(e.code, e.message, e.details)
  }
}

export type Envelope<T> = { ok: true; value: T } | { ok: false; error: SerializedAppError }
