// `report --fleet`: every cluster of the store on one page, ranked by urgency. Per cluster: time to quota from
// the capacity forecast (physical: when the file reaches the quota; in use: when the live data alone would, i.e.
// even right after a defrag), whether compaction advances (the compact revision moving, from /metrics or a
// Prometheus import; else the settings and compactions in the logs), fragmentation (in use ÷ physical), the
// settings in force and the recommended change. The readings come from the status rollup (fleet-series.ts:
// counts, min/max and last readings exact; the forecast's series thinned to at most 60 buckets per member, said so
// in the evidence), so the page does not read every reading of a store of months of a fleet.
import type { Db } from '../store/open.js';
import type { Evidence, Projection } from './types.js';
import { clustersToAnalyze, type ClusterScope } from './clusters.js';
import { readSettings, compactionState, describeSettings } from './settings.js';
import { readUnassigned } from '../store/clusters.js';
import { theilSen } from './stats.js';
import { humanizeBytes } from '../units/sizes.js';
import { formatDuration } from './hindsight.js';
import { detailOf, num, type Loaded } from './load.js';
import { findIncident } from './incident.js';
import { rankChurn } from './churn.js';
import { measureGrowth } from './growth.js';
import { projectQuotaExhaustion } from './projection.js';
import { recommend } from './recommend.js';
import { DEFAULT_QUOTA_BYTES } from './analyze.js';
import { clusterSeries, loadClusterRecords, readFleetDaily, recentReadings, type ClusterSeries, type SeriesOptions } from './fleet-series.js';
import type { RollupRow } from '../store/status-rollup.js';

export const FLEET_SCHEMA_VERSION = 1;

export type CompactionProgress = 'advancing' | 'not-advancing' | 'configured' | 'off' | 'unknown';

export interface FleetCluster {
  name: string;
  clusterId: string | null;
  patroniScope: string | null;
  /** 1 = most urgent. */
  rank: number;
  verdict: 'reached' | 'growing' | 'bounded' | 'no-growth' | 'unknown';
  members: number;
  samples: number;
  firstAt: string | null;
  lastAt: string | null;
  quotaBytes: number;
  quota: Evidence;
  physical: { lastBytes: number | null; etaAt: string | null; etaLow: string | null; etaHigh: string | null; boundBytes: number | null; method: string | null };
  inUse: { lastBytes: number | null; bytesPerHour: number | null; etaAt: string | null; evidence: Evidence | null };
  compaction: { progress: CompactionProgress; compactRevisionFirst: number | null; compactRevisionLast: number | null; lastMovedAt: string | null; revisionsKept: number | null; evidence: Evidence };
  /** in use ÷ physical at the last reading of the largest member (1 = no free pages). */
  fragmentation: { inUseRatio: number | null; freeBytes: number | null; evidence: Evidence | null };
  settings: string[];
  recommendation: { title: string; etcdFlags: string[]; rationale: string } | null;
  /** Readings where a member did not answer (collect): the outages. */
  outages: { endpoint: string; readings: number; firstAt: string; lastAt: string; error: string }[];
  /** Physical and in-use size over time (the largest member per time bucket), at most CHART_POINTS. */
  chart: { at: string; physical: number | null; inUse: number | null }[];
  evidence: Evidence[];
}

export interface FleetReport {
  schemaVersion: number;
  kind: 'fleet';
  /** The time of the newest reading in the store (the page is about the data, not when it was rendered). */
  asOf: string | null;
  clusters: FleetCluster[];
  unassigned: string[];
}

const CHART_POINTS = 240;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
/** The fleet's forecasts replay from at most this many origins each (projection.ts's back-test). */
export const FLEET_BACKTEST_ORIGINS = 40;

export function analyzeFleet(db: Db, opts: { quotaBytes: number | null; series?: SeriesOptions }): FleetReport {
  const { scopes } = clustersToAnalyze(db, null);
  const { byRef } = readFleetDaily(db);
  const paths = new Map((db.prepare('SELECT id, path FROM sources').all() as { id: number; path: string }[]).map((s) => [s.id, s.path]));
  const rows = scopes.map((c) => analyzeCluster(db, c, opts.quotaBytes, c ? byRef.get(c.ref) ?? [] : [...byRef.values()].flat(), paths, opts.series ?? {}));
  rows.sort((a, b) => urgency(a) - urgency(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  rows.forEach((r, i) => { r.rank = i + 1; });
  const last = rows.map((r) => (r.lastAt ? Date.parse(r.lastAt) : null)).filter((x): x is number => x !== null);
  return {
    schemaVersion: FLEET_SCHEMA_VERSION, kind: 'fleet', asOf: iso(last.length ? Math.max(...last) : null), clusters: rows,
    unassigned: readUnassigned(db).map((u) => u.path),
  };
}

/** Smaller is more urgent: reached, then growing by ETA, then growing without ETA, unknown, no growth, bounded. */
function urgency(c: FleetCluster): number {
  const eta = c.physical.etaAt ? Date.parse(c.physical.etaAt) : null;
  switch (c.verdict) {
    case 'reached': return -1e16;
    case 'growing': return eta !== null ? eta - 1e15 : -1;
    case 'unknown': return 1e15;
    case 'no-growth': return 2e15 - (c.physical.lastBytes ?? 0) / c.quotaBytes;
    case 'bounded': return 3e15 - (c.physical.boundBytes ?? 0) / c.quotaBytes;
  }
}

interface SampleFacts {
  members: number; samples: number; firstMs: number | null; lastMs: number | null;
  quota: { bytes: number; endpoint: string; ms: number } | null;
}

const memberOf = (r: RollupRow): string => r.memberId || r.endpoint;

function sampleFacts(daily: readonly RollupRow[]): SampleFacts {
  if (daily.length === 0) return { members: 0, samples: 0, firstMs: null, lastMs: null, quota: null };
  // The quota of the latest reading that reports one (etcd_server_quota_backend_bytes).
  let q: SampleFacts['quota'] = null;
  for (const r of daily) {
    if (r.z && r.z.quota !== null && r.z.quota > 0 && (!q || r.z.ts > q.ms || (r.z.ts === q.ms && r.z.quota < q.bytes))) q = { bytes: r.z.quota, endpoint: r.endpoint, ms: r.z.ts };
  }
  return {
    members: new Set(daily.map(memberOf)).size, samples: daily.reduce((n, r) => n + r.n, 0),
    firstMs: Math.min(...daily.map((r) => r.firstTs)), lastMs: Math.max(...daily.map((r) => r.lastTs)), quota: q,
  };
}

/** The quota etcd printed at start-up or with its alarm, else etcd's default (analyze.ts does the same for one cluster). */
function quotaOf(d: Loaded, bytes: number | null, samples: boolean): { bytes: number; evidence: Evidence } {
  if (bytes !== null) return { bytes, evidence: samples ? { source: 'status-samples', completeness: 'exact', detail: `quota ${bytes} bytes reported by the members` } : { source: 'option', completeness: 'exact', detail: `--quota ${bytes}` } };
  for (const e of d.events) {
    if (e.kind !== 'etcd.quota.config' && e.kind !== 'etcd.quota.exceeded') continue;
    const v = num(detailOf(e).quotaBytes);
    if (v !== null && v > 0) return { bytes: v, evidence: { source: 'etcd-log', completeness: 'exact', detail: `quota ${v} bytes from ${e.path}:${e.line}` } };
  }
  return {
    bytes: DEFAULT_QUOTA_BYTES,
    evidence: { source: 'default', completeness: 'assumed', detail: `Quota assumed to be etcd's default 2 GiB (${DEFAULT_QUOTA_BYTES} bytes): no quota in the data and no --quota.` },
  };
}

function analyzeCluster(db: Db, c: ClusterScope | null, quotaOption: number | null, daily: (RollupRow & { ref: number | null })[], paths: ReadonlyMap<number, string>, so: SeriesOptions): FleetCluster {
  const series = clusterSeries(db, c, daily, paths, so);
  const facts = sampleFacts(series.daily);
  const d = loadClusterRecords(db, c, series.status);
  const incident = findIncident(d);
  const churn = rankChurn(d, null, null);
  const settings = readSettings(db, null, c);
  const fits = measureGrowth(d, incident, settings);
  // The quota each member reports (etcd_server_quota_backend_bytes, 3.6's dbSizeQuota) beats etcd's default.
  const q = quotaOf(d, quotaOption ?? facts.quota?.bytes ?? null, quotaOption === null);
  const p: Projection = projectQuotaExhaustion(fits, fits.growth, q.bytes, q.evidence, incident.dbSizeAtNospace, { maxOrigins: FLEET_BACKTEST_ORIGINS });
  const recommendations = recommend(d, incident, churn, fits.growth, p, fits.settings);
  const quota: Evidence = quotaOption !== null ? p.quotaSource
    : facts.quota ? { source: 'status-samples', completeness: 'exact', detail: `quota ${facts.quota.bytes} bytes reported by ${facts.quota.endpoint} at ${iso(facts.quota.ms)} (etcd_server_quota_backend_bytes)` }
      : p.quotaSource;
  const compaction = compactionProgress(series.daily, compactionState(settings));
  const inUse = inUseForecast(db, series, p, paths);
  const rec = recommendations.find((r) => r.id === 'auto-compaction') ?? recommendations.find((r) => r.id === 'quota') ?? null;
  const verdict: FleetCluster['verdict'] = p.verdict ?? (p.reached ? 'reached' : 'unknown');
  const seriesEvidence: Evidence = {
    source: 'status-samples', completeness: series.thinned ? 'sampled' : 'exact',
    detail: `forecast series ${series.how}; back-test from at most ${FLEET_BACKTEST_ORIGINS} origins` +
      (series.thinned ? '; counts, first/last times, compact revisions, quota and the last readings are exact (status rollup)'
        + '; a bound from the thinned series can run low: 0.85–1.00 of the bound from every reading on the real captures of test/fleet-scale.test.ts (`project --cluster NAME` reads every reading)' : ''),
  };
  return {
    name: c?.name ?? '(the whole store)', clusterId: c?.clusterId ?? null, patroniScope: c?.scope ?? null, rank: 0, verdict,
    members: facts.members, samples: facts.samples, firstAt: iso(facts.firstMs), lastAt: iso(facts.lastMs),
    quotaBytes: p.quotaBytes, quota,
    physical: { lastBytes: p.lastSizeBytes, etaAt: p.etaAt, etaLow: p.etaLow, etaHigh: p.etaHigh, boundBytes: p.boundBytes ?? null, method: p.method },
    inUse, compaction, fragmentation: fragmentation(series.daily),
    settings: [...describeSettings(settings), ...(facts.quota ? [`quota-backend-bytes ${facts.quota.bytes} (etcd_server_quota_backend_bytes, ${facts.quota.endpoint})`] : [])],
    recommendation: rec && { title: rec.title, etcdFlags: rec.etcdFlags, rationale: rec.rationale },
    outages: outages(series.daily), chart: chartSeries(series.buckets, facts), evidence: [seriesEvidence, ...p.evidence],
  };
}

/** The compact revision over the readings that carry it (etcd_debugging_mvcc_compact_revision). */
function compactionProgress(daily: readonly RollupRow[], state: { on: boolean | null; evidence: string }): FleetCluster['compaction'] {
  const withCr = daily.filter((r) => r.compactN > 0);
  if (withCr.length === 0) {
    const progress: CompactionProgress = state.on === true ? 'configured' : state.on === false ? 'off' : 'unknown';
    return { progress, compactRevisionFirst: null, compactRevisionLast: null, lastMovedAt: null, revisionsKept: null,
      evidence: { source: state.on === null ? 'default' : 'etcd-log', completeness: state.on === null ? 'assumed' : 'exact', detail: `no compact revision in the readings; ${state.evidence}` } };
  }
  const lo = Math.min(...withCr.map((r) => r.compactMin!));
  const hi = Math.max(...withCr.map((r) => r.compactMax!));
  const revs = withCr.filter((r) => r.revMin !== null);
  const rlo = revs.length ? Math.min(...revs.map((r) => r.revMin!)) : null;
  const rhi = revs.length ? Math.max(...revs.map((r) => r.revMax!)) : null;
  const n = withCr.reduce((s, r) => s + r.compactN, 0);
  const t0 = Math.min(...withCr.map((r) => r.firstTs));
  const t1 = Math.max(...withCr.map((r) => r.lastTs));
  const moved = Math.min(...withCr.filter((r) => r.compactMax === hi).map((r) => r.compactMaxTs!));
  // The revisions kept: revision − compact revision at the latest reading that carries both.
  let last: { ts: number; rev: number; cr: number } | null = null;
  for (const r of withCr) if (r.z && r.z.rev !== null && r.z.compact !== null && (!last || r.z.ts > last.ts)) last = { ts: r.z.ts, rev: r.z.rev, cr: r.z.compact };
  const advancing = hi > lo;
  const span = `${iso(t0)}..${iso(t1)}, ${n} readings`;
  return {
    progress: advancing ? 'advancing' : 'not-advancing', compactRevisionFirst: lo, compactRevisionLast: hi,
    lastMovedAt: advancing ? iso(moved) : null, revisionsKept: last ? last.rev - Math.max(0, last.cr) : null,
    evidence: {
      source: 'status-samples', completeness: 'exact',
      detail: advancing ? `compact revision ${lo} → ${hi} (${span}), last moved at ${iso(moved)}`
        : `compact revision stayed at ${hi} while the revision went ${rlo ?? '?'} → ${rhi ?? '?'} (${span})`,
    },
  };
}

/** When the live data alone reaches the quota: the in-use slope of the largest member over its last day of readings. */
function inUseForecast(db: Db, series: ClusterSeries, p: Projection, paths: ReadonlyMap<number, string>): FleetCluster['inUse'] {
  let top: { m: string; used: number; t: number } | null = null;
  for (const r of series.daily) {
    if (r.usedMax === null || !r.z) continue;
    const m = memberOf(r);
    if (!top || r.usedMax > top.used || (r.usedMax === top.used && m < top.m)) top = { m, used: r.usedMax, t: 0 };
  }
  if (!top) return { lastBytes: null, bytesPerHour: null, etaAt: null, evidence: null };
  const t = Math.max(...series.daily.filter((r) => memberOf(r) === top!.m && r.z).map((r) => r.z!.ts));
  const recent = recentReadings(db, series, top.m, t - 86_400_000, paths);
  const pts = recent.rows.filter((s) => s.db_size_bytes !== null && s.db_size_in_use_bytes !== null).map((s) => ({ x: s.ts_ms, y: s.db_size_in_use_bytes! }));
  if (pts.length === 0) return { lastBytes: null, bytesPerHour: null, etaAt: null, evidence: null };
  const lastPt = pts[pts.length - 1]!;
  const fit = pts.length >= 5 ? theilSen(pts) : null;
  const perHour = fit ? fit.slope * 3_600_000 : null;
  // Only where the capacity forecast finds the current regime growing: a bounded cluster's in-use rises and falls
  // with each compaction, and a day's fit can span a recovery the forecast has already cut off (no-growth after it).
  const eta = fit && fit.slopeLow > 0 && p.verdict === 'growing' ? lastPt.x + Math.max(0, p.quotaBytes - lastPt.y) / fit.slope : null;
  return {
    lastBytes: lastPt.y, bytesPerHour: perHour, etaAt: iso(eta === null ? null : Math.round(eta)),
    evidence: { source: 'status-samples', completeness: series.thinned ? 'sampled' : 'inferred', detail: `member ${top.m}: in use ${humanizeBytes(lastPt.y)} at ${iso(lastPt.x)}; Theil–Sen over ${pts.length} ${recent.how} of the last day` +
      (perHour !== null ? `: ${Math.round(perHour)} B/h (95% ${Math.round(fit!.slopeLow * 3_600_000)}..${Math.round(fit!.slopeHigh * 3_600_000)})` : '') +
      (eta !== null ? `; reaches ${humanizeBytes(p.quotaBytes)} in ${formatDuration(eta - lastPt.x)}` : '') },
  };
}

function fragmentation(daily: readonly RollupRow[]): FleetCluster['fragmentation'] {
  // The latest reading with both sizes (the largest member when two share the time).
  let r: { m: string; phys: number; used: number; t: number } | null = null;
  for (const x of daily) {
    const z = x.z;
    if (!z || z.inUse === null || !(z.phys > 0)) continue;
    if (!r || z.ts > r.t || (z.ts === r.t && z.phys > r.phys)) r = { m: memberOf(x), phys: z.phys, used: z.inUse, t: z.ts };
  }
  if (!r) return { inUseRatio: null, freeBytes: null, evidence: null };
  return {
    inUseRatio: r.used / r.phys, freeBytes: r.phys - r.used,
    evidence: { source: 'status-samples', completeness: 'exact', detail: `member ${r.m} at ${iso(r.t)}: ${humanizeBytes(r.used)} in use of ${humanizeBytes(r.phys)} (${r.phys - r.used} B free pages)` },
  };
}

function outages(daily: readonly RollupRow[]): FleetCluster['outages'] {
  const by = new Map<string, { readings: number; t0: number; t1: number; error: string }>();
  for (const r of daily) {
    if (r.errN === 0) continue;
    const o = by.get(r.endpoint);
    if (!o) by.set(r.endpoint, { readings: r.errN, t0: r.errFirstTs!, t1: r.errLastTs!, error: r.errMin! });
    else by.set(r.endpoint, { readings: o.readings + r.errN, t0: Math.min(o.t0, r.errFirstTs!), t1: Math.max(o.t1, r.errLastTs!), error: o.error < r.errMin! ? o.error : r.errMin! });
  }
  return [...by].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([endpoint, o]) => ({ endpoint, readings: o.readings, firstAt: iso(o.t0)!, lastAt: iso(o.t1)!, error: firstError(o.error) }));
}

function firstError(json: string): string {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) && typeof v[0] === 'string' ? v[0] : json;
  } catch {
    return json;
  }
}

/** The largest physical and in-use size per time bucket over every member (the series' buckets, at most CHART_POINTS). */
function chartSeries(buckets: readonly RollupRow[], f: SampleFacts): FleetCluster['chart'] {
  if (f.firstMs === null || f.lastMs === null) return [];
  const width = Math.max(1, Math.ceil((f.lastMs - f.firstMs + 1) / CHART_POINTS));
  const by = new Map<number, { t: number; phys: number | null; used: number | null }>();
  for (const r of buckets) {
    if (r.physMax === null) continue;
    const b = Math.floor((r.lastTs - f.firstMs) / width);
    const o = by.get(b);
    by.set(b, o ? { t: Math.max(o.t, r.lastTs), phys: Math.max(o.phys ?? 0, r.physMax), used: r.usedMax === null ? o.used : Math.max(o.used ?? 0, r.usedMax) }
      : { t: r.lastTs, phys: r.physMax, used: r.usedMax });
  }
  return [...by].sort((a, b) => a[0] - b[0]).map(([, v]) => ({ at: iso(v.t)!, physical: v.phys, inUse: v.used }));
}
