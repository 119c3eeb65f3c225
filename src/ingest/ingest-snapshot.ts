// Ingest an etcd snapshot or backend file (bbolt), read directly and read-only. The whole file is
// read first; only then is anything written, in one transaction, so a damaged file stores nothing.
import type { Db } from '../store/open.js';
import { GroupWriter, insertSource } from '../store/write.js';
import { storeSnapshotLeases } from '../store/wal-rows.js';
import { ROWS_PER_INSERT, type Param } from '../store/rows.js';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import {
  readEtcdBackend, BoltFormatError, declaredImage, META_HEAD_BYTES, type DeclaredImage, type EtcdBackendSummary,
} from '../sources/bbolt/index.js';
import type { ParseIssue, RecordTime } from '../model.js';
import type { CarveResult } from '../sources/bbolt/index.js';
import { InputError } from '../errors.js';
import { gunzipFailureDetail } from './gzip-damage.js';

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

/** Bytes of an etcdctl snapshot's sha256 trailer, after the bbolt image. */
const TRAILER_BYTES = 32;
/**
 * Content past the declared image is dropped (bbolt preallocates a backend file in steps of up to 1 GiB,
 * and pages of a transaction that never committed may lie there); more than this is not unpacked.
 */
export const MAX_PAST_IMAGE_BYTES = 1 << 30;

/**
 * A gzipped snapshot or backend, unpacked to a temporary file no larger than its meta pages declare (page
 * size × high-water pgid, plus the 32-byte sha256 trailer when the content ends exactly there), and only
 * when the temporary directory has room for that. Before, a 3 MB gzip became 3 GB on disk before failing.
 */
export async function readGzippedSnapshotFile(path: string, tempRoot = tmpdir()): Promise<EtcdBackendSummary> {
  const dir = mkdtempSync(join(tempRoot, 'etcd-forensics-'));
  const out = join(dir, 'snapshot.db');
  try {
    await unpackSnapshot(path, out);
    return readSnapshotFile(out);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(e.message.split(out).join(`${path} (gunzipped)`));
    throw new InputError(`${path}: cannot gunzip: ${(e as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Streams the gunzipped content of `path` into `out`, bounded as readGzippedSnapshotFile says; returns what
 * the meta pages declared (null: no valid meta page in the first bytes, which alone are written, for the
 * reader to say what is wrong). Throws InputError when the space or the bound is exceeded.
 */
export async function unpackSnapshot(path: string, out: string, maxPast = MAX_PAST_IMAGE_BYTES): Promise<DeclaredImage | null> {
  const fd = openSync(out, 'w');
  try {
    let head: Buffer[] | null = [];
    let headBytes = 0;
    let declared: DeclaredImage | null = null;
    let limit = 0; // image bytes to write
    let written = 0;
    const tail: Buffer[] = []; // up to TRAILER_BYTES after the image
    let tailBytes = 0;
    let past = 0; // bytes after image + trailer: dropped
    const start = (all: Buffer): void => {
      declared = declaredImage(all);
      limit = declared?.bytes ?? all.length;
      if (declared) checkFreeSpace(path, dirname(out), declared.bytes + TRAILER_BYTES, declared);
    };
    const take = (chunk: Buffer): void => {
      const toImage = Math.min(chunk.length, limit - written);
      if (toImage > 0) writeSync(fd, chunk, 0, toImage);
      written += toImage;
      const rest = chunk.subarray(toImage);
      const toTail = Math.min(rest.length, TRAILER_BYTES - tailBytes);
      if (toTail > 0) tail.push(Buffer.from(rest.subarray(0, toTail)));
      tailBytes += toTail;
      past += rest.length - toTail;
      if (past > maxPast) {
        throw new InputError(`${path}: the gunzipped content goes on for more than ${maxPast} bytes past the ${limit} bytes its bbolt meta page declares (page size × high-water pgid); not unpacked further`);
      }
    };
    const raw = createReadStream(path);
    let compressedRead = 0;
    raw.on('data', (c) => { compressedRead += c.length; });
    try {
      for await (const c of raw.pipe(createGunzip())) {
        const chunk = c as Buffer;
        if (head === null) {
          take(chunk);
          continue;
        }
        head.push(chunk);
        headBytes += chunk.length;
        if (headBytes < META_HEAD_BYTES) continue;
        const all = Buffer.concat(head);
        head = null;
        start(all);
        take(all);
      }
    } catch (e) {
      if (e instanceof InputError || (e as NodeJS.ErrnoException).code?.startsWith('Z_') !== true) throw e;
      throw new InputError(`${path}: cannot gunzip: ${gunzipFailureDetail(e, statSync(path).size, compressedRead)}`);
    }
    if (head !== null) {
      const all = Buffer.concat(head);
      start(all);
      take(all);
    }
    // Content that ends right after 32 bytes past the image is an `etcdctl snapshot save` file with its sha256
    // trailer; otherwise those bytes were padding (or a cut trailer) and, like the rest, are not the image.
    if (past === 0 && tailBytes === TRAILER_BYTES) writeSync(fd, Buffer.concat(tail));
    return declared;
  } finally {
    closeSync(fd);
  }
}

/** One clear line when the temporary directory cannot hold the declared image. */
function checkFreeSpace(path: string, dir: string, need: number, declared: DeclaredImage): void {
  let free: number;
  try {
    const st = statfsSync(dir);
    free = st.bavail * st.bsize;
  } catch {
    return; // unknown: the write itself will fail with ENOSPC if it must
  }
  if (free < need) {
    throw new InputError(`${path}: unpacking needs ${need} bytes (its bbolt meta page declares page size ${declared.pageSize} × high-water pgid ${declared.pgid}, plus a 32-byte trailer) but ${dir} has ${free} bytes free; set TMPDIR to a larger directory`);
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
    storeSnapshotLeases(db, id, s.leases); // issue 16: leases with TTL, for the keys that name them
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
