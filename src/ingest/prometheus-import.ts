// `ingest --prometheus URL`: etcd's metrics from Prometheus' query_range, in chunks, into status samples.
// Labels map to cluster (a `cluster` label, else the job, else one unnamed cluster) and member (`instance`).
// The whole import is one transaction (stored whole or not at all); a re-import of an overlapping range adds
// nothing (natural keys, store/fleet-samples.ts). Memory stays bounded: a chunk's steps are chosen so that
// series × steps stays near VALUES_PER_CHUNK, and a chunk's readings are written before the next is fetched.
import type { Db } from '../store/open.js';
import type { FleetSample } from '../model.js';
import { FleetSampleWriter } from '../store/fleet-samples.js';
import { FIGURE_OF, buildImportQuery, clusterOfLabels, parseQueryRange, wholeOrNull, type LabelCache, type RangeSeries } from '../sources/prometheus/index.js';
import { HttpFailure, type HttpClient } from './http-client.js';
import { InputError, UsageError } from '../errors.js';

export interface PrometheusImportOptions {
  url: string;
  startMs: number;
  endMs: number;
  stepMs: number;
  selector: string | null;
  onChunk?: (doneMs: number, totalMs: number) => void;
}

export interface PrometheusImportResult {
  chunks: number;
  series: number;
  seen: number;
  added: { cluster: string | null; sourceId: number; added: number }[];
  firstMs: number | null;
  lastMs: number | null;
}

/** Prometheus refuses more than 11,000 points per series per query. */
const MAX_STEPS = 10_000;
/** query_range requests in flight at once (one answered while the one before is written). */
const IN_FLIGHT = 2;
// 200 clusters x 3 members x 30 d (3,000 series, bench/RESULTS-fleet.md): 200k values per answer with 3 in flight
// peaked at 356 MB RSS, 100k with 2 at 214-299 MB for the same CPU; the heap is mostly the store writer's garbage.
const VALUES_PER_CHUNK = 100_000;
const FIRST_STEPS = 10;

/** `http://user:pw@prom:9090/` → `http://prom:9090` (what a source path may show). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

export async function importFromPrometheus(db: Db, http: HttpClient, o: PrometheusImportOptions): Promise<PrometheusImportResult> {
  const query = buildImportQuery(o.selector);
  if (query === null) throw new UsageError(`--selector ${o.selector}: expected label matchers in one pair of braces, without __name__ ({job="etcd"})`);
  const base = displayUrl(o.url);
  const writer = new FleetSampleWriter(db, (cluster) => ({
    kind: 'prometheus', family: 'prometheus', cluster,
    path: `prometheus ${base}${cluster === null ? '' : ` cluster=${cluster}`}${o.selector ? ` ${o.selector}` : ''}`,
  }));
  const start = Math.ceil(o.startMs / o.stepMs) * o.stepMs;
  const res: PrometheusImportResult = { chunks: 0, series: 0, seen: 0, added: [], firstMs: null, lastMs: null };
  const seriesSeen = new Set<string>();
  const labelCache: LabelCache = new Map();
  const pool = new ReadingPool();
  const take = (a: number, b: number, series: RangeSeries[]): void => {
    res.chunks++;
    for (const s of series) seriesSeen.add(s.key);
    eachMemberReadings(series, (readings) => {
      for (const sample of readings) {
        res.seen++;
        if (writer.write(sample)) {
          res.firstMs = res.firstMs === null ? sample.tsMs : Math.min(res.firstMs, sample.tsMs);
          res.lastMs = res.lastMs === null ? sample.tsMs : Math.max(res.lastMs, sample.tsMs);
        }
      }
    }, pool);
    o.onChunk?.(b - start, o.endMs - start);
  };
  // An explicit page cache bound: left at better-sqlite3's default, the connection's memory grew with the rows
  // written in one transaction (199 MB RSS after 720k rows in a write-only test; 74 MB at 8 MB, same CPU).
  const cacheBefore = db.pragma('cache_size', { simple: true }) as number;
  db.pragma('cache_size = -8192');
  db.exec('BEGIN');
  try {
    // The first chunk alone tells how many series answer; the rest are sized from it and fetched IN_FLIGHT at a
    // time (the import waits on Prometheus far more than it computes), written in time order. It is short (10
    // steps): the import runs in a bounded heap (cli/import-prometheus-thread.ts), and 59 steps of 20,000 series
    // would be a 30 MB answer before the size of the next ones is known.
    const b0 = Math.min(o.endMs, start + (FIRST_STEPS - 1) * o.stepMs);
    const firstSeries = await fetchRange(http, o.url, query, start, b0, o.stepMs, labelCache);
    take(start, b0, firstSeries);
    const steps = Math.max(1, Math.min(MAX_STEPS, Math.floor(VALUES_PER_CHUNK / Math.max(1, firstSeries.length))));
    const ranges: [number, number][] = [];
    for (let a = b0 + o.stepMs; a <= o.endMs; ) {
      const b = Math.min(o.endMs, a + (steps - 1) * o.stepMs);
      ranges.push([a, b]);
      a = b + o.stepMs;
    }
    const inFlight: Promise<RangeSeries[]>[] = [];
    let next = 0;
    const launch = (): void => {
      const [a, b] = ranges[next++]!;
      const p = fetchRange(http, o.url, query, a, b, o.stepMs, labelCache);
      p.catch(() => undefined); // awaited in order below; a failure later in the queue must not go unhandled meanwhile
      inFlight.push(p);
    };
    while (next < ranges.length && inFlight.length < IN_FLIGHT) launch();
    for (const [a, b] of ranges) {
      const series = await inFlight.shift()!;
      if (next < ranges.length) launch();
      take(a, b, series);
    }
    res.added = writer.finish();
    res.series = seriesSeen.size;
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  } finally {
    db.pragma(`cache_size = ${cacheBefore}`);
  }
  return res;
}

async function fetchRange(http: HttpClient, url: string, query: string, a: number, b: number, stepMs: number, labelCache: LabelCache): Promise<RangeSeries[]> {
  const u = `${url.replace(/\/$/, '')}/api/v1/query_range`;
  const form = new URLSearchParams({ query, start: String(a / 1000), end: String(b / 1000), step: `${stepMs / 1000}s` }).toString();
  let r;
  try {
    r = await http.request(u, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  } catch (e) {
    throw new InputError(`${displayUrl(url)}: query_range ${new Date(a).toISOString()}..${new Date(b).toISOString()} failed: ${e instanceof HttpFailure ? e.message : String(e)}`);
  }
  const parsed = parseQueryRange(r.body, labelCache);
  if (!parsed.ok) throw new InputError(`${displayUrl(url)}: query_range answered HTTP ${r.status}: ${parsed.reason}`);
  return parsed.series;
}

/** A chunk's series → one reading per (cluster, instance, time), in eachMemberReadings' order. */
export function readingsOf(series: readonly RangeSeries[]): FleetSample[] {
  const out: FleetSample[] = [];
  eachMemberReadings(series, (rs) => {
    for (const r of rs) out.push(r);
  });
  return out;
}

/**
 * A chunk's readings handed on member by member (cluster, then instance), each member's in time order. Member-major
 * order keeps the store's natural-key index inserts together (one member's keys are adjacent: 5.3 against 7.4 µs of
 * CPU per row time-major in a write-only test), and a member's readings die young: built, written, dropped (a
 * chunk's worth held at once was promoted to the old heap: 150 MB heap on a 10-cluster import).
 */
export function eachMemberReadings(series: readonly RangeSeries[], emit: (readings: FleetSample[]) => void, pool?: ReadingPool): void {
  const members = new Map<string, RangeSeries[]>();
  for (const s of series) {
    const mk = `${clusterOfLabels(s.labels) ?? ''}\u0000${s.labels['instance'] ?? '(no instance label)'}`;
    const m = members.get(mk);
    if (m) m.push(s);
    else members.set(mk, [s]);
  }
  for (const mk of [...members.keys()].sort(cmp)) {
    const rs = memberReadings(members.get(mk)!, pool);
    if (rs.length > 0) emit(rs);
  }
}

/**
 * Reading objects used again member after member, for a consumer that is done with a member's readings when emit
 * returns (the store writer copies what it keeps): 5.2 M readings are then a few hundred objects, not 5.2 M that
 * the collector must sweep (and that, alive across a chunk, it moved to the old generation).
 */
export class ReadingPool {
  private readonly free: FleetSample[] = [];
  private next = 0;

  take(tsMs: number, cluster: string | null, endpoint: string): FleetSample {
    const r = this.free[this.next];
    this.next++;
    if (r === undefined) {
      const fresh = emptyReading('prometheus', tsMs, cluster, endpoint);
      this.free.push(fresh);
      return fresh;
    }
    r.tsMs = tsMs;
    r.cluster = cluster;
    r.endpoint = endpoint;
    r.memberId = r.clusterId = r.version = null;
    r.dbSizeBytes = r.dbSizeInUseBytes = r.quotaBytes = r.revision = r.compactRevision = r.keysTotal = r.putsTotal = null;
    r.isLeader = null;
    if (r.errors.length > 0) r.errors = [];
    if (r.alarms.length > 0) r.alarms = [];
    return r;
  }

  /** Every reading taken is free again. */
  release(): void {
    this.next = 0;
  }
}

/** One member's series → its readings in time order (from the pool when given one: valid until its release()). */
function memberReadings(series: readonly RangeSeries[], pool?: ReadingPool): FleetSample[] {
  pool?.release();
  const rs: FleetSample[] = [];
  for (const s of series) {
    const name = s.labels['__name__'] ?? '';
    const figure = FIGURE_OF.get(name);
    const version = name === 'etcd_server_version' ? s.labels['server_version'] ?? null : null;
    const serverId = name === 'etcd_server_id' ? (s.labels['server_id'] ?? '').toLowerCase() : null;
    if (figure === undefined && version === null && !serverId) continue;
    const cluster = clusterOfLabels(s.labels);
    const endpoint = s.labels['instance'] ?? '(no instance label)';
    const memberId = serverId ? (/^[0-9a-f]{1,16}$/.test(serverId) ? serverId.replace(/^0+(?=.)/, '') : null) : undefined;
    // The member's readings and the series' points are both in time order (a member's series share one step
    // grid): one walk pairs them, a time the member has no reading for yet is inserted in its place.
    let j = 0;
    for (let k = 0; k < s.timesMs.length; k++) {
      const t = s.timesMs[k]!;
      while (j < rs.length && rs[j]!.tsMs < t) j++;
      let r = rs[j];
      if (r === undefined || r.tsMs !== t) {
        r = pool ? pool.take(t, cluster, endpoint) : emptyReading('prometheus', t, cluster, endpoint);
        if (j === rs.length) rs.push(r);
        else rs.splice(j, 0, r);
      }
      if (version !== null) r.version = version;
      else if (memberId !== undefined) r.memberId = memberId;
      else if (figure !== undefined) setFigure(r, figure, s.values[k]!, name);
    }
  }
  return rs;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function emptyReading(format: FleetSample['format'], tsMs: number, cluster: string | null, endpoint: string): FleetSample {
  return {
    format, tsMs, basis: 'explicit', cluster, endpoint, memberId: null, clusterId: null, version: null, dbSizeBytes: null,
    dbSizeInUseBytes: null, quotaBytes: null, revision: null, compactRevision: null, keysTotal: null, putsTotal: null,
    isLeader: null, errors: [], alarms: [],
  };
}

/** One figure into a reading; the first-listed metric name wins (etcd_mvcc_… over etcd_debugging_…). */
export function setFigure(r: FleetSample, figure: string, v: number, _name: string): void {
  const w = wholeOrNull(v);
  switch (figure) {
    case 'dbSize': r.dbSizeBytes ??= w; break;
    case 'dbSizeInUse': r.dbSizeInUseBytes ??= w; break;
    case 'quota': r.quotaBytes ??= w; break;
    case 'revision': r.revision ??= w; break;
    case 'compactRevision': r.compactRevision ??= v === -1 ? -1 : w; break;
    case 'keys': r.keysTotal ??= w; break;
    case 'puts': r.putsTotal ??= w; break;
    case 'isLeader': r.isLeader ??= v === 1; break;
  }
}
