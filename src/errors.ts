// Environment failures with stable codes. The CLI maps them to exit codes in one place (src/cli/exit-codes.ts).
export type ErrorCode = 'usage' | 'input' | 'store' | 'internal';

export class ForensicsError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'ForensicsError';
  }
}

/** A bad command line: the message names the option and the value. */
export class UsageError extends ForensicsError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** A bad input: the message names the file and the line or byte offset. */
export class InputError extends ForensicsError {
  constructor(message: string) {
    super('input', message);
  }
}

/**
 * Why the store could not be used. `busy`: another command held it longer than --wait; `not-a-store`: not
 * SQLite, truncated, or another program's database; `newer`: written by a newer etcd-forensics (left as
 * it is); `read-only`: the user cannot write the file or its directory; `disk-full`: SQLITE_FULL or
 * ENOSPC; `damaged`: SQLite found corruption while reading; `missing`: no such file for a read command;
 * `io`: any other failure of the file system.
 */
export type StoreFailure = 'busy' | 'not-a-store' | 'newer' | 'read-only' | 'disk-full' | 'damaged' | 'missing' | 'io';

export class StoreError extends ForensicsError {
  constructor(message: string, readonly failure: StoreFailure = 'io') {
    super('store', message);
  }
}

/** The SQLite result code of an error thrown by better-sqlite3 (`SQLITE_BUSY`, `SQLITE_FULL`, …), else null. */
export function sqliteCode(e: unknown): string | null {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}

/**
 * The failure of the environment an SQLite error stands for, or null when it is not one (a syntax
 * error, a constraint: a bug or a bad statement). Extended codes keep their primary code's prefix:
 * SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY_DIRECTORY, SQLITE_IOERR_WRITE, SQLITE_CORRUPT_INDEX.
 */
export function storeFailureOf(e: unknown): StoreFailure | null {
  const code = sqliteCode(e);
  if (code === null) return (e as NodeJS.ErrnoException | null)?.code === 'ENOSPC' ? 'disk-full' : null;
  const primary = /^SQLITE_[A-Z]+/.exec(code)![0];
  switch (primary) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return 'busy';
    case 'SQLITE_FULL':
      return 'disk-full';
    case 'SQLITE_NOTADB':
      return 'not-a-store';
    case 'SQLITE_CORRUPT':
      return 'damaged';
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
      return 'read-only';
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_IOERR':
    case 'SQLITE_PROTOCOL':
    case 'SQLITE_NOLFS':
    case 'SQLITE_NOMEM':
      return 'io';
    default:
      return null;
  }
}

/** True when the error is the environment's (the store, the disk), not this input's: an ingest stops on it. */
export function isStoreFailure(e: unknown): boolean {
  return e instanceof StoreError || storeFailureOf(e) !== null;
}

/**
 * The one line for an SQLite or file-system failure of the store at `path`, as a StoreError; null when
 * the error is not the environment's (then it is a bug, and the CLI says "internal error").
 */
export function storeErrorFrom(e: unknown, path: string, waitMs: number): StoreError | null {
  if (e instanceof StoreError) return e;
  const failure = storeFailureOf(e);
  if (failure === null) return null;
  const code = sqliteCode(e) ?? (e as NodeJS.ErrnoException).code ?? '';
  const detail = `${(e as Error).message} (${code})`;
  const waitS = Math.round(waitMs / 100) / 10;
  switch (failure) {
    case 'busy':
      return new StoreError(`store ${path} is busy: another command held it for more than ${waitS} s (--wait ${waitS}); try again when it is done, or with a longer --wait`, failure);
    case 'disk-full':
      return new StoreError(`store ${path}: the disk is full: ${detail}; what was being written was not stored`, failure);
    case 'not-a-store':
      return new StoreError(`${path} is not an etcd-forensics store: ${detail}`, failure);
    case 'damaged':
      return new StoreError(`store ${path} is damaged: ${detail}; ingest the inputs again into a new store`, failure);
    case 'read-only':
      return new StoreError(`cannot write the store ${path}: ${detail}`, failure);
    default:
      return new StoreError(`store ${path}: ${detail}`, failure);
  }
}
