// The fleet page's view of each cluster's status readings, from the status rollup (store/status-rollup.ts), so that
// `report --fleet` never reads every reading: per cluster, the daily rollup rows give the exact counts, spans,
// min/max and last readings; the series the capacity forecast runs on is thinned to at most BUCKETS buckets per
// member, each giving its lowest and highest in-use reading and its last one (real readings, in time order: a
// compaction saw-tooth keeps its peaks and troughs, a steady rise its first and last). The level is picked by the
// span: daily rollup rows for spans of MIN_DAYS days or more, hourly ones for BUCKETS hours or more, else the raw
// readings (folded the same way when there are more than RAW_LIMIT per member). `project` and `report` for one
// cluster keep reading every reading.
import type { Db } from '../store/open.js';
import { notableEventsSql, type AlarmListRow, type EventRow, type Loaded, type RequestRow, type SnapshotStatusRow, type StatusRow } from './load.js';
import { sourceInCluster, type ClusterScope } from './clusters.js';
import { loadIntegrity } from './snapshot-integrity.js';
import {
  DAY_MS, HOUR_MS, RAW_COLUMNS, foldReadings, mergeRollup, readStatusRollup, type RawReading, type RollupRow, type RollupReading,
} from '../store/status-rollup.js';

/** Buckets per member the forecast runs on (up to three readings each). */
export const BUCKETS = 60;
/** Spans of this many days or more are read from the daily rollup (the hourly one below). */
export const MIN_DAYS = 20;
/** Up to this many readings per member, the forecast runs on the readings themselves. */
export const RAW_LIMIT = 400;

export interface ClusterSeries {
  /** Daily rollup rows of the cluster (every member, every source): exact counts, min/max, last readings. */
  daily: RollupRow[];
  /** Per member, the rows the forecast runs on, in time order (thinned, or the raw readings). */
  status: StatusRow[];
  /** Buckets of the series (one row per member per bucket), for the chart. */
  buckets: RollupRow[];
  /** How the series was made, for the evidence. */
  how: string;
  readings: number;
  thinned: boolean;
}

type Tagged = RollupRow & { ref: number | null };

/** The daily rollup rows of every cluster (key: the cluster's ref, null for readings of no cluster). */
export function readFleetDaily(db: Db): { byRef: Map<number | null, Tagged[]>; pending: number } {
  const { rows, pending } = readStatusRollup(db, DAY_MS);
  const byRef = new Map<number | null, Tagged[]>();
  for (const r of rows) {
    const list = byRef.get(r.ref) ?? [];
    list.push(r);
    byRef.set(r.ref, list);
  }
  return { byRef, pending };
}

const memberOf = (r: { memberId: string; endpoint: string }): string => r.memberId || r.endpoint;

/** The thinning's knobs (tests force thinning on short real captures with them). */
export interface SeriesOptions {
  buckets?: number;
  rawLimit?: number;
}

export function clusterSeries(db: Db, c: ClusterScope | null, daily: readonly Tagged[], paths: ReadonlyMap<number, string>, opts: SeriesOptions = {}): ClusterSeries {
  const B = opts.buckets ?? BUCKETS;
  const rawLimit = opts.rawLimit ?? RAW_LIMIT;
  const readings = daily.reduce((n, r) => n + r.n, 0);
  if (daily.length === 0) return { daily: [], status: [], buckets: [], how: 'no readings', readings: 0, thinned: false };
  const first = Math.min(...daily.map((r) => r.firstTs));
  const last = Math.max(...daily.map((r) => r.lastTs));
  const span = last - first + 1;
  const perMember = new Map<string, number>();
  for (const r of daily) perMember.set(memberOf(r), (perMember.get(memberOf(r)) ?? 0) + r.sizedN);
  const most = Math.max(...perMember.values());
  const want = Math.ceil(span / B);
  let buckets: RollupRow[];
  let status: StatusRow[];
  let how: string;
  let thinned = true;
  if (span >= MIN_DAYS * DAY_MS) {
    const k = Math.max(1, Math.ceil(want / DAY_MS));
    buckets = thin(daily, k * DAY_MS);
    status = exemplars(buckets, paths);
    how = `from the daily rollup: the lowest and highest in-use reading and the last one per ${k} day(s) per member (${status.length} of ${readings} readings)`;
  } else if (want >= HOUR_MS && most > rawLimit) {
    const k = Math.ceil(want / HOUR_MS);
    const keys = [...new Map(daily.map((r) => [`${r.src}\u0000${r.endpoint}\u0000${r.memberId}`, { src: r.src, endpoint: r.endpoint, memberId: r.memberId }])).values()];
    const hourly = readStatusRollup(db, HOUR_MS, keys).rows.filter((r) => r.ref === daily[0]!.ref);
    buckets = thin(hourly, k * HOUR_MS);
    status = exemplars(buckets, paths);
    how = `from the hourly rollup: the lowest and highest in-use reading and the last one per ${k} hour(s) per member (${status.length} of ${readings} readings)`;
  } else {
    const raw = readRaw(db, c, daily);
    const w = Math.max(1, want);
    buckets = thin([...foldReadings(raw, [w]).values()], w);
    if (most > rawLimit) {
      status = exemplars(buckets, paths);
      how = `from the readings: the lowest and highest in-use reading and the last one per ${Math.round(w / 1000)} s per member (${status.length} of ${readings} readings)`;
    } else {
      status = raw.map((r) => statusRowOf(r, paths));
      how = `every reading (${readings})`;
      thinned = false;
    }
  }
  status.sort((a, b) => a.ts_ms - b.ts_ms || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) || a.line - b.line);
  return { daily: [...daily], status, buckets, how, readings, thinned };
}

/** Rows merged per member (member id, else endpoint), exact-or-humanized, time basis and bucket of `width`. */
function thin(rows: readonly RollupRow[], width: number): RollupRow[] {
  const out = new Map<string, RollupRow>();
  for (const r of rows) {
    const b = Math.floor((r.bucket * r.width) / width);
    const k = `${memberOf(r)}\u0000${r.approx}\u0000${r.basis}\u0000${b}`;
    const had = out.get(k);
    const row = { ...r, width, bucket: b };
    out.set(k, had ? { ...mergeRollup(had, row), width, bucket: b } : row);
  }
  return [...out.values()].sort((a, b) => a.bucket - b.bucket || (memberOf(a) < memberOf(b) ? -1 : 1));
}

/** Each bucket's lowest, highest and last reading (one row for each distinct reading). */
function exemplars(buckets: readonly RollupRow[], paths: ReadonlyMap<number, string>): StatusRow[] {
  const out: StatusRow[] = [];
  for (const b of buckets) {
    const seen = new Set<string>();
    const held = b.nospaceN === b.n ? '["NOSPACE"]' : '[]';
    for (const [e, alarms] of [[b.lo, held], [b.hi, held], [b.z, b.z?.alarms ?? held]] as [RollupReading | null, string][]) {
      if (!e) continue;
      const id = `${e.src}:${e.line}:${e.ts}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({
        ts_ms: e.ts, time_basis: b.basis, endpoint: b.endpoint, member_id: b.memberId || null, db_size_bytes: e.phys, db_size_approx: b.approx,
        db_size_in_use_bytes: e.inUse, revision: e.rev, alarms, errors: '[]', format: b.format, is_leader: null, path: paths.get(e.src) ?? '?', line: e.line,
      });
    }
  }
  return out;
}

function statusRowOf(r: RawReading, paths: ReadonlyMap<number, string>): StatusRow {
  return {
    ts_ms: r.ts, time_basis: r.basis ?? '', endpoint: r.endpoint, member_id: r.memberId, db_size_bytes: r.phys, db_size_approx: r.approx,
    db_size_in_use_bytes: r.inUse, revision: r.rev, alarms: r.alarms, errors: r.errors, format: r.format, is_leader: r.leader,
    path: paths.get(r.src) ?? '?', line: r.line,
  };
}

/** The cluster's readings themselves, found by the id range its rollup rows cover (the rowid is the table's key). */
function readRaw(db: Db, c: ClusterScope | null, daily: readonly RollupRow[]): RawReading[] {
  const lo = Math.min(...daily.map((r) => r.minId));
  const hi = Math.max(...daily.map((r) => r.maxId));
  const inCluster = c ? `COALESCE(s.cluster, src.cluster) = ${Number(c.ref)}` : '1=1';
  return db.prepare(`SELECT ${RAW_COLUMNS} FROM status_samples s JOIN sources src ON src.id = s.source_id
    WHERE s.id BETWEEN ? AND ? AND s.ts_ms IS NOT NULL AND ${inCluster} ORDER BY s.ts_ms, src.path, s.line, s.seq`).all(lo, hi) as RawReading[];
}

/** What the analyses read besides the status readings (as load.ts's loadEvidence, whose status query is the one avoided). */
export function loadClusterRecords(db: Db, c: ClusterScope | null, status: StatusRow[]): Loaded {
  const inC = sourceInCluster('src', c);
  const events = db.prepare(notableEventsSql(inC)).all() as EventRow[];
  const requests = db.prepare(`
    SELECT r.ts_ms, r.member, r.op, r.key, r.outcome, r.error, src.path, r.line, r.count, r.last_ts_ms
    FROM etcd_requests r JOIN sources src ON src.id = r.source_id WHERE ${inC} ORDER BY r.ts_ms, src.path, r.line, r.seq`).all() as RequestRow[];
  const snapshots = db.prepare(`
    SELECT s.ts_ms, s.time_basis, s.hash, s.revision, s.total_keys, s.total_size_bytes, s.total_size_approx, src.path, s.line, s.source_id
    FROM snapshot_status s JOIN sources src ON src.id = s.source_id WHERE ${inC} ORDER BY s.ts_ms, src.path, s.line`).all() as (SnapshotStatusRow & { source_id?: number })[];
  for (const s of snapshots) {
    s.integrity = loadIntegrity(db, s.source_id!, 3);
    delete s.source_id;
  }
  const alarmRows = db.prepare(`
    SELECT a.ts_ms, a.time_basis, a.member_id, a.alarm, src.path, a.line FROM alarms a JOIN sources src ON src.id = a.source_id
    WHERE ${inC} ORDER BY a.ts_ms, src.path, a.line, a.seq`).all() as AlarmListRow[];
  return { untilMs: null, status, untimedStatus: [], events, requests, snapshots, alarmRows };
}

/**
 * One member's readings since `sinceMs` for a short fit (the fleet's in-use slope over the last day): the series'
 * own rows when they are the readings, else the hourly rollup's lowest, highest and last reading per hour.
 */
export function recentReadings(db: Db, series: ClusterSeries, member: string, sinceMs: number, paths: ReadonlyMap<number, string>): { rows: StatusRow[]; how: string } {
  const own = series.status.filter((s) => (s.member_id ?? s.endpoint) === member && s.ts_ms >= sinceMs);
  if (!series.thinned || series.buckets.every((b) => b.width <= HOUR_MS)) return { rows: own, how: series.thinned ? 'rollup readings (lowest, highest, last per bucket)' : 'readings' };
  const keys = [...new Map(series.daily.filter((r) => memberOf(r) === member).map((r) => [`${r.src}\u0000${r.endpoint}\u0000${r.memberId}`, { src: r.src, endpoint: r.endpoint, memberId: r.memberId }])).values()];
  const hourly = readStatusRollup(db, HOUR_MS, keys, sinceMs).rows;
  const rows = exemplars(thin(hourly, HOUR_MS), paths).filter((s) => s.ts_ms >= sinceMs);
  rows.sort((a, b) => a.ts_ms - b.ts_ms || a.line - b.line);
  return { rows, how: 'hourly rollup readings (lowest, highest, last per hour)' };
}
