// Refused writes by key and by error: which keys (and so which clients) lost writes, how many, with
// what error, from when to when. Two views of the same failures:
//   - etcd's own `failed to apply request` lines (etcd_requests rows with outcome 'failed'), one per
//     refused request and member, e.g.
//     {"msg":"failed to apply request",…,"request":"header:<ID:…> put:<key:\"/service/pg_demo/members/pg2\" …>","error":"etcdserver: no space"}
//   - Patroni's refused writes (patroni.nospace / patroni.dcs-error events), named by the Patroni call
//     that failed (detail.write: touch_member, _write_status, …) and the key it names relative to the scope.
// SQL only: the store groups and counts, we iterate the groups (never every row). The two GROUP BY
// statements are in refusedWriteGroupsSql(); a row may stand for a per-minute group of lines (migration 13:
// `count` lines, the last at last_ts_ms), so the statements sum `count`.
import type { Db } from '../store/open.js';
import type { Evidence, RefusedWriteRow, RefusedWrites } from './types.js';
import { groupOfKey } from './keys.js';

/** Rows kept for the report; the rest are counted in `moreRows` (a store of Kubernetes leases has thousands of keys). */
export const REFUSED_ROWS_MAX = 500;

const FIRST = (ts: string, src: string, line: string): string =>
  `MIN(printf('%016d|%s:%d', COALESCE(${ts}, 9999999999999999), ${src}, ${line}))`;

/** The two grouping statements, (etcd requests, Patroni events), cut at `untilMs` like the other analyses. */
export function refusedWriteGroupsSql(untilMs: number | null, inScope: SourceScope = () => '1=1'): { etcd: string; patroni: string } {
  const cut = (col: string): string => (untilMs === null ? '1=1' : `(${col} IS NULL OR ${col} <= ${Math.trunc(untilMs)})`);
  return {
    etcd: `
      SELECT r.key AS key, r.error AS error, r.member AS member, SUM(r.count) AS n,
             MIN(r.ts_ms) AS first_ms, MAX(COALESCE(r.last_ts_ms, r.ts_ms)) AS last_ms, ${FIRST('r.ts_ms', 'src.path', 'r.line')} AS first_src
      FROM etcd_requests r JOIN sources src ON src.id = r.source_id
      WHERE r.outcome = 'failed' AND ${cut('r.ts_ms')} AND ${inScope('src')}
      GROUP BY r.key, r.error, r.member
      ORDER BY r.key, r.error, r.member`,
    // The three `<>` terms let SQLite use the partial index events_notable_ts (see load.ts).
    patroni: `
      SELECT json_extract(e.detail, '$.key') AS key, json_extract(e.detail, '$.write') AS write,
             COALESCE(json_extract(e.detail, '$.error'), CASE e.kind WHEN 'patroni.nospace' THEN 'database space exceeded' END) AS error,
             e.member AS member, SUM(e.count) AS n,
             MIN(e.ts_ms) AS first_ms, MAX(COALESCE(e.last_ts_ms, e.ts_ms)) AS last_ms, ${FIRST('e.ts_ms', 'src.path', 'e.line')} AS first_src
      FROM events e JOIN sources src ON src.id = e.source_id
      WHERE e.kind <> 'etcd.other' AND e.kind <> 'patroni.other' AND e.kind <> 'postgres.log'
        AND e.kind IN ('patroni.nospace', 'patroni.dcs-error') AND ${cut('e.ts_ms')} AND ${inScope('src')}
      GROUP BY 1, 2, 3, e.member
      ORDER BY 1, 2, 3, e.member`,
  };
}

interface GroupRow {
  key: string | null;
  write?: string | null;
  error: string | null;
  member: string | null;
  n: number;
  first_ms: number | null;
  last_ms: number | null;
  first_src: string;
}

/** A SQL term over the sources table's alias (one cluster's sources), or none. */
export type SourceScope = (sourcesAlias: string) => string;

/** Refused writes grouped by (key, error) with the members that refused them, largest first. */
export function findRefusedWrites(db: Db, untilMs: number | null, inScope?: SourceScope): RefusedWrites {
  const sql = refusedWriteGroupsSql(untilMs, inScope);
  const etcd = mergeMembers(db.prepare(sql.etcd).iterate() as IterableIterator<GroupRow>, 'etcd-log');
  const patroni = mergeMembers(db.prepare(sql.patroni).iterate() as IterableIterator<GroupRow>, 'patroni-log');
  const all = [...etcd, ...patroni].sort((a, b) => b.count - a.count || order(a).localeCompare(order(b)));
  const byError = new Map<string, { via: RefusedWriteRow['via']; error: string | null; count: number }>();
  for (const r of all) {
    const k = `${r.via}|${r.error ?? ''}`;
    const e = byError.get(k) ?? { via: r.via, error: r.error, count: 0 };
    e.count += r.count;
    byError.set(k, e);
  }
  const etcdTotal = etcd.reduce((s, r) => s + r.count, 0);
  const patroniTotal = patroni.reduce((s, r) => s + r.count, 0);
  const evidence: Evidence[] = [];
  if (etcdTotal > 0) {
    evidence.push({ source: 'etcd-log', completeness: 'exact', detail: `${etcdTotal} "failed to apply request" lines of ${distinct(etcd)} key(s), counted per key, error and member` });
  }
  if (patroniTotal > 0) {
    evidence.push({ source: 'patroni-log', completeness: 'exact', detail: `${patroniTotal} refused Patroni writes (database space exceeded, DCS errors) counted per call, key, error and node` });
  }
  return {
    etcdTotal, patroniTotal,
    byError: [...byError.values()].sort((a, b) => b.count - a.count || (a.error ?? '').localeCompare(b.error ?? '')),
    rows: all.slice(0, REFUSED_ROWS_MAX),
    moreRows: Math.max(0, all.length - REFUSED_ROWS_MAX),
    evidence,
  };
}

const order = (r: RefusedWriteRow): string => `${r.via}|${r.key ?? ''}|${r.write ?? ''}|${r.error ?? ''}`;
const distinct = (rows: RefusedWriteRow[]): number => new Set(rows.map((r) => r.key)).size;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Consecutive groups of the same (key, write, error) differ only by member: one row with a member split. */
function mergeMembers(groups: Iterable<GroupRow>, via: RefusedWriteRow['via']): RefusedWriteRow[] {
  const out: RefusedWriteRow[] = [];
  let cur: (RefusedWriteRow & { firstSrc: string }) | null = null;
  for (const g of groups) {
    const write = g.write ?? null;
    if (cur && cur.key === g.key && cur.write === write && cur.error === g.error) {
      cur.count += g.n;
      cur.members.push({ member: g.member, count: g.n });
      cur.firstAt = minIso(cur.firstAt, iso(g.first_ms));
      cur.lastAt = maxIso(cur.lastAt, iso(g.last_ms));
      if (g.first_src < cur.firstSrc) cur.firstSrc = g.first_src;
      continue;
    }
    if (cur) out.push(finish(cur));
    cur = {
      via, key: g.key, write, client: clientOf(g.key, write, via), error: g.error, count: g.n,
      members: [{ member: g.member, count: g.n }], firstAt: iso(g.first_ms), lastAt: iso(g.last_ms), source: '', firstSrc: g.first_src,
    };
  }
  if (cur) out.push(finish(cur));
  return out;
}

function finish(r: RefusedWriteRow & { firstSrc: string }): RefusedWriteRow {
  const { firstSrc, ...row } = r;
  row.source = firstSrc.slice(firstSrc.indexOf('|') + 1);
  row.members.sort((a, b) => b.count - a.count || (a.member ?? '').localeCompare(b.member ?? ''));
  return row;
}

const minIso = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : a < b ? a : b);
const maxIso = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : a > b ? a : b);

/** Who writes this key: Patroni (by its key name), Kubernetes (leases apart), or the key's group. */
export function clientOf(key: string | null, write: string | null, via: RefusedWriteRow['via']): string {
  if (via === 'patroni-log') return `Patroni ${write ?? 'call not named'}`;
  if (key === null) return 'unknown';
  if (key.startsWith('/registry/leases/')) return 'Kubernetes lease';
  if (key.startsWith('/registry/')) return 'Kubernetes';
  const g = groupOfKey(key);
  return g.rule.startsWith('patroni ') ? g.rule.replace(/^patroni /, 'Patroni ') : `other (${g.group})`;
}
