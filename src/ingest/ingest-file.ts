// Ingest one input (file path or '-') into the store: detect, parse, write — all in one transaction.
// A file is stored whole or not at all; a file whose bytes were stored before adds nothing.
import { openSync, readSync, closeSync, statSync, createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { gunzipSync, createGunzip, constants as zlibConstants } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Db } from '../store/open.js';
import { SourceWriter, findSourceBySha, insertSource, finishSource } from '../store/write.js';
import type { ParseContext, ParseIssue, ParseOutput, RecordTime, SourceKind } from '../model.js';
import { openLineSource, type LineBatch } from './lines.js';
import { detectTextKind, looksLikeBolt, DETECT_SAMPLE_LINES, type TextKind } from './detect.js';
import { createParser } from './parsers.js';
import { InputError } from '../errors.js';
import { readSnapshotFile, storeSnapshot } from './ingest-snapshot.js';

export interface IngestOptions {
  kind: SourceKind | null;
  tz: string | null;
  member: string | null;
  /** --at: the time of etcdctl output that carries no timestamp line. */
  atMs: number | null;
  /** With strict, a file with any skipped line is rolled back. */
  strict: boolean;
  stdin?: Readable;
  onBytes?: (bytesRead: number) => void;
}

export interface IngestResult {
  path: string;
  status: 'ingested' | 'duplicate' | 'failed';
  kind: SourceKind | null;
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
    const msg = e instanceof InputError ? e.message : `${path}: ${(e as Error).message}`;
    return { ...base, status: 'failed', error: msg };
  }
}

async function ingestUnchecked(db: Db, path: string, opts: IngestOptions, base: IngestResult): Promise<IngestResult> {
  const isStdin = path === '-';
  let sizeBytes = 0;
  let mtimeMs = Date.now();
  let preSha: string | null = null;
  if (!isStdin) {
    const st = statOrThrow(path);
    sizeBytes = st.size;
    mtimeMs = st.mtimeMs;
    const head = readHead(path, 64 * 1024);
    const gzipped = head[0] === 0x1f && head[1] === 0x8b;
    const bolt = opts.kind === 'etcd-snapshot' || (opts.kind === null && looksLikeBolt(gzipped ? gunzipHead(head) : head));
    preSha = await sha256File(path);
    const dup = findSourceBySha(db, preSha);
    if (dup) return { ...base, kind: bolt ? 'etcd-snapshot' : null, status: 'duplicate', duplicateOf: dup.path };
    if (bolt) {
      const time: RecordTime = opts.atMs !== null ? { ms: opts.atMs, offsetMin: null, basis: 'at' } : { ms: mtimeMs, offsetMin: null, basis: 'mtime' };
      // A gzipped snapshot is unpacked to a temporary file first: bbolt is read by page offset.
      const summary = gzipped ? await withGunzipped(path, readSnapshotFile) : readSnapshotFile(path);
      const r = storeSnapshot(db, { path, sha256: preSha, member: opts.member, sizeBytes }, summary, time);
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

  const ctx: ParseContext = { tz: opts.tz, member: opts.member, referenceMs: opts.atMs ?? mtimeMs };
  // A file was hashed before parsing (to skip a duplicate cheaply); stdin is hashed as it streams.
  const src = openLineSource(isStdin ? (opts.stdin ?? process.stdin) : path, { hash: isStdin });
  const batches = src.batches();

  // Sample the first lines for detection, then replay them. Whole batches are read; the lines past
  // the sample are kept in `pending` and parsed after it.
  const sample: { text: string; lineNo: number }[] = [];
  const pending: LineBatch[] = [];
  let sampledChars = 0;
  while (sample.length < DETECT_SAMPLE_LINES && sampledChars < 512 * 1024) {
    const n = await batches.next();
    if (n.done) break;
    pending.push(n.value);
    const { lines, firstLineNo } = n.value;
    for (let i = 0; i < lines.length && sample.length < DETECT_SAMPLE_LINES && sampledChars < 512 * 1024; i++) {
      sample.push({ text: lines[i]!, lineNo: firstLineNo + i });
      sampledChars += lines[i]!.length;
    }
  }
  let kind: TextKind;
  if (opts.kind !== null) {
    kind = opts.kind as TextKind;
  } else {
    const nul = sample.findIndex((l) => l.text.includes('\u0000'));
    if (nul !== -1) {
      throw new InputError(`${path}:${sample[nul]!.lineNo}: binary data (NUL byte), not a log or etcdctl output`);
    }
    const d = detectTextKind(sample.map((l) => l.text));
    if (!d.kind) {
      const first = sample.find((l) => l.text.trim() !== '');
      throw new InputError(first
        ? `${path}:${first.lineNo}: cannot tell what this input holds (${d.evidence}); first line: ${excerpt(first.text)}; use --kind`
        : `${path}: empty input`);
    }
    kind = d.kind;
  }

  db.exec('BEGIN');
  const sourceId = insertSource(db, {
    path: isStdin ? '<stdin>' : path, sha256: preSha ?? `pending-${process.pid}-${Date.now()}`, kind,
    member: opts.member, sizeBytes,
  });
  const writer = new SourceWriter(db, sourceId);
  const parser = createParser(kind, ctx);
  const shown: ParseIssue[] = [];
  const fallback: RecordTime = opts.atMs !== null
    ? { ms: opts.atMs, offsetMin: null, basis: 'at' }
    : { ms: mtimeMs, offsetMin: null, basis: 'mtime' };
  const store = (outs: ParseOutput[]): void => {
    for (const o of outs) {
      if (o.kind === 'issue') {
        writer.writeIssue(o);
        if (shown.length < SHOWN_ISSUES) shown.push(o);
        continue;
      }
      // etcdctl output carries no time of its own: a marker line, else --at, else the file's mtime.
      if (o.time === null && o.kind !== 'request' && (o.kind !== 'event' || o.event.startsWith('etcdctl.'))) o.time = fallback;
      writer.write(o);
    }
  };
  const storeBatch = (b: LineBatch): void => {
    const { lines, firstLineNo } = b;
    for (let i = 0; i < lines.length; i++) store(parser.push(lines[i]!, firstLineNo + i));
    opts.onBytes?.(src.bytesRead());
  };
  for (const b of pending) storeBatch(b);
  for (let n = await batches.next(); !n.done; n = await batches.next()) storeBatch(n.value);
  store(parser.end());
  writer.flush();
  opts.onBytes?.(src.bytesRead());

  if (isStdin) {
    const sha = src.digest();
    const dup = findSourceBySha(db, sha);
    if (dup) {
      db.exec('ROLLBACK');
      return { ...base, kind, status: 'duplicate', duplicateOf: dup.path };
    }
    db.prepare('UPDATE sources SET sha256 = ?, size_bytes = ? WHERE id = ?').run(sha, src.bytesRead(), sourceId);
  }
  const t = writer.totals;
  if (opts.strict && t.issues > 0) {
    db.exec('ROLLBACK');
    const i = shown[0]!;
    throw new InputError(`${path}:${i.line}: ${i.reason}: ${excerpt(i.excerpt)} (--strict: nothing stored from this input)`);
  }
  finishSource(db, sourceId, t);
  db.exec('COMMIT');
  return {
    path, status: 'ingested', kind, records: t.records, issueCount: t.issues, issues: shown,
    firstMs: t.firstMs, lastMs: t.lastMs, timeBases: [...t.bases].sort(),
  };
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
    return Buffer.alloc(0);
  }
}

async function withGunzipped<T>(path: string, fn: (p: string) => T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-forensics-'));
  const out = join(dir, 'snapshot.db');
  try {
    await pipeline(createReadStream(path), createGunzip(), createWriteStream(out));
    return fn(out);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(e.message.split(out).join(`${path} (gunzipped)`));
    throw new InputError(`${path}: cannot gunzip: ${(e as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function excerpt(s: string, n = 80): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
}

