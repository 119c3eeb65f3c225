// When NOSPACE struck, when Patroni first failed to write, when the alarm was disarmed, and the
// revision and DB size at that moment — each with the record it comes from.
import type { Evidence, Incident } from './types.js';
import { detailOf, iso, type Loaded, type EventRow } from './load.js';

const isNospaceFailure = (e: EventRow): boolean =>
  e.kind === 'etcd.apply.failed' && /no space|space exceeded/i.test(String(detailOf(e).error ?? e.message));
const isNospaceAlarm = (e: EventRow): boolean =>
  e.kind === 'etcd.alarm.raised' && /NOSPACE/i.test(String(detailOf(e).alarm ?? e.message));
const where = (e: { path: string; line: number }): string => `${e.path}:${e.line}`;

export function findIncident(d: Loaded): Incident {
  const evidence: Evidence[] = [];
  const timed = d.events.filter((e) => e.ts_ms !== null);
  const alarms = timed.filter(isNospaceAlarm);
  const candidates: { ms: number; what: string; ev: EventRow | null; source: Evidence['source']; exact: boolean }[] = [];
  if (alarms[0]) candidates.push({ ms: alarms[0].ts_ms!, what: 'etcd log: alarm raised (NOSPACE)', ev: alarms[0], source: 'etcd-log', exact: true });
  const failed = timed.find(isNospaceFailure);
  if (failed) candidates.push({ ms: failed.ts_ms!, what: 'etcd log: first write failed with no space', ev: failed, source: 'etcd-log', exact: false });
  const patroniNospace = timed.find((e) => e.kind === 'patroni.nospace');
  if (patroniNospace) candidates.push({ ms: patroniNospace.ts_ms!, what: 'Patroni log: first `database space exceeded`', ev: patroniNospace, source: 'patroni-log', exact: false });
  const sampled = d.status.find((s) => s.alarms.includes('NOSPACE') && (s.time_basis === 'marker' || s.time_basis === 'explicit'));
  if (sampled) candidates.push({ ms: sampled.ts_ms, what: 'status sample: first sample showing alarm NOSPACE', ev: null, source: 'status-samples', exact: false });
  // The alarm line is the moment itself; any other evidence bounds it from above, so take the earliest.
  candidates.sort((a, b) => a.ms - b.ms);
  const first = alarms[0] ? candidates.find((c) => c.ev === alarms[0]) ?? candidates[0] : candidates[0];
  const nospaceMs = first?.ms ?? null;
  if (first) {
    evidence.push({
      source: first.source, completeness: first.exact ? 'exact' : 'approximate',
      detail: `${first.what}${first.ev ? ` at ${where(first.ev)}` : ''}${first.exact ? '' : ' (an upper bound: the alarm itself was not in the data)'}`,
    });
  }
  const members = new Map<string, number>();
  for (const a of alarms) {
    const m = a.member ?? a.path;
    if (!members.has(m)) members.set(m, a.ts_ms!);
  }
  const dcs = timed.find((e) => e.kind === 'patroni.nospace' || e.kind === 'patroni.dcs-error');
  if (dcs) evidence.push({ source: 'patroni-log', completeness: 'exact', detail: `first Patroni DCS error at ${where(dcs)}` });
  const disarm = timed.find((e) => e.kind === 'etcd.alarm.disarmed' && (nospaceMs === null || e.ts_ms! >= nospaceMs));
  if (disarm) evidence.push({ source: 'etcd-log', completeness: 'exact', detail: `alarm disarmed at ${where(disarm)}` });

  const { revision, size, approx } = sizeAtNospace(d, nospaceMs, evidence);
  return {
    nospaceAt: iso(nospaceMs),
    firstDcsErrorAt: iso(dcs?.ts_ms ?? null),
    recoveredAt: iso(disarm?.ts_ms ?? null),
    revisionAtNospace: revision,
    dbSizeAtNospace: size,
    dbSizeAtNospaceApprox: approx,
    members: [...members].map(([member, ms]) => ({ member, nospaceAt: iso(ms)! })),
    evidence,
  };
}

function sizeAtNospace(d: Loaded, nospaceMs: number | null, evidence: Evidence[]) {
  let revision: number | null = null;
  let size: number | null = null;
  let approx = false;
  if (nospaceMs !== null) {
    // The first sample at or after the alarm (the revision barely moves under NOSPACE), else the last before.
    const after = d.status.filter((s) => s.ts_ms >= nospaceMs && s.time_basis !== 'mtime');
    const before = d.status.filter((s) => s.ts_ms < nospaceMs);
    const pick = (rows: typeof d.status, f: (s: (typeof d.status)[number]) => boolean) => rows.find(f);
    const rev = pick(after, (s) => s.revision !== null) ?? [...before].reverse().find((s) => s.revision !== null);
    if (rev) {
      revision = rev.revision;
      evidence.push({ source: 'status-samples', completeness: 'exact', detail: `revision ${rev.revision} from the status sample at ${iso(rev.ts_ms)} (${rev.path}:${rev.line})` });
    }
    const sz = pick(after, (s) => s.db_size_bytes !== null && !s.db_size_approx) ?? pick(after, (s) => s.db_size_bytes !== null)
      ?? [...before].reverse().find((s) => s.db_size_bytes !== null);
    if (sz) {
      size = sz.db_size_bytes;
      approx = sz.db_size_approx === 1;
      evidence.push({ source: 'status-samples', completeness: approx ? 'approximate' : 'exact', detail: `DB size ${size} bytes${approx ? ' (humanized by etcdctl)' : ''} from ${sz.path}:${sz.line}` });
    }
  }
  const snap = d.snapshots[0];
  if (revision === null && snap) {
    revision = snap.revision;
    evidence.push({ source: 'snapshot-status', completeness: 'exact', detail: `revision ${snap.revision} from snapshot status at ${snap.path}:${snap.line}` });
  }
  if (size === null && snap) {
    size = snap.total_size_bytes;
    approx = snap.total_size_approx === 1;
    evidence.push({ source: 'snapshot-status', completeness: approx ? 'approximate' : 'exact', detail: `size ${size} bytes from snapshot status at ${snap.path}:${snap.line}` });
  }
  if (size === null) {
    const any = d.status.find((s) => s.alarms.includes('NOSPACE') && s.db_size_bytes !== null);
    if (any) {
      size = any.db_size_bytes;
      approx = any.db_size_approx === 1;
      evidence.push({ source: 'etcdctl-output', completeness: 'approximate', detail: `DB size of a member showing NOSPACE at ${any.path}:${any.line}` });
    }
  }
  return { revision, size, approx };
}
