// Parsed records → the parameters of the store's INSERTs, without touching the database.
// The encoder runs where the parsing runs (the main thread, or the parse worker for a large file);
// RowSink (write.ts) runs the INSERTs on the main thread. A RowBatch holds only arrays of numbers,
// strings and nulls, so it crosses a worker boundary by structured clone without any conversion.
// events and etcd_requests (one or two rows per log line, millions per file) are grouped
// ROWS_PER_INSERT rows per parameter array: one multi-row INSERT prepared once costs far less per row
// than a statement run per row (fewer native calls, one VDBE program start per 64 rows).
import type { EtcdRequest, LogEvent, ParsedRecord, ParseIssue, RecordTime } from '../model.js';
import {
  AGGREGATED_EVENT_KINDS, MinuteGroups, STARTUP_LINES_KEPT, eventGroupKey, minuteOf, requestGroupKey, sameEvent, sameRequest,
  type Group,
} from './row-groups.js';

/** Rows per multi-row INSERT: 64 × 16 columns = 1024 parameters, well under SQLite's 32766. */
export const ROWS_PER_INSERT = 64;

/** Columns after source_id (which RowSink puts into the statement itself), in parameter order. */
export const EVENT_COLS = ['line', 'ts_ms', 'utc_offset_min', 'time_basis', 'member', 'level', 'kind', 'message', 'raw', 'detail',
  'count', 'last_line', 'last_ts_ms'] as const;
export const REQUEST_COLS = ['line', 'seq', 'ts_ms', 'member', 'op', 'key', 'range_end', 'value_size', 'lease', 'in_txn', 'outcome', 'error', 'took_ms',
  'count', 'last_line', 'last_ts_ms'] as const;

/** The rarer record kinds: one statement per row. Columns after source_id, in parameter order. */
export const SINGLE_ROW_TABLES = {
  status_samples: ['line', 'seq', 'ts_ms', 'time_basis', 'format', 'endpoint', 'member_id', 'cluster_id', 'version',
    'db_size_bytes', 'db_size_approx', 'db_size_in_use_bytes', 'revision', 'raft_term', 'raft_index',
    'raft_applied_index', 'is_leader', 'leader_id', 'is_learner', 'errors', 'alarms', 'db_size_quota_bytes', 'storage_version'],
  health_samples: ['line', 'seq', 'ts_ms', 'time_basis', 'format', 'endpoint', 'healthy', 'took_ms', 'error'],
  snapshot_status: ['line', 'seq', 'ts_ms', 'time_basis', 'format', 'hash', 'revision', 'total_keys',
    'total_size_bytes', 'total_size_approx', 'version', 'total_keys_meaning'],
  alarms: ['line', 'seq', 'ts_ms', 'time_basis', 'member_id', 'alarm'],
  members: ['line', 'seq', 'ts_ms', 'time_basis', 'member_id', 'status', 'name', 'peer_urls', 'client_urls', 'is_learner'],
  issues: ['line', 'reason', 'excerpt'],
} as const;
export type SingleRowTable = keyof typeof SINGLE_ROW_TABLES;

export type Param = string | number | null;

/** What the encoder has for the writer: full 64-row groups, single rows, and (at the end) the rest. */
export interface RowBatch {
  events: Param[][];
  requests: Param[][];
  singles: { table: SingleRowTable; params: Param[] }[];
  /** Input bytes read so far (for progress). */
  bytesRead: number;
}

export interface SourceTotals {
  records: number;
  issues: number;
  firstMs: number | null;
  lastMs: number | null;
  bases: string[];
}

const EVENT_W = EVENT_COLS.length;
const REQUEST_W = REQUEST_COLS.length;
const b = (v: boolean | null): number | null => (v === null ? null : v ? 1 : 0);
const ts = (t: RecordTime | null): number | null => t?.ms ?? null;

export interface EncoderOptions {
  /** Fold routine and bursty lines into per-minute groups (row-groups.ts); false with `ingest --keep-raw`. */
  aggregate: boolean;
}

export class RowEncoder {
  private readonly eventGroups = new MinuteGroups<Param, LogEvent>(sameEvent);
  private readonly requestGroups = new MinuteGroups<Param, EtcdRequest>(sameRequest);
  /** Lines up to this one (a start-up line and those after it) are kept one by one. */
  private keepUntil = -1;
  private events: Param[] = [];
  private requests: Param[] = [];
  private out: RowBatch = emptyBatch();
  private seqLine = -1;
  private seq = 0;
  private records = 0;
  private issues = 0;
  private firstMs: number | null = null;
  private lastMs: number | null = null;
  private readonly bases = new Set<string>();

  constructor(private readonly opts: EncoderOptions = { aggregate: true }) {}

  /** Takes what the encoder has gathered since the last take; with `final`, also the partial groups. */
  take(bytesRead: number, final = false): RowBatch {
    if (final) this.closeGroups(true);
    const out = this.out;
    out.bytesRead = bytesRead;
    if (final) {
      if (this.events.length > 0) out.events.push(this.events);
      if (this.requests.length > 0) out.requests.push(this.requests);
      this.events = [];
      this.requests = [];
    }
    this.out = emptyBatch();
    return out;
  }

  /** The last line kept one by one after a start-up line (-1: none). */
  get keptUntil(): number {
    return this.keepUntil;
  }

  totals(): SourceTotals {
    return { records: this.records, issues: this.issues, firstMs: this.firstMs, lastMs: this.lastMs, bases: [...this.bases].sort() };
  }

  issue(i: ParseIssue): void {
    this.issues++;
    this.out.singles.push({ table: 'issues', params: [i.line, i.reason, i.excerpt.slice(0, 200)] });
  }

  record(r: ParsedRecord): void {
    this.records++;
    // Groups are written out once their minute is over (decided line by line, so the rows do not depend on
    // how the input was read), never between a start-up line and those kept after it.
    if (r.line > this.keepUntil && (this.eventGroups.due() || this.requestGroups.due())) this.closeGroups(false);
    const t = r.time;
    if (t) {
      this.bases.add(t.basis);
      if (this.firstMs === null || t.ms < this.firstMs) this.firstMs = t.ms;
      if (this.lastMs === null || t.ms > this.lastMs) this.lastMs = t.ms;
    }
    switch (r.kind) {
      case 'event': {
        const grouped = t !== null && this.opts.aggregate && r.line > this.keepUntil && AGGREGATED_EVENT_KINDS.has(r.event);
        let key = '';
        if (grouped) {
          const minute = minuteOf(t.ms);
          if (this.eventGroups.joinRecent(minute, r, r.line, t.ms)) return;
          key = eventGroupKey(r, minute);
          if (this.eventGroups.add(key, r.line, t.ms, r)) return;
        }
        const row: Param[] = [r.line, ts(t), t?.offsetMin ?? null, t?.basis ?? null, r.member, r.level, r.event, r.message, r.raw,
          hasKeys(r.detail) ? JSON.stringify(r.detail) : null, 1, null, null];
        if (grouped) this.eventGroups.start(key, minuteOf(t.ms), r.line, t.ms, row, r);
        else {
          if (r.event === 'etcd.start') this.keepUntil = r.line + STARTUP_LINES_KEPT;
          this.pushEvent(row);
        }
        return;
      }
      case 'request': {
        const seq = this.nextSeq(r.line);
        let key = '';
        if (t !== null && this.opts.aggregate) {
          const minute = minuteOf(t.ms);
          if (this.requestGroups.joinRecent(minute, r, r.line, t.ms)) return;
          key = requestGroupKey(r, minute);
          if (this.requestGroups.add(key, r.line, t.ms, r)) return;
        }
        const row: Param[] = [r.line, seq, ts(t), r.member, r.op, r.key, r.rangeEnd, r.valueSize, r.lease,
          r.inTxn ? 1 : 0, r.outcome, r.error, r.tookMs, 1, null, null];
        if (key !== '') this.requestGroups.start(key, minuteOf(t!.ms), r.line, t!.ms, row, r);
        else this.pushRequest(row);
        return;
      }
      case 'status':
        this.single('status_samples', [r.line, this.nextSeq(r.line), ts(t), t?.basis ?? null, r.format, r.endpoint,
          r.memberId, r.clusterId, r.version, r.dbSizeBytes, r.dbSizeApprox ? 1 : 0, r.dbSizeInUseBytes, r.revision,
          r.raftTerm, r.raftIndex, r.raftAppliedIndex, b(r.isLeader), r.leaderId, b(r.isLearner),
          JSON.stringify(r.errors), JSON.stringify(r.alarms), r.dbSizeQuotaBytes ?? null, r.storageVersion ?? null]);
        return;
      case 'health':
        this.single('health_samples', [r.line, this.nextSeq(r.line), ts(t), t?.basis ?? null, r.format, r.endpoint,
          r.healthy ? 1 : 0, r.tookMs, r.error]);
        return;
      case 'snapshot-status':
        this.single('snapshot_status', [r.line, this.nextSeq(r.line), ts(t), t?.basis ?? null, r.format, r.hash,
          r.revision, r.totalKeys, r.totalSizeBytes, r.totalSizeApprox ? 1 : 0, r.version ?? null, r.totalKeysMeaning ?? null]);
        return;
      case 'alarm':
        this.single('alarms', [r.line, this.nextSeq(r.line), ts(t), t?.basis ?? null, r.memberId, r.alarm]);
        return;
      case 'member':
        this.single('members', [r.line, this.nextSeq(r.line), ts(t), t?.basis ?? null, r.memberId, r.status, r.name,
          JSON.stringify(r.peerUrls), JSON.stringify(r.clientUrls), b(r.isLearner)]);
        return;
    }
  }

  private pushEvent(row: Param[]): void {
    const a = this.events;
    for (const v of row) a.push(v);
    if (a.length === EVENT_W * ROWS_PER_INSERT) {
      this.out.events.push(a);
      this.events = [];
    }
  }

  private pushRequest(row: Param[]): void {
    const a = this.requests;
    for (const v of row) a.push(v);
    if (a.length === REQUEST_W * ROWS_PER_INSERT) {
      this.out.requests.push(a);
      this.requests = [];
    }
  }

  /** Writes out the groups that are over: each its first line's row with count, last_line, last_ts_ms. */
  private closeGroups(all: boolean): void {
    for (const g of this.eventGroups.closing(all)) this.pushEvent(finishGroup(g, EVENT_W));
    for (const g of this.requestGroups.closing(all)) this.pushRequest(finishGroup(g, REQUEST_W));
  }

  private single(table: SingleRowTable, params: Param[]): void {
    this.out.singles.push({ table, params });
  }

  /** Several records may come from one line (a txn's puts, a status table's rows): seq numbers them. */
  private nextSeq(line: number): number {
    if (line !== this.seqLine) {
      this.seqLine = line;
      this.seq = 0;
    }
    return this.seq++;
  }
}

/** The last three columns of both tables are count, last_line, last_ts_ms (NULL for a single line). */
function finishGroup(g: Group<Param>, width: number): Param[] {
  const p = g.params;
  p[width - 3] = g.count;
  if (g.count > 1) {
    p[width - 2] = g.lastLine;
    p[width - 1] = g.lastMs;
  }
  return p;
}

function emptyBatch(): RowBatch {
  return { events: [], requests: [], singles: [], bytesRead: 0 };
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}
