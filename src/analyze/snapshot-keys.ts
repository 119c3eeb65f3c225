// Exact per-key revision counts from an ingested snapshot: the best churn evidence there is. Of several, the one
// holding the most history (most revision rows, then the widest revision span), not the newest: a snapshot taken
// after a compaction holds a sliver of what an older one does; the evidence names the file chosen and why.
// Revisions held are every write since the last compaction (all writes if none ran); where status
// samples map revisions to time, the key's first and last write get a time too.
import type { Db } from '../store/open.js';
import type { Evidence } from './types.js';
import type { KeyCount } from './churn.js';
import { loadRecovery } from './snapshot-recovery.js';
import { loadIntegrity, withIntegrity } from './snapshot-integrity.js';
import { sampleInCluster, sourceInCluster, type ClusterScope } from './clusters.js';

interface SnapRow { source_id: number; path: string; finished_compact_rev: number | null; revision: number; key_revisions: number }

export function loadExactKeyCounts(db: Db, untilMs: number | null, cluster: ClusterScope | null = null): { counts: KeyCount[]; evidence: Evidence } | null {
  const all = db.prepare(`SELECT f.source_id, s.path, f.finished_compact_rev, f.revision, f.key_revisions
    FROM snapshot_files f JOIN sources s ON s.id = f.source_id
    WHERE ${untilMs === null ? '1=1' : 'f.ts_ms <= ?'} AND ${sourceInCluster('s', cluster)}
    ORDER BY f.key_revisions DESC, COALESCE(f.last_revision - f.first_revision, 0) DESC, f.revision DESC, f.source_id DESC`)
    .all(...(untilMs === null ? [] : [untilMs])) as SnapRow[];
  const snap = all[0];
  if (!snap) return null;
  const choice = all.length < 2 ? '' : `; of ${all.length} snapshots, the one holding the most history (${all.slice(1, 4).map((o) => `${o.path}: ${o.key_revisions} rows, revision ${o.revision}`).join('; ')}${all.length > 4 ? '; …' : ''} hold less)`;
  // A trailer mismatch or keys that contradict themselves make every figure unverified; such keys are left out.
  const integrity = loadIntegrity(db, snap.source_id);
  const rows = db.prepare(`SELECT k.key, k.revisions, k.version, k.first_mod_revision AS f, k.last_mod_revision AS l
    FROM snapshot_keys k WHERE k.source_id = ? AND ${integrity.keepKeySql} ORDER BY k.key`).all(snap.source_id) as KeyRow[];
  const toMs = revisionClock(db, cluster);
  const compacted = snap.finished_compact_rev !== null && snap.finished_compact_rev > 0;
  const liveDetail = `${snap.key_revisions} revision rows of ${rows.length} keys read from ${snap.path} (revision ${snap.revision})` +
    (compacted ? `; history before revision ${snap.finished_compact_rev} was compacted away` : '; never compacted: every write is there') + choice;
  const recovery = compacted ? loadRecovery(db, snap.source_id) : null;
  if (recovery === null || recovery.revisionsRecovered === 0) {
    const counts = rows.map((r) => ({ key: r.key, revisions: r.revisions, firstMs: toMs(r.f), lastMs: toMs(r.l), version: compacted ? r.version : undefined }));
    const why = recovery?.nothingRecoveredBecause;
    const evidence: Evidence = { source: 'snapshot', completeness: 'exact', detail: liveDetail + (why ? `; nothing recovered: ${why}` : '') };
    return { counts, evidence: withIntegrity(evidence, integrity) };
  }
  // Compacted, with history carved out of the free pages: live rows + recovered rows per key.
  const rec = new Map((db.prepare(`SELECT key, COUNT(*) AS n, MIN(main) AS f, MAX(main) AS l FROM snapshot_recovered_revisions
    WHERE source_id = ? GROUP BY key ORDER BY key`).all(snap.source_id) as { key: string; n: number; f: number; l: number }[]).map((r) => [r.key, r]));
  const counts: KeyCount[] = rows.map((r) => {
    const x = rec.get(r.key);
    rec.delete(r.key);
    return {
      key: r.key, revisions: r.revisions + (x?.n ?? 0), firstMs: toMs(x ? Math.min(x.f, r.f) : r.f), lastMs: toMs(r.l),
      version: r.version, recoveredRevisions: x?.n ?? 0,
    };
  });
  for (const x of rec.values()) counts.push({ key: x.key, revisions: x.n, firstMs: toMs(x.f), lastMs: toMs(x.l), version: null, recoveredRevisions: x.n });
  return { counts, evidence: withIntegrity({ ...recovery.evidence, detail: `${liveDetail}; ${recovery.evidence.detail}` }, integrity) };
}

interface KeyRow { key: string; revisions: number; version: number | null; f: number; l: number }

/** Revision → time by linear interpolation over status samples that carry both; null outside them. */
function revisionClock(db: Db, cluster: ClusterScope | null): (rev: number) => number | null {
  const pts = db.prepare(`SELECT s.revision AS r, min(s.ts_ms) AS t FROM status_samples s JOIN sources src ON src.id = s.source_id
    WHERE s.revision IS NOT NULL AND s.ts_ms IS NOT NULL AND s.time_basis IN ('marker','explicit') AND ${sampleInCluster('s', 'src', cluster)}
    GROUP BY s.revision ORDER BY s.revision`)
    .all() as { r: number; t: number }[];
  return (rev) => {
    if (pts.length < 2 || rev < pts[0]!.r || rev > pts[pts.length - 1]!.r) return null;
    let lo = 0;
    let hi = pts.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (pts[mid]!.r <= rev) lo = mid;
      else hi = mid;
    }
    const a = pts[lo]!;
    const b = pts[hi]!;
    return b.r === a.r ? a.t : Math.round(a.t + ((rev - a.r) * (b.t - a.t)) / (b.r - a.r));
  };
}
