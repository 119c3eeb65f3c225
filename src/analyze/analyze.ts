// Runs every analysis over the store, cut at --until, and collects the assumptions they made.
import type { Db } from '../store/open.js';
import type { AnalysisReport, Evidence } from './types.js';
import { ANALYSIS_SCHEMA_VERSION } from './types.js';
import { detailOf, iso, loadEvidence, num, type Loaded } from './load.js';
import { findIncident } from './incident.js';
import { rankChurn, type KeyCount } from './churn.js';
import { measureGrowth, timedSamples } from './growth.js';
import { projectQuotaExhaustion } from './projection.js';
import { buildTimeline } from './timeline.js';
import { replayMixinAlerts } from './hindsight.js';
import { recommend } from './recommend.js';
import { humanizeBytes } from '../units/sizes.js';
import { readSnapshotStatus } from './snapshot-status.js';
import { readSettings } from './settings.js';
import { reportSnapshots } from './snapshot-report.js';
import { sourceInCluster, type ClusterScope } from './clusters.js';
import { findRefusedWrites } from './refused-writes.js';
import { buildVerdict } from './verdict.js';

export const DEFAULT_QUOTA_BYTES = 2 * 1024 ** 3;

export interface AnalyzeOptions {
  untilMs: number | null;
  quotaBytes: number | null;
  /** Exact per-key counts from an ingested snapshot, when one exists. */
  exactKeys?: { counts: KeyCount[]; evidence: Evidence } | null;
  /** Analyse this cluster alone (analyze/clusters.ts); null or absent: the whole store. */
  cluster?: ClusterScope | null;
}

export function analyzeStore(db: Db, opts: AnalyzeOptions): AnalysisReport {
  const cluster = opts.cluster ?? null;
  const d = loadEvidence(db, opts.untilMs, cluster);
  const assumptions: string[] = [];
  const incident = findIncident(d);
  const churn = rankChurn(d, opts.exactKeys?.counts ?? null, opts.exactKeys?.evidence ?? null);
  const fits = measureGrowth(d, incident, readSettings(db, opts.untilMs, cluster));
  const quota = findQuota(d, opts.quotaBytes);
  if (quota.evidence.completeness === 'assumed') assumptions.push(quota.evidence.detail);
  const projection = projectQuotaExhaustion(fits, fits.growth, quota.bytes, quota.evidence, incident.dbSizeAtNospace);
  if (projection.lastSizeBytes === null) {
    // No timed size at all (a pasted `endpoint status` table): the largest size a status call showed, without a time.
    const biggest = d.untimedStatus.filter((x) => x.db_size_bytes !== null).sort((a, b) => b.db_size_bytes! - a.db_size_bytes!)[0];
    if (biggest) {
      projection.lastSizeBytes = biggest.db_size_bytes;
      projection.evidence.push({
        source: 'etcdctl-output', completeness: biggest.db_size_approx ? 'approximate' : 'exact',
        detail: `DB size ${biggest.db_size_bytes} B (${biggest.endpoint}) from ${biggest.path}:${biggest.line}, a status call without a time: no time series, no forecast`,
      });
    }
  }
  const nospaceMs = incident.nospaceAt ? Date.parse(incident.nospaceAt) : null;
  const disarmMs = incident.recoveredAt ? Date.parse(incident.recoveredAt) : null;
  const timeline = buildTimeline(d, nospaceMs, disarmMs);
  const hindsight = replayMixinAlerts(timedSamples(d), quota.bytes, nospaceMs);
  const recommendations = recommend(d, incident, churn, fits.growth, projection, fits.settings);
  noteTimeAssumptions(d, assumptions);
  if (fits.growth.method?.startsWith('single sample')) {
    assumptions.push('Growth is a single-point estimate: the cluster started empty when Patroni started and was never compacted before the alarm.');
  }
  if (churn.evidence[0]?.completeness === 'sampled') {
    assumptions.push('Key churn comes from requests named in etcd log lines: it shows which keys were written, not how often (only failed or slow requests are logged).');
  }
  if (churn.evidence[0]?.completeness === 'inferred') {
    assumptions.push('Key churn is inferred from Patroni HA-loop lines (one member write per node per loop, one status write per leader loop).');
  }
  const finished = {
    schemaVersion: ANALYSIS_SCHEMA_VERSION,
    cluster: cluster && { name: cluster.name, clusterId: cluster.clusterId, patroniScope: cluster.scope },
    until: iso(opts.untilMs),
    incident, snapshots: readSnapshotStatus(d.snapshots),
    snapshotFiles: reportSnapshots(db, 10, cluster).filter((f) => opts.untilMs === null || f.at === null || Date.parse(f.at) <= opts.untilMs), churn, growth: fits.growth, projection, timeline, hindsight, recommendations, assumptions,
    refusedWrites: findRefusedWrites(db, opts.untilMs, (src) => sourceInCluster(src, cluster)),
  };
  return { ...finished, verdict: buildVerdict(finished) };
}

function findQuota(d: Loaded, option: number | null): { bytes: number; evidence: Evidence } {
  if (option !== null) return { bytes: option, evidence: { source: 'option', completeness: 'exact', detail: `--quota ${option}` } };
  for (const e of d.events) {
    if (e.kind !== 'etcd.quota.config' && e.kind !== 'etcd.quota.exceeded') continue;
    const v = num(detailOf(e).quotaBytes);
    if (v !== null && v > 0) {
      return { bytes: v, evidence: { source: 'etcd-log', completeness: 'exact', detail: `quota ${v} bytes from ${e.path}:${e.line}` } };
    }
  }
  return {
    bytes: DEFAULT_QUOTA_BYTES,
    evidence: { source: 'default', completeness: 'assumed', detail: `Quota assumed to be etcd's default 2 GiB (${DEFAULT_QUOTA_BYTES} bytes, "${humanizeBytes(DEFAULT_QUOTA_BYTES)}"): no quota in the data and no --quota.` },
  };
}

function noteTimeAssumptions(d: Loaded, out: string[]): void {
  const bases = new Set<string>();
  for (const b of d.eventTimeBases ?? d.events.map((e) => e.time_basis)) if (b && b !== 'explicit') bases.add(b);
  for (const s of d.status) if (s.time_basis !== 'explicit' && s.time_basis !== 'marker') bases.add(s.time_basis);
  if (bases.has('assumed-zone') || bases.has('assumed-zone-year')) {
    out.push('Some log times carried no UTC offset; the zone given with --tz at ingest (else UTC) was applied.');
  }
  if (bases.has('assumed-zone-year')) out.push('journald prefixes carry no year; it was inferred from the file time.');
  if (bases.has('mtime')) out.push('Some etcdctl output had no timestamp line; its time is the file modification time and it is left out of growth fits.');
  if (bases.has('at')) out.push('Some etcdctl output was timed with --at.');
  if (bases.has('ingest')) out.push('Some etcdctl output was read from stdin without a timestamp line; its time is when it was ingested (a cron pipeline).');
}
