// Which etcd cluster each source belongs to, so that no analysis mixes two clusters (issue 12).
// Evidence, strongest first: `ingest --cluster NAME`; the cluster id a source names (etcdctl JSON headers
// `"cluster_id":5538001404326145065`, `-w fields` `"ClusterID" : …`, zap `{"msg":"added member","cluster-id":
// "4cdaeeef86796c29",…}`, capnslog `added member 8e9e05c52164694d [...] to cluster cdf818194e3a8c32`); member ids
// seen with a cluster id elsewhere (a member list, an `alarm list`, a snapshot's members bucket); client endpoints seen with
// a member or cluster id (health checks, `Finished defragmenting etcd member[127.0.0.1:36621]`, Patroni's `hosts:` and its
// `Selected new etcd server …` lines); a Patroni scope
// seen with a cluster elsewhere (/service/<scope>/… keys, the `scope:` of Patroni's YAML). A source none of
// these tells goes to the only cluster when there is one, else it stays unassigned, and the commands say so.
// Clusters are named by the user's name, else the hex cluster id, else the Patroni scope.
import type { Db } from '../store/open.js';
import {
  readClusterSignals, readClusters, readSampleIds, writeClusterAssignment, type ClusterAssignment, type SourceClusterSignals,
  type StoredCluster,
} from '../store/clusters.js';

/** One cluster's analysis scope: its row in the clusters table. null everywhere means "the whole store". */
export interface ClusterScope {
  ref: number;
  name: string;
  clusterId: string | null;
  scope: string | null;
}

/** SQL term: the row's source belongs to the cluster (`src` is the sources alias). */
export function sourceInCluster(src: string, c: ClusterScope | null | undefined): string {
  return c ? `${src}.cluster = ${refOf(c)}` : '1=1';
}

/** SQL term for status samples: a file that mixes clusters gives each sample its own cluster. */
export function sampleInCluster(s: string, src: string, c: ClusterScope | null | undefined): string {
  return c ? `COALESCE(${s}.cluster, ${src}.cluster) = ${refOf(c)}` : '1=1';
}

function refOf(c: ClusterScope): number {
  if (!Number.isSafeInteger(c.ref)) throw new Error(`cluster ${c.name}: bad reference`);
  return c.ref;
}

/** Tells every source's cluster again from all the store holds (after an ingest or `sources rm`). */
export function assignClusters(db: Db): ClusterAssignment {
  const a = decideClusters(readClusterSignals(db), (id) => readSampleIds(db, id));
  writeClusterAssignment(db, a);
  return a;
}

/** The clusters to analyse: the one named (by name, hex cluster id or Patroni scope), else all; [null] when none is known. */
export function clustersToAnalyze(db: Db, wanted: string | null): { scopes: (ClusterScope | null)[]; known: StoredCluster[] } {
  const known = readClusters(db);
  const asScope = (c: StoredCluster): ClusterScope => ({ ref: c.ref, name: c.name, clusterId: c.clusterId, scope: c.scope });
  if (wanted !== null) {
    const w = wanted.toLowerCase();
    const hit = known.find((c) => c.name === wanted) ?? known.find((c) => c.clusterId === w.replace(/^0+(?=.)/, '')) ?? known.find((c) => c.scope === wanted);
    return { scopes: hit ? [asScope(hit)] : [], known };
  }
  return { scopes: known.length === 0 ? [null] : known.map(asScope), known };
}

type Named = ClusterAssignment['clusters'][number];

export function decideClusters(
  signals: readonly SourceClusterSignals[],
  samplesOf: (sourceId: number) => { id: number; cluster: string | null; member: string | null }[],
): ClusterAssignment {
  const clusters = new Map<string, Named>();
  const byId = new Map<string, string>();
  const add = (c: Named): void => {
    if (!clusters.has(c.name)) clusters.set(c.name, c);
  };
  // The user's names first; the first named source that carries exactly one cluster id lends that id the
  // name (a name takes one id: a file of another cluster put under the same name is only overridden).
  for (const s of signals) {
    if (s.option === null) continue;
    const ids = [...s.clusterIds.keys()];
    add({ name: s.option, clusterId: null, scope: null, namedBy: 'option' });
    const c = clusters.get(s.option)!;
    if (ids.length === 1 && !byId.has(ids[0]!) && c.clusterId === null) {
      byId.set(ids[0]!, s.option);
      c.clusterId = ids[0]!;
    }
  }
  for (const id of [...new Set(signals.flatMap((s) => [...s.clusterIds.keys()]))].sort()) {
    if (byId.has(id)) continue;
    byId.set(id, id);
    add({ name: id, clusterId: id, scope: null, namedBy: 'cluster-id' });
  }
  const memberOf = memberClusters(signals, byId);
  const endpointOf = endpointClusters(signals, byId, memberOf);
  const out: ClusterAssignment['sources'] = [];
  const decided = new Map<number, { cluster: string; mixed: boolean }>();
  for (const s of signals) {
    const d = s.option !== null ? { names: new Map([[s.option, 1]]), basis: 'option' }
      : s.clusterIds.size > 0 ? { names: countBy(s.clusterIds, (id) => byId.get(id) ?? null), basis: 'cluster-id' }
      : { names: countBy(new Map([...s.members].map((m) => [m, 1])), (m) => memberOf.get(m) ?? null), basis: 'member-id' };
    if (d.names.size === 0) {
      d.names = countBy(new Map([...s.endpoints].map((e) => [e, 1])), (e) => endpointOf.get(e) ?? null);
      d.basis = 'endpoint';
    }
    if (d.names.size === 0) continue;
    const ranked = [...d.names].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const mixed = ranked.length > 1;
    decided.set(s.id, { cluster: ranked[0]![0], mixed });
    out.push({ id: s.id, cluster: ranked[0]![0], basis: mixed ? `${d.basis}, mixed: ${ranked.map((r) => r[0]).join(', ')}` : d.basis });
  }
  // Patroni scopes: linked to the cluster of the sources that carry both; only when no etcd cluster is
  // known at all does a scope name a cluster of its own.
  const scopeOf = new Map<string, Set<string>>();
  for (const s of signals) {
    const c = decided.get(s.id);
    if (c && !c.mixed) for (const sc of s.scopes) scopeOf.set(sc, (scopeOf.get(sc) ?? new Set()).add(c.cluster));
  }
  if (clusters.size === 0) {
    for (const sc of [...new Set(signals.flatMap((s) => [...s.scopes]))].sort()) {
      add({ name: sc, clusterId: null, scope: sc, namedBy: 'patroni-scope' });
      scopeOf.set(sc, new Set([sc]));
    }
  }
  // A cluster's scope: the one Patroni scope its own sources name (two clusters may both serve `pg_demo`).
  const scopesIn = new Map<string, Set<string>>();
  for (const s of signals) {
    const c = decided.get(s.id);
    if (c && !c.mixed) for (const sc of s.scopes) scopesIn.set(c.cluster, (scopesIn.get(c.cluster) ?? new Set()).add(sc));
  }
  for (const [name, scopes] of scopesIn) {
    const c = clusters.get(name);
    if (c && c.scope === null && scopes.size === 1) c.scope = [...scopes][0]!;
  }
  const only = clusters.size === 1 ? [...clusters.keys()][0]! : null;
  for (const s of signals) {
    if (decided.has(s.id)) continue;
    const viaScope = [...new Set([...s.scopes].flatMap((sc) => (scopeOf.get(sc)?.size === 1 ? [...scopeOf.get(sc)!] : [])))];
    if (viaScope.length === 1) out.push({ id: s.id, cluster: viaScope[0]!, basis: 'patroni-scope' });
    else if (only !== null) out.push({ id: s.id, cluster: only, basis: 'only-cluster' });
    else out.push({ id: s.id, cluster: null, basis: clusters.size === 0 ? 'no-cluster-known' : 'unassigned' });
  }
  const samples: ClusterAssignment['samples'] = [];
  for (const [id, c] of decided) {
    if (!c.mixed) continue;
    for (const smp of samplesOf(id)) {
      const name = (smp.cluster !== null ? byId.get(smp.cluster) : undefined) ?? (smp.member !== null ? memberOf.get(smp.member) : undefined) ?? c.cluster;
      samples.push({ id: smp.id, cluster: name });
    }
  }
  return { clusters: [...clusters.values()].sort((a, b) => a.name.localeCompare(b.name)), sources: out.sort((a, b) => a.id - b.id), samples };
}

/** Member id → cluster name, from records naming both; a member seen in two clusters tells nothing. */
function memberClusters(signals: readonly SourceClusterSignals[], byId: Map<string, string>): Map<string, string> {
  const seen = new Map<string, Set<string>>();
  for (const s of signals) {
    for (const [m, id] of s.links) {
      // The id in the data, not the user's override: a member is of the cluster its own records name.
      const name = byId.get(id);
      if (name !== undefined) seen.set(m, (seen.get(m) ?? new Set()).add(name));
    }
  }
  return new Map([...seen].filter(([, n]) => n.size === 1).map(([m, n]) => [m, [...n][0]!]));
}

/** Client endpoint → cluster name, from status rows and member lists that name it with an id; ambiguous ones tell nothing. */
function endpointClusters(signals: readonly SourceClusterSignals[], byId: Map<string, string>, memberOf: Map<string, string>): Map<string, string> {
  const seen = new Map<string, Set<string>>();
  for (const s of signals) {
    for (const [ep, l] of s.endpointLinks) {
      const name = (l.cluster !== null ? byId.get(l.cluster) : undefined) ?? (l.member !== null ? memberOf.get(l.member) : undefined);
      if (name !== undefined) seen.set(ep, (seen.get(ep) ?? new Set()).add(name));
    }
  }
  return new Map([...seen].filter(([, n]) => n.size === 1).map(([e, n]) => [e, [...n][0]!]));
}

function countBy(m: Map<string, number>, nameOf: (k: string) => string | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, n] of m) {
    const name = nameOf(k);
    if (name !== null) out.set(name, (out.get(name) ?? 0) + n);
  }
  return out;
}
