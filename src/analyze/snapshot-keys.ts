// Exact per-key revision counts from an ingested snapshot, the best churn evidence there is.
// Until snapshot ingest lands in the store this finds none.
import type { Db } from '../store/open.js';
import type { Evidence } from './types.js';
import type { KeyCount } from './churn.js';

export function loadExactKeyCounts(db: Db, _untilMs: number | null): { counts: KeyCount[]; evidence: Evidence } | null {
  const has = db.prepare(`SELECT 1 FROM sqlite_master WHERE type='table' AND name='snapshot_keys'`).get();
  if (!has) return null;
  return null;
}
