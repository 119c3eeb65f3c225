// The evidence of which etcd cluster each source belongs to, read from the rows it produced, and the
// assignment written back (migration 12). Deciding is src/analyze/clusters.ts; this file is the SQL.
// The events scans repeat the three `<>` terms of the partial index events_notable_ts (migration 5), so
// that SQLite reads the notable events only, not every routine line of a large store.
import type { Db } from './open.js';
import { catchUpStatusRollup } from './status-rollup.js';

/** What one source says about its cluster. Ids are lowercase hex without leading zeros. */
export interface SourceClusterSignals {
  id: number;
  path: string;
  /** `ingest --cluster NAME`. */
  option: string | null;
  /** Cluster ids it names (etcdctl headers, `-w fields` ClusterID, etcd's "added member … to cluster …"), with how many records name each. */
  clusterIds: Map<string, number>;
  /** Member ids it names (status samples, member lists, alarm lists, snapshot members buckets, etcd's member lines). */
  members: Set<string>;
  /** Patroni scopes: configuration files' `scope`, and keys `/<namespace>/<scope>/{leader,members/…,…}`. */
  scopes: Set<string>;
  /** A member named together with its cluster id by the same record (status headers, "added member"): member → cluster. */
  links: Map<string, string>;
  /** Client endpoints it names (`127.0.0.1:2379`, scheme and trailing slash taken off): health checks, defrag outputs, commands. */
  endpoints: Set<string>;
  /** An endpoint named with its member or cluster id by the same record (status rows, member lists). */
  endpointLinks: Map<string, { member: string | null; cluster: string | null }>;
}

/** An assignment: clusters by name, each source's cluster (null: none) and how it was told. */
export interface ClusterAssignment {
  clusters: { name: string; clusterId: string | null; scope: string | null; namedBy: 'option' | 'cluster-id' | 'patroni-scope' }[];
  sources: { id: number; cluster: string | null; basis: string }[];
  /** Status samples of files that mix clusters: sample row id → cluster name. */
  samples: { id: number; cluster: string }[];
}

/** `http://127.0.0.1:2379/` → `127.0.0.1:2379`; null for what is no host:port (a member name in a log-derived sample). */
export function normalizeEndpoint(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const m = /^(?:[a-z]+:\/\/)?([^/\s]+:\d{1,5})\/?$/i.exec(v.trim());
  return m ? m[1]!.toLowerCase() : null;
}

/** Hex as etcd prints ids (`%x`): lowercase, no leading zeros. Decimal text (alarm list) when `decimal`. */
export function normalizeId(v: unknown, decimal = false): string | null {
  if (typeof v !== 'string' || v === '') return null;
  try {
    if (decimal) return /^\d{1,20}$/.test(v) ? BigInt(v).toString(16) : null;
    return /^[0-9a-fA-F]{1,16}$/.test(v) ? BigInt(`0x${v}`).toString(16) : null;
  } catch {
    return null;
  }
}

// Patroni's keys: /<namespace>/<scope>/<what> (namespace `/service` by default, scope the cluster's name).
// Kubernetes' /registry/<resource>/<namespace>/<name> has the same depth: a configmap named `config` is no scope.
const PATRONI_KEY = /^\/([^/]+)\/([^/]+)\/(?:leader|members\/[^/]+|status|config|initialize|failover|sync|history|failsafe)$/;

export function patroniScopeOfKey(key: string): string | null {
  const m = PATRONI_KEY.exec(key);
  return m && m[1] !== 'registry' ? m[2]! : null;
}

export function readClusterSignals(db: Db): SourceClusterSignals[] {
  const sources = db.prepare('SELECT id, path, cluster_option AS option FROM sources ORDER BY id').all() as { id: number; path: string; option: string | null }[];
  const by = new Map<number, SourceClusterSignals>(sources.map((s) => [s.id, {
    id: s.id, path: s.path, option: s.option, clusterIds: new Map(), members: new Set(), scopes: new Set(), links: new Map(),
    endpoints: new Set(), endpointLinks: new Map(),
  }]));
  const addEndpoint = (src: number, endpoint: unknown, member: string | null, cluster: string | null): void => {
    const s = by.get(src);
    const ep = normalizeEndpoint(endpoint);
    if (!s || ep === null) return;
    s.endpoints.add(ep);
    if (member !== null || cluster !== null) s.endpointLinks.set(ep, { member, cluster });
  };
  const addId = (src: number, cluster: string | null, member: string | null, n = 1): void => {
    const s = by.get(src);
    if (!s) return;
    if (cluster !== null) s.clusterIds.set(cluster, (s.clusterIds.get(cluster) ?? 0) + n);
    if (member !== null) s.members.add(member);
    if (cluster !== null && member !== null) s.links.set(member, cluster);
  };
  for (const r of db.prepare(`SELECT source_id AS s, cluster_id AS c, member_id AS m, endpoint AS e, COUNT(*) AS n FROM status_samples
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`).all() as { s: number; c: string | null; m: string | null; e: string; n: number }[]) {
    addId(r.s, normalizeId(r.c), normalizeId(r.m), r.n);
    addEndpoint(r.s, r.e, normalizeId(r.m), normalizeId(r.c));
  }
  for (const r of db.prepare('SELECT DISTINCT source_id AS s, endpoint AS e FROM health_samples ORDER BY 1, 2').all() as { s: number; e: string }[]) {
    addEndpoint(r.s, r.e, null, null);
  }
  for (const r of db.prepare(`SELECT DISTINCT m.source_id AS s, m.member_id AS m, j.value AS e FROM members m, json_each(m.client_urls) j
      WHERE json_valid(m.client_urls) ORDER BY 1, 2, 3`).all() as { s: number; m: string; e: unknown }[]) {
    addEndpoint(r.s, r.e, normalizeId(r.m), null);
  }
  // One pass over the notable events: etcd's member lines (`added member … to cluster …`) name a member and its
  // cluster; etcdctl outputs and commands name endpoints (`Finished defragmenting etcd member[127.0.0.1:36621]`,
  // `--endpoints=…`); Patroni's `Selected new etcd server http://127.0.0.1:60397` names its etcd. 1.2 M events: about 0.7 s.
  for (const r of db.prepare(`SELECT DISTINCT e.source_id AS s, e.kind AS k, json_extract(e.detail, '$.cluster') AS c,
        json_extract(e.detail, '$.member') AS m, COALESCE(json_extract(e.detail, '$.endpoint'), json_extract(e.detail, '$.server')) AS ep,
        json_extract(e.detail, '$.endpoints') AS eps
      FROM events e
      WHERE e.kind <> 'etcd.other' AND e.kind <> 'patroni.other' AND e.kind <> 'postgres.log'
        AND (e.kind = 'etcd.member.changed' OR e.kind = 'patroni.dcs-switch' OR e.kind LIKE 'etcdctl.%' OR e.kind LIKE 'operator.%')
        AND json_valid(e.detail)
      ORDER BY 1, 2, 3, 4, 5, 6`).all() as { s: number; k: string; c: unknown; m: unknown; ep: unknown; eps: unknown }[]) {
    if (r.k === 'etcd.member.changed') {
      addId(r.s, normalizeId(r.c), normalizeId(r.m));
      continue;
    }
    addEndpoint(r.s, r.ep, null, null);
    if (typeof r.eps === 'string') for (const ep of parseList(r.eps)) addEndpoint(r.s, ep, null, null);
  }
  for (const r of db.prepare('SELECT DISTINCT source_id AS s, member_id AS m FROM members ORDER BY 1, 2').all() as { s: number; m: string }[]) {
    addId(r.s, null, normalizeId(r.m));
  }
  // `alarm list` prints member ids in decimal; a snapshot's alarm bucket too (ingest-snapshot.ts).
  for (const r of db.prepare('SELECT DISTINCT source_id AS s, member_id AS m FROM alarms ORDER BY 1, 2').all() as { s: number; m: string }[]) {
    addId(r.s, null, normalizeId(r.m, true) ?? normalizeId(r.m));
  }
  for (const r of db.prepare(`SELECT DISTINCT source_id AS s, scope FROM settings WHERE scope IS NOT NULL ORDER BY 1, 2`).all() as { s: number; scope: string }[]) {
    by.get(r.s)?.scopes.add(r.scope);
  }
  // Patroni's YAML: `etcd3: hosts: 127.0.0.1:40851,127.0.0.1:52535` are its etcd's client endpoints.
  for (const r of db.prepare(`SELECT DISTINCT source_id AS s, value FROM settings WHERE name = 'hosts' ORDER BY 1, 2`).all() as { s: number; value: string }[]) {
    for (const ep of r.value.split(',')) addEndpoint(r.s, ep, null, null);
  }
  const keyed = `SELECT DISTINCT source_id AS s, key FROM %T WHERE key LIKE '/%/%/%'
    AND (key LIKE '%/leader' OR key LIKE '%/members/%' OR key LIKE '%/status' OR key LIKE '%/config' OR key LIKE '%/initialize') ORDER BY 1, 2`;
  for (const table of ['etcd_requests', 'snapshot_keys']) {
    for (const r of db.prepare(keyed.replace('%T', table)).all() as { s: number; key: string }[]) {
      const scope = patroniScopeOfKey(r.key);
      if (scope !== null) by.get(r.s)?.scopes.add(scope);
    }
  }
  return [...by.values()];
}

function parseList(json: string): unknown[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

/** Status samples of one source with the ids that tell their cluster (for a file that mixes clusters). */
export function readSampleIds(db: Db, sourceId: number): { id: number; cluster: string | null; member: string | null }[] {
  return (db.prepare('SELECT id, cluster_id AS c, member_id AS m FROM status_samples WHERE source_id = ? ORDER BY id').all(sourceId) as
    { id: number; c: string | null; m: string | null }[]).map((r) => ({ id: r.id, cluster: normalizeId(r.c), member: normalizeId(r.m) }));
}

/**
 * Replaces the stored assignment, in one transaction, writing only what changed. Every ingest, collect, import
 * and `sources rm` re-derives the whole assignment, so on a store of millions of readings rewriting it was the
 * cost of an ingest: deleting every cluster row made SQLite look for rows referencing each (status_samples has
 * no index on cluster: one full scan per cluster, 42 % of re-importing 200 clusters × 30 days), and every
 * reading of a mixed file was set to NULL and back. A cluster keeps its row (and id) while its name stays.
 */
export function writeClusterAssignment(db: Db, a: ClusterAssignment): void {
  db.transaction(() => {
    type Row = { id: number; name: string; c: string | null; scope: string | null; n: string };
    const existing = new Map((db.prepare('SELECT id, name, cluster_id AS c, scope, named_by AS n FROM clusters').all() as Row[]).map((r) => [r.name, r]));
    const ins = db.prepare('INSERT INTO clusters (name, cluster_id, scope, named_by) VALUES (?,?,?,?)');
    const upd = db.prepare('UPDATE clusters SET cluster_id = ?, scope = ?, named_by = ? WHERE id = ?');
    const ref = new Map<string, number>();
    for (const c of a.clusters) {
      const old = existing.get(c.name);
      if (old === undefined) {
        ref.set(c.name, Number(ins.run(c.name, c.clusterId, c.scope, c.namedBy).lastInsertRowid));
        continue;
      }
      if (old.c !== c.clusterId || old.scope !== c.scope || old.n !== c.namedBy) upd.run(c.clusterId, c.scope, c.namedBy, old.id);
      ref.set(c.name, old.id);
    }
    // Sources are few: set every one (a source left out of the assignment has no cluster).
    db.exec('UPDATE sources SET cluster = NULL, cluster_basis = NULL');
    const src = db.prepare('UPDATE sources SET cluster = ?, cluster_basis = ? WHERE id = ?');
    for (const s of a.sources) src.run(s.cluster === null ? null : ref.get(s.cluster) ?? null, s.basis, s.id);
    // Readings of files that mix clusters: only those whose cluster changes are written.
    const want = new Map<number, number | null>();
    for (const s of a.samples) want.set(s.id, ref.get(s.cluster) ?? null);
    const stale: number[] = [];
    for (const r of db.prepare('SELECT id, cluster FROM status_samples WHERE cluster IS NOT NULL').iterate() as IterableIterator<{ id: number; cluster: number }>) {
      const w = want.get(r.id);
      if (w === r.cluster) want.delete(r.id);
      else if (w === undefined) stale.push(r.id);
    }
    const smp = db.prepare('UPDATE status_samples SET cluster = ? WHERE id = ?');
    for (const id of stale) smp.run(null, id);
    for (const [id, cluster] of want) smp.run(cluster, id);
    // Clusters that are gone: no source or reading refers to them any more.
    const gone = db.prepare('DELETE FROM clusters WHERE id = ?');
    const kept = new Set(ref.values());
    for (const r of existing.values()) if (!kept.has(r.id)) gone.run(r.id);
    // Every ingest, collect, import and `sources rm` ends here: the status rollup catches up (migration 19).
    catchUpStatusRollup(db);
    // BEGIN IMMEDIATE: it reads the clusters before it writes; a deferred transaction upgrading its read lock while
    // another ingest writes gets SQLITE_BUSY at once, without waiting (test/store-env.test.ts saw it after 7 s).
  }).immediate();
}

/** `ingest --cluster NAME`: the user's word for the sources this ingest stored. */
export function setClusterOption(db: Db, firstSourceId: number, name: string): void {
  db.prepare('UPDATE sources SET cluster_option = ? WHERE id >= ?').run(name, firstSourceId);
}

export function nextSourceId(db: Db): number {
  return ((db.prepare('SELECT MAX(id) AS m FROM sources').get() as { m: number | null }).m ?? 0) + 1;
}

export interface StoredCluster { ref: number; name: string; clusterId: string | null; scope: string | null; namedBy: string; sources: number }

export function readClusters(db: Db): StoredCluster[] {
  return db.prepare(`SELECT c.id AS ref, c.name, c.cluster_id AS clusterId, c.scope, c.named_by AS namedBy,
      (SELECT COUNT(*) FROM sources s WHERE s.cluster = c.id) AS sources
    FROM clusters c ORDER BY c.name`).all() as StoredCluster[];
}

export function readUnassigned(db: Db): { id: number; path: string }[] {
  return db.prepare(`SELECT id, path FROM sources WHERE cluster IS NULL AND EXISTS (SELECT 1 FROM clusters) ORDER BY id`).all() as { id: number; path: string }[];
}
