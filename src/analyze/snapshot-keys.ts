// Exact per-key revision counts from the newest ingested snapshot: the best churn evidence there is.
// Revisions held are every write since the last compaction (all writes if none ran); where status
// samples map revisions to time, the key's first and last write get a time too.
import type { Db } from '../store/open.js';
import type { Evidence } from './types.js';
import type { KeyCount } from './churn.js';
import { loadRecovery } from './snapshot-recovery.js';

interface SnapRow { source_id: number; path: string; finished_compact_rev: number | null; revision: number; key_revisions: number }

export function loadExactKeyCounts(db: Db, untilMs: number | null): { counts: KeyCount[]; evidence: Evidence } | null {
  const snap = db.prepare(`SELECT f.source_id, s.path, f.finished_compact_rev, f.revision, f.key_revisions
    FROM snapshot_files f JOIN sources s ON s.id = f.source_id
    WHERE ${untilMs === null ? '1=1' : 'f.ts_ms <= ?'} ORDER BY f.revision DESC, f.source_id DESC LIMIT 1`)
    .get(...(untilMs === null ? [] : [untilMs])) as SnapRow | undefined;
  if (!snap) return null;
  const rows = db.prepare(`SELECT k.key, k.revisions, k.version, k.first_mod_revision AS f, k.last_mod_revision AS l
    FROM snapshot_keys k WHERE k.source_id = ? ORDER BY k.key`).all(snap.source_id) as KeyRow[];
  const toMs = revisionClock(db);
  const compacted = snap.finished_compact_rev !== null && snap.finished_compact_rev > 0;
  const liveDetail = `${snap.key_revisions} revision rows of ${rows.length} keys read from ${snap.path} (revision ${snap.revision})` +
    (compacted ? `; history before revision ${snap.finished_compact_rev} was compacted away` : '; never compacted: every write is there');
  const recovery = compacted ? loadRecovery(db, snap.source_id) : null;
  if (recovery === null || recovery.revisionsRecovered === 0) {
    const counts = rows.map((r) => ({ key: r.key, revisions: r.revisions, firstMs: toMs(r.f), lastMs: toMs(r.l), version: compacted ? r.version : undefined }));
    const why = recovery?.nothingRecoveredBecause;
    return { counts, evidence: { source: 'snapshot', completeness: 'exact', detail: liveDetail + (why ? `; nothing recovered: ${why}` : '') } };
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
  return { counts, evidence: { ...recovery.evidence, detail: `${liveDetail}; ${recovery.evidence.detail}` } };
}

interface KeyRow { key: string; revisions: number; version: number | null; f: number; l: number }

/** Revision → time by linear interpolation over status samples that carry both; null outside them. */
function revisionClock(db: Db): (rev: number) => number | null {
  const pts = db.prepare(`SELECT revision AS r, min(ts_ms) AS t FROM status_samples
    WHERE revision IS NOT NULL AND ts_ms IS NOT NULL AND time_basis IN ('marker','explicit') GROUP BY revision ORDER BY revision`)
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
