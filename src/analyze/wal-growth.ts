// Growth between two snapshots (or backends) with times, per key group: revisions and bytes added, and the
// rate. A key's version counts its puts since it was created, and survives compaction, so
//   puts between = version(later) - version(earlier) for a key created before the earlier snapshot,
//                  version(later)                      for one created after it,
// exact for keys alive in both; a key created and deleted between the two leaves no trace (counted nowhere,
// said in the evidence). Bytes: the group's stored bytes (revision rows) in the later minus the earlier file.
import type { Db } from '../store/open.js';
import { groupOfKey } from './keys.js';

export interface SnapshotPoint { sourceId: number; path: string; revision: number; ms: number | null; basis: string | null }
export interface GroupGrowth { group: string; keys: number; revisions: number; bytesAdded: number; revisionsPerHour: number | null; bytesPerHour: number | null }
export interface SnapshotGrowth {
  from: SnapshotPoint;
  to: SnapshotPoint;
  /** The main revision moved by this much: every write, including those of keys gone by the later snapshot. */
  revisionDelta: number;
  groups: GroupGrowth[];
  evidence: { source: 'snapshot'; completeness: 'exact' | 'partial'; detail: string };
}

export function listSnapshotPoints(db: Db): SnapshotPoint[] {
  return db.prepare(`SELECT s.id AS sourceId, s.path, f.revision, f.ts_ms AS ms, f.time_basis AS basis FROM snapshot_files f
    JOIN sources s ON s.id = f.source_id ORDER BY f.revision, s.id`).all() as SnapshotPoint[];
}

export function growthBetween(db: Db, from: SnapshotPoint, to: SnapshotPoint): SnapshotGrowth {
  const rows = db.prepare(`SELECT b.key, b.version AS v2, b.create_revision AS c2, b.bytes_held AS by2, a.version AS v1, a.create_revision AS c1, a.bytes_held AS by1
    FROM snapshot_keys b LEFT JOIN snapshot_keys a ON a.source_id = ? AND a.key = b.key WHERE b.source_id = ? ORDER BY b.key`)
    .iterate(from.sourceId, to.sourceId) as IterableIterator<{ key: string; v2: number | null; c2: number | null; by2: number; v1: number | null; c1: number | null; by1: number | null }>;
  const groups = new Map<string, GroupGrowth>();
  let counted = 0;
  for (const r of rows) {
    const g = groupOfKey(r.key).group;
    const row = groups.get(g) ?? { group: g, keys: 0, revisions: 0, bytesAdded: 0, revisionsPerHour: null, bytesPerHour: null };
    const sameKey = r.c1 !== null && r.c1 === r.c2;
    const puts = (r.v2 ?? 0) - (sameKey ? (r.v1 ?? 0) : 0);
    row.keys++;
    row.revisions += Math.max(0, puts);
    row.bytesAdded += r.by2 - (r.by1 ?? 0);
    counted += Math.max(0, puts);
    groups.set(g, row);
  }
  const hours = from.ms !== null && to.ms !== null && to.ms > from.ms ? (to.ms - from.ms) / 3_600_000 : null;
  for (const g of groups.values()) {
    g.revisionsPerHour = hours ? g.revisions / hours : null;
    g.bytesPerHour = hours ? g.bytesAdded / hours : null;
  }
  const revisionDelta = to.revision - from.revision;
  const complete = counted === revisionDelta;
  return {
    from, to, revisionDelta,
    groups: [...groups.values()].sort((a, b) => b.revisions - a.revisions || (a.group < b.group ? -1 : 1)),
    evidence: {
      source: 'snapshot', completeness: complete ? 'exact' : 'partial',
      detail: `key versions in ${to.path} (revision ${to.revision}) against ${from.path} (revision ${from.revision}): ${counted} puts of ${revisionDelta} revisions` +
        (complete ? '' : '; the rest were deletes or keys created and deleted in between') +
        (hours ? `, over ${(hours * 60).toFixed(1)} minutes (times: ${from.basis ?? '?'} and ${to.basis ?? '?'})` : '; no times: no rate'),
    },
  };
}
