// Lines → kind → parsed records → row parameters: everything of a text input's ingest except the
// database. It runs on the main thread (stdin, small files) or in the parse worker (large files), so
// both paths share one implementation; only how batches reach the RowSink differs.
import type { CarriedState, OuterContext, ParseContext, ParseIssue, ParseOutput, RecordTime } from '../model.js';
import { MAX_LINE_BYTES, type LineBatch, type LineSource, type OverlongLine } from './lines.js';
import { detectTextKind, DETECT_SAMPLE_LINES, NotAnInputError, type TextKind } from './detect.js';
import { createParser } from './parsers.js';
import { applyOuter, createUnwrapper, detectEnvelope, type InnerLine, type Unwrapper } from '../sources/envelope/index.js';
import { InputError } from '../errors.js';
import { RowEncoder, type RowBatch, type SourceTotals } from '../store/rows.js';

export interface ProduceOptions {
  /** For messages only. */
  path: string;
  /** --kind, or null to detect from the first lines. */
  kind: TextKind | null;
  ctx: ParseContext;
  /** The time of etcdctl output without a timestamp line (--at, else the file's mtime). */
  fallback: RecordTime;
  /** `ingest --keep-raw`: a row per line, no per-minute groups (store/row-groups.ts). */
  keepRaw?: boolean;
  /**
   * The second byte range of a split parse (parse-split.ts): the kind and context the first range found, and
   * the parser state to start from. No detection sample, no wrapper.
   */
  fixed?: { kind: TextKind; ctx: ParseContext; seed: CarriedState };
}

/** What the first range of a split parse needs to know once the first lines are read (parse-split.ts). */
export interface SampleInfo {
  kind: TextKind;
  envelope: string | null;
  /** The context the parser was made with (the year of the lines applied). */
  ctx: ParseContext;
  /** The parser's carried state after the sample, or null for a parser that has none. */
  carried: CarriedState | null;
  /** The byte offset read up to so far: a seam must lie past it. */
  position: number;
}

export interface RowConsumer {
  /** Called once the kind is known, before the first batch. */
  begin(kind: TextKind): void | Promise<void>;
  batch(b: RowBatch): void | Promise<void>;
}

export interface Produced {
  kind: TextKind;
  /** The wrapper taken off every line (`cri`, `journald-json`, …), or null. */
  envelope: string | null;
  totals: SourceTotals;
  /** The first few skipped lines, for the summary. */
  shown: ParseIssue[];
  /** The number of the last line read (firstLineNo - 1 when none). */
  lastLineNo: number;
  /** The parser's carried state at the end, and the last line the encoder keeps one by one (parse-split.ts). */
  carried: CarriedState | null;
  keepUntil: number;
}

export const SHOWN_ISSUES = 5;
const SAMPLE_CHARS = 512 * 1024;

/** `onSample`: called once the detection sample is parsed, before the rest is read (parse-split.ts). */
export async function produceRows(src: LineSource, opts: ProduceOptions, out: RowConsumer,
  onSample?: (info: SampleInfo) => void | Promise<void>): Promise<Produced> {
  // A read that fails mid-file (a damaged gzip stream, an I/O error) is named by how far it got.
  const lines = src.batches();
  let linesRead = 0;
  const batches = (async function* () {
    try {
      for await (const b of lines) {
        linesRead = b.firstLineNo + b.lines.length - 1;
        yield b;
      }
    } catch (e) {
      throw new InputError(`${opts.path}: read failed after line ${linesRead} (${src.bytesRead()} bytes read): ${(e as Error).message}`);
    }
  })();
  // Sample the first lines for detection, then replay them. Whole batches are read; the lines past
  // the sample are kept in `pending` and parsed after it.
  const sample: { text: string; lineNo: number }[] = [];
  const pending: LineBatch[] = [];
  let sampledChars = 0;
  while (!opts.fixed && sample.length < DETECT_SAMPLE_LINES && sampledChars < SAMPLE_CHARS) {
    const n = await batches.next();
    if (n.done) break;
    pending.push(n.value);
    const { lines, firstLineNo } = n.value;
    for (let i = 0; i < lines.length && sample.length < DETECT_SAMPLE_LINES && sampledChars < SAMPLE_CHARS; i++) {
      sample.push({ text: lines[i]!, lineNo: firstLineNo + i });
      sampledChars += lines[i]!.length;
    }
  }
  // A wrapper (CRI, journald JSON, syslog, a shipper's prefix) is learnt from the raw sample; kind
  // detection and the parsers then see the inner lines. Without one, lines go straight to the parser
  // (the hot path: no object per line).
  const envelope = opts.fixed ? { format: null } : detectEnvelope(sample.map((l) => l.text));
  const unwrap: Unwrapper | null = envelope.format ? createUnwrapper(envelope.format, opts.ctx, sample.map((l) => l.text)) : null;
  const innerPending: InnerLine[][] = unwrap ? pending.map((b) => unwrapBatch(unwrap, b)) : [];
  const detectSample = unwrap
    ? innerPending.flat().slice(0, DETECT_SAMPLE_LINES).map((l) => ({ text: l.text, lineNo: l.lineNo }))
    : sample;
  const kind = opts.fixed?.kind ?? opts.kind ?? detect(opts.path, detectSample, envelope.format?.name ?? null, firstOverlong(pending));
  await out.begin(kind);

  const parserCtx = opts.fixed?.ctx ?? withYearOfLines(opts.ctx, detectSample);
  const parser = createParser(kind, parserCtx, opts.fixed?.seed);
  const enc = new RowEncoder({ aggregate: opts.keepRaw !== true });
  const shown: ParseIssue[] = [];
  const tzGiven = opts.ctx.tz !== null;
  const useFallback = kind !== 'transcript' || opts.fallback.basis === 'at';
  const store = (outs: ParseOutput[]): void => {
    for (const o of outs) {
      if (o.kind === 'issue') {
        enc.issue(o);
        if (shown.length < SHOWN_ISSUES) shown.push(o);
        continue;
      }
      // etcdctl output carries no time of its own: a marker line, else --at, else the file's mtime. A pasted
      // transcript's mtime says when it was saved, not when its commands ran: there only --at applies.
      // A file that has shown a shell prompt is a paste too, whatever detection called it.
      if (o.time === null && o.kind !== 'request' && (o.kind !== 'event' || o.event.startsWith('etcdctl.')) && useFallback
        && !(opts.fallback.basis === 'mtime' && parser.pasted?.() === true)) o.time = opts.fallback;
      enc.record(o);
    }
  };
  let lastOuter: OuterContext | null = null;
  const parseInner = async (inner: InnerLine[]): Promise<void> => {
    for (const l of inner) store(applyOuter(parser.push(l.text, l.lineNo, l.outer), (lastOuter = l.outer), tzGiven));
    await out.batch(enc.take(src.bytesRead()));
  };
  const parseBatch = async (b: LineBatch): Promise<void> => {
    if (b.overlong) store(b.overlong.map((o) => overlongIssue(o, b.firstLineNo)));
    if (unwrap) return parseInner(unwrapBatch(unwrap, b));
    const { lines, firstLineNo } = b;
    for (let i = 0; i < lines.length; i++) if (!b.overlong?.some((o) => o.index === i)) store(parser.push(lines[i]!, firstLineNo + i));
    await out.batch(enc.take(src.bytesRead()));
  };
  if (unwrap) {
    for (const [i, inner] of innerPending.entries()) {
      const b = pending[i]!;
      if (b.overlong) store(b.overlong.map((o) => overlongIssue(o, b.firstLineNo)));
      await parseInner(inner);
    }
  } else for (const b of pending) await parseBatch(b);
  pending.length = 0;
  innerPending.length = 0;
  await onSample?.({ kind, envelope: envelope.format?.name ?? null, ctx: parserCtx, carried: parser.carried?.() ?? null, position: src.position() });
  for (let n = await batches.next(); !n.done; n = await batches.next()) await parseBatch(n.value);
  if (unwrap) for (const l of unwrap.end()) store(applyOuter(parser.push(l.text, l.lineNo, l.outer), (lastOuter = l.outer), tzGiven));
  // A record the parser held until the end (a Patroni record with its traceback) gets the last wrapper's facts.
  store(unwrap ? applyOuter(parser.end(), lastOuter, tzGiven) : parser.end());
  await out.batch(enc.take(src.bytesRead(), true));
  return {
    kind, envelope: envelope.format?.name ?? null, totals: enc.totals(), shown, lastLineNo: linesRead,
    carried: parser.carried?.() ?? null, keepUntil: enc.keptUntil,
  };
}

// A date with its year inside the lines: `2020-05-03 02:31:13,685`, `2026-11-24T07:26:49.569+08:00`.
const DATED_RE = /\b((?:19|20)\d\d)-[01]\d-[0-3]\d[T ]\d\d:/;

/**
 * Year-less prefixes (journald short, BSD syslog) take their year from the reference time, which is the
 * file's mtime unless --at was given. A file whose own lines carry a year (Patroni's and capnslog's times
 * behind a journald prefix) must not get another year from when the file was copied: the reference
 * becomes the end of the latest year its sampled lines name, when that differs from the reference's.
 */
export function withYearOfLines(ctx: ParseContext, sample: readonly { text: string }[]): ParseContext {
  let year = 0;
  for (const l of sample) {
    const m = DATED_RE.exec(l.text);
    if (m) year = Math.max(year, Number(m[1]));
  }
  if (year === 0 || year === new Date(ctx.referenceMs).getUTCFullYear()) return ctx;
  return { ...ctx, referenceMs: Date.UTC(year, 11, 31, 23, 59, 59) };
}

function unwrapBatch(unwrap: Unwrapper, b: LineBatch): InnerLine[] {
  const out: InnerLine[] = [];
  for (let i = 0; i < b.lines.length; i++) {
    if (b.overlong?.some((o) => o.index === i)) continue;
    for (const l of unwrap.push(b.lines[i]!, b.firstLineNo + i)) out.push(l);
  }
  return out;
}

/** A line over MAX_LINE_BYTES (lines.ts): one skipped line with its true number and length. */
function overlongIssue(o: OverlongLine, firstLineNo: number): ParseIssue {
  return { kind: 'issue', line: firstLineNo + o.index, reason: `line of ${o.bytes} bytes is longer than the ${MAX_LINE_BYTES}-byte limit; not read`, excerpt: o.head.slice(0, 200) };
}

function firstOverlong(pending: readonly LineBatch[]): { lineNo: number; bytes: number } | null {
  for (const b of pending) {
    const o = b.overlong?.[0];
    if (o) return { lineNo: b.firstLineNo + o.index, bytes: o.bytes };
  }
  return null;
}

function detect(path: string, sample: { text: string; lineNo: number }[], envelope: string | null, overlong: { lineNo: number; bytes: number } | null): TextKind {
  const nul = sample.findIndex((l) => l.text.includes('\u0000'));
  if (nul !== -1) {
    throw new NotAnInputError(`${path}:${sample[nul]!.lineNo}: binary data (NUL byte), not a log or etcdctl output`, 'binary data');
  }
  const d = detectTextKind(sample.map((l) => l.text));
  if (d.kind) return d.kind;
  const first = sample.find((l) => l.text.trim() !== '');
  if (!first && overlong) {
    throw new NotAnInputError(`${path}:${overlong.lineNo}: a line of ${overlong.bytes} bytes, longer than ${MAX_LINE_BYTES}, and no other line: not a log or etcdctl output`, 'one over-long line');
  }
  throw first
    ? new NotAnInputError(`${path}:${first.lineNo}: cannot tell what this input holds (${envelope ? `inside a ${envelope} wrapper: ` : ''}${d.evidence}); first line: ${excerpt(first.text)}; use --kind`,
      `no log line or etcdctl output recognised in ${d.evidence.replace(/:.*/, '')}`)
    : new NotAnInputError(`${path}: empty input`, 'empty');
}

export function excerpt(s: string, n = 80): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
}
