// Ingest an etcd snapshot or backend file (bbolt), read directly and read-only. The whole file is
// read first; only then is anything written, in one transaction, so a damaged file stores nothing.
import type { Db } from '../store/open.js';
import { GroupWriter, insertSource } from '../store/write.js';
import { ROWS_PER_INSERT, type Param } from '../store/rows.js';
import { readEtcdBackend, BoltFormatError, type EtcdBackendSummary } from '../sources/bbolt/index.js';
import type { ParseIssue, RecordTime } from '../model.js';
import type { CarveResult } from '../sources/bbolt/index.js';
import { InputError } from '../errors.js';

export interface SnapshotIngest {
  summary: EtcdBackendSummary;
  issues: ParseIssue[];
  records: number;
}

export function readSnapshotFile(path: string): EtcdBackendSummary {
  try {
    return readEtcdBackend(path, { collectKeys: true, computeHash: true, carve: true });
  } catch (e) {
    if (e instanceof BoltFormatError) throw new InputError(`${path}: not a readable etcd backend: ${e.message}`);
    throw e;
  }
}

export function storeSnapshot(db: Db, meta: { path: string; sha256: string; member: string | null; sizeBytes: number },
  s: EtcdBackendSummary, time: RecordTime): SnapshotIngest {
  const issues: ParseIssue[] = [];
  const t = s.file.trailer;
  const trailer = t.kind === 'none' ? 'none' : !t.verified ? 'unverified' : t.matches ? 'sha256-ok' : 'sha256-mismatch';
  if (t.kind === 'sha256' && t.verified && !t.matches) {
    issues.push({ kind: 'issue', line: 0, reason: `sha256 trailer mismatch at byte ${s.file.fileSize - 32}: expected ${t.expected}, file has ${t.actual} (the file changed after etcdctl snapshot save)`, excerpt: '' });
  }
  for (const i of s.issues) {
    issues.push({ kind: 'issue', line: 0, reason: `bucket ${i.bucket}, page ${i.pageId} at byte ${i.byteOffset}: ${i.reason}`, excerpt: '' });
  }
  db.exec('BEGIN');
  try {
    const id = insertSource(db, { path: meta.path, sha256: meta.sha256, kind: 'etcd-snapshot', member: meta.member, sizeBytes: meta.sizeBytes });
    const hash = (s.snapshotStatus.hash ?? 0).toString(16).padStart(8, '0');
    db.prepare(`INSERT INTO snapshot_files VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`).run(
      id, time.ms, time.basis, s.file.fileSize, trailer, s.file.byteOrder, s.file.pageSize, s.pages.highWater, s.pages.free,
      s.dbSize, s.dbSizeInUse, hash, s.snapshotStatus.revision, s.snapshotStatus.totalKey, s.keyBucket.revisions,
      s.keyBucket.puts, s.keyBucket.tombstones, s.keyBucket.bytes, s.keys.length, s.keyBucket.firstRevision, s.keyBucket.lastRevision,
      s.meta.consistentIndex, s.meta.term, s.meta.scheduledCompactRev, s.meta.finishedCompactRev, s.clusterVersion,
      JSON.stringify(s.buckets),
    );
    const key = db.prepare(`INSERT INTO snapshot_keys (source_id,key,revisions,puts,tombstones,first_mod_revision,last_mod_revision,
      create_revision,version,lease,deleted,value_size_min,value_size_avg,value_size_max,bytes_held) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
    for (const k of s.keys) {
      key.run(id, k.key, k.revisions, k.puts, k.tombstones, k.firstModRevision, k.lastModRevision, k.createRevision, k.version,
        k.lease, k.deleted ? 1 : 0, k.valueSizeMin, k.valueSizeAvg, k.valueSizeMax, k.bytesHeld);
    }
    // The computed `snapshot status` figures, exact, beside any etcdctl output of them.
    db.prepare(`INSERT INTO snapshot_status (source_id,line,seq,ts_ms,time_basis,format,hash,revision,total_keys,total_size_bytes,total_size_approx)
      VALUES (?,0,0,?,?,'bbolt',?,?,?,?,0)`).run(id, time.ms, time.basis, hash, s.snapshotStatus.revision, s.snapshotStatus.totalKey, s.snapshotStatus.totalSize);
    const alarm = db.prepare(`INSERT INTO alarms (source_id,line,seq,ts_ms,time_basis,member_id,alarm) VALUES (?,0,?,?,?,?,?)`);
    s.alarms.forEach((a, i) => alarm.run(id, i, time.ms, time.basis, a.memberId, a.alarm));
    const member = db.prepare(`INSERT INTO members (source_id,line,seq,ts_ms,time_basis,member_id,status,name,peer_urls,client_urls,is_learner)
      VALUES (?,0,?,?,?,?,NULL,?,?,?,?)`);
    s.members.forEach((m, i) => member.run(id, i, time.ms, time.basis, m.id, m.name, JSON.stringify(m.peerUrls), JSON.stringify(m.clientUrls),
      m.isLearner === null ? null : m.isLearner ? 1 : 0));
    if (s.carve !== null) storeCarve(db, id, s.carve);
    const issue = db.prepare('INSERT INTO issues (source_id,line,reason,excerpt) VALUES (?,?,?,?)');
    for (const i of issues) issue.run(id, 0, i.reason, '');
    const records = 1 + s.keys.length + s.alarms.length + s.members.length;
    db.prepare(`UPDATE sources SET records=?, issues=?, first_ts_ms=?, last_ts_ms=?, time_bases=? WHERE id=?`)
      .run(records, issues.length, time.ms, time.ms, time.basis, id);
    db.exec('COMMIT');
    return { summary: s, issues, records };
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  } finally {
    s.carve?.close();
  }
}

/** The carve counts and one row per recovered revision (inside the caller's transaction). */
function storeCarve(db: Db, id: number, c: CarveResult): void {
  const r = c.compacted;
  db.prepare(`INSERT INTO snapshot_carve VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`).run(
    id, c.freePages, c.leafPages, c.pagesCarved, c.pagesRejected, JSON.stringify(c.rejectReasons), c.rowsCarved, c.liveCopies,
    c.duplicates, c.conflicts, c.inconsistent, c.revisionsRecovered, r?.firstRevision ?? null, r?.lastRevision ?? null,
    r?.lostRevisions ?? null, r?.recoveredRevisions ?? null, r === null ? null : Math.round(r.share * 10_000) / 10_000,
  );
  // Millions of rows for a big compacted file: written ROWS_PER_INSERT per statement, as log lines are.
  const writer = new GroupWriter(db, 'snapshot_recovered_revisions', id, RECOVERED_COLS);
  let group: Param[] = [];
  for (const v of c.recovered()) {
    group.push(v.main, v.sub, v.tombstone ? 1 : 0, v.key, v.createRevision, v.modRevision, v.version, v.valueSize, v.lease, v.pageId, v.copies);
    if (group.length === RECOVERED_COLS.length * ROWS_PER_INSERT) {
      writer.write(group);
      group = [];
    }
  }
  writer.write(group);
}

const RECOVERED_COLS = ['main', 'sub', 'tombstone', 'key', 'create_revision', 'mod_revision', 'version', 'value_size', 'lease',
  'page_id', 'copies'] as const;
