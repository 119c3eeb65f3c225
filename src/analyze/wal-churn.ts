// WAL evidence for `churn` and the reports (issue 16): per-key writes in a member's WAL window, exact for the
// window (every write request, replayed for its outcome). Used instead of a snapshot's counts when it holds
// more writes (a compacted snapshot keeps one row per key for what came before its compaction).
import type { Db } from '../store/open.js';
import type { Evidence } from './types.js';
import type { KeyCount } from './churn.js';
import { replayWal } from './wal-replay.js';
import { sourceInCluster, type ClusterScope } from './clusters.js';

export function loadWalKeyCounts(db: Db, untilMs: number | null, cluster: ClusterScope | null = null): { counts: KeyCount[]; evidence: Evidence } | null {
  if (untilMs !== null) return null; // WAL entries carry no times: a window cannot be cut at --until
  const member = db.prepare(`SELECT ws.member_id AS m, count(*) AS n FROM wal_entries w JOIN wal_segments ws ON ws.source_id = w.source_id
    JOIN sources s ON s.id = ws.source_id WHERE w.op IN ('put', 'delete-range') AND ws.member_id IS NOT NULL AND ${sourceInCluster('s', cluster)}
    GROUP BY ws.member_id ORDER BY n DESC, m LIMIT 1`).get() as { m: string; n: number } | undefined;
  if (!member) return null;
  const perKey = new Map<string, number>();
  let first = Infinity;
  let last = -Infinity;
  for (const w of replayWal(db, member.m)) {
    perKey.set(w.key, (perKey.get(w.key) ?? 0) + 1);
    first = Math.min(first, w.raftIndex);
    last = Math.max(last, w.raftIndex);
  }
  if (perKey.size === 0) return null;
  const total = [...perKey.values()].reduce((a, n) => a + n, 0);
  const counts = [...perKey].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, revisions]) => ({ key, revisions, firstMs: null, lastMs: null }));
  return {
    counts,
    evidence: {
      source: 'wal', completeness: 'exact',
      detail: `${total} writes of ${perKey.size} keys in member ${member.m}'s WAL window (raft index ${first}..${last}), exact for the window; no per-write times`,
    },
  };
}

/** The evidence holding more writes; a snapshot on a tie (it has times). The detail names the one passed over. */
export function chooseKeyEvidence(
  snapshot: { counts: KeyCount[]; evidence: Evidence } | null,
  wal: { counts: KeyCount[]; evidence: Evidence } | null,
): { counts: KeyCount[]; evidence: Evidence } | null {
  if (!wal) return snapshot;
  if (!snapshot) return wal;
  const sum = (x: { counts: KeyCount[] }): number => x.counts.reduce((a, k) => a + k.revisions, 0);
  const [s, w] = [sum(snapshot), sum(wal)];
  if (w > s) return { counts: wal.counts, evidence: { ...wal.evidence, detail: `${wal.evidence.detail} (the snapshot holds ${s} revision rows: fewer)` } };
  return snapshot;
}
