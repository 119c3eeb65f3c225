// What the free pages of an ingested snapshot gave back (migration 4): compacted revisions recovered
// by src/ingest/bbolt/carve.ts, how much of the compacted range they cover, the keys that wrote them,
// and, when nothing came back, why. A live row's `version` counts every put since the key's creation
// even where nothing could be carved; recovered rows say in which revision ranges those puts happened.
import type { Db } from '../store/open.js';
import type { Evidence, RecoveredKeyRow, SnapshotRecovery } from './types.js';

export type { RecoveredKeyRow, SnapshotRecovery } from './types.js';



interface CarveRow {
  free_pages_scanned: number; leaf_pages: number; pages_carved: number; pages_rejected: number; reject_reasons: string;
  rows_carved: number; live_copies: number; duplicates: number; conflicts: number; inconsistent: number; revisions_recovered: number;
  compacted_first_revision: number | null; compacted_last_revision: number | null; compacted_revisions_lost: number | null;
  compacted_revisions_recovered: number | null; recovered_share: number | null; key_revisions: number; path: string;
}

const MAX_RANGES = 5;

/** null when the file was ingested before migration 4 (no carve figures). */
export function loadRecovery(db: Db, sourceId: number, top = 10): SnapshotRecovery | null {
  const c = db.prepare(`SELECT c.*, f.key_revisions, s.path FROM snapshot_carve c JOIN snapshot_files f USING (source_id)
    JOIN sources s ON s.id = c.source_id WHERE c.source_id = ?`).get(sourceId) as CarveRow | undefined;
  if (!c) return null;
  const range = c.compacted_last_revision === null ? null : {
    first: c.compacted_first_revision!, last: c.compacted_last_revision, lostRevisions: c.compacted_revisions_lost!,
    recoveredRevisions: c.compacted_revisions_recovered!, share: c.recovered_share!,
  };
  const because = whyNothing(c);
  const share = range === null ? '' : ` (${(range.share * 100).toFixed(1)}% of the ${range.lostRevisions} revisions compaction deleted in ${range.first}..${range.last})`;
  const detail = because !== null ? `nothing recovered from ${c.path}: ${because}`
    : `${c.revisions_recovered} revisions recovered from ${c.pages_carved} free pages of ${c.path}${share}; ` +
      `${c.pages_rejected} leaf pages rejected, ${c.duplicates} duplicate copies, ${c.inconsistent} rows dropped by cross-checks`;
  let islands: Island[] | null = null;
  const keys = (order: string): RecoveredKeyRow[] => recoveredKeys(db, sourceId, order, top, () => (islands ??= recoveredIslands(db, sourceId)));
  return {
    evidence: { source: 'snapshot', completeness: 'recovered', detail },
    liveEntries: c.key_revisions, freePagesScanned: c.free_pages_scanned, leafPages: c.leaf_pages, pagesCarved: c.pages_carved,
    pagesRejected: c.pages_rejected, rejectReasons: JSON.parse(c.reject_reasons) as Record<string, number>, liveCopies: c.live_copies,
    duplicates: c.duplicates, conflicts: c.conflicts, inconsistent: c.inconsistent, revisionsRecovered: c.revisions_recovered,
    compactedRange: range, nothingRecoveredBecause: because,
    topByRecovered: c.revisions_recovered > 0 ? keys('recovered DESC') : [],
    topByVersion: range === null ? [] : keys('version DESC NULLS LAST'),
  };
}

function whyNothing(c: CarveRow): string | null {
  if (c.revisions_recovered > 0) return null;
  if (c.compacted_last_revision === null) return 'the file was never compacted: every revision is still live';
  if (c.free_pages_scanned === 0) return 'no free pages: the file was defragmented after compaction';
  if (c.pages_carved === 0) return 'free pages hold no leaf pages of the key bucket';
  if (c.live_copies > 0 && c.inconsistent === 0) return 'free pages hold only stale copies of live revisions: the compacted history was overwritten';
  return 'no carved row passed the cross-checks against the live tree';
}

interface KeyRow {
  key: string; version: number | null; live: number; recovered: number; createRevision: number | null; tombstones: number; puts: number;
}

function recoveredKeys(db: Db, sourceId: number, order: string, top: number, islands: () => Island[]): RecoveredKeyRow[] {
  // Every key seen live or recovered, ranked; the per-key figures below are read for the top rows only
  // (by the (source_id, key, main) index): a 2.1 GB compacted file holds millions of recovered rows.
  const rows = db.prepare(`WITH r AS (
      SELECT key, COUNT(*) AS recovered FROM snapshot_recovered_revisions WHERE source_id = ? GROUP BY key),
    k AS (SELECT key, version, revisions AS live, puts, tombstones, create_revision FROM snapshot_keys WHERE source_id = ?),
    allkeys AS (SELECT key FROM r UNION SELECT key FROM k)
    SELECT a.key, k.version, COALESCE(k.live, 0) AS live, COALESCE(r.recovered, 0) AS recovered, k.create_revision AS createRevision,
      COALESCE(k.tombstones, 0) AS tombstones, COALESCE(k.puts, 0) AS puts
    FROM allkeys a LEFT JOIN r USING (key) LEFT JOIN k USING (key) ORDER BY ${order}, a.key LIMIT ?`)
    .all(sourceId, sourceId, top) as KeyRow[];
  const mainsOf = db.prepare('SELECT main, tombstone, create_revision FROM snapshot_recovered_revisions WHERE source_id = ? AND key = ? ORDER BY main, sub');
  return rows.map((r) => {
    const own = mainsOf.raw().all(sourceId, r.key) as [number, number, number][];
    // Recovered puts on the key's live create_revision chain.
    const chain = r.createRevision === null ? 0 : own.filter(([, t, c]) => t === 0 && c === r.createRevision).length;
    const ranges = keyRanges(own.map(([m]) => m), islands());
    return {
      key: r.key, version: r.version, liveRevisions: r.live, recoveredRevisions: r.recovered,
      // With a tombstone among the live rows the live puts span several chains: not computable.
      unaccounted: r.version === null || r.tombstones > 0 ? null : r.version - r.puts - chain,
      ranges: ranges.slice(0, MAX_RANGES), moreRanges: Math.max(0, ranges.length - MAX_RANGES),
    };
  });
}

/** A run of consecutive main revisions that all have a recovered row (of any key). */
type Island = [number, number];

/** The file's islands, from one ordered scan of its recovered mains. */
function recoveredIslands(db: Db, sourceId: number): Island[] {
  const out: Island[] = [];
  const mains = db.prepare('SELECT DISTINCT main FROM snapshot_recovered_revisions WHERE source_id = ? ORDER BY main').raw().iterate(sourceId);
  for (const [m] of mains as IterableIterator<[number]>) {
    const last = out[out.length - 1];
    if (last !== undefined && m === last[1] + 1) last[1] = m;
    else out.push([m, m]);
  }
  return out;
}

/**
 * Gaps and islands: a key's recovered revisions grouped by the island they fall in, as
 * [first, last, count]. `mains` ascending; islands ascending and disjoint.
 */
function keyRanges(mains: readonly number[], islands: readonly Island[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  let i = 0;
  let cur: [number, number, number] | null = null;
  let curIsland = -1;
  for (const m of mains) {
    while (i < islands.length && islands[i]![1] < m) i++;
    if (cur !== null && curIsland === i) {
      cur[1] = m;
      cur[2]++;
    } else {
      cur = [m, m, 1];
      curIsland = i;
      out.push(cur);
    }
  }
  return out;
}
