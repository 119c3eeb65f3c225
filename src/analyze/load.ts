// What the analyses read from the store, cut at --until (analyse only what was known then).
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/open.js';
import { sampleInCluster, sourceInCluster, type ClusterScope } from './clusters.js';
import { loadIntegrity, type SnapshotIntegrity } from './snapshot-integrity.js';

export interface StatusRow {
  ts_ms: number;
  time_basis: string;
  endpoint: string;
  member_id: string | null;
  db_size_bytes: number | null;
  db_size_approx: number;
  db_size_in_use_bytes: number | null;
  revision: number | null;
  alarms: string;
  /** JSON array of the status call's errors (`memberID:… alarm:NOSPACE`): who holds the alarm. */
  errors?: string | null;
  format: string;
  is_leader: number | null;
  path: string;
  line: number;
}

export interface EventRow {
  ts_ms: number | null;
  time_basis: string | null;
  member: string | null;
  level: string | null;
  kind: string;
  message: string;
  detail: string | null;
  path: string;
  line: number;
  source_kind: string;
  /** Lines behind this row: 1, or a per-minute group's count (store/row-groups.ts); the row is its first line. */
  count: number;
  /** The group's last line and time (null for a single line). */
  last_line: number | null;
  last_ts_ms: number | null;
  /** `detail` parsed, once, by detailOf (undefined until asked). Kept on the row: a WeakMap of 500 k rows made
   *  every major GC walk its ephemerons (6 s of a 17 s analyze on the scale test's store). */
  parsedDetail?: Record<string, unknown>;
}

export interface RequestRow {
  ts_ms: number | null;
  member: string | null;
  op: string;
  key: string | null;
  outcome: string;
  error: string | null;
  path: string;
  line: number;
  /** Lines behind this row (a per-minute group's count, else 1), the last of them at last_ts_ms. */
  count: number;
  last_ts_ms: number | null;
}

export interface SnapshotStatusRow {
  ts_ms: number | null;
  time_basis: string | null;
  hash: string;
  revision: number;
  total_keys: number;
  total_size_bytes: number;
  total_size_approx: number;
  path: string;
  line: number;
  /** Whether the snapshot file these figures were read from can be trusted (snapshot-integrity.ts). */
  integrity?: SnapshotIntegrity;
}

/** One row of `etcdctl alarm list` output: the member id is decimal, as etcdctl prints it. */
export interface AlarmListRow {
  ts_ms: number | null;
  time_basis: string | null;
  member_id: string;
  alarm: string;
  path: string;
  line: number;
}

export interface Loaded {
  untilMs: number | null;
  status: StatusRow[];
  /** Samples with no time (etcdctl output pasted without a `date` line or --at), in file order: they still
   *  name the members and their endpoints. Empty with --until (their time is unknown). */
  untimedStatus: Omit<StatusRow, 'ts_ms' | 'time_basis'>[];
  events: EventRow[];
  requests: RequestRow[];
  snapshots: SnapshotStatusRow[];
  /** `alarm list` rows (incident.ts reads who held the alarm); optional so a hand-built Loaded need not carry it. */
  alarmRows?: AlarmListRow[];
  /** The time bases of every notable event, UNREAD_KINDS too (the assumptions name them); absent: read `events`. */
  eventTimeBases?: string[];
}

const cut = (col: string, until: number | null): string => (until === null ? '1=1' : `(${col} IS NULL OR ${col} <= ${until})`);
const cutStrict = (col: string, until: number | null): string => (until === null ? '1=1' : `${col} <= ${until}`);

/**
 * Notable kinds no analysis reads from `Loaded.events` (raft chatter, peer and membership changes, snapshot
 * transfers, health probes): they stay in the store for `query`, time-sanity and wal-writers (their own SQL),
 * but loading them cost analyze a third of its rows on a 1 GB NOSPACE log's store (20 k of 57 k). A kind
 * not named here is loaded, so a new one is never missed; test/analyze-load.test.ts checks that no file
 * reading `Loaded.events` names one of these.
 */
export const UNREAD_KINDS: readonly string[] = [
  'etcd.election', 'etcd.member.changed', 'etcd.peer.active', 'etcd.peer.inactive', 'etcd.raftlog.compacted',
  'etcd.snapshot.saved', 'etcd.snapshot.sent', 'etcd.db.size', 'etcd.health.false', 'etcd.heartbeat.slow',
  'etcd.request.slow', 'etcdctl.exe', 'operator.check', 'patroni.dcs-switch', 'patroni.error', 'patroni.ha.lock-owner',
  'patroni.ha.other',
];

/**
 * Of raft's leadership lines, the timeline shows those that name a leader change (timeline.ts) and the runbook
 * reads the newest that names the leader (detail.leader); `became follower/candidate` lines are neither, and
 * were half of a 1 GB NOSPACE log's 12 k leader rows. GLOB is case-sensitive, like the timeline's regex; the
 * detail test is a superset (the text names the key).
 */
const LEADER_READ = `(e.kind <> 'etcd.leader.changed' OR e.message GLOB '*elected leader*' OR e.message GLOB '*became leader*'
  OR e.message GLOB '*lost leader*' OR e.message GLOB '*changed leader*' OR e.detail LIKE '%"leader"%')`;

/** The notable-event condition of the partial index events_notable_ts (migration 5), over alias `e`. */
export const NOTABLE_SQL = `e.kind <> 'etcd.other' AND e.kind <> 'patroni.other' AND e.kind <> 'postgres.log'`;

/**
 * The events the analyses use: every kind but the routine lines. The three `<>` terms are those of the
 * partial index events_notable_ts (migration 5); SQLite uses a partial index only when the query's
 * WHERE repeats its terms (test/ingest-paths.test.ts checks the plan). `unread`: leave out UNREAD_KINDS.
 * Rows carry their source's id (path and kind are filled in from one small map, not copied per row).
 */
export function notableEventsSql(cutSql: string, unread = false): string {
  const skip = unread ? ` AND e.kind NOT IN (${UNREAD_KINDS.map((k) => `'${k}'`).join(', ')}) AND ${LEADER_READ}` : '';
  return `
    SELECT e.ts_ms, e.time_basis, e.member, e.level, e.kind, e.message, e.detail, e.source_id, e.line,
           e.count, e.last_line, e.last_ts_ms
    FROM events e JOIN sources src ON src.id = e.source_id
    WHERE ${NOTABLE_SQL}${skip} AND ${cutSql}
    ORDER BY e.ts_ms, src.path, e.line`;
}

/** Text columns whose values repeat from row to row (a path, a kind, a member, a key, a message). */
const REQUEST_REPEATED = new Set(['member', 'op', 'key', 'outcome', 'error', 'path']);

/**
 * The rows of a statement as objects whose repeated text values are one shared string each: SQLite hands
 * every row its own copy, and on a store of 500 k notable events those copies (path and kind on every row)
 * were most of what the garbage collector kept walking.
 */
function readShared<T>(st: Statement, repeated: ReadonlySet<string>): T[] {
  const cols = st.columns().map((c) => c.name);
  const share = cols.map((c) => repeated.has(c));
  const pool = new Map<string, string>();
  const out: T[] = [];
  for (const r of st.raw(true).iterate() as IterableIterator<unknown[]>) {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < cols.length; i++) {
      let v = r[i];
      if (share[i] && typeof v === 'string') {
        const p = pool.get(v);
        if (p === undefined) pool.set(v, v);
        else v = p;
      }
      o[cols[i]!] = v;
    }
    out.push(o as T);
  }
  return out;
}

type RawEvent = [number | null, string | null, string | null, string | null, string, string, string | null, number, number, number, number | null, number | null];

/**
 * The notable events as EventRow objects, built from raw rows: a source's path and kind come from one map
 * (one string each, not one per row), and the text that repeats (time basis, member, level, kind, message)
 * is one shared string per value (see readShared).
 */
function readEvents(db: Db, sql: string): EventRow[] {
  const sources = new Map<number, { path: string; kind: string }>();
  for (const s of db.prepare('SELECT id, path, kind FROM sources').iterate() as IterableIterator<{ id: number; path: string; kind: string }>) {
    sources.set(s.id, { path: s.path, kind: s.kind });
  }
  const pool = new Map<string, string>();
  const share = (v: string | null): string | null => {
    if (v === null) return null;
    const p = pool.get(v);
    if (p !== undefined) return p;
    pool.set(v, v);
    return v;
  };
  const rows = db.prepare(sql).raw(true).all() as RawEvent[];
  const out: EventRow[] = new Array<EventRow>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const src = sources.get(r[7])!;
    out[i] = {
      ts_ms: r[0], time_basis: share(r[1]), member: share(r[2]), level: share(r[3]), kind: share(r[4])!, message: share(r[5])!,
      detail: r[6], path: src.path, line: r[8], source_kind: src.kind, count: r[9], last_line: r[10], last_ts_ms: r[11],
      parsedDetail: undefined,
    };
  }
  return out;
}

/** `cluster`: only that cluster's rows (clusters.ts); null: the whole store. */
export function loadEvidence(db: Db, untilMs: number | null, cluster: ClusterScope | null = null): Loaded {
  const status = db.prepare(`
    SELECT s.ts_ms, s.time_basis, s.endpoint, s.member_id, s.db_size_bytes, s.db_size_approx, s.db_size_in_use_bytes,
           s.revision, s.alarms, s.errors, s.format, s.is_leader, src.path, s.line
    FROM status_samples s JOIN sources src ON src.id = s.source_id
    WHERE s.ts_ms IS NOT NULL AND ${cutStrict('s.ts_ms', untilMs)} AND ${sampleInCluster('s', 'src', cluster)}
    ORDER BY s.ts_ms, src.path, s.line, s.seq`).all() as StatusRow[];
  const untimedStatus = untilMs !== null ? [] : db.prepare(`
    SELECT s.endpoint, s.member_id, s.db_size_bytes, s.db_size_approx, s.db_size_in_use_bytes,
           s.revision, s.alarms, s.errors, s.format, s.is_leader, src.path, s.line
    FROM status_samples s JOIN sources src ON src.id = s.source_id
    WHERE s.ts_ms IS NULL AND ${sampleInCluster('s', 'src', cluster)}
    ORDER BY src.path, s.line, s.seq`).all() as Omit<StatusRow, 'ts_ms' | 'time_basis'>[];
  const eventScope = `${cut('e.ts_ms', untilMs)} AND ${sourceInCluster('src', cluster)}`;
  const events = readEvents(db, notableEventsSql(eventScope, true));
  const eventTimeBases = (db.prepare(`
    SELECT DISTINCT e.time_basis FROM events e JOIN sources src ON src.id = e.source_id
    WHERE ${NOTABLE_SQL} AND ${eventScope} AND e.time_basis IS NOT NULL ORDER BY 1`).pluck().all() as string[]);
  const requests = readShared<RequestRow>(db.prepare(`
    SELECT r.ts_ms, r.member, r.op, r.key, r.outcome, r.error, src.path, r.line, r.count, r.last_ts_ms
    FROM etcd_requests r JOIN sources src ON src.id = r.source_id
    WHERE ${cut('r.ts_ms', untilMs)} AND ${sourceInCluster('src', cluster)}
    ORDER BY r.ts_ms, src.path, r.line, r.seq`), REQUEST_REPEATED);
  const snapshots = db.prepare(`
    SELECT s.ts_ms, s.time_basis, s.hash, s.revision, s.total_keys, s.total_size_bytes, s.total_size_approx, src.path, s.line,
      s.source_id
    FROM snapshot_status s JOIN sources src ON src.id = s.source_id
    WHERE ${cut('s.ts_ms', untilMs)} AND ${sourceInCluster('src', cluster)}
    ORDER BY s.ts_ms, src.path, s.line`).all() as (SnapshotStatusRow & { source_id?: number })[];
  for (const s of snapshots) {
    s.integrity = loadIntegrity(db, s.source_id!, 3);
    delete s.source_id;
  }
  const alarmRows = db.prepare(`
    SELECT a.ts_ms, a.time_basis, a.member_id, a.alarm, src.path, a.line
    FROM alarms a JOIN sources src ON src.id = a.source_id
    WHERE ${cut('a.ts_ms', untilMs)} AND ${sourceInCluster('src', cluster)}
    ORDER BY a.ts_ms, src.path, a.line, a.seq`).all() as AlarmListRow[];
  return { untilMs, status, untimedStatus, events, requests, snapshots, alarmRows, eventTimeBases };
}

/** Parsed once per row (kept on it): several analyses read the same events' detail (on a 1 GB NOSPACE log's
 *  store, parsing it again in each took 1.3 s of analyze's 6.7 s CPU). */
export function detailOf(e: EventRow): Record<string, unknown> {
  if (!e.detail) return {};
  let d = e.parsedDetail;
  if (d === undefined) {
    try {
      d = JSON.parse(e.detail) as Record<string, unknown>;
    } catch {
      d = {};
    }
    e.parsedDetail = d;
  }
  return d;
}

export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
