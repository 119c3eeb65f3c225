// Opening the store: WAL, foreign keys, migrations by PRAGMA user_version.
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
