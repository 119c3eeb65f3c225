// A member's data directory, file by file as the folder walk meets them: member/wal/*.wal segments (plain,
// cut after the last record, or gzipped) and member/snap/*.snap raft snapshots; member/snap/db is a bbolt
// backend and goes the snapshot way (ingest-snapshot.ts). A segment is read whole before anything is
// written, then stored in one transaction. Its source is keyed by the hash of the bytes up to the end of its
// last valid record, so the same segment preallocated (64 MB), cut or gzipped is stored once.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import type { Db } from '../store/open.js';
import { findSourceBySha, finishSource, insertSource } from '../store/write.js';
import { storeRaftSnap, storeWalSegment } from '../store/wal-rows.js';
import { parseSegmentName, readSnapFile, readWal, type WalRead } from '../sources/wal/index.js';
import { InputError } from '../errors.js';
import type { ParseIssue } from '../model.js';

const SNAP_NAME = /^[0-9a-f]{16}-[0-9a-f]{16}\.snap$/;

/**
 * What the data-dir files are: by etcd's names for them, or (a segment renamed, say `wal.gz` in a backup) by
 * how every segment begins: a crc record, `Record{type: 4, crc}` = `08 04 [10 <crc varint>]`, 2 to 8 bytes,
 * framed by a length word whose top byte is 0x80 | pad (padded to 8). Text never starts that way.
 */
export function dataDirFileKind(path: string): 'etcd-wal' | 'raft-snap' | null {
  const name = basename(path);
  if (parseSegmentName(name)) return 'etcd-wal';
  if (SNAP_NAME.test(name)) return 'raft-snap';
  return startsLikeWalSegment(readStart(path)) ? 'etcd-wal' : null;
}

export function startsLikeWalSegment(b: Uint8Array): boolean {
  if (b.length < 10) return false;
  const len = b[0]!;
  const pad = (8 - (len % 8)) % 8;
  return len >= 2 && len <= 8 && b[1] === 0 && b[2] === 0 && b[3] === 0 && b[4] === 0 && b[5] === 0 && b[6] === 0 &&
    b[7] === (pad === 0 ? 0 : 0x80 | pad) && b[8] === 0x08 && b[9] === 0x04;
}

/** The first bytes of a file, gunzipped when it is gzip (a partial stream is fine here). */
function readStart(path: string): Uint8Array {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    const raw = head.subarray(0, n);
    if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
    return gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch {
    return new Uint8Array(0); // unreadable or not gzip after all: the ingest proper says why
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export interface DataDirIngest {
  status: 'ingested' | 'duplicate';
  kind: 'etcd-wal' | 'raft-snap';
  duplicateOf?: string;
  records: number;
  issues: ParseIssue[];
  lastMs: number | null;
  wal?: WalRead;
}

/** The fields of ingest-file's IngestResult for one data-dir file (the ingest loop spreads them into its result). */
export function ingestDataDirFile(db: Db, path: string, kind: 'etcd-wal' | 'raft-snap', member: string | null, strict = false) {
  const r = kind === 'etcd-wal' ? ingestWalSegment(db, path, member, strict) : ingestRaftSnap(db, path, member, strict);
  return {
    status: r.status, kind: r.kind, records: r.records, issueCount: r.issues.length, issues: r.issues.slice(0, 5),
    firstMs: null, lastMs: r.lastMs, timeBases: r.lastMs === null ? [] : ['mtime'],
    ...(r.duplicateOf ? { duplicateOf: r.duplicateOf } : {}),
  };
}

function readBytes(path: string): Buffer {
  const raw = readFileSync(path);
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: 1 << 30 });
  } catch (e) {
    throw new InputError(`${path}: cannot gunzip: ${(e as Error).message}`);
  }
}

/** With `strict`, damage or an undecoded entry stores nothing (the file fails, naming the first). */
export function ingestWalSegment(db: Db, path: string, member: string | null, strict = false): DataDirIngest {
  const bytes = readBytes(path);
  const mtimeMs = Math.floor(statSync(path).mtimeMs);
  const name = basename(path).replace(/\.gz$/, '');
  const w = readWal([{ name, bytes }]); // a renamed segment: seq and start index are then unknown (null)
  const end = w.segments[0]?.end ?? 0;
  if (w.records === 0) {
    const why = w.damage ? `byte offset ${w.damage.offset}: ${w.damage.reason}` : 'no records (an empty or all-zero segment)';
    throw new InputError(`${path}: not a readable etcd WAL segment: ${why}`);
  }
  const sha = createHash('sha256').update('etcd-wal\0').update(bytes.subarray(0, end)).digest('hex');
  const dup = findSourceBySha(db, sha);
  if (dup) return { status: 'duplicate', kind: 'etcd-wal', duplicateOf: dup.path, records: 0, issues: [], lastMs: null };
  const issues: ParseIssue[] = [];
  if (w.damage) issues.push({ kind: 'issue', line: 0, reason: `byte offset ${w.damage.offset}: ${w.damage.reason}; the ${w.records} records before it were read`, excerpt: '' });
  for (const u of w.undecoded.slice(0, 100)) issues.push({ kind: 'issue', line: 0, reason: `raft index ${u.index}: request not decoded: ${u.reason}`, excerpt: '' });
  if (strict && issues.length > 0) throw new InputError(`${path}: ${issues[0]!.reason} (--strict: nothing stored)`);
  let rows = 0;
  db.transaction(() => {
    const id = insertSource(db, { path, sha256: sha, kind: 'etcd-wal', member, sizeBytes: statSync(path).size, contentBytes: bytes.length });
    rows = storeWalSegment(db, id, { name, fileBytes: bytes.length, mtimeMs }, w);
    const insertIssue = db.prepare('INSERT INTO issues (source_id, line, reason, excerpt) VALUES (?,?,?,?)');
    for (const i of issues) insertIssue.run(id, i.line, i.reason, i.excerpt);
    finishSource(db, id, { records: rows, issues: issues.length, firstMs: null, lastMs: mtimeMs, bases: ['mtime'] });
  })();
  return { status: 'ingested', kind: 'etcd-wal', records: rows, issues, lastMs: mtimeMs, wal: w };
}

export function ingestRaftSnap(db: Db, path: string, member: string | null, strict = false): DataDirIngest {
  const bytes = readBytes(path);
  const r = readSnapFile(bytes);
  if (!r.ok) throw new InputError(`${path}: not a readable raft snapshot (.snap): ${r.reason}`);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const dup = findSourceBySha(db, sha);
  if (dup) return { status: 'duplicate', kind: 'raft-snap', duplicateOf: dup.path, records: 0, issues: [], lastMs: null };
  const mtimeMs = Math.floor(statSync(path).mtimeMs);
  const issues: ParseIssue[] = r.snap.crcOk ? [] : [{ kind: 'issue', line: 0, reason: 'CRC-32C of the snapshot data does not match the crc field', excerpt: '' }];
  if (strict && issues.length > 0) throw new InputError(`${path}: ${issues[0]!.reason} (--strict: nothing stored)`);
  db.transaction(() => {
    const id = insertSource(db, { path, sha256: sha, kind: 'raft-snap', member, sizeBytes: statSync(path).size, contentBytes: bytes.length });
    storeRaftSnap(db, id, basename(path).replace(/\.gz$/, ''), r.snap, mtimeMs);
    finishSource(db, id, { records: 1, issues: issues.length, firstMs: mtimeMs, lastMs: mtimeMs, bases: ['mtime'] });
  })();
  return { status: 'ingested', kind: 'raft-snap', records: 1, issues, lastMs: mtimeMs };
}
