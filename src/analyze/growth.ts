// DB size and revision over time from status samples, per member and per regime (regimes.ts): the write
// rate and the in-use growth come from the CURRENT regime (since the last compaction, defrag, alarm, restart
// or rate change); bytes per revision from in-use growth against revision inside regimes, never across a
// compaction or a defrag. With no time series (a single pasted sample, as in the seed) the rate is estimated
// from the revision and the time since the cluster started, and the report says so.
import type { Evidence, Growth, MemberSeries } from './types.js';
import { theilSen, type RobustFit } from './stats.js';
import { detailOf, iso, num, type Loaded, type StatusRow } from './load.js';
import type { Incident } from './types.js';
import { bytesPerRevision, eventBoundaries, inUseOf, splitRegimes, type Boundary, type Regime } from './regimes.js';
import { describeSettings, type SettingsInForce } from './settings.js';

/** Samples whose time is real (a marker line or an explicit timestamp), not a file's mtime. */
export function timedSamples(d: Loaded): StatusRow[] {
  // 'ingest': etcdctl output piped in by cron without a timestamp line, timed when it was read (issue 15).
  return d.status.filter((s) => s.time_basis === 'marker' || s.time_basis === 'explicit' || s.time_basis === 'at' || s.time_basis === 'ingest');
}

export function memberKey(s: StatusRow): string {
  return s.member_id ?? s.endpoint;
}

export interface MemberModel {
  member: string;
  /** Timed samples with a size, oldest first (exact ones only where the member has them). */
  rows: StatusRow[];
  regimes: Regime[];
  /** In-use size against time in the current regime (bytes per ms). */
  inUseFit: RobustFit | null;
  /** Revision against time in the current regime (revisions per ms). */
  revFit: RobustFit | null;
}

export interface GrowthFits {
  growth: Growth;
  members: MemberModel[];
  boundaries: Boundary[];
  settings: SettingsInForce;
  /** Bytes per revision within regimes (null when no regime had enough samples). */
  bytesPerRevision: number | null;
}

export const NO_SETTINGS: SettingsInForce = {
  version: [], name: [], quotaBytes: [], compactionMode: [], compactionRetention: [], retention: [], snapshotCount: [],
  compactionSeen: null, patroni: [],
};

/** Per member: timed samples with a size; where a member has exact (JSON) samples, its humanized ones only add rounding noise. */
export function seriesByMember(d: Loaded): Map<string, StatusRow[]> {
  const byMember = new Map<string, StatusRow[]>();
  for (const s of timedSamples(d)) {
    const list = byMember.get(memberKey(s)) ?? [];
    list.push(s);
    byMember.set(memberKey(s), list);
  }
  for (const [k, rows] of byMember) {
    if (rows.some((r) => r.db_size_approx === 0 && r.db_size_bytes !== null)) byMember.set(k, rows.filter((r) => r.db_size_approx === 0));
  }
  return new Map([...byMember].sort((a, b) => a[0].localeCompare(b[0])));
}

/** A regime this short, or one held under NOSPACE (writes refused: rate 0), does not give the write rate. */
const MIN_CURRENT_SAMPLES = 3;
const MIN_REGIME_SAMPLES = 5;

/**
 * The regime the rates are measured in: the current one, unless it is too short or held under NOSPACE (just
 * after the alarm in the capacity runs: one sample, no write accepted); then the latest regime with enough
 * samples taken while writes were accepted.
 */
export function measuredRegime(rows: readonly StatusRow[], regimes: readonly Regime[]): Regime | undefined {
  const held = (g: Regime): boolean => rows.slice(g.from, g.to + 1).some((r) => r.alarms.includes('NOSPACE'));
  const cur = regimes[regimes.length - 1];
  if (!cur || (cur.to - cur.from + 1 >= MIN_CURRENT_SAMPLES && !held(cur))) return cur;
  return [...regimes].reverse().find((g) => g.to - g.from + 1 >= MIN_REGIME_SAMPLES && !held(g)) ?? cur;
}

export function modelMember(member: string, all: readonly StatusRow[], boundaries: readonly Boundary[]): MemberModel {
  const rows = all.filter((r) => r.db_size_bytes !== null);
  const regimes = splitRegimes(rows, boundaries);
  const cur = measuredRegime(rows, regimes);
  const seg = cur ? rows.slice(cur.from, cur.to + 1) : [];
  return {
    member, rows, regimes,
    inUseFit: theilSen(seg.map((r) => ({ x: r.ts_ms, y: inUseOf(r) }))),
    revFit: theilSen(seg.filter((r) => r.revision !== null).map((r) => ({ x: r.ts_ms, y: r.revision! }))),
  };
}

export function measureGrowth(d: Loaded, incident: Incident, settings: SettingsInForce = NO_SETTINGS): GrowthFits {
  const byMember = seriesByMember(d);
  const boundaries = eventBoundaries(d.events);
  const series: MemberSeries[] = [];
  const models: MemberModel[] = [];
  for (const [member, rows] of byMember) {
    const sized = rows.filter((r) => r.db_size_bytes !== null);
    series.push({
      member, samples: rows.length,
      points: rows.map((r) => ({ at: iso(r.ts_ms)!, dbSizeBytes: r.db_size_bytes, dbSizeInUseBytes: r.db_size_in_use_bytes, revision: r.revision })),
      firstSizeBytes: sized[0]?.db_size_bytes ?? null,
      lastSizeBytes: sized[sized.length - 1]?.db_size_bytes ?? null,
    });
    if (sized.length) models.push(modelMember(member, rows, boundaries));
  }
  const evidence: Evidence[] = describeSettings(settings).map((detail) => ({ source: 'etcd-log', completeness: 'exact', detail: `setting in force: ${detail}` }));
  const bprs = models.map((m) => bytesPerRevision(m.rows, m.regimes)).filter((b): b is NonNullable<typeof b> => b !== null);
  const bpr = bprs.length ? bprs.map((b) => b.value).sort((a, b) => a - b)[bprs.length >> 1]! : null;
  // The member growing fastest in its current regime; the write rate from the same member.
  const lead = pickFastest(models);
  const base = { settings, boundaries };
  if (lead && lead.inUseFit && lead.revFit) {
    const cur = measuredRegime(lead.rows, lead.regimes)!;
    const latest = lead.regimes[lead.regimes.length - 1]!;
    const seg = lead.rows.slice(cur.from, cur.to + 1);
    const usesInUse = lead.rows.some((r) => r.db_size_in_use_bytes !== null);
    const spanH = (lead.rows[lead.rows.length - 1]!.ts_ms - lead.rows[0]!.ts_ms) / 3_600_000;
    evidence.push({
      source: 'status-samples', completeness: 'exact',
      detail: `${models.reduce((n, m) => n + m.rows.length, 0)} timed endpoint status samples from ${models.length} member(s) over ${spanH.toFixed(2)} h; ` +
        `member ${lead.member}: ${lead.regimes.length} regime(s) (${regimeList(lead)}); ${cur === latest ? 'current regime' : `the current regime (since ${latest.cause} at ${latest.where}) has ${latest.to - latest.from + 1} sample(s)${latest.to - latest.from + 1 >= MIN_CURRENT_SAMPLES ? ' under NOSPACE' : ''}, so the latest regime with ${MIN_REGIME_SAMPLES} or more taken while writes were accepted:`} since ${iso(seg[0]!.ts_ms)} ` +
        `(${cur.cause}${cur.cause === 'start' ? '' : ` at ${cur.where}`}), ${seg.length} samples; rate and ${usesInUse ? 'in-use' : 'physical'} growth ` +
        'are Theil–Sen fits (95% intervals) within that regime',
    });
    if (bpr !== null) {
      evidence.push({
        source: 'status-samples', completeness: 'exact',
        detail: `bytes per revision ${bpr.toFixed(1)}: in-use size against revision within regimes (${bprs.map((b) => `${b.regimes} regime(s), ${b.samples} samples`).join('; ')}), median across members`,
      });
    }
    const f = lead.inUseFit;
    return {
      ...base, members: models, bytesPerRevision: bpr,
      growth: {
        revisionsPerHour: r1(lead.revFit.slope * 3_600_000), revisionsPerSecond: r3(lead.revFit.slope * 1000),
        bytesPerRevision: bpr === null ? null : r1(bpr),
        bytesPerHour: r1(f.slope * 3_600_000), bytesPerHourLow: r1(f.slopeLow * 3_600_000), bytesPerHourHigh: r1(f.slopeHigh * 3_600_000),
        method: 'theil-sen over status samples',
        members: series, evidence,
      },
    };
  }
  const sizeOnly = lead?.inUseFit ?? null;
  return { ...base, members: models, bytesPerRevision: bpr, growth: estimateFromSingleSample(d, incident, series, sizeOnly, evidence) };
}

function regimeList(m: MemberModel): string {
  const counts = new Map<string, number>();
  for (const g of m.regimes.slice(1)) counts.set(g.cause, (counts.get(g.cause) ?? 0) + 1);
  return counts.size ? [...counts].map(([c, n]) => `${n} ${c}`).join(', ') : 'no cut';
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

function pickFastest(models: MemberModel[]): MemberModel | null {
  let best: MemberModel | null = null;
  for (const m of models) if (m.inUseFit && (!best || !best.inUseFit || m.inUseFit.slope > best.inUseFit.slope)) best = m;
  return best;
}

const r1 = (v: number): number => Math.round(v * 10) / 10;
const r3 = (v: number): number => Math.round(v * 1000) / 1000;
