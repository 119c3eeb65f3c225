// Opening the store: the file is looked at before SQLite touches it (not SQLite, truncated, newer schema:
// refused with the file left as it was), then a rollback journal, foreign keys, migrations by PRAGMA
// user_version. Every command waits up to `waitMs` (--wait) for another one that holds the store.
import { accessSync, closeSync, constants, openSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { StoreError, sqliteCode, storeErrorFrom } from '../errors.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** Open for reading only (query, analyses): never creates, migrates only through a writable open. */
  readonly?: boolean;
  /** How long to wait for another command holding the store (SQLite's busy timeout); default: setStoreWait(). */
  waitMs?: number;
}

/** The README's promise: other commands wait for an ingest; 60 s unless --wait says otherwise. */
export const DEFAULT_WAIT_MS = 60_000;
let defaultWaitMs = DEFAULT_WAIT_MS;

/** The wait every later openStore() uses when it is given none (the CLI sets it from --wait). */
export function setStoreWait(ms: number): void {
  defaultWaitMs = ms;
}

export function storeWaitMs(): number {
  return defaultWaitMs;
}

export function openStore(path: string, opts: OpenOptions = {}): Db {
  const readonly = opts.readonly ?? false;
  const waitMs = opts.waitMs ?? defaultWaitMs;
  inspectStoreFile(path, readonly);
  let db: Db;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly, timeout: Math.min(waitMs, 2 ** 31 - 1) });
  } catch (e) {
    throw storeErrorFrom(e, path, waitMs) ?? new StoreError(`cannot open store ${path}: ${(e as Error).message}`);
  }
  try {
    return readonly ? readyReader(db, path, waitMs) : readyWriter(db, path);
  } catch (e) {
    if (db.open) db.close();
    throw storeErrorFrom(e, path, waitMs) ?? e;
  }
}

export function latestVersion(): number {
  return MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * What the first 100 bytes say, read before SQLite opens the file (https://sqlite.org/fileformat.html
 * §1.3): the magic string, the page size (offset 16), the page count (28, valid when the counter at 92
 * equals the change counter at 24) and user_version (60). A store written by a newer etcd-forensics is
 * refused here, so that nothing (not even the switch of journal mode) changes a byte of it.
 */
function inspectStoreFile(path: string, readonly: boolean): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new StoreError(`cannot open store ${path}: ${(e as Error).message}`, 'io');
    if (readonly) throw new StoreError(`store ${path} does not exist (etcd-forensics ingest --db ${path} FILE… creates it)`, 'missing');
    requireWritable(dirname(path), `cannot create the store ${path}: the directory ${dirname(path)}`);
    return;
  }
  if (st.isDirectory()) throw new StoreError(`${path} is a directory, not a store file`, 'not-a-store');
  if (!readonly) {
    requireWritable(path, `cannot write the store ${path}: the file`);
    requireWritable(dirname(path), `cannot write the store ${path}: its directory ${dirname(path)} (SQLite writes a journal beside the store; read commands can still read it)`);
  }
  if (st.size === 0) return;
  const head = readHead(path);
  if (head.length < 100 || !head.subarray(0, 16).equals(SQLITE_MAGIC)) {
    throw new StoreError(`${path} is not an etcd-forensics store: not an SQLite database (${st.size} bytes, no SQLite header)`, 'not-a-store');
  }
  // With WAL frames beside it (a WAL file longer than its 32-byte header) the header may lag behind what
  // the WAL holds; SQLite's own checks apply then.
  if (fileSize(`${path}-wal`) > 32) return;
  const pageSize = head.readUInt16BE(16) === 1 ? 65536 : head.readUInt16BE(16);
  const pages = head.readUInt32BE(28);
  if (pages > 0 && head.readUInt32BE(92) === head.readUInt32BE(24) && st.size < pages * pageSize) {
    throw new StoreError(`store ${path} is truncated: its header counts ${pages} pages of ${pageSize} bytes (${pages * pageSize} bytes), the file has ${st.size}`, 'damaged');
  }
  refuseNewer(path, head.readInt32BE(60));
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readHead(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new StoreError(`cannot read the store ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'read-only');
  }
  try {
    const buf = Buffer.alloc(100);
    return buf.subarray(0, readSync(fd, buf, 0, 100, 0));
  } finally {
    closeSync(fd);
  }
}

function requireWritable(path: string, what: string): void {
  try {
    accessSync(path, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StoreError(`${what} is not writable by this user (${code === 'EROFS' ? 'a read-only file system' : code})`, 'read-only');
  }
}

function refuseNewer(path: string, version: number): void {
  if (version > latestVersion()) {
    throw new StoreError(`store ${path} has schema ${version}, newer than this tool (${latestVersion()}): left as it is; use the etcd-forensics that wrote it`, 'newer');
  }
}

/** Another program's database (tables, and no schema version of ours) is not migrated into a store. */
function refuseForeign(db: Db, path: string, version: number): void {
  if (version === 0 && (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n > 0) {
    throw new StoreError(`${path} is not an etcd-forensics store: an SQLite database with tables of its own and no etcd-forensics schema; left as it is`, 'not-a-store');
  }
}

function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * A read-only connection: SQLite's first read tells whether it can read at all. A hot journal left by a
 * killed ingest (SQLITE_READONLY_ROLLBACK) is rolled back by a writable open first, and a store of an
 * older schema is migrated by one; both only when this user can write the store.
 */
function readyReader(db: Db, path: string, waitMs: number): Db {
  let version: number;
  try {
    version = userVersion(db);
  } catch (e) {
    const code = sqliteCode(e) ?? '';
    if (code === 'SQLITE_READONLY_ROLLBACK') return reopenAfterWriter(db, path, waitMs, 'it was left mid-write by an ingest that was killed, and rolling that back needs write access');
    if (code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_READONLY_CANTINIT' || code.startsWith('SQLITE_CANTOPEN')) {
      throw new StoreError(`cannot read the store ${path}: it is in WAL mode and this user cannot create ${path}-shm beside it (${code}); ` +
        'copy it to a directory you can write, or let its owner ingest into it once with this version (which leaves it in rollback-journal mode)', 'read-only');
    }
    throw e;
  }
  refuseNewer(path, version);
  refuseForeign(db, path, version);
  if (version < latestVersion()) {
    return reopenAfterWriter(db, path, waitMs, `it has schema ${version}, older than this tool (${latestVersion()}), and migrating it needs write access`);
  }
  return db;
}

function reopenAfterWriter(db: Db, path: string, waitMs: number, why: string): Db {
  db.close();
  try {
    openStore(path, { waitMs }).close();
  } catch (e) {
    const reason = e instanceof StoreError ? e.message : (e as Error).message;
    throw new StoreError(`cannot read the store ${path}: ${why} (${reason})`, e instanceof StoreError ? e.failure : 'read-only');
  }
  return openStore(path, { readonly: true, waitMs });
}

/**
 * A writable connection. The store is kept in rollback-journal mode, at rest and while written: a
 * reader needs nothing but read access to the file (a WAL-mode store cannot be read from a directory
 * the reader cannot write: SQLite must create its -shm file there), and a bulk ingest writes each new
 * page once (WAL writes it twice: 19.7 s against 12.3 s for the 1 GB mixed log, bench/RESULTS-ingest.md).
 * The cost: while a command writes, the others wait for it (--wait). A store an older version left in
 * WAL mode is switched back here, when no other connection has it open.
 */
function readyWriter(db: Db, path: string): Db {
  const version = userVersion(db);
  refuseNewer(path, version);
  refuseForeign(db, path, version);
  // Larger pages for a new store: rows are mostly whole log lines, appended in bulk; 32 KiB pages
  // cut the CPU of a 100 MB ingest by about 15% against 4 KiB (bench/RESULTS-ingest.md).
  // No effect on an existing store.
  db.pragma('page_size = 32768');
  leaveWalMode(db);
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

/** WAL → rollback journal; refused with SQLITE_BUSY at once (no busy wait) while another connection has it open. */
function leaveWalMode(db: Db): void {
  if (String(db.pragma('journal_mode', { simple: true })) !== 'wal') return;
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('journal_mode = DELETE');
  } catch (e) {
    if (sqliteCode(e)?.startsWith('SQLITE_BUSY') !== true) throw e;
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
}

function migrate(db: Db): void {
  const current = userVersion(db);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    // A migration that reads every reading (19 folds them into the status rollup: 10 min for 5 M readings on a
    // loaded 2-vCPU VM) says so first on a terminal, rather than hang without a word.
    if (m.readsEveryReading === true && current > 0 && process.stderr.isTTY) {
      const readings = (db.prepare('SELECT count(*) AS n FROM status_samples').get() as { n: number }).n;
      if (readings >= 200_000) process.stderr.write(`etcd-forensics: upgrading the store to schema ${m.version} (${m.name}): reads its ${readings} status readings once\n`);
    }
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

/**
 * Kept for the ingest loop: the store is already in rollback-journal mode (see readyWriter), so this
 * only switches a store another connection held in WAL mode at open, if it can now; the returned
 * function has nothing left to undo.
 */
export function bulkWriteMode(db: Db): () => void {
  leaveWalMode(db);
  return () => {};
}
