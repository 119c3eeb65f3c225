// Opening the store: WAL (a rollback journal while an ingest writes), foreign keys, migrations by PRAGMA user_version.
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { StoreError } from '../errors.js';

export type Db = Database.Database;

export function openStore(path: string, opts: { readonly?: boolean } = {}): Db {
  let db: Db;
  try {
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (e) {
    throw new StoreError(`cannot open store ${path}: ${(e as Error).message}`);
  }
  if (opts.readonly) {
    // An ingest killed mid-file leaves a hot rollback journal (see bulkWriteMode); a read-only
    // connection cannot roll it back (SQLITE_READONLY_ROLLBACK). A writable open does, first.
    if (existsSync(`${path}-journal`)) {
      db.close();
      try {
        openStore(path).close();
      } catch (e) {
        throw new StoreError(`store ${path} is being written (an ingest is running, or one was killed and the store is read-only to this user): ${(e as Error).message}`);
      }
      return openStore(path, opts);
    }
    const v = db.pragma('user_version', { simple: true }) as number;
    if (v > latestVersion()) throw new StoreError(`store ${path} has schema ${v}, newer than this tool (${latestVersion()})`);
    return db;
  }
  // Larger pages for a new store: rows are mostly whole log lines, appended in bulk; 32 KiB pages
  // cut the CPU of a 100 MB ingest by about 15% against 4 KiB (bench/RESULTS-ingest.md).
  // No effect on an existing store.
  db.pragma('page_size = 32768');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db, path);
  return db;
}

export function latestVersion(): number {
  return MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
}

function migrate(db: Db, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latestVersion()) {
    throw new StoreError(`store ${path} has schema ${current}, newer than this tool (${latestVersion()})`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

/**
 * For the duration of an ingest, writes go through a rollback journal instead of the WAL; the returned
 * function puts the store back in WAL mode (openStore also does, for a store left otherwise).
 * Why: an ingest is one transaction per file, and a 1 GB log makes about 2 GB of pages. In WAL mode
 * each page is written to the WAL and then copied into the database by the checkpoint at COMMIT; with
 * a rollback journal new pages are written once, and the journal holds only the few existing pages the
 * transaction changes. Measured on the 1 GB mixed log: 19.7 s in WAL mode, 12.3 s (bench/RESULTS-ingest.md).
 * Atomicity is the same (a killed ingest leaves a hot journal that the next opener rolls back);
 * synchronous=FULL keeps it durable across power loss too. The cost: while an ingest runs, readers
 * wait for it (WAL would let them read the state before it). When another connection has the store
 * open the switch is refused and the ingest simply runs in WAL mode.
 */
export function bulkWriteMode(db: Db): () => void {
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  let mode: string;
  try {
    db.pragma('busy_timeout = 0');
    mode = String(db.pragma('journal_mode = DELETE', { simple: true }));
  } catch {
    mode = 'wal';
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
  if (mode !== 'delete') return () => {};
  db.pragma('synchronous = FULL');
  return () => {
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    } catch {
      // Another connection opened the store meanwhile: the next openStore switches it back.
    }
  };
}
