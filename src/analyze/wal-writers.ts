// Who wrote what in a member's WAL window (issue 16): writes per key, key group and lease; leases as
// writers; lease grant/revoke storms; compaction requests and who asked for them; the leases of the
// newest backend/snapshot (TTL, keys attached, orphaned).
import type { Db } from '../store/open.js';
import { groupOfKey } from './keys.js';
import { replayWal, walMembers } from './wal-replay.js';

export interface WalEvidence {
  source: 'wal' | 'snapshot' | 'etcd-log';
  completeness: 'exact' | 'partial' | 'inferred';
  detail: string;
}

export interface WalWindowReport {
  member: string;
  cluster: string | null;
  segments: string[];
  firstIndex: number;
  lastIndex: number;
  entries: number;
  /** Newest raft snapshot at or before the window's first index (.snap files and the WAL's markers). */
  snapshotBefore: { index: number; term: number; from: 'snap-file' | 'wal-marker' } | null;
  /** Revisions the window's writes made (null: the window does not start at index 1, so they are not known). */
  firstRevision: number | null;
  lastRevision: number | null;
  /** When the window was last written: the newest segment's file time (stated, not a log time). */
  lastWrittenMs: number | null;
  /** When the first and last entries were written, bounded by what other sources saw of the raft index. */
  firstTime: IndexTime;
  lastTime: IndexTime;
  damage: { segment: string; offset: number; reason: string } | null;
  /** Raft indexes missing between consecutive segments (a segment not ingested, or lost). */
  gaps: { before: string; fromIndex: number; toIndex: number }[];
  evidence: WalEvidence;
}

/**
 * A raft index is the same entry on every member, so any source that saw the index grow bounds when an entry was
 * written: `etcdctl endpoint status` samples (raftIndex, appliedIndex) and the etcd log's `saved snapshot`
 * (snapshot-index) and `compacted Raft logs` (compact-index) lines. notAfter: the first time something had
 * reached the index; notBefore: the last time something had not.
 */
export interface IndexTime { notBeforeMs: number | null; notAfterMs: number | null; from: string[] }

export interface WriterRow { name: string; puts: number; deletes: number; bytes: number; keys: number }
export interface LeaseWriter { lease: string; ttl: number | null; grantedAt: number | null; revokedAt: number | null; keys: string[]; puts: number; bytes: number }
export interface CompactionRequest { raftIndex: number; revision: number; by: 'auto-compactor' | 'manual' | 'unknown'; why: string }
export interface SnapshotLease { lease: string; ttl: number; remainingTtl: number; keys: string[]; orphaned: boolean }

export interface WalWritersReport {
  windows: WalWindowReport[];
  keys: WriterRow[];
  groups: WriterRow[];
  leases: LeaseWriter[];
  grants: number;
  revokes: number;
  checkpoints: number;
  /** The most lease grants within any 100 consecutive raft entries, and where. */
  grantStorm: { grants: number; revokes: number; fromIndex: number; toIndex: number } | null;
  compactions: CompactionRequest[];
  snapshotLeases: { source: string; leases: SnapshotLease[] } | null;
}

const STORM_SPAN = 100;

export function analyzeWalWriters(db: Db, limit = 20): WalWritersReport {
  const report: WalWritersReport = { windows: [], keys: [], groups: [], leases: [], grants: 0, revokes: 0, checkpoints: 0, grantStorm: null, compactions: [], snapshotLeases: null };
  const keys = new Map<string, WriterRow>();
  const groups = new Map<string, WriterRow & { keySet: Set<string> }>();
  const leases = new Map<string, LeaseWriter>();
  for (const member of walMembers(db)) {
    let firstRev: number | null = null;
    let lastRev: number | null = null;
    for (const w of replayWal(db, member)) {
      if (w.revision !== null) { firstRev ??= w.revision; lastRev = w.revision; }
      const size = w.valueSize ?? 0;
      const k = keys.get(w.key) ?? { name: w.key, puts: 0, deletes: 0, bytes: 0, keys: 1 };
      const g0 = groupOfKey(w.key).group;
      const g = groups.get(g0) ?? { name: g0, puts: 0, deletes: 0, bytes: 0, keys: 0, keySet: new Set<string>() };
      for (const row of [k, g]) { if (w.op === 'put') { row.puts++; row.bytes += size; } else row.deletes++; }
      g.keySet.add(w.key);
      keys.set(w.key, k); groups.set(g0, g);
      if (w.op === 'put' && w.lease) {
        const l = leaseOf(leases, w.lease);
        l.puts++; l.bytes += size;
        if (!l.keys.includes(w.key)) l.keys.push(w.key);
      }
    }
    report.windows.push(windowOf(db, member, firstRev, lastRev));
  }
  for (const r of db.prepare(`SELECT op, lease, ttl, raft_index FROM wal_entries WHERE op IN ('lease-grant','lease-revoke','lease-checkpoint') ORDER BY raft_index, seq`).iterate() as IterableIterator<{ op: string; lease: string; ttl: number | null; raft_index: number }>) {
    if (r.op === 'lease-checkpoint') { report.checkpoints++; continue; }
    const l = leaseOf(leases, r.lease);
    if (r.op === 'lease-grant') { report.grants++; l.ttl = r.ttl; l.grantedAt = r.raft_index; } else { report.revokes++; l.revokedAt = r.raft_index; }
  }
  report.grantStorm = grantStorm(db);
  report.compactions = compactionRequests(db);
  report.snapshotLeases = snapshotLeases(db);
  const rank = (a: WriterRow, b: WriterRow): number => b.puts + b.deletes - (a.puts + a.deletes) || (a.name < b.name ? -1 : 1);
  report.keys = [...keys.values()].sort(rank).slice(0, limit);
  report.groups = [...groups.values()].map(({ keySet, ...g }) => ({ ...g, keys: keySet.size })).sort(rank).slice(0, limit);
  report.leases = [...leases.values()].sort((a, b) => b.puts - a.puts || (a.lease < b.lease ? -1 : 1));
  return report;
}

function leaseOf(m: Map<string, LeaseWriter>, id: string): LeaseWriter {
  let l = m.get(id);
  if (!l) { l = { lease: id, ttl: null, grantedAt: null, revokedAt: null, keys: [], puts: 0, bytes: 0 }; m.set(id, l); }
  return l;
}

function windowOf(db: Db, member: string, firstRevision: number | null, lastRevision: number | null): WalWindowReport {
  const s = db.prepare(`SELECT group_concat(name, ',') AS names, max(cluster_id) AS cluster, min(first_index) AS fi, max(last_index) AS li,
      max(mtime_ms) AS mtime, max(snapshot_index) AS marker FROM (SELECT * FROM wal_segments WHERE member_id = ? ORDER BY name)`).get(member) as
    { names: string; cluster: string | null; fi: number; li: number; mtime: number | null };
  const entries = (db.prepare('SELECT count(DISTINCT raft_index) AS n FROM wal_entries WHERE member_id = ?').get(member) as { n: number }).n;
  const dmg = db.prepare(`SELECT name, damage_offset AS o, damage_reason AS r FROM wal_segments WHERE member_id = ? AND damage_offset IS NOT NULL ORDER BY name LIMIT 1`).get(member) as { name: string; o: number; r: string } | undefined;
  const snapFile = db.prepare('SELECT raft_index AS i, term AS t FROM raft_snaps WHERE raft_index <= ? ORDER BY raft_index DESC LIMIT 1').get(s.fi) as { i: number; t: number } | undefined;
  const marker = db.prepare(`SELECT snapshot_index AS i, snapshot_term AS t FROM wal_segments WHERE member_id = ? AND snapshot_index <= ? ORDER BY snapshot_index DESC LIMIT 1`).get(member, s.fi) as { i: number; t: number } | undefined;
  const gaps: WalWindowReport['gaps'] = [];
  let prev: { name: string; li: number | null } | null = null;
  for (const g of db.prepare(`SELECT name, first_index AS fi, last_index AS li FROM wal_segments WHERE member_id = ? AND first_index IS NOT NULL
      ORDER BY coalesce(seq, 0), name`).all(member) as { name: string; fi: number; li: number }[]) {
    if (prev?.li != null && g.fi > prev.li + 1) gaps.push({ before: g.name, fromIndex: prev.li + 1, toIndex: g.fi - 1 });
    if (prev === null || (g.li ?? 0) > (prev.li ?? 0)) prev = { name: g.name, li: g.li };
  }
  const before = snapFile ? { index: snapFile.i, term: snapFile.t, from: 'snap-file' as const } : marker ? { index: marker.i, term: marker.t, from: 'wal-marker' as const } : null;
  const detail = `${entries} raft entries, index ${s.fi}..${s.li}, read from ${s.names}` +
    (dmg ? `; reading stopped at byte ${dmg.o} of ${dmg.name} (${dmg.r})` : '') +
    gaps.map((g) => `; raft entries ${g.fromIndex}..${g.toIndex} missing before ${g.before}`).join('') +
    (firstRevision === null
      ? '; the window does not start at index 1, so revisions are not known, and a txn comparing a key the window never wrote is taken to succeed'
      : `; revisions ${firstRevision}..${lastRevision} replayed from an empty store`);
  return {
    member, cluster: s.cluster, segments: s.names.split(','), firstIndex: s.fi, lastIndex: s.li, entries, snapshotBefore: before,
    firstRevision, lastRevision, lastWrittenMs: s.mtime, firstTime: indexTime(db, s.fi), lastTime: indexTime(db, s.li), damage: dmg ? { segment: dmg.name, offset: dmg.o, reason: dmg.r } : null,
    gaps, evidence: { source: 'wal', completeness: dmg || gaps.length > 0 ? 'partial' : 'exact', detail },
  };
}

function indexTime(db: Db, index: number): IndexTime {
  const anchors = `SELECT ts_ms AS ms, max(coalesce(raft_index, 0), coalesce(raft_applied_index, 0)) AS i, 'status samples' AS src FROM status_samples WHERE ts_ms IS NOT NULL
    UNION ALL SELECT ts_ms, CAST(json_extract(detail, '$.index') AS INTEGER), 'etcd log' FROM events
      WHERE kind IN ('etcd.snapshot.saved', 'etcd.raftlog.compacted') AND ts_ms IS NOT NULL AND json_extract(detail, '$.index') IS NOT NULL`;
  const after = db.prepare(`SELECT ms, src FROM (${anchors}) WHERE i >= ? ORDER BY ms LIMIT 1`).get(index) as { ms: number; src: string } | undefined;
  const before = db.prepare(`SELECT ms, src FROM (${anchors}) WHERE i < ? AND i > 0 ORDER BY ms DESC LIMIT 1`).get(index) as { ms: number; src: string } | undefined;
  return { notBeforeMs: before?.ms ?? null, notAfterMs: after?.ms ?? null, from: [...new Set([before?.src, after?.src].filter((x): x is string => !!x))] };
}

function grantStorm(db: Db): WalWritersReport['grantStorm'] {
  const r = db.prepare(`SELECT g.raft_index AS fromIndex,
      (SELECT count(*) FROM wal_entries x WHERE x.op = 'lease-grant' AND x.raft_index BETWEEN g.raft_index AND g.raft_index + ${STORM_SPAN - 1}) AS grants,
      (SELECT count(*) FROM wal_entries x WHERE x.op = 'lease-revoke' AND x.raft_index BETWEEN g.raft_index AND g.raft_index + ${STORM_SPAN - 1}) AS revokes
    FROM wal_entries g WHERE g.op = 'lease-grant' ORDER BY grants DESC, fromIndex LIMIT 1`).get() as { fromIndex: number; grants: number; revokes: number } | undefined;
  return r ? { ...r, toIndex: r.fromIndex + STORM_SPAN - 1 } : null;
}

/**
 * The auto-compactor logs `starting auto periodic compaction` (or revision compaction) with the revision it
 * asks for just before proposing it; a compaction request with no such line for its revision came from a
 * client (`etcdctl compact`, an operator, Patroni never compacts). Without the member's log: unknown.
 */
function compactionRequests(db: Db): CompactionRequest[] {
  const autoRevs = new Set((db.prepare(`SELECT DISTINCT CAST(json_extract(detail, '$.revision') AS INTEGER) AS r FROM events
    WHERE kind = 'etcd.compaction.auto' AND json_extract(detail, '$.revision') IS NOT NULL`).all() as { r: number }[]).map((r) => r.r));
  const haveLog = (db.prepare(`SELECT count(*) AS n FROM sources WHERE kind = 'etcd-log'`).get() as { n: number }).n > 0;
  return (db.prepare(`SELECT DISTINCT raft_index, revision FROM wal_entries WHERE op = 'compaction' ORDER BY raft_index`).all() as { raft_index: number; revision: number }[])
    .map((c) => {
      if (autoRevs.has(c.revision)) return { raftIndex: c.raft_index, revision: c.revision, by: 'auto-compactor' as const, why: `the etcd log's auto-compaction line names revision ${c.revision}` };
      if (haveLog) return { raftIndex: c.raft_index, revision: c.revision, by: 'manual' as const, why: 'no auto-compaction line in the etcd log names this revision' };
      return { raftIndex: c.raft_index, revision: c.revision, by: 'unknown' as const, why: 'no etcd log ingested to tell the auto-compactor from a client' };
    });
}

/** The newest stored backend/snapshot with leases (by revision): each lease, its keys there, orphaned when none. */
function snapshotLeases(db: Db): WalWritersReport['snapshotLeases'] {
  const src = db.prepare(`SELECT s.id, s.path FROM sources s JOIN snapshot_files f ON f.source_id = s.id
    WHERE EXISTS (SELECT 1 FROM snapshot_leases l WHERE l.source_id = s.id) ORDER BY f.revision DESC, s.id DESC LIMIT 1`).get() as { id: number; path: string } | undefined;
  if (!src) return null;
  const rows = db.prepare(`SELECT l.lease, l.ttl, l.remaining_ttl AS remainingTtl,
      (SELECT json_group_array(key) FROM (SELECT k.key FROM snapshot_keys k WHERE k.source_id = l.source_id AND k.lease = l.lease AND k.deleted = 0 ORDER BY k.key)) AS keys
    FROM snapshot_leases l WHERE l.source_id = ? ORDER BY l.lease`).all(src.id) as { lease: string; ttl: number; remainingTtl: number; keys: string }[];
  return { source: src.path, leases: rows.map((r) => { const keys = JSON.parse(r.keys) as string[]; return { lease: r.lease, ttl: r.ttl, remainingTtl: r.remainingTtl, keys, orphaned: keys.length === 0 }; }) };
}
