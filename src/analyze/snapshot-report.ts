// What an ingested snapshot/backend file says: page accounting, what defragmentation and compaction
// would each give back, and the keys that hold the revisions and the bytes.
import type { Db } from '../store/open.js';
import { humanizeBytes } from '../units/sizes.js';
import { loadRecovery } from './snapshot-recovery.js';
import { loadIntegrity, withIntegrity } from './snapshot-integrity.js';
import { sourceInCluster, type ClusterScope } from './clusters.js';
import type { SnapshotKeyRow, SnapshotRecovery, SnapshotReport } from './types.js';

export type { SnapshotKeyRow, SnapshotReport } from './types.js';



interface FileRow {
  source_id: number; path: string; ts_ms: number | null; time_basis: string | null; trailer: string; page_size: number;
  high_water_pages: number; free_pages: number; db_size_bytes: number; db_size_in_use_bytes: number; hash: string;
  revision: number; total_keys: number; key_revisions: number; distinct_keys: number; finished_compact_rev: number | null; buckets: string;
}

export function reportSnapshots(db: Db, top = 10, cluster: ClusterScope | null = null): SnapshotReport[] {
  const files = db.prepare(`SELECT f.*, s.path FROM snapshot_files f JOIN sources s ON s.id = f.source_id
    WHERE ${sourceInCluster('s', cluster)} ORDER BY f.ts_ms, s.path`).all() as FileRow[];
  return files.map((f) => {
    const integrity = loadIntegrity(db, f.source_id, top);
    const keys = (order: string) => (db.prepare(`SELECT key, revisions, version, bytes_held AS bytesHeld, value_size_avg AS valueSizeAvg, lease
      FROM snapshot_keys k WHERE source_id = ? AND ${integrity.keepKeySql} ORDER BY ${order}, key LIMIT ?`).all(f.source_id, top) as SnapshotKeyRow[]);
    // Compaction to the newest revision keeps each key's latest row and drops the rest (and the
    // latest row too when it is a tombstone).
    const frees = (db.prepare(`SELECT COALESCE(SUM(CASE WHEN deleted = 1 THEN bytes_held
      ELSE bytes_held * (revisions - 1) * 1.0 / revisions END), 0) AS b FROM snapshot_keys WHERE source_id = ?`).get(f.source_id) as { b: number }).b;
    const freeBytes = f.free_pages * f.page_size;
    const freeShare = f.db_size_bytes > 0 ? freeBytes / f.db_size_bytes : 0;
    const findings = [
      `${(freeShare * 100).toFixed(1)}% of this file (${humanizeBytes(freeBytes)} in ${f.free_pages} pages) is free: defragmentation would bring it to about ${humanizeBytes(f.db_size_in_use_bytes)}.`,
      `Compacting to revision ${f.revision} would free about ${humanizeBytes(Math.round(frees))} of revision rows inside the file (${f.key_revisions} rows for ${f.distinct_keys} keys); the file only shrinks with a defragmentation after it.`,
    ];
    if (f.finished_compact_rev) findings.push(`History up to revision ${f.finished_compact_rev} was compacted away before this file was taken; the key versions still count those writes.`);
    const loaded = loadRecovery(db, f.source_id, top);
    const recovery = loaded === null ? null : { ...loaded, evidence: withIntegrity(loaded.evidence, integrity) };
    if (recovery !== null && f.finished_compact_rev) findings.push(recoveryFinding(recovery));
    if (f.trailer === 'sha256-mismatch') findings.push('The sha256 trailer does not match: the file changed after `etcdctl snapshot save`; every figure from it is unverified.');
    if (integrity.corruptCount > 0) findings.push(`Corruption: ${integrity.why.split('; ').pop()!}.`);
    const evidence = withIntegrity({ source: 'snapshot', completeness: 'exact', detail: `read directly from ${f.path}` }, integrity);
    return {
      path: f.path, at: f.ts_ms === null ? null : new Date(f.ts_ms).toISOString(), timeBasis: f.time_basis, trailer: f.trailer,
      pageSize: f.page_size, highWaterPages: f.high_water_pages, freePages: f.free_pages, dbSizeBytes: f.db_size_bytes,
      dbSizeInUseBytes: f.db_size_in_use_bytes, freeShare: Math.round(freeShare * 10_000) / 10_000, hash: f.hash, revision: f.revision,
      totalKeys: f.total_keys, keyRevisions: f.key_revisions, distinctKeys: f.distinct_keys, finishedCompactRevision: f.finished_compact_rev,
      compactionFreesBytes: Math.round(frees), findings, topByRevisions: keys('revisions DESC'), topByBytes: keys('bytes_held DESC'),
      buckets: JSON.parse(f.buckets) as unknown, recovery, evidence, corruptKeys: integrity.corruptKeys,
    };
  });
}

function recoveryFinding(r: SnapshotRecovery): string {
  if (r.nothingRecoveredBecause !== null) return `Nothing of the compacted history was recovered: ${r.nothingRecoveredBecause}.`;
  const range = r.compactedRange;
  const share = range === null ? '' : `, ${(range.share * 100).toFixed(1)}% of the ${range.lostRevisions} revisions compaction deleted (${range.first}..${range.last})`;
  return `${r.revisionsRecovered} compacted revisions recovered from ${r.pagesCarved} free pages${share}: evidence marked recovered (best effort, cross-checked against the live rows).`;
}
