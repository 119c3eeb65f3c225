// Writing one source's rows. The caller wraps a whole file in one transaction (BEGIN … COMMIT or
// ROLLBACK), so a file is stored whole or not at all; rows are keyed (source, line, seq).
// The rows come from a RowEncoder (rows.ts) as parameter arrays: full ROWS_PER_INSERT-row groups run
// one statement prepared once; the source id is part of each statement's text.
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';
import type { SourceKind } from '../model.js';
import {
  EVENT_COLS, REQUEST_COLS, ROWS_PER_INSERT, SINGLE_ROW_TABLES, type Param, type RowBatch, type SingleRowTable,
  type SourceTotals,
} from './rows.js';

export interface SourceMeta {
  path: string;
  sha256: string;
  kind: SourceKind;
  member: string | null;
  sizeBytes: number;
}

/** `INSERT INTO t (source_id, cols) VALUES (id,?,…),(id,?,…)…` for `rows` rows. */
function insertSql(table: string, sourceId: number, cols: readonly string[], rows: number): string {
  const one = `(${sourceId},${cols.map(() => '?').join(',')})`;
  return `INSERT INTO ${table} (source_id,${cols.join(',')}) VALUES ${Array.from({ length: rows }, () => one).join(',')}`;
}

/** Rows of one table for one source, given ROWS_PER_INSERT rows per parameter array (the last may hold fewer). */
export class GroupWriter {
  private readonly full: Statement;
  constructor(private readonly db: Db, private readonly table: string, private readonly sourceId: number,
    private readonly cols: readonly string[]) {
    this.full = db.prepare(insertSql(table, sourceId, cols, ROWS_PER_INSERT));
  }

  write(group: Param[]): void {
    const rows = group.length / this.cols.length;
    if (rows === ROWS_PER_INSERT) this.full.run(group);
    else if (rows > 0) this.db.prepare(insertSql(this.table, this.sourceId, this.cols, rows)).run(group);
  }
}

export class RowSink {
  private readonly events: GroupWriter;
  private readonly requests: GroupWriter;
  private readonly singles = new Map<SingleRowTable, Statement>();

  constructor(private readonly db: Db, readonly sourceId: number) {
    this.events = new GroupWriter(db, 'events', sourceId, EVENT_COLS);
    this.requests = new GroupWriter(db, 'etcd_requests', sourceId, REQUEST_COLS);
  }

  write(batch: RowBatch): void {
    for (const g of batch.events) this.events.write(g);
    for (const g of batch.requests) this.requests.write(g);
    for (const { table, params } of batch.singles) {
      let st = this.singles.get(table);
      if (!st) {
        st = this.db.prepare(insertSql(table, this.sourceId, SINGLE_ROW_TABLES[table], 1));
        this.singles.set(table, st);
      }
      st.run(params);
    }
  }
}

export function findSourceBySha(db: Db, sha256: string): { id: number; path: string } | undefined {
  return db.prepare('SELECT id, path FROM sources WHERE sha256 = ?').get(sha256) as { id: number; path: string } | undefined;
}

/** Whether a stored source has exactly this many bytes (only such a file can be a duplicate). */
export function sameSizeSourceExists(db: Db, sizeBytes: number): boolean {
  return db.prepare('SELECT 1 FROM sources WHERE size_bytes = ? LIMIT 1').get(sizeBytes) !== undefined;
}

export function insertSource(db: Db, m: SourceMeta): number {
  const r = db.prepare(`INSERT INTO sources (path, sha256, kind, member, size_bytes, ingested_at) VALUES (?,?,?,?,?,?)`)
    .run(m.path, m.sha256, m.kind, m.member, m.sizeBytes, new Date().toISOString());
  return Number(r.lastInsertRowid);
}

export function finishSource(db: Db, id: number, t: SourceTotals): void {
  db.prepare(`UPDATE sources SET records=?, issues=?, first_ts_ms=?, last_ts_ms=?, time_bases=? WHERE id=?`)
    .run(t.records, t.issues, t.firstMs, t.lastMs, t.bases.join(','), id);
}
