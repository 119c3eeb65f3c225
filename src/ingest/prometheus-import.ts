// `ingest --prometheus URL`: etcd's metrics from Prometheus' query_range, in chunks, into status samples.
// Labels map to cluster (a `cluster` label, else the job, else one unnamed cluster) and member (`instance`).
// The whole import is one transaction (stored whole or not at all); a re-import of an overlapping range adds
// nothing (natural keys, store/fleet-samples.ts). Memory stays bounded: a chunk's steps are chosen so that
// series × steps stays near VALUES_PER_CHUNK, and a chunk's readings are written before the next is fetched.
import type { Db } from '../store/open.js';
import type { FleetSample } from '../model.js';
import { FleetSampleWriter } from '../store/fleet-samples.js';
import { FIGURE_OF, buildImportQuery, clusterOfLabels, parseQueryRange, wholeOrNull, type RangeSeries } from '../sources/prometheus/index.js';
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
/** query_range requests in flight at once. */
const IN_FLIGHT = 3;
// 250k values per answer peaked at 430 MB RSS on the 20-cluster bench (bench/RESULTS-fleet.md), 60k at 272 MB, for
// the same wall time: the import waits on Prometheus, not on parsing.
const VALUES_PER_CHUNK = 200_000;

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
  const take = (a: number, b: number, series: RangeSeries[]): void => {
    res.chunks++;
    for (const s of series) seriesSeen.add(s.key);
    for (const sample of readingsOf(series)) {
      res.seen++;
      if (writer.write(sample)) {
        res.firstMs = res.firstMs === null ? sample.tsMs : Math.min(res.firstMs, sample.tsMs);
        res.lastMs = res.lastMs === null ? sample.tsMs : Math.max(res.lastMs, sample.tsMs);
      }
    }
    o.onChunk?.(b - start, o.endMs - start);
  };
  db.exec('BEGIN');
  try {
    // The first chunk alone tells how many series answer; the rest are sized from it and fetched IN_FLIGHT at a
    // time (the import waits on Prometheus far more than it computes), written in time order.
    const b0 = Math.min(o.endMs, start + 59 * o.stepMs);
    const firstSeries = await fetchRange(http, o.url, query, start, b0, o.stepMs);
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
      const p = fetchRange(http, o.url, query, a, b, o.stepMs);
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
  }
  return res;
}

async function fetchRange(http: HttpClient, url: string, query: string, a: number, b: number, stepMs: number): Promise<RangeSeries[]> {
  const u = `${url.replace(/\/$/, '')}/api/v1/query_range`;
  const form = new URLSearchParams({ query, start: String(a / 1000), end: String(b / 1000), step: `${stepMs / 1000}s` }).toString();
  let r;
  try {
    r = await http.request(u, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  } catch (e) {
    throw new InputError(`${displayUrl(url)}: query_range ${new Date(a).toISOString()}..${new Date(b).toISOString()} failed: ${e instanceof HttpFailure ? e.message : String(e)}`);
  }
  const parsed = parseQueryRange(r.body);
  if (!parsed.ok) throw new InputError(`${displayUrl(url)}: query_range answered HTTP ${r.status}: ${parsed.reason}`);
  return parsed.series;
}

/**
 * A chunk's series → one reading per (cluster, instance, time): member by member (cluster, then instance), each in
 * time order. Member-major order keeps the store's natural-key index inserts together (one member's keys are
 * adjacent): 4.9 against 7.4 µs of CPU per row time-major (bench/RESULTS-fleet.md).
 */
export function readingsOf(series: readonly RangeSeries[]): FleetSample[] {
  const members = new Map<string, { cluster: string | null; endpoint: string; rs: FleetSample[] }>();
  for (const s of series) {
    const name = s.labels['__name__'] ?? '';
    const figure = FIGURE_OF.get(name);
    const version = name === 'etcd_server_version' ? s.labels['server_version'] ?? null : null;
    const serverId = name === 'etcd_server_id' ? (s.labels['server_id'] ?? '').toLowerCase() : null;
    if (figure === undefined && version === null && !serverId) continue;
    const cluster = clusterOfLabels(s.labels);
    const endpoint = s.labels['instance'] ?? '(no instance label)';
    const mk = `${cluster ?? ''}\u0000${endpoint}`;
    let m = members.get(mk);
    if (!m) {
      m = { cluster, endpoint, rs: [] };
      members.set(mk, m);
    }
    const memberId = serverId ? (/^[0-9a-f]{1,16}$/.test(serverId) ? serverId.replace(/^0+(?=.)/, '') : null) : undefined;
    // The member's readings and the series' points are both in time order (a member's series share one step
    // grid): one walk pairs them, a time the member has no reading for yet is inserted in its place.
    const rs = m.rs;
    let j = 0;
    for (let k = 0; k < s.timesMs.length; k++) {
      const t = s.timesMs[k]!;
      while (j < rs.length && rs[j]!.tsMs < t) j++;
      let r = rs[j];
      if (r === undefined || r.tsMs !== t) {
        r = emptyReading('prometheus', t, cluster, endpoint);
        if (j === rs.length) rs.push(r);
        else rs.splice(j, 0, r);
      }
      if (version !== null) r.version = version;
      else if (memberId !== undefined) r.memberId = memberId;
      else if (figure !== undefined) setFigure(r, figure, s.values[k]!, name);
    }
  }
  const out: FleetSample[] = [];
  for (const mk of [...members.keys()].sort(cmp)) for (const r of members.get(mk)!.rs) out.push(r);
  return out;
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
