// `report --fleet`: every cluster of the store on one page, ranked by urgency. Per cluster: time to quota from
// the capacity forecast (physical: when the file reaches the quota; in use: when the live data alone would, i.e.
// even right after a defrag), whether compaction advances (the compact revision moving, from /metrics or a
// Prometheus import; else the settings and compactions in the logs), fragmentation (in use ÷ physical), the
// settings in force and the recommended change. Each cluster is one analyzeStore() call over its own rows.
import type { Db } from '../store/open.js';
import type { Evidence, Projection } from './types.js';
import { analyzeStore } from './analyze.js';
import { clustersToAnalyze, sampleInCluster, type ClusterScope } from './clusters.js';
import { readSettings, compactionState, describeSettings } from './settings.js';
import { readUnassigned } from '../store/clusters.js';
import { theilSen } from './stats.js';
import { humanizeBytes } from '../units/sizes.js';
import { formatDuration } from './hindsight.js';

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

export function analyzeFleet(db: Db, opts: { quotaBytes: number | null }): FleetReport {
  const { scopes } = clustersToAnalyze(db, null);
  const rows = scopes.map((c) => analyzeCluster(db, c, opts.quotaBytes));
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

function sampleFacts(db: Db, c: ClusterScope | null): SampleFacts {
  const w = sampleInCluster('s', 'src', c);
  const f = db.prepare(`SELECT COUNT(DISTINCT COALESCE(s.member_id, s.endpoint)) AS members, COUNT(*) AS samples, MIN(s.ts_ms) AS firstMs, MAX(s.ts_ms) AS lastMs
    FROM status_samples s JOIN sources src ON src.id = s.source_id WHERE s.ts_ms IS NOT NULL AND ${w}`).get() as Omit<SampleFacts, 'quota'>;
  const q = db.prepare(`SELECT s.db_size_quota_bytes AS bytes, s.endpoint, s.ts_ms AS ms FROM status_samples s JOIN sources src ON src.id = s.source_id
    WHERE s.db_size_quota_bytes > 0 AND s.ts_ms IS NOT NULL AND ${w} ORDER BY s.ts_ms DESC, s.db_size_quota_bytes LIMIT 1`).get() as SampleFacts['quota'] | undefined;
  return { ...f, quota: q ?? null };
}

function analyzeCluster(db: Db, c: ClusterScope | null, quotaOption: number | null): FleetCluster {
  const facts = sampleFacts(db, c);
  // The quota each member reports (etcd_server_quota_backend_bytes, 3.6's dbSizeQuota) beats etcd's default.
  const quotaBytes = quotaOption ?? facts.quota?.bytes ?? null;
  const report = analyzeStore(db, { untilMs: null, quotaBytes, cluster: c });
  const p: Projection = report.projection;
  const quota: Evidence = quotaOption !== null ? p.quotaSource
    : facts.quota ? { source: 'status-samples', completeness: 'exact', detail: `quota ${facts.quota.bytes} bytes reported by ${facts.quota.endpoint} at ${iso(facts.quota.ms)} (etcd_server_quota_backend_bytes)` }
      : p.quotaSource;
  const settings = readSettings(db, null, c);
  const compaction = compactionProgress(db, c, compactionState(settings));
  const inUse = inUseForecast(db, c, p);
  const rec = report.recommendations.find((r) => r.id === 'auto-compaction') ?? report.recommendations.find((r) => r.id === 'quota') ?? null;
  const verdict: FleetCluster['verdict'] = p.verdict ?? (p.reached ? 'reached' : 'unknown');
  return {
    name: c?.name ?? '(the whole store)', clusterId: c?.clusterId ?? null, patroniScope: c?.scope ?? null, rank: 0, verdict,
    members: facts.members, samples: facts.samples, firstAt: iso(facts.firstMs), lastAt: iso(facts.lastMs),
    quotaBytes: p.quotaBytes, quota,
    physical: { lastBytes: p.lastSizeBytes, etaAt: p.etaAt, etaLow: p.etaLow, etaHigh: p.etaHigh, boundBytes: p.boundBytes ?? null, method: p.method },
    inUse, compaction, fragmentation: fragmentation(db, c),
    settings: [...describeSettings(settings), ...(facts.quota ? [`quota-backend-bytes ${facts.quota.bytes} (etcd_server_quota_backend_bytes, ${facts.quota.endpoint})`] : [])],
    recommendation: rec && { title: rec.title, etcdFlags: rec.etcdFlags, rationale: rec.rationale },
    outages: outages(db, c), chart: chartSeries(db, c, facts), evidence: p.evidence,
  };
}

/** The compact revision over the readings that carry it (etcd_debugging_mvcc_compact_revision). */
function compactionProgress(db: Db, c: ClusterScope | null, state: { on: boolean | null; evidence: string }): FleetCluster['compaction'] {
  const w = sampleInCluster('s', 'src', c);
  const r = db.prepare(`SELECT MIN(s.compact_revision) AS lo, MAX(s.compact_revision) AS hi, MIN(s.revision) AS rlo, MAX(s.revision) AS rhi, COUNT(*) AS n,
      MIN(s.ts_ms) AS t0, MAX(s.ts_ms) AS t1
    FROM status_samples s JOIN sources src ON src.id = s.source_id WHERE s.compact_revision IS NOT NULL AND s.ts_ms IS NOT NULL AND ${w}`).get() as
    { lo: number | null; hi: number | null; rlo: number | null; rhi: number | null; n: number; t0: number | null; t1: number | null };
  if (r.n === 0 || r.lo === null || r.hi === null) {
    const progress: CompactionProgress = state.on === true ? 'configured' : state.on === false ? 'off' : 'unknown';
    return { progress, compactRevisionFirst: null, compactRevisionLast: null, lastMovedAt: null, revisionsKept: null,
      evidence: { source: state.on === null ? 'default' : 'etcd-log', completeness: state.on === null ? 'assumed' : 'exact', detail: `no compact revision in the readings; ${state.evidence}` } };
  }
  const moved = db.prepare(`SELECT MIN(s.ts_ms) AS t FROM status_samples s JOIN sources src ON src.id = s.source_id WHERE s.compact_revision = ? AND s.ts_ms IS NOT NULL AND ${w}`).get(r.hi) as { t: number | null };
  const last = db.prepare(`SELECT s.revision AS rev, s.compact_revision AS cr FROM status_samples s JOIN sources src ON src.id = s.source_id
    WHERE s.compact_revision IS NOT NULL AND s.revision IS NOT NULL AND ${w} ORDER BY s.ts_ms DESC LIMIT 1`).get() as { rev: number; cr: number } | undefined;
  const advancing = r.hi > r.lo;
  const span = `${iso(r.t0)}..${iso(r.t1)}, ${r.n} readings`;
  return {
    progress: advancing ? 'advancing' : 'not-advancing', compactRevisionFirst: r.lo, compactRevisionLast: r.hi,
    lastMovedAt: advancing ? iso(moved.t) : null, revisionsKept: last ? last.rev - Math.max(0, last.cr) : null,
    evidence: {
      source: 'status-samples', completeness: 'exact',
      detail: advancing ? `compact revision ${r.lo} → ${r.hi} (${span}), last moved at ${iso(moved.t)}`
        : `compact revision stayed at ${r.hi} while the revision went ${r.rlo ?? '?'} → ${r.rhi ?? '?'} (${span})`,
    },
  };
}

/** When the live data alone reaches the quota: the in-use slope of the largest member over its last day of readings. */
function inUseForecast(db: Db, c: ClusterScope | null, p: Projection): FleetCluster['inUse'] {
  const w = sampleInCluster('s', 'src', c);
  const top = db.prepare(`SELECT COALESCE(s.member_id, s.endpoint) AS m, MAX(s.ts_ms) AS t FROM status_samples s JOIN sources src ON src.id = s.source_id
    WHERE s.db_size_in_use_bytes IS NOT NULL AND s.ts_ms IS NOT NULL AND ${w} GROUP BY 1 ORDER BY MAX(s.db_size_in_use_bytes) DESC, 1 LIMIT 1`).get() as { m: string; t: number } | undefined;
  if (!top) return { lastBytes: null, bytesPerHour: null, etaAt: null, evidence: null };
  const pts = (db.prepare(`SELECT s.ts_ms AS x, s.db_size_in_use_bytes AS y FROM status_samples s JOIN sources src ON src.id = s.source_id
    WHERE COALESCE(s.member_id, s.endpoint) = ? AND s.db_size_in_use_bytes IS NOT NULL AND s.ts_ms >= ? AND ${w} ORDER BY s.ts_ms`).all(top.m, top.t - 86_400_000) as { x: number; y: number }[]);
  const lastPt = pts[pts.length - 1]!;
  const fit = pts.length >= 5 ? theilSen(pts) : null;
  const perHour = fit ? fit.slope * 3_600_000 : null;
  // Only where the capacity forecast finds the current regime growing: a bounded cluster's in-use rises and falls
  // with each compaction, and a day's fit can span a recovery the forecast has already cut off (no-growth after it).
  const eta = fit && fit.slopeLow > 0 && p.verdict === 'growing' ? lastPt.x + Math.max(0, p.quotaBytes - lastPt.y) / fit.slope : null;
  return {
    lastBytes: lastPt.y, bytesPerHour: perHour, etaAt: iso(eta === null ? null : Math.round(eta)),
    evidence: { source: 'status-samples', completeness: 'inferred', detail: `member ${top.m}: in use ${humanizeBytes(lastPt.y)} at ${iso(lastPt.x)}; Theil–Sen over ${pts.length} readings of the last day` +
      (perHour !== null ? `: ${Math.round(perHour)} B/h (95% ${Math.round(fit!.slopeLow * 3_600_000)}..${Math.round(fit!.slopeHigh * 3_600_000)})` : '') +
      (eta !== null ? `; reaches ${humanizeBytes(p.quotaBytes)} in ${formatDuration(eta - lastPt.x)}` : '') },
  };
}

function fragmentation(db: Db, c: ClusterScope | null): FleetCluster['fragmentation'] {
  const w = sampleInCluster('s', 'src', c);
  const r = db.prepare(`SELECT COALESCE(s.member_id, s.endpoint) AS m, s.db_size_bytes AS phys, s.db_size_in_use_bytes AS used, s.ts_ms AS t
    FROM status_samples s JOIN sources src ON src.id = s.source_id
    WHERE s.db_size_bytes > 0 AND s.db_size_in_use_bytes IS NOT NULL AND s.ts_ms IS NOT NULL AND ${w} ORDER BY s.ts_ms DESC, s.db_size_bytes DESC LIMIT 1`).get() as
    { m: string; phys: number; used: number; t: number } | undefined;
  if (!r) return { inUseRatio: null, freeBytes: null, evidence: null };
  return {
    inUseRatio: r.used / r.phys, freeBytes: r.phys - r.used,
    evidence: { source: 'status-samples', completeness: 'exact', detail: `member ${r.m} at ${iso(r.t)}: ${humanizeBytes(r.used)} in use of ${humanizeBytes(r.phys)} (${r.phys - r.used} B free pages)` },
  };
}

function outages(db: Db, c: ClusterScope | null): FleetCluster['outages'] {
  const w = sampleInCluster('s', 'src', c);
  return (db.prepare(`SELECT s.endpoint, COUNT(*) AS readings, MIN(s.ts_ms) AS t0, MAX(s.ts_ms) AS t1, MIN(s.errors) AS error
    FROM status_samples s JOIN sources src ON src.id = s.source_id
    WHERE s.db_size_bytes IS NULL AND s.errors <> '[]' AND s.natural_key IS NOT NULL AND ${w} GROUP BY s.endpoint ORDER BY s.endpoint`).all() as
    { endpoint: string; readings: number; t0: number; t1: number; error: string }[])
    .map((o) => ({ endpoint: o.endpoint, readings: o.readings, firstAt: iso(o.t0)!, lastAt: iso(o.t1)!, error: firstError(o.error) }));
}

function firstError(json: string): string {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) && typeof v[0] === 'string' ? v[0] : json;
  } catch {
    return json;
  }
}

function chartSeries(db: Db, c: ClusterScope | null, f: SampleFacts): FleetCluster['chart'] {
  if (f.firstMs === null || f.lastMs === null) return [];
  const bucket = Math.max(1, Math.ceil((f.lastMs - f.firstMs + 1) / CHART_POINTS));
  return (db.prepare(`SELECT CAST((s.ts_ms - ?) / ? AS INTEGER) AS b, MAX(s.ts_ms) AS t, MAX(s.db_size_bytes) AS phys, MAX(s.db_size_in_use_bytes) AS used
    FROM status_samples s JOIN sources src ON src.id = s.source_id WHERE s.ts_ms IS NOT NULL AND s.db_size_bytes IS NOT NULL AND ${sampleInCluster('s', 'src', c)}
    GROUP BY 1 ORDER BY 1`).all(f.firstMs, bucket) as { t: number; phys: number | null; used: number | null }[])
    .map((r) => ({ at: iso(r.t)!, physical: r.phys, inUse: r.used }));
}
