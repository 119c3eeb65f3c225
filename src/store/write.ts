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
  /** Bytes of content (after gunzip); null when not known yet. */
  contentBytes?: number | null;
  /** The tail of a grown log: the source holding its first lines, and the first line read here. */
  continuesSourceId?: number | null;
  firstLine?: number;
  /** --tz: the zone zone-less times were read in (null: UTC). */
  assumedTz?: string | null;
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

  /** `tableOf`: where a table's rows go (parse-split.ts writes a second range's rows to temp tables first). */
  constructor(private readonly db: Db, readonly sourceId: number, private readonly tableOf: (table: string) => string = (t) => t) {
    // A 2 MiB page cache while rows are appended, not better-sqlite3's 16 MB (SQLITE_DEFAULT_CACHE_SIZE=-16000):
    // the cache filled as the store grew and its 32 KiB page buffers, scattered through malloc's heap, were
    // most of the RSS that grew with the file (1 GB NOSPACE log: peak 183 MiB, 114 MiB with this; same CPU).
    db.pragma('cache_size = -2000');
    this.events = new GroupWriter(db, tableOf('events'), sourceId, EVENT_COLS);
    this.requests = new GroupWriter(db, tableOf('etcd_requests'), sourceId, REQUEST_COLS);
  }

  write(batch: RowBatch): void {
    for (const g of batch.events) this.events.write(g);
    for (const g of batch.requests) this.requests.write(g);
    for (const { table, params } of batch.singles) {
      let st = this.singles.get(table);
      if (!st) {
        st = this.db.prepare(insertSql(this.tableOf(table), this.sourceId, SINGLE_ROW_TABLES[table], 1));
        this.singles.set(table, st);
      }
      st.run(params);
    }
  }
}

export function findSourceBySha(db: Db, sha256: string): { id: number; path: string } | undefined {
  return db.prepare('SELECT id, path FROM sources WHERE sha256 = ?').get(sha256) as { id: number; path: string } | undefined;
}

/** Whether a stored source has exactly this many bytes of content (only such a file can be a duplicate). */
export function sameSizeSourceExists(db: Db, contentBytes: number): boolean {
  return db.prepare('SELECT 1 FROM sources WHERE coalesce(content_bytes, size_bytes) = ? LIMIT 1').get(contentBytes) !== undefined;
}

/** A stored text source a longer file may have grown from: its content bytes and kind. */
export interface GrowthBase {
  id: number;
  path: string;
  kind: SourceKind;
  member: string | null;
  sha256: string;
  contentBytes: number;
}

/** Text sources shorter than `contentBytes`, longest first (a longer stored prefix leaves less to read). */
export function growthBases(db: Db, contentBytes: number): GrowthBase[] {
  return db.prepare(`SELECT id, path, kind, member, sha256, coalesce(content_bytes, size_bytes) AS contentBytes FROM sources
    WHERE kind <> 'etcd-snapshot' AND coalesce(content_bytes, size_bytes) BETWEEN 1 AND ? - 1
    ORDER BY contentBytes DESC, id DESC`).all(contentBytes) as GrowthBase[];
}

export function insertSource(db: Db, m: SourceMeta): number {
  const r = db.prepare(`INSERT INTO sources (path, sha256, kind, member, size_bytes, content_bytes, continues, first_line, assumed_tz, ingested_at)
    VALUES (?,?,?,?,?,?,?,?,?,?)`)
    .run(m.path, m.sha256, m.kind, m.member, m.sizeBytes, m.contentBytes ?? null, m.continuesSourceId ?? null, m.firstLine ?? 1,
      m.assumedTz ?? null, new Date().toISOString());
  return Number(r.lastInsertRowid);
}

/** Once a streamed input's content has been hashed. */
export function setSourceContent(db: Db, id: number, sha256: string, sizeBytes: number, contentBytes: number): void {
  db.prepare('UPDATE sources SET sha256 = ?, size_bytes = ?, content_bytes = ? WHERE id = ?').run(sha256, sizeBytes, contentBytes, id);
}

export function finishSource(db: Db, id: number, t: SourceTotals): void {
  db.prepare(`UPDATE sources SET records=?, issues=?, first_ts_ms=?, last_ts_ms=?, time_bases=? WHERE id=?`)
    .run(t.records, t.issues, t.firstMs, t.lastMs, t.bases.join(','), id);
}

/**
 * Forgets sources and every row they produced, in one transaction: every table with a source_id column
 * (found in the schema, so tables added later are covered), and the sources that continue them (the
 * tail of a grown log means nothing without its head). Returns the ids removed, in order, and the rows.
 */
export function forgetSources(db: Db, ids: readonly number[]): { ids: number[]; rows: number } {
  const tables = (db.prepare(`SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
    WHERE m.type = 'table' AND c.name = 'source_id' AND m.name <> 'sources' ORDER BY m.name`).all() as { name: string }[])
    .map((t) => t.name);
  const chain = db.prepare(`WITH RECURSIVE c(id) AS (SELECT value FROM json_each(?)
      UNION SELECT s.id FROM sources s JOIN c ON s.continues = c.id)
    SELECT id FROM c ORDER BY id`);
  return db.transaction(() => {
    const all = (chain.all(JSON.stringify(ids)) as { id: number }[]).map((r) => r.id);
    const list = JSON.stringify(all);
    let rows = 0;
    for (const t of tables) rows += db.prepare(`DELETE FROM "${t}" WHERE source_id IN (SELECT value FROM json_each(?))`).run(list).changes;
    // Continuations first: a source row is referenced by the one that continues it.
    for (const id of [...all].reverse()) db.prepare('DELETE FROM sources WHERE id = ?').run(id);
    return { ids: all, rows };
    // IMMEDIATE: it reads before it writes, and a read transaction that must become a write while another
    // command writes gets SQLITE_BUSY at once (SQLite does not wait: a deadlock); this waits (--wait).
  }).immediate();
}
