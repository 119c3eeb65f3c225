// Which keys write the revisions. Evidence, best first: an ingested snapshot (exact per-key counts),
// key-level lines in etcd logs (a sample: only failed or slow requests are logged, and zap samples
// bursts), and Patroni HA-loop lines (inferred: cycles × writers).
import type { Churn, ChurnGroup, ChurnKey, Evidence } from './types.js';
import { groupOfKey } from './keys.js';
import type { Loaded } from './load.js';

export interface KeyCount {
  key: string;
  revisions: number;
  firstMs: number | null;
  lastMs: number | null;
  /** Compacted snapshot: the live row's version (puts since creation). */
  version?: number | null;
  /** Compacted snapshot: revisions of this key recovered from free pages (included in `revisions`). */
  recoveredRevisions?: number;
}

export function rankChurn(d: Loaded, exact: KeyCount[] | null, exactEvidence: Evidence | null): Churn {
  const evidence: Evidence[] = [];
  let counts: KeyCount[];
  let ev: Evidence;
  if (exact && exact.length > 0 && exactEvidence) {
    counts = exact;
    ev = exactEvidence;
  } else {
    const fromLogs = countLoggedRequests(d);
    if (fromLogs.length > 0) {
      counts = fromLogs;
      const total = fromLogs.reduce((a, k) => a + k.revisions, 0);
      ev = {
        source: 'etcd-log', completeness: 'sampled',
        detail: `${total} put request${total === 1 ? '' : 's'} named in etcd log lines (failed or slow requests only; zap samples bursts, so counts are a lower bound and say which keys, not how many writes)`,
      };
    } else {
      counts = inferFromPatroniLoops(d);
      ev = {
        source: 'patroni-log', completeness: 'inferred',
        detail: 'Patroni HA-loop lines: one members/<node> write per node per cycle and one status write per leader cycle (Patroni 2.1.6–3.0.x writes /status every cycle); key prefix unknown from logs',
      };
    }
  }
  if (counts.length === 0) return { keys: [], groups: [], top: null, evidence: [] };
  evidence.push(ev);
  const total = counts.reduce((a, k) => a + k.revisions, 0);
  const perHour = (k: KeyCount): number | null =>
    k.firstMs !== null && k.lastMs !== null && k.lastMs > k.firstMs ? (k.revisions * 3_600_000) / (k.lastMs - k.firstMs) : null;
  const keys: ChurnKey[] = counts
    .map((k): ChurnKey => ({
      key: k.key, group: groupOfKey(k.key).group, revisions: k.revisions, perHour: round(perHour(k)), share: round4(k.revisions / total), evidence: ev,
      ...(k.version !== undefined ? { version: k.version } : {}), ...(k.recoveredRevisions !== undefined ? { recoveredRevisions: k.recoveredRevisions } : {}),
    }))
    .sort((a, b) => b.revisions - a.revisions || a.key.localeCompare(b.key));
  const byGroup = new Map<string, { rule: string; keys: KeyCount[] }>();
  for (const k of counts) {
    const g = groupOfKey(k.key);
    const entry = byGroup.get(g.group) ?? { rule: g.rule, keys: [] };
    entry.keys.push(k);
    byGroup.set(g.group, entry);
  }
  const groups: ChurnGroup[] = [...byGroup].map(([group, { rule, keys: ks }]) => {
    const revisions = ks.reduce((a, k) => a + k.revisions, 0);
    const firstMs = Math.min(...ks.map((k) => k.firstMs ?? Infinity));
    const lastMs = Math.max(...ks.map((k) => k.lastMs ?? -Infinity));
    const ph = Number.isFinite(firstMs) && Number.isFinite(lastMs) && lastMs > firstMs ? (revisions * 3_600_000) / (lastMs - firstMs) : null;
    return { group, rule, keys: ks.length, revisions, perHour: round(ph), share: round4(revisions / total), evidence: ev };
  }).sort((a, b) => b.revisions - a.revisions || a.group.localeCompare(b.group));
  return { keys, groups, top: groups[0]?.group ?? null, evidence };
}

function countLoggedRequests(d: Loaded): KeyCount[] {
  const m = new Map<string, KeyCount>();
  for (const r of d.requests) {
    if (r.op !== 'put' || r.key === null) continue;
    const k = m.get(r.key) ?? { key: r.key, revisions: 0, firstMs: null, lastMs: null };
    k.revisions += r.count;
    if (r.ts_ms !== null) {
      k.firstMs = k.firstMs === null ? r.ts_ms : Math.min(k.firstMs, r.ts_ms);
      k.lastMs = Math.max(k.lastMs ?? r.ts_ms, r.last_ts_ms ?? r.ts_ms);
    }
    m.set(r.key, k);
  }
  return [...m.values()];
}

function inferFromPatroniLoops(d: Loaded): KeyCount[] {
  const m = new Map<string, KeyCount>();
  const bump = (key: string, ms: number | null, n: number, lastMs: number | null): void => {
    const k = m.get(key) ?? { key, revisions: 0, firstMs: null, lastMs: null };
    k.revisions += n;
    if (ms !== null) {
      k.firstMs = k.firstMs === null ? ms : Math.min(k.firstMs, ms);
      k.lastMs = Math.max(k.lastMs ?? ms, lastMs ?? ms);
    }
    m.set(key, k);
  };
  for (const e of d.events) {
    if (e.kind !== 'patroni.ha.leader' && e.kind !== 'patroni.ha.secondary') continue;
    const me = e.member ?? 'node';
    bump(`<namespace>/<scope>/members/${me}`, e.ts_ms, e.count, e.last_ts_ms);
    if (e.kind === 'patroni.ha.leader') bump('<namespace>/<scope>/status', e.ts_ms, e.count, e.last_ts_ms);
  }
  return [...m.values()];
}

const round = (v: number | null): number | null => (v === null ? null : Math.round(v * 10) / 10);
const round4 = (v: number): number => Math.round(v * 10_000) / 10_000;
