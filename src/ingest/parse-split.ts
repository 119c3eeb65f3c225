// A large plain log parsed in two byte ranges at once, one parse worker each (issue 13: the parse is most
// of an ingest's CPU, and one worker used one of two cores).
//
// The first worker starts on the whole file as parse-thread.ts runs it. Once it has read the detection
// sample it says what it found (kind, wrapper, the parser's carried state); if the kind is one whose lines
// are records on their own (parsers.ts SPLITTABLE_KINDS) and there is no wrapper, the main thread picks a
// seam near the middle, tells the first worker to stop there, and starts a second worker on [seam, size)
// with the kind, context and state the first one found. The first worker's rows go to the store as they
// come; the second's to temp tables, copied after it with their line numbers moved by the first range's
// line count, so the rows stay in file order (settings.ts reads the rows after a start-up row by rowid).
//
// The seam is a line where the minute moves past every minute of the lines before it in the window, so no
// per-minute group (store/row-groups.ts) has lines on both sides when times only move forward: the rows are
// the ones a single pass writes (test/parse-split.test.ts compares them on real logs). A line later than
// its successors across the seam (a minute out of order) makes that minute's group two rows with the same
// total count. When the state the second range started from is not what the first range had at the seam (a
// member name learnt late, a version change, start-up lines kept one by one, a 3.6 quota burst across
// the seam), the split is thrown away and the file parsed whole: slower, never different.
import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Db } from '../store/open.js';
import { RowSink } from '../store/write.js';
import { EVENT_COLS, REQUEST_COLS, SINGLE_ROW_TABLES, type RowBatch } from '../store/rows.js';
import { STARTUP_LINES_KEPT } from '../store/row-groups.js';
import type { CarriedState, ParseContext } from '../model.js';
import type { TextKind } from './detect.js';
import { SHOWN_ISSUES, type ProduceOptions, type Produced, type SampleInfo } from './produce.js';
import { createParser, SPLITTABLE_KINDS, seamMismatch } from './parsers.js';
import { runParseWorker, WORKER_OUT_OF_MEMORY, type WorkerHooks, type WorkerRun } from './parse-thread.js';

/** Below this many bytes one worker is as fast (two threads and a copy cost ~0.1 s). */
const SPLIT_MIN_BYTES = 64 << 20;
/**
 * Where the seam is sought, as a share of the bytes: below half, because the first worker also hashes the
 * second range's bytes and the main thread copies the second range's rows after both end.
 */
const SPLIT_AT = 0.47;
/** How far past the target the seam is sought; a log whose every line is one minute for longer is read whole. */
const SEAM_WINDOW_BYTES = 8 << 20;
/** Each worker's young generation (parse-thread.ts: two at 12 MB took peak RSS past 200 MB). */
const SPLIT_YOUNG_MB = 6;
/**
 * Each worker's old generation, bounded: V8 otherwise lets it grow well past the live set (1 GB NOSPACE log:
 * peak RSS 180-183 MiB unbounded, 152 MiB at 64 MB, the same CPU within the host's noise). A worker that needs
 * more (a log with tens of thousands of distinct lines a minute) runs out, and the file is parsed whole by one
 * worker without a bound. ETCD_FORENSICS_SPLIT_HEAP_MB overrides it (a test makes the workers run out).
 */
function splitOldMb(): number {
  const v = Number(process.env.ETCD_FORENSICS_SPLIT_HEAP_MB);
  return Number.isInteger(v) && v > 0 ? v : 64;
}

/** ETCD_FORENSICS_PARSE_SPLIT=always|never overrides the size rule (tests run both paths on small logs). */
export function useSplitParse(bytes: number): boolean {
  const v = process.env.ETCD_FORENSICS_PARSE_SPLIT;
  if (v === 'always') return true;
  if (v === 'never') return false;
  return bytes >= SPLIT_MIN_BYTES && availableParallelism() >= 2;
}

export interface SplitArgs {
  path: string;
  hash: boolean;
  opts: ProduceOptions;
  /** Byte offset and number of the first line read (the tail of a grown log), and the file's size. */
  start: number;
  firstLineNo: number;
  sizeBytes: number;
  /** The first range's consumer (begin opens the transaction and the source; batch writes). */
  consumer: { begin: (kind: TextKind) => void; batch: (b: RowBatch) => void };
  /** The source id once begin has run. */
  sourceId: () => number;
  onBytes?: (bytesRead: number) => void;
}

/**
 * Parses the file in two ranges when it can; the result is what runParseWorker gives for the whole file. A
 * `{ fallback }` means the split was thrown away: the caller rolls back and parses the file whole.
 */
export async function runSplitParse(db: Db, a: SplitArgs): Promise<WorkerRun | { fallback: string }> {
  // Set from the first worker's sample message (a closure: held in an object so that its type is not narrowed).
  const split: { second: { seam: number; seed: CarriedState; run: Promise<WorkerRun>; hooks: WorkerHooks } | null } = { second: null };
  let bBytes = 0;
  let tB = 0;
  let bFailed: unknown = null;
  let aFailed = false;
  let aBytes = 0;
  const oldMb = splitOldMb();
  const debug = process.env.ETCD_FORENSICS_DEBUG_SPLIT === '1';
  const outOfMemory = (e: unknown): { fallback: string } | null => {
    if ((e as { code?: string } | null)?.code !== WORKER_OUT_OF_MEMORY) return null;
    const why = `a parse worker needed more than its ${oldMb} MB heap`;
    if (debug) process.stderr.write(`split: ${why}\n`);
    return { fallback: why };
  };
  const hooksA: WorkerHooks = {
    youngMb: SPLIT_YOUNG_MB,
    oldMb,
    onSample: (info) => {
      const seam = pickSeam(a, info);
      if (seam === null) return { stopAt: null, hashTo: null };
      createSeamTables(db);
      const sink = new RowSink(db, a.sourceId(), seamTable);
      const seed: CarriedState = { ...info.carried, lastQuotaMs: null, firstQuotaMs: null };
      const hooks: WorkerHooks = { youngMb: SPLIT_YOUNG_MB, oldMb };
      const run = runParseWorker({
        path: a.path, hash: false, start: seam, end: a.sizeBytes, firstLineNo: 1, plain: true,
        opts: { ...a.opts, fixed: { kind: info.kind, ctx: info.ctx, seed } },
      }, {
        begin: () => {},
        batch: (b) => {
          sink.write(b);
          bBytes = b.bytesRead;
          a.onBytes?.(aBytes + bBytes);
        },
      }, hooks);
      // A failed second range ends the first at once (and is the error reported).
      run.then(() => { tB = performance.now(); }, () => {});
      run.catch((e: unknown) => {
        if (aFailed) return;
        bFailed = e;
        hooksA.stop?.();
      });
      split.second = { seam, seed, run, hooks };
      return { stopAt: seam, hashTo: a.hash ? a.sizeBytes : null };
    },
  };
  const first = runParseWorker({ path: a.path, hash: a.hash, opts: a.opts, start: a.start, firstLineNo: a.firstLineNo, splitFirst: true, plain: true }, {
    begin: a.consumer.begin,
    batch: (b) => {
      a.consumer.batch(b);
      aBytes = b.bytesRead;
      if (split.second) a.onBytes?.(aBytes + bBytes);
    },
  }, hooksA);
  const t0 = performance.now();
  let runA: WorkerRun;
  try {
    runA = await first;
  } catch (e) {
    if (bFailed === null) aFailed = true;
    split.second?.hooks.stop?.();
    await split.second?.run.catch(() => {});
    const err = bFailed ?? e;
    const oom = outOfMemory(err);
    if (oom) return oom;
    throw err;
  }
  const s = split.second;
  if (s === null) return runA;
  const tA = performance.now();
  let runB: WorkerRun;
  try {
    runB = await s.run;
  } catch (e) {
    const oom = outOfMemory(e);
    if (oom) return oom;
    throw e;
  }
  const A = runA.produced;
  const B = runB.produced;
  const why = seamMismatch(A.kind, s.seed, A.carried ?? {}, B.carried ?? {})
    ?? (A.keepUntil > A.lastLineNo ? 'a start-up line is among the last lines before the seam' : null);
  if (debug) process.stderr.write(`split at byte ${s.seam} (line ${A.lastLineNo + 1}): ${why ?? 'kept'}\n`);
  if (why !== null) return { fallback: why };
  const tC = performance.now();
  copySeamTables(db, A.lastLineNo);
  if (debug) {
    const sec = (t: number): string => ((t - t0) / 1000).toFixed(2);
    process.stderr.write(`split timing: first range done ${sec(tA)} s, second ${sec(tB)} s, copy ${((performance.now() - tC) / 1000).toFixed(2)} s\n`);
  }
  const produced: Produced = {
    kind: A.kind, envelope: A.envelope,
    totals: {
      records: A.totals.records + B.totals.records,
      issues: A.totals.issues + B.totals.issues,
      firstMs: minOf(A.totals.firstMs, B.totals.firstMs),
      lastMs: maxOf(A.totals.lastMs, B.totals.lastMs),
      bases: [...new Set([...A.totals.bases, ...B.totals.bases])].sort(),
    },
    shown: [...A.shown, ...B.shown.map((i) => ({ ...i, line: i.line + A.lastLineNo }))].slice(0, SHOWN_ISSUES),
    lastLineNo: A.lastLineNo + B.lastLineNo, carried: B.carried, keepUntil: B.keepUntil < 0 ? -1 : B.keepUntil + A.lastLineNo,
  };
  return { produced, digest: runA.digest, bytesRead: runA.bytesRead + runB.bytesRead, contentBytes: runA.contentBytes + runB.contentBytes };
}

const minOf = (x: number | null, y: number | null): number | null => (x === null ? y : y === null ? x : Math.min(x, y));
const maxOf = (x: number | null, y: number | null): number | null => (x === null ? y : y === null ? x : Math.max(x, y));

/** The tables a second range writes, each with a temp twin. */
const SEAM_TABLES: Record<string, readonly string[]> = {
  events: EVENT_COLS, etcd_requests: REQUEST_COLS, ...SINGLE_ROW_TABLES,
};
const seamTable = (t: string): string => `temp.ef_seam_${t}`;

function createSeamTables(db: Db): void {
  // As RowSink does for the store (write.ts): a 2 MiB page cache, not 16 MB, for rows only appended.
  db.pragma('temp.cache_size = -2000');
  for (const t of Object.keys(SEAM_TABLES)) {
    db.exec(`DROP TABLE IF EXISTS ${seamTable(t)}; CREATE TEMP TABLE ef_seam_${t} AS SELECT * FROM main.${t} WHERE 0`);
  }
}

/** Appends the second range's rows after the first's, in their order, numbering their lines on from `lines`. */
function copySeamTables(db: Db, lines: number): void {
  for (const [t, cols] of Object.entries(SEAM_TABLES)) {
    const moved = cols.map((c) => (c === 'line' || c === 'last_line' ? `${c} + ${lines}` : c));
    db.exec(`INSERT INTO main.${t} (source_id,${cols.join(',')}) SELECT source_id,${moved.join(',')} FROM ${seamTable(t)} ORDER BY rowid;
      DROP TABLE ${seamTable(t)}`);
  }
}

/**
 * The byte offset of the line the second range starts with, or null to read the file whole: past the target
 * share of the bytes, a line one minute after the timed line before it, where the SEAM_CLEAN timed lines
 * before it are all in earlier minutes and the SEAM_CLEAN after it in its minute or the next. A line far
 * out of order (capnslog's zone-less grpc WARNING among zap lines reads 8 h ahead) is never the seam and
 * never next to it.
 */
function pickSeam(a: SplitArgs, info: SampleInfo): number | null {
  if (!SPLITTABLE_KINDS.has(info.kind) || info.envelope !== null || info.carried === null) return null;
  const target = Math.max(info.position, a.start + Math.floor((a.sizeBytes - a.start) * SPLIT_AT));
  return findSeam(a.path, info.kind, info.ctx, target, Math.min(a.sizeBytes, target + SEAM_WINDOW_BYTES));
}

const SEAM_CLEAN = 32;

export function findSeam(path: string, kind: TextKind, ctx: ParseContext, from: number, to: number): number | null {
  const start = Math.max(0, from - 1);
  if (to - start < 2) return null;
  const buf = Buffer.alloc(to - start);
  const fd = openSync(path, 'r');
  let got = 0;
  try {
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  // The window starts mid-line unless the byte before `from` is a newline: skip to the next line start.
  let pos = from - start;
  if (from > 0 && buf[0] !== 0x0a) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl === -1 || nl + 1 >= got) return null;
    pos = nl + 1;
  }
  // The timed lines of the window: their start offsets and minutes.
  const parser = createParser(kind, ctx);
  const offsets: number[] = [];
  const minutes: number[] = [];
  // The line number (in the window) of each timed line, and of the last start-up line before it: the encoder
  // keeps the STARTUP_LINES_KEPT lines after a start-up line one by one, which a second range cannot know.
  const lineNos: number[] = [];
  const lastStart: number[] = [];
  const explicit: boolean[] = [];
  let startLine = -Infinity;
  for (let lineNo = 1; pos < got; lineNo++) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl === -1 || nl >= got) break; // the window's last line may be cut: never read
    const end = nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl;
    const outs = parser.push(buf.toString('utf8', pos, end), lineNo);
    for (const o of outs) {
      if ((o.kind === 'event' || o.kind === 'request') && o.time) {
        offsets.push(start + pos);
        minutes.push(Math.floor(o.time.ms / 60_000));
        lineNos.push(lineNo);
        lastStart.push(startLine);
        explicit.push(o.time.basis === 'explicit');
        break;
      }
    }
    if (outs.some((o) => o.kind === 'event' && o.event === 'etcd.start')) startLine = lineNo;
    pos = nl + 1;
  }
  // Among lines that carry their zone, a line read in an assumed zone is hours off (capnslog's grpc WARNING
  // among zap lines): the seam is chosen by the others.
  if (explicit.includes(true) && explicit.includes(false)) {
    for (const a of [offsets, minutes, lineNos, lastStart]) {
      const kept = a.filter((_, i) => explicit[i]);
      a.length = 0;
      a.push(...kept);
    }
  }
  for (let i = SEAM_CLEAN; i + SEAM_CLEAN <= minutes.length; i++) {
    const m = minutes[i]!;
    // (A start-up line just before the window is not seen: the seam is never among the window's first lines.)
    if (m !== minutes[i - 1]! + 1 || lineNos[i]! - lastStart[i]! <= STARTUP_LINES_KEPT || lineNos[i]! <= STARTUP_LINES_KEPT + 1) continue;
    let clean = true;
    for (let j = i - SEAM_CLEAN; j < i && clean; j++) clean = minutes[j]! < m;
    for (let j = i; j < i + SEAM_CLEAN && clean; j++) clean = minutes[j]! === m || minutes[j]! === m + 1;
    if (clean) return offsets[i]!;
  }
  return null;
}
