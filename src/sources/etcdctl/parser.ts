// etcdctl output as users paste or sample it: `endpoint status`, `endpoint health`, `snapshot status`,
// `alarm list` and `member list`, in any -w format (table, json, simple, fields), with optional
// timestamp marker lines (`date -Is`, `date`, epoch seconds) that date the samples after them.
import type { ParseContext, ParseIssue, ParseOutput, RecordTime, StreamParser } from '../../model.js';
import { asciiTableLine, TableReader, type TableSink } from './table.js';
import { JsonScanner, recordsFromJsonText } from './json.js';
import { NumberRangeError } from '../../units/integers.js';
import { isFieldsBlockComplete, isSnapshotFields, parseFieldLine, recordsFromFields, type FieldEntry } from './fields.js';
import { isSimpleOutput, parseMarkerLine, parseSimpleLine, MAINTENANCE_LINES } from './simple.js';
import { ShellSession } from './session.js';

export interface EtcdctlParserOptions {
  /** Pasted transcripts mix prose and output: ignore lines that belong to no output. */
  tolerant?: boolean;
}

interface JsonState {
  scanner: JsonScanner;
  lines: { text: string; line: number }[];
}

/** Longest JSON document we wait for before calling it truncated (a stray `{` in prose). */
const MAX_JSON_LINES = 5000;
// Inside a pretty-printed document every line starts with one of these.
// A Go panic's trace: `[signal SIGSEGV…`, `goroutine 1 [running]:`, frames and their `\tfile:line`.
const GO_TRACE = /^(?:$|\[signal |goroutine \d+ |\t|created by |exit status |[\w./*()-]+\(.*\)$)/;
const JSON_CONTINUATION = /^["{}[\],\-0-9tfn]/;

/** etcdctl output, with the shell commands of a pasted session read around it (session.ts). */
export function createEtcdctlParser(ctx: ParseContext, opts: EtcdctlParserOptions = {}): StreamParser {
  return new ShellSession(ctx, createEtcdctlOutputParser(ctx, opts));
}

/** etcdctl output alone: the parser behind a session (the transcript parser puts its own session around it). */
export function createEtcdctlOutputParser(ctx: ParseContext, opts: EtcdctlParserOptions = {}): StreamParser {
  return new EtcdctlParser(ctx, opts.tolerant ?? false);
}

class EtcdctlParser implements StreamParser {
  private marker: RecordTime | null = null;
  private table: TableReader | null = null;
  private json: JsonState | null = null;
  private fields: FieldEntry[] = [];
  private inGoPanic = false;
  /** Re-reading the lines of a truncated JSON document: already reported, so no further issues. */
  private replaying = false;

  constructor(private readonly ctx: ParseContext, private readonly tolerant: boolean) {}

  push(raw: string, lineNo: number): ParseOutput[] {
    const out: ParseOutput[] = [];
    try {
      this.feed(raw.replace(/\r$/, ''), lineNo, out);
    } catch (err) {
      // A bug must not stop an ingest: report the line like any unusable one.
      out.push(issue(lineNo, `internal parser error: ${String(err).slice(0, 80)}`, raw));
    }
    return out;
  }

  end(): ParseOutput[] {
    const out: ParseOutput[] = [];
    try {
      this.closeAll(out);
    } catch (err) {
      out.push(issue(0, `internal parser error: ${String(err).slice(0, 80)}`, ''));
    }
    return out;
  }

  private feed(raw: string, lineNo: number, out: ParseOutput[]): void {
    if (this.json) return this.feedJson(raw, lineNo, out);
    if (this.inGoPanic && GO_TRACE.test(raw)) return;
    this.inGoPanic = false;
    const line = asciiTableLine(raw.trim());
    if (this.table) {
      const next = this.table.push(line, lineNo, this.sink(out));
      if (next !== 'not-mine') {
        this.table = next;
        return;
      }
      this.closeTable(out);
    }
    if (this.fields.length > 0) {
      const entry = parseFieldLine(line, lineNo);
      if (entry) return this.addField(entry, out);
      this.closeFields(out);
      if (line === '') return;
    }
    this.feedFresh(raw, line, lineNo, out);
  }

  /** A line outside any open block. */
  private feedFresh(raw: string, line: string, lineNo: number, out: ParseOutput[]): void {
    if (line === '') return;
    if (line.startsWith('|') || line.startsWith('+')) {
      const opened = TableReader.open(line);
      if (opened) this.table = opened;
      else this.unknown(lineNo, line.startsWith('|') ? 'table row without a known header' : 'not etcdctl output', raw, out);
      return;
    }
    if ((line.startsWith('{') || line.startsWith('[')) && !this.replaying) {
      this.json = { scanner: new JsonScanner(), lines: [] };
      return this.feedJson(line, lineNo, out);
    }
    const entry = parseFieldLine(line, lineNo);
    if (entry) return this.addField(entry, out);
    const simple = parseSimpleLine(line, lineNo);
    if (simple) {
      for (const r of simple) out.push(r.kind === 'issue' ? issue(lineNo, r.reason, raw) : this.stamp(r));
      return;
    }
    if (line.startsWith('panic: ')) {
      // 3.4 `alarm list -w fields` dereferences a nil header: one issue for the panic and its trace.
      this.inGoPanic = true;
      return this.unknown(lineNo, 'etcdctl panicked', raw, out);
    }
    const marker = parseMarkerLine(line, this.ctx);
    if (marker) {
      this.marker = marker;
      return;
    }
    this.unknown(lineNo, 'not etcdctl output', raw, out);
  }

  // ---- tables ----------------------------------------------------------------------------------

  private closeTable(out: ParseOutput[]): void {
    this.table?.close(this.sink(out));
    this.table = null;
  }

  private sink(out: ParseOutput[]): TableSink {
    return {
      record: (r) => out.push(this.stamp(r)),
      issue: (line, reason, excerpt) => out.push(issue(line, reason, excerpt)),
      unknown: (line, reason, excerpt) => this.unknown(line, reason, excerpt, out),
    };
  }

  // ---- JSON ------------------------------------------------------------------------------------

  private feedJson(text: string, lineNo: number, out: ParseOutput[]): void {
    const j = this.json!;
    if (j.lines.length > 0 && (!JSON_CONTINUATION.test(text.trim()) || j.lines.length >= MAX_JSON_LINES)) {
      return this.abortJson(out, text, lineNo);
    }
    j.lines.push({ text, line: lineNo });
    const end = j.scanner.feed(text);
    if (end < 0) {
      if (j.scanner.brokenAtLineEnd) this.abortJson(out);
      return;
    }
    const first = j.lines[0]!;
    const doc = j.lines.map((l) => l.text).join('\n');
    const cut = doc.length - text.length + end;
    this.json = null;
    this.emitJson(doc.slice(0, cut), first.line, first.text, out);
    // Several documents may share a line: `[…][…]` from a sampling loop without newlines.
    const rest = text.slice(end).trim();
    if (rest !== '') this.feedFresh(rest, rest, lineNo, out);
  }

  private emitJson(doc: string, line: number, excerpt: string, out: ParseOutput[]): void {
    const recs = this.rangeChecked(() => recordsFromJsonText(doc, line), line, excerpt, out);
    if (recs === undefined) return;
    if (recs === 'invalid') this.unknown(line, 'invalid JSON', excerpt, out);
    else if (recs === null) this.unknown(line, 'JSON of no known etcdctl shape', excerpt, out);
    else for (const r of recs) out.push(this.stamp(r));
  }

  /**
   * The document never closed: one issue for it, then its other lines are read afresh, quietly and
   * without starting another document, in case a stray `{` in prose swallowed real output.
   */
  private abortJson(out: ParseOutput[], next?: string, nextLine?: number): void {
    const j = this.json!;
    this.json = null;
    const first = j.lines[0]!;
    this.unknown(first.line, 'truncated JSON', first.text, out);
    this.replaying = true;
    try {
      for (const l of j.lines.slice(1)) this.feed(l.text, l.line, out);
    } finally {
      this.replaying = false;
    }
    if (next !== undefined && nextLine !== undefined) this.feed(next, nextLine, out);
  }

  // ---- fields ----------------------------------------------------------------------------------

  private addField(entry: FieldEntry, out: ParseOutput[]): void {
    // A snapshot status block ends without a blank line: any field but 3.6's "Version" starts the next.
    if (entry.key !== 'Version' && isSnapshotFields(this.fields)) this.closeFields(out);
    this.fields.push(entry);
    if (isFieldsBlockComplete(this.fields)) this.closeFields(out);
  }

  private closeFields(out: ParseOutput[]): void {
    const entries = this.fields;
    if (entries.length === 0) return;
    this.fields = [];
    const at = (field: string): number => entries.find((e) => e.key === field)?.line ?? entries[0]!.line;
    const recs = this.rangeChecked(() => recordsFromFields(entries), at, `"${entries[0]!.key}" : ${entries[0]!.value}`, out);
    if (recs === undefined) return;
    if (recs === null) this.unknown(entries[0]!.line, 'fields block of no known etcdctl shape', `"${entries[0]!.key}" : ${entries[0]!.value}`, out);
    else for (const r of recs) out.push(this.stamp(r));
  }

  // ---- shared ----------------------------------------------------------------------------------

  private closeAll(out: ParseOutput[]): void {
    if (this.json) this.abortJson(out);
    if (this.table) this.closeTable(out);
    this.closeFields(out);
  }

  /** Output carries no time of its own (but etcdctl's zap warnings do): the last marker line's. */
  private stamp<T extends { time: RecordTime | null }>(rec: T): T {
    rec.time ??= this.marker;
    return rec;
  }

  /**
   * Runs a reader; a number out of range for its field (units/integers.ts) becomes one skipped-line issue
   * naming the field, and undefined is returned. `line` may depend on the field (a fields block's entry).
   */
  private rangeChecked<T>(read: () => T, line: number | ((field: string) => number), excerpt: string, out: ParseOutput[]): T | undefined {
    try {
      return read();
    } catch (e) {
      if (!(e instanceof NumberRangeError)) throw e;
      const at = typeof line === 'number' ? line : line(e.field);
      if (!this.replaying) out.push(issue(at, `number out of range: ${e.message}`, excerpt));
      return undefined;
    }
  }

  private unknown(line: number, reason: string, excerpt: string, out: ParseOutput[]): void {
    if (!this.tolerant && !this.replaying) out.push(issue(line, reason, excerpt));
  }
}

function issue(line: number, reason: string, excerpt: string): ParseIssue {
  return { kind: 'issue', line, reason, excerpt: excerpt.slice(0, 200) };
}

const DETECT = [
  /^\+(?:-+\+){3,}$/, // a tablewriter border with three or more columns
  /^\|\s*(?:ENDPOINT|HASH|ID)\s*\|/, // the header of a status, health, snapshot or member table
  /^\|\s*\S+\s*\|\s*[0-9a-f]{16}\s*\|/, // a status row
  /^\|\s*\S+:\d+\s*\|\s*(?:true|false)\s*\|/, // a health row
  /^\|\s*[0-9a-f]{1,8}\s*\|\s*\d+\s*\|\s*\d+\s*\|/, // a snapshot status row
  /^\|\s*[0-9a-f]{1,16}\s*\|\s*(?:started|unstarted)\s*\|/, // a member row
  /^\[\{"Endpoint":/, /^\[\{"endpoint":/, /^\{"(?:header|alarms|members)":[{[]/, /^\{"hash":\d+,"revision":/,
  /^"(?:ClusterID|MemberID|Endpoint|Health|Took|Hash|Keys|Size|AlarmType|DBSize|RaftIndex)" : /,
];

/** Content-based detection: is this line something etcdctl prints? */
export function looksLikeEtcdctlOutput(line: string): boolean {
  const t = asciiTableLine(line.trim());
  return DETECT.some((re) => re.test(t)) || isSimpleOutput(t) || MAINTENANCE_LINES.some((re) => re.test(t));
}
