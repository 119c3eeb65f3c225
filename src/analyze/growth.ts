// DB size and revision over time from status samples: a Theil–Sen fit per member, and bytes per
// revision. With no time series (a single pasted sample, as in the seed) the rate is estimated from
// the revision and the time since the cluster started, and the report says so.
import type { Evidence, Growth, MemberSeries } from './types.js';
import { theilSen, type RobustFit } from './stats.js';
import { detailOf, iso, num, type Loaded, type StatusRow } from './load.js';
import type { Incident } from './types.js';

/** Samples whose time is real (a marker line or an explicit timestamp), not a file's mtime. */
export function timedSamples(d: Loaded): StatusRow[] {
  return d.status.filter((s) => s.time_basis === 'marker' || s.time_basis === 'explicit' || s.time_basis === 'at');
}

export function memberKey(s: StatusRow): string {
  return s.member_id ?? s.endpoint;
}

export interface GrowthFits {
  growth: Growth;
  /** Per member: physical size fit, in-use fit (bytes per ms). */
  sizeFits: Map<string, { physical: RobustFit | null; inUse: RobustFit | null; last: StatusRow; lastInUse: StatusRow | null }>;
}

export function measureGrowth(d: Loaded, incident: Incident): GrowthFits {
  const samples = timedSamples(d);
  const byMember = new Map<string, StatusRow[]>();
  for (const s of samples) {
    const k = memberKey(s);
    const list = byMember.get(k) ?? [];
    list.push(s);
    byMember.set(k, list);
  }
  // The same loop often keeps `-w table` (sizes humanized) beside `-w json` (exact bytes, revision):
  // where a member has exact samples, its humanized ones add only rounding noise.
  for (const [k, rows] of byMember) {
    if (rows.some((r) => r.db_size_approx === 0 && r.db_size_bytes !== null)) byMember.set(k, rows.filter((r) => r.db_size_approx === 0));
  }
  const members: MemberSeries[] = [];
  const sizeFits: GrowthFits['sizeFits'] = new Map();
  for (const [member, rows] of [...byMember].sort((a, b) => a[0].localeCompare(b[0]))) {
    const sized = rows.filter((r) => r.db_size_bytes !== null);
    const inUse = rows.filter((r) => r.db_size_in_use_bytes !== null);
    members.push({
      member, samples: rows.length,
      points: rows.map((r) => ({ at: iso(r.ts_ms)!, dbSizeBytes: r.db_size_bytes, dbSizeInUseBytes: r.db_size_in_use_bytes, revision: r.revision })),
      firstSizeBytes: sized[0]?.db_size_bytes ?? null,
      lastSizeBytes: sized[sized.length - 1]?.db_size_bytes ?? null,
    });
    const last = sized[sized.length - 1];
    if (!last) continue;
    // Project from the current regime: after a defragmentation (a drop of a fifth or more) the
    // earlier samples describe a different file.
    const since = lastDrop(sized);
    const seg = sized.filter((r) => r.ts_ms >= since);
    const segInUse = inUse.filter((r) => r.ts_ms >= since);
    sizeFits.set(member, {
      physical: theilSen(seg.map((r) => ({ x: r.ts_ms, y: r.db_size_bytes! }))),
      inUse: theilSen(segInUse.map((r) => ({ x: r.ts_ms, y: r.db_size_in_use_bytes! }))),
      last,
      lastInUse: segInUse[segInUse.length - 1] ?? null,
    });
  }
  const evidence: Evidence[] = [];
  // Revisions are cluster-wide: fit the highest revision seen at each sample time.
  const revAt = new Map<number, number>();
  for (const s of [...byMember.values()].flat()) if (s.revision !== null) revAt.set(s.ts_ms, Math.max(revAt.get(s.ts_ms) ?? 0, s.revision));
  const revFit = theilSen([...revAt].map(([x, y]) => ({ x, y })));
  // Bytes per revision: physical size against revision, per member, median across members.
  const bprFits = [...byMember.values()].map((rows) =>
    theilSen(rows.filter((r) => r.revision !== null && r.db_size_bytes !== null).map((r) => ({ x: r.revision!, y: r.db_size_bytes! }))))
    .filter((f): f is RobustFit => f !== null && f.slope > 0);
  const sizeFit = pickFastest([...sizeFits.values()].map((f) => f.physical));
  if (revFit && sizeFit) {
    const spanH = (Math.max(...samples.map((s) => s.ts_ms)) - Math.min(...samples.map((s) => s.ts_ms))) / 3_600_000;
    const used = [...byMember.values()].reduce((n, rows) => n + rows.length, 0);
    evidence.push({
      source: 'status-samples', completeness: 'exact',
      detail: `${used} timed endpoint status samples from ${byMember.size} member(s) over ${spanH.toFixed(2)} h; Theil–Sen fits with 95% intervals`,
    });
    const bpr = bprFits.length ? bprFits.map((f) => f.slope).sort((a, b) => a - b)[bprFits.length >> 1]! : sizeFit.slope / revFit.slope;
    return {
      sizeFits,
      growth: {
        revisionsPerHour: r1(revFit.slope * 3_600_000), revisionsPerSecond: r3(revFit.slope * 1000),
        bytesPerRevision: r1(bpr),
        bytesPerHour: r1(sizeFit.slope * 3_600_000), bytesPerHourLow: r1(sizeFit.slopeLow * 3_600_000), bytesPerHourHigh: r1(sizeFit.slopeHigh * 3_600_000),
        method: 'theil-sen over status samples', members, evidence,
      },
    };
  }
  return { sizeFits, growth: estimateFromSingleSample(d, incident, members, sizeFit, evidence) };
}

function estimateFromSingleSample(d: Loaded, incident: Incident, members: MemberSeries[], sizeFit: RobustFit | null, evidence: Evidence[]): Growth {
  const empty: Growth = {
    revisionsPerHour: null, revisionsPerSecond: null, bytesPerRevision: null,
    bytesPerHour: sizeFit ? r1(sizeFit.slope * 3_600_000) : null,
    bytesPerHourLow: sizeFit ? r1(sizeFit.slopeLow * 3_600_000) : null,
    bytesPerHourHigh: sizeFit ? r1(sizeFit.slopeHigh * 3_600_000) : null,
    method: sizeFit ? 'theil-sen over status samples (size only)' : null, members, evidence,
  };
  const revision = incident.revisionAtNospace;
  const size = incident.dbSizeAtNospace;
  const uptime = d.events.find((e) => e.kind === 'patroni.uptime');
  const since = uptime ? num(detailOf(uptime).since) : null;
  const atMs = incident.nospaceAt ? Date.parse(incident.nospaceAt) : null;
  if (revision === null || since === null || atMs === null || atMs <= since) return empty;
  const seconds = (atMs - since) / 1000;
  const rps = revision / seconds;
  const bpr = size !== null ? size / revision : null;
  evidence.push({
    source: 'transcript', completeness: 'inferred',
    detail: `single-point estimate: revision ${revision} reached between ${iso(since)} (Patroni running since, ${uptime!.path}:${uptime!.line}) and ${incident.nospaceAt} (NOSPACE) = ${(seconds / 86400).toFixed(1)} days` +
      (bpr !== null ? `; ${size} bytes${incident.dbSizeAtNospaceApprox ? ' (humanized)' : ''} / ${revision} revisions` : ''),
  });
  return {
    ...empty,
    revisionsPerHour: r1(rps * 3600), revisionsPerSecond: r3(rps),
    bytesPerRevision: bpr === null ? null : r1(bpr),
    bytesPerHour: bpr === null ? empty.bytesPerHour : r1(bpr * rps * 3600),
    method: 'single sample: revision / time since start; size / revision',
  };
}

function lastDrop(rows: StatusRow[]): number {
  let since = rows[0]?.ts_ms ?? 0;
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]!.db_size_bytes! < 0.8 * rows[i - 1]!.db_size_bytes!) since = rows[i]!.ts_ms;
  }
  return since;
}

function pickFastest(fits: (RobustFit | null)[]): RobustFit | null {
  let best: RobustFit | null = null;
  for (const f of fits) if (f && (!best || f.slope > best.slope)) best = f;
  return best;
}

const r1 = (v: number): number => Math.round(v * 10) / 10;
const r3 = (v: number): number => Math.round(v * 1000) / 1000;
