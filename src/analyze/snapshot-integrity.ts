// How far an ingested snapshot's figures can be trusted. Two signs that they cannot:
// - its sha256 trailer does not match (`etcdctl snapshot save` appends sha256(image); the bytes changed since);
// - in a never-compacted file, a key's rows contradict each other. There every put since revision 1 is
//   still live, so a key never deleted has exactly `version` puts and was created at its first row. Six bit
//   flips in a real 3.4.23 snapshot made `/servicd/pg_demo/…` out of one `/service/pg_demo/…` row: a key with
//   one revision and version 580, and its source key one put short of its version.
// Either makes every figure from the file `unverified`; contradicting keys are left out and reported instead.
import type { Db } from '../store/open.js';
import type { CorruptKeyRow, Evidence } from './types.js';

/** A snapshot_keys row (alias k) whose version and revision rows disagree; only meaningful when never compacted. */
export const CORRUPT_KEY_SQL = `((k.tombstones = 0 AND (k.version IS NOT k.puts OR k.create_revision IS NOT k.first_mod_revision))
  OR (k.tombstones > 0 AND k.puts > 0 AND k.version > k.puts))`;

export interface SnapshotIntegrity {
  completeness: Extract<Evidence['completeness'], 'exact' | 'unverified'>;
  /** Why the figures are unverified ('' when exact), one sentence. */
  why: string;
  trailerMismatch: boolean;
  neverCompacted: boolean;
  /** The first `top` contradicting keys, most revisions first. */
  corruptKeys: CorruptKeyRow[];
  corruptCount: number;
  /** SQL term that keeps a snapshot_keys row (alias k) out of every figure when it contradicts itself. */
  keepKeySql: string;
}

export function loadIntegrity(db: Db, sourceId: number, top = 10): SnapshotIntegrity {
  const f = db.prepare('SELECT trailer, finished_compact_rev FROM snapshot_files WHERE source_id = ?').get(sourceId) as
    { trailer: string; finished_compact_rev: number | null } | undefined;
  const trailerMismatch = f?.trailer === 'sha256-mismatch';
  const neverCompacted = f !== undefined && !(f.finished_compact_rev !== null && f.finished_compact_rev > 0);
  let corruptKeys: CorruptKeyRow[] = [];
  let corruptCount = 0;
  if (neverCompacted) {
    corruptCount = (db.prepare(`SELECT COUNT(*) AS n FROM snapshot_keys k WHERE k.source_id = ? AND ${CORRUPT_KEY_SQL}`).get(sourceId) as { n: number }).n;
    if (corruptCount > 0) {
      corruptKeys = db.prepare(`SELECT k.key, k.revisions, k.puts, k.tombstones, k.version, k.create_revision AS createRevision,
        k.first_mod_revision AS firstModRevision FROM snapshot_keys k WHERE k.source_id = ? AND ${CORRUPT_KEY_SQL}
        ORDER BY k.revisions DESC, k.key LIMIT ?`).all(sourceId, top) as CorruptKeyRow[];
    }
  }
  const reasons: string[] = [];
  if (trailerMismatch) reasons.push('its sha256 trailer does not match (the file changed after `etcdctl snapshot save`)');
  if (corruptCount > 0) reasons.push(describeCorruptKeys(corruptKeys, corruptCount));
  return {
    completeness: reasons.length > 0 ? 'unverified' : 'exact', why: reasons.join('; '), trailerMismatch, neverCompacted,
    corruptKeys, corruptCount, keepKeySql: corruptCount > 0 ? `NOT ${CORRUPT_KEY_SQL}` : '1=1',
  };
}

function describeCorruptKeys(keys: readonly CorruptKeyRow[], n: number): string {
  const shown = keys.slice(0, 3).map((k) => `${k.key} (version ${k.version ?? '-'}, ${k.puts} puts, ${k.revisions} revisions)`).join(', ');
  return `${n} key${n === 1 ? '' : 's'} of this never-compacted file contradict${n === 1 ? 's itself' : ' themselves'} (version ≠ puts since creation: corruption) and ` +
    `${n === 1 ? 'is' : 'are'} left out: ${shown}${n > 3 ? ', …' : ''}`;
}

/** The evidence of a figure read from this file, its completeness lowered to unverified when the file is. */
export function withIntegrity(e: Evidence, i: SnapshotIntegrity): Evidence {
  return i.completeness === 'exact' ? e : { ...e, completeness: 'unverified', detail: `UNVERIFIED: ${i.why}; ${e.detail}` };
}
