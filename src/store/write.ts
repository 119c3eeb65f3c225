// Writing one source's records. The caller wraps a whole file in one transaction (beginSource …
// commit/rollback), so a file is stored whole or not at all; rows are keyed (source, line, seq).
// events and etcd_requests (one or two rows per log line, millions per file) are buffered and written
// ROWS_PER_INSERT rows per statement: one multi-row INSERT prepared once costs far less per row than a
// statement run per row (fewer native calls, one VDBE program start per 64 rows). flush() writes the rest.
import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';
import type { ParsedRecord, ParseIssue, RecordTime, SourceKind } from '../model.js';

export interface SourceMeta {
  path: string;
  sha256: string;
  kind: SourceKind;
  member: string | null;
  sizeBytes: number;
}

export interface SourceTotals {
  records: number;
  issues: number;
  firstMs: number | null;
  lastMs: number | null;
  bases: Set<string>;
}

/** Rows per multi-row INSERT: 64 × 14 columns = 896 parameters, well under SQLite's 32766. */
export const ROWS_PER_INSERT = 64;

const EVENT_COLS = 'source_id,line,ts_ms,utc_offset_min,time_basis,member,level,kind,message,raw,detail';
const REQUEST_COLS = 'source_id,line,seq,ts_ms,member,op,key,range_end,value_size,lease,in_txn,outcome,error,took_ms';

/** `INSERT INTO t (cols) VALUES (?,…),(?,…)…` for `rows` rows. */
function insertSql(table: string, cols: string, rows: number): string {
  const one = `(${cols.split(',').map(() => '?').join(',')})`;
  return `INSERT INTO ${table} (${cols}) VALUES ${Array.from({ length: rows }, () => one).join(',')}`;
}

/** Parameters of up to ROWS_PER_INSERT rows, written with one statement when full. */
class RowBuffer {
  private readonly params: unknown[];
  private n = 0;
  private readonly width: number;
  private readonly full: Statement;

  constructor(private readonly db: Db, private readonly table: string, private readonly cols: string) {
    this.width = cols.split(',').length;
    this.params = new Array<unknown>(this.width * ROWS_PER_INSERT);
    this.full = db.prepare(insertSql(table, cols, ROWS_PER_INSERT));
  }

  /** Appends one row's values (exactly `width` of them, in column order). */
  add(...values: unknown[]): void {
    const base = this.n * this.width;
    for (let i = 0; i < values.length; i++) this.params[base + i] = values[i];
    if (++this.n === ROWS_PER_INSERT) {
      this.full.run(this.params);
      this.n = 0;
    }
  }

  flush(): void {
    if (this.n === 0) return;
    this.db.prepare(insertSql(this.table, this.cols, this.n)).run(this.params.slice(0, this.n * this.width));
    this.n = 0;
  }
}

const b = (v: boolean | null): number | null => (v === null ? null : v ? 1 : 0);
const ts = (t: RecordTime | null): number | null => t?.ms ?? null;

export class SourceWriter {
  private readonly stmts;
  private readonly events: RowBuffer;
  private readonly requests: RowBuffer;
  private seqLine = -1;
  private seq = 0;
  readonly totals: SourceTotals = { records: 0, issues: 0, firstMs: null, lastMs: null, bases: new Set() };

  constructor(private readonly db: Db, readonly sourceId: number) {
    this.events = new RowBuffer(db, 'events', EVENT_COLS);
    this.requests = new RowBuffer(db, 'etcd_requests', REQUEST_COLS);
    const p = (sql: string) => db.prepare(sql);
    this.stmts = {
      status: p(`INSERT INTO status_samples (source_id,line,seq,ts_ms,time_basis,format,endpoint,member_id,cluster_id,version,
                db_size_bytes,db_size_approx,db_size_in_use_bytes,revision,raft_term,raft_index,raft_applied_index,is_leader,
                leader_id,is_learner,errors,alarms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`),
      health: p(`INSERT INTO health_samples (source_id,line,seq,ts_ms,time_basis,format,endpoint,healthy,took_ms,error)
                VALUES (?,?,?,?,?,?,?,?,?,?)`),
      snapshot: p(`INSERT INTO snapshot_status (source_id,line,seq,ts_ms,time_basis,format,hash,revision,total_keys,
                total_size_bytes,total_size_approx) VALUES (?,?,?,?,?,?,?,?,?,?,?)`),
      alarm: p(`INSERT INTO alarms (source_id,line,seq,ts_ms,time_basis,member_id,alarm) VALUES (?,?,?,?,?,?,?)`),
      member: p(`INSERT INTO members (source_id,line,seq,ts_ms,time_basis,member_id,status,name,peer_urls,client_urls,is_learner)
                VALUES (?,?,?,?,?,?,?,?,?,?,?)`),
      issue: p(`INSERT INTO issues (source_id,line,reason,excerpt) VALUES (?,?,?,?)`),
    };
  }

  /** Writes the buffered rows; call before the transaction commits. */
  flush(): void {
    this.events.flush();
    this.requests.flush();
  }

  /** Several records may come from one line (a txn's puts, a status table's rows): seq numbers them. */
  private nextSeq(line: number): number {
    if (line !== this.seqLine) {
      this.seqLine = line;
      this.seq = 0;
    }
    return this.seq++;
  }

  private noteTime(t: RecordTime | null): void {
    if (!t) return;
    this.totals.bases.add(t.basis);
    if (this.totals.firstMs === null || t.ms < this.totals.firstMs) this.totals.firstMs = t.ms;
    if (this.totals.lastMs === null || t.ms > this.totals.lastMs) this.totals.lastMs = t.ms;
  }

  writeIssue(i: ParseIssue): void {
    this.totals.issues++;
    this.stmts.issue.run(this.sourceId, i.line, i.reason, i.excerpt.slice(0, 200));
  }

  write(r: ParsedRecord): void {
    this.totals.records++;
    this.noteTime(r.time);
    const s = this.sourceId;
    const t = r.time;
    switch (r.kind) {
      case 'event':
        this.events.add(s, r.line, ts(t), t?.offsetMin ?? null, t?.basis ?? null, r.member, r.level, r.event,
          r.message, r.raw, hasKeys(r.detail) ? JSON.stringify(r.detail) : null);
        return;
      case 'request':
        this.requests.add(s, r.line, this.nextSeq(r.line), ts(t), r.member, r.op, r.key, r.rangeEnd, r.valueSize,
          r.lease, r.inTxn ? 1 : 0, r.outcome, r.error, r.tookMs);
        return;
      case 'status':
        this.stmts.status.run(s, r.line, this.nextSeq(r.line), ts(t), t?.basis ?? null, r.format, r.endpoint, r.memberId,
          r.clusterId, r.version, r.dbSizeBytes, r.dbSizeApprox ? 1 : 0, r.dbSizeInUseBytes, r.revision, r.raftTerm,
          r.raftIndex, r.raftAppliedIndex, b(r.isLeader), r.leaderId, b(r.isLearner), JSON.stringify(r.errors),
          JSON.stringify(r.alarms));
        return;
      case 'health':
        this.stmts.health.run(s, r.line, this.nextSeq(r.line), ts(t), t?.basis ?? null, r.format, r.endpoint,
          r.healthy ? 1 : 0, r.tookMs, r.error);
        return;
      case 'snapshot-status':
        this.stmts.snapshot.run(s, r.line, this.nextSeq(r.line), ts(t), t?.basis ?? null, r.format, r.hash, r.revision,
          r.totalKeys, r.totalSizeBytes, r.totalSizeApprox ? 1 : 0);
        return;
      case 'alarm':
        this.stmts.alarm.run(s, r.line, this.nextSeq(r.line), ts(t), t?.basis ?? null, r.memberId, r.alarm);
        return;
      case 'member':
        this.stmts.member.run(s, r.line, this.nextSeq(r.line), ts(t), t?.basis ?? null, r.memberId, r.status, r.name,
          JSON.stringify(r.peerUrls), JSON.stringify(r.clientUrls), b(r.isLearner));
        return;
    }
  }
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

export function findSourceBySha(db: Db, sha256: string): { id: number; path: string } | undefined {
  return db.prepare('SELECT id, path FROM sources WHERE sha256 = ?').get(sha256) as { id: number; path: string } | undefined;
}

export function insertSource(db: Db, m: SourceMeta): number {
  const r = db.prepare(`INSERT INTO sources (path, sha256, kind, member, size_bytes, ingested_at) VALUES (?,?,?,?,?,?)`)
    .run(m.path, m.sha256, m.kind, m.member, m.sizeBytes, new Date().toISOString());
  return Number(r.lastInsertRowid);
}

export function finishSource(db: Db, id: number, t: SourceTotals): void {
  db.prepare(`UPDATE sources SET records=?, issues=?, first_ts_ms=?, last_ts_ms=?, time_bases=? WHERE id=?`)
    .run(t.records, t.issues, t.firstMs, t.lastMs, [...t.bases].sort().join(','), id);
}
