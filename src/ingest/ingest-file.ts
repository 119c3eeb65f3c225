// Ingest one input (file path or '-') into the store: detect, parse, write — all in one transaction.
// A file is stored whole or not at all; a file whose content was stored before (plain or gzipped) adds
// nothing; a log that grew since it was stored adds only its new lines (growth.ts).
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { Db } from '../store/open.js';
import { RowSink, findSourceBySha, insertSource, finishSource, sameSizeSourceExists, setSourceContent } from '../store/write.js';
import type { RowBatch } from '../store/rows.js';
import type { ParseIssue, RecordTime, SourceKind } from '../model.js';
import { openLineSource } from './lines.js';
import { looksLikeBolt, NotAnInputError, type TextKind } from './detect.js';
import { findGrowthBase, gzipContentSize, hashContent, type Growth } from './same-content.js';
import { notAnInputByName } from './not-input.js';
import { produceRows, excerpt, type ProduceOptions, type Produced } from './produce.js';
import { runParseWorker, useParseWorker } from './parse-thread.js';
import { runSplitParse, useSplitParse } from './parse-split.js';
import { InputError, isStoreFailure } from '../errors.js';
import { readGzippedSnapshotFile, readSnapshotFile, storeSnapshot } from './ingest-snapshot.js';
import { readPatroniConfig, storePatroniConfig } from './ingest-config.js';
import { looksLikeMetricsPage } from '../sources/prometheus/index.js';
import { readMetricsPage, storeMetricsPage } from './ingest-metrics-page.js';
import { dataDirFileKind, ingestDataDirFile } from './ingest-wal.js';
import { inflateHeadIgnoringTrailer } from './gzip-damage.js';

export interface IngestOptions {
  kind: SourceKind | null;
  tz: string | null;
  member: string | null;
  /** --at: the time of etcdctl output that carries no timestamp line. */
  atMs: number | null;
  /** With strict, a file with any skipped line is rolled back. */
  strict: boolean;
  /** --keep-raw: a row per log line (no per-minute groups of repeated lines). */
  keepRaw?: boolean;
  stdin?: Readable;
  onBytes?: (bytesRead: number) => void;
  /**
   * Met while walking a directory: a file that holds nothing we read (empty, a config, binary, prose)
   * is set aside as 'not-input' instead of failing.
   */
  setAside?: boolean;
}

export interface IngestResult {
  path: string;
  status: 'ingested' | 'duplicate' | 'failed' | 'not-input';
  /** For 'not-input': why the file was not read. */
  why?: string;
  /** The tail of a grown log: lines added after those of the source it continues. */
  appended?: { lines: number; continues: number; firstLine: number };
  kind: SourceKind | null;
  /** The wrapper taken off every line (`cri`, `journald-json`, …), or null. */
  envelope?: string | null;
  records: number;
  issueCount: number;
  /** The first few skipped lines, for the summary. */
  issues: ParseIssue[];
  firstMs: number | null;
  lastMs: number | null;
  timeBases: string[];
  duplicateOf?: string;
  error?: string;
  /** For a snapshot/backend file: what was read. */
  snapshot?: { revisions: number; keys: number; dbSize: number; freePages: number; pageSize: number };
}

const SHOWN_ISSUES = 5;

export async function ingestInput(db: Db, path: string, opts: IngestOptions): Promise<IngestResult> {
  const base: IngestResult = {
    path, status: 'failed', kind: null, records: 0, issueCount: 0, issues: [], firstMs: null, lastMs: null, timeBases: [],
  };
  try {
    return await ingestUnchecked(db, path, opts, base);
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    if (isStoreFailure(e)) throw e; // the store or the disk failed, not this input: the ingest stops (exit 2)
    if (opts.setAside && e instanceof NotAnInputError) return { ...base, status: 'not-input', why: e.why };
    const msg = e instanceof InputError ? e.message : `${path}: ${(e as Error).message}`;
    return { ...base, status: 'failed', error: msg };
  }
}

async function ingestUnchecked(db: Db, path: string, opts: IngestOptions, base: IngestResult): Promise<IngestResult> {
  const isStdin = path === '-';
  let sizeBytes = 0;
  let mtimeMs = Date.now();
  let preSha: string | null = null;
  let contentBytes: number | null = null;
  let growth: Growth | null = null;
  let gzippedFile = false;
  if (!isStdin) {
    const st = statOrThrow(path);
    // A member's data directory (issue 16): WAL segments and raft .snap files, known by etcd's names for them.
    const dataDirKind = opts.kind === null ? dataDirFileKind(path) : null;
    if (dataDirKind) return { ...base, ...ingestDataDirFile(db, path, dataDirKind, opts.member, opts.strict) };
    sizeBytes = st.size;
    mtimeMs = Math.floor(st.mtimeMs); // a ts_ms is whole milliseconds
    const head = readHead(path, 64 * 1024);
    const gzipped = head[0] === 0x1f && head[1] === 0x8b;
    gzippedFile = gzipped;
    const bolt = opts.kind === 'etcd-snapshot' || (opts.kind === null && looksLikeBolt(gzipped ? gunzipHead(head) : head));
    // Patroni's YAML configuration (read before the folder walk sets configuration files aside).
    if (!bolt && !gzipped && (opts.kind === null || opts.kind === 'patroni-config')) {
      const text = readPatroniConfig(path, sizeBytes, head);
      if (text !== null) {
        const r = storePatroniConfig(db, path, text, { member: opts.member, sizeBytes });
        return { ...base, kind: 'patroni-config', status: r.status, records: r.records, ...(r.duplicateOf ? { duplicateOf: r.duplicateOf } : {}) };
      }
      if (opts.kind === 'patroni-config') throw new InputError(`${path}: not a Patroni configuration (no scope, etcd/etcd3 or bootstrap section)`);
    }
    // A saved /metrics page: one reading of one member (issue 15).
    if (!bolt && !gzipped && opts.kind === null && looksLikeMetricsPage(head.toString('utf8'))) {
      const r = storeMetricsPage(db, path, readMetricsPage(path, sizeBytes), { member: opts.member, time: fallbackTime(opts.atMs, mtimeMs), sizeBytes });
      return { ...base, kind: 'metrics-page', status: r.status, records: r.records, firstMs: r.time.ms, lastMs: r.time.ms, timeBases: [r.time.basis], ...(r.duplicateOf ? { duplicateOf: r.duplicateOf } : {}) };
    }
    if (opts.setAside && opts.kind === null && !bolt) {
      const why = notAnInputByName(path, sizeBytes, gzipped ? null : head);
      if (why) return { ...base, status: 'not-input', why };
    }
    // A file can only repeat a stored source with as many bytes of content: only then is it hashed
    // before parsing (a .gz by its content, sized by the gzip trailer). Otherwise its content is hashed as
    // it streams (no second read of a large log).
    const hintSize = gzipped ? gzipContentSize(path, sizeBytes) : sizeBytes;
    if (bolt || (hintSize !== null && sameSizeSourceExists(db, hintSize))) {
      const h = await hashContent(path, gzipped && !bolt);
      preSha = h.sha256;
      contentBytes = h.bytes;
      const dup = findSourceBySha(db, preSha);
      if (dup) return { ...base, kind: bolt ? 'etcd-snapshot' : null, status: 'duplicate', duplicateOf: dup.path };
    } else if (!gzipped && !bolt) {
      // A sampling log read again after it grew: only the lines after the stored prefix are new.
      growth = await findGrowthBase(db, path, sizeBytes);
      if (growth) {
        preSha = growth.sha256;
        contentBytes = sizeBytes;
        const dup = findSourceBySha(db, preSha);
        if (dup) return { ...base, status: 'duplicate', duplicateOf: dup.path };
      }
    }
    if (bolt) {
      const sha = preSha!;
      const time = fallbackTime(opts.atMs, mtimeMs);
      // A gzipped snapshot is unpacked to a temporary file first (bbolt is read by page offset), bounded by
      // the size its meta page declares (ingest-snapshot.ts).
      const summary = gzipped ? await readGzippedSnapshotFile(path) : readSnapshotFile(path);
      const r = storeSnapshot(db, { path, sha256: sha, member: opts.member, sizeBytes }, summary, time);
      return {
        ...base, status: 'ingested', kind: 'etcd-snapshot', records: r.records, issueCount: r.issues.length,
        issues: r.issues.slice(0, SHOWN_ISSUES), firstMs: time.ms, lastMs: time.ms, timeBases: [time.basis],
        snapshot: {
          revisions: summary.keyBucket.revisions, keys: summary.keys.length, dbSize: summary.dbSize,
          freePages: summary.pages.free, pageSize: summary.file.pageSize,
        },
      };
    }
  } else if (opts.kind === 'etcd-snapshot') {
    throw new InputError('-: a snapshot cannot be read from stdin (it is read by page offset); save it to a file');
  }

  const produceOpts: ProduceOptions = {
    path, kind: (opts.kind ?? growth?.base.kind ?? null) as TextKind | null,
    ctx: { tz: opts.tz, member: opts.member ?? growth?.base.member ?? null, referenceMs: opts.atMs ?? mtimeMs },
    // stdin has no modification time: output piped in without a timestamp line is timed when it is read (issue 15).
    fallback: isStdin && opts.atMs === null ? { ms: mtimeMs, offsetMin: null, basis: 'ingest' } : fallbackTime(opts.atMs, mtimeMs), keepRaw: opts.keepRaw === true,
  };
  let sourceId = 0;
  let sink: RowSink | null = null;
  const consumer = {
    begin: (kind: TextKind): void => {
      db.exec('BEGIN');
      sourceId = insertSource(db, {
        path: isStdin ? '<stdin>' : path, sha256: preSha ?? `pending-${process.pid}-${Date.now()}`, kind,
        member: opts.member ?? growth?.base.member ?? null, sizeBytes, contentBytes,
        continuesSourceId: growth?.base.id ?? null, firstLine: growth?.firstLine ?? 1, assumedTz: opts.tz,
      });
      sink = new RowSink(db, sourceId);
    },
    batch: (b: RowBatch): void => {
      sink!.write(b);
      opts.onBytes?.(b.bytesRead);
    },
  };
  // Without the pre-pass, the bytes are hashed as they stream and the duplicate check comes at the end.
  let run: { produced: Produced; digest: string | null; bytesRead: number; contentBytes: number };
  const tail = growth ? { start: growth.base.contentBytes, firstLineNo: growth.firstLine } : {};
  const toRead = sizeBytes - (growth?.base.contentBytes ?? 0);
  // Two byte ranges on two cores (parse-split.ts); thrown away for a single pass when a range's start was not right.
  const split = !isStdin && !gzippedFile && useSplitParse(toRead)
    ? await runSplitParse(db, {
      path, hash: preSha === null, opts: produceOpts, start: growth?.base.contentBytes ?? 0, firstLineNo: growth?.firstLine ?? 1,
      sizeBytes, consumer: { begin: consumer.begin, batch: (b) => sink!.write(b) }, sourceId: () => sourceId, onBytes: opts.onBytes,
    })
    : null;
  if (split !== null && 'fallback' in split && db.inTransaction) db.exec('ROLLBACK'); // a worker out of heap at its start began nothing
  if (split !== null && !('fallback' in split)) {
    run = split;
  } else if (!isStdin && (split !== null || useParseWorker(toRead))) {
    run = await runParseWorker({ path, hash: preSha === null, opts: produceOpts, ...tail }, consumer);
  } else {
    const src = openLineSource(isStdin ? (opts.stdin ?? process.stdin) : path, { hash: preSha === null, ...tail });
    const produced = await produceRows(src, produceOpts, consumer);
    run = { produced, digest: preSha === null ? src.digest() : null, bytesRead: src.bytesRead(), contentBytes: src.contentBytes() };
  }
  const { kind, totals: t, shown } = run.produced;

  if (run.digest !== null) {
    const dup = findSourceBySha(db, run.digest);
    if (dup) {
      db.exec('ROLLBACK');
      return { ...base, kind, status: 'duplicate', duplicateOf: dup.path };
    }
    setSourceContent(db, sourceId, run.digest, run.bytesRead, run.contentBytes);
  }
  if (opts.strict && t.issues > 0) {
    db.exec('ROLLBACK');
    const i = shown[0]!;
    throw new InputError(`${path}:${i.line}: ${i.reason}: ${excerpt(i.excerpt)} (--strict: nothing stored from this input)`);
  }
  finishSource(db, sourceId, t);
  db.exec('COMMIT');
  return {
    path, status: 'ingested', kind, envelope: run.produced.envelope, records: t.records, issueCount: t.issues, issues: shown,
    firstMs: t.firstMs, lastMs: t.lastMs, timeBases: t.bases,
    ...(growth ? { appended: { lines: growth.tailLines, continues: growth.base.id, firstLine: growth.firstLine } } : {}),
  };
}

/** The time of a record whose input carries none: --at, else the file's modification time. */
function fallbackTime(atMs: number | null, mtimeMs: number): RecordTime {
  return atMs !== null ? { ms: atMs, offsetMin: null, basis: 'at' } : { ms: mtimeMs, offsetMin: null, basis: 'mtime' };
}

function statOrThrow(path: string): import('node:fs').Stats {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new InputError(`${path}: not a regular file`);
    return st;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function readHead(path: string, n: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The first bytes of a gzip stream, from a partial read of the file. */
function gunzipHead(buf: Buffer): Buffer {
  try {
    return gunzipSync(buf, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch {
    return inflateHeadIgnoringTrailer(buf); // a damaged trailer of a file read whole (gzip-damage.ts)
  }
}
