// Lines → kind → parsed records → row parameters: everything of a text input's ingest except the
// database. It runs on the main thread (stdin, small files) or in the parse worker (large files), so
// both paths share one implementation; only how batches reach the RowSink differs.
import type { ParseContext, ParseIssue, ParseOutput, RecordTime } from '../model.js';
import type { LineBatch, LineSource } from './lines.js';
import { detectTextKind, DETECT_SAMPLE_LINES, type TextKind } from './detect.js';
import { createParser } from './parsers.js';
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
}

export interface RowConsumer {
  /** Called once the kind is known, before the first batch. */
  begin(kind: TextKind): void | Promise<void>;
  batch(b: RowBatch): void | Promise<void>;
}

export interface Produced {
  kind: TextKind;
  totals: SourceTotals;
  /** The first few skipped lines, for the summary. */
  shown: ParseIssue[];
}

const SHOWN_ISSUES = 5;
const SAMPLE_CHARS = 512 * 1024;

export async function produceRows(src: LineSource, opts: ProduceOptions, out: RowConsumer): Promise<Produced> {
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
  while (sample.length < DETECT_SAMPLE_LINES && sampledChars < SAMPLE_CHARS) {
    const n = await batches.next();
    if (n.done) break;
    pending.push(n.value);
    const { lines, firstLineNo } = n.value;
    for (let i = 0; i < lines.length && sample.length < DETECT_SAMPLE_LINES && sampledChars < SAMPLE_CHARS; i++) {
      sample.push({ text: lines[i]!, lineNo: firstLineNo + i });
      sampledChars += lines[i]!.length;
    }
  }
  const kind = opts.kind ?? detect(opts.path, sample);
  await out.begin(kind);

  const parser = createParser(kind, opts.ctx);
  const enc = new RowEncoder();
  const shown: ParseIssue[] = [];
  const store = (outs: ParseOutput[]): void => {
    for (const o of outs) {
      if (o.kind === 'issue') {
        enc.issue(o);
        if (shown.length < SHOWN_ISSUES) shown.push(o);
        continue;
      }
      // etcdctl output carries no time of its own: a marker line, else --at, else the file's mtime.
      if (o.time === null && o.kind !== 'request' && (o.kind !== 'event' || o.event.startsWith('etcdctl.'))) o.time = opts.fallback;
      enc.record(o);
    }
  };
  const parseBatch = async (b: LineBatch): Promise<void> => {
    const { lines, firstLineNo } = b;
    for (let i = 0; i < lines.length; i++) store(parser.push(lines[i]!, firstLineNo + i));
    await out.batch(enc.take(src.bytesRead()));
  };
  for (const b of pending) await parseBatch(b);
  pending.length = 0;
  for (let n = await batches.next(); !n.done; n = await batches.next()) await parseBatch(n.value);
  store(parser.end());
  await out.batch(enc.take(src.bytesRead(), true));
  return { kind, totals: enc.totals(), shown };
}

function detect(path: string, sample: { text: string; lineNo: number }[]): TextKind {
  const nul = sample.findIndex((l) => l.text.includes('\u0000'));
  if (nul !== -1) {
    throw new InputError(`${path}:${sample[nul]!.lineNo}: binary data (NUL byte), not a log or etcdctl output`);
  }
  const d = detectTextKind(sample.map((l) => l.text));
  if (d.kind) return d.kind;
  const first = sample.find((l) => l.text.trim() !== '');
  throw new InputError(first
    ? `${path}:${first.lineNo}: cannot tell what this input holds (${d.evidence}); first line: ${excerpt(first.text)}; use --kind`
    : `${path}: empty input`);
}

export function excerpt(s: string, n = 80): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
}
