// etcdctl `-w table` output (olekukonko/tablewriter) and the row → record builders that the
// simple format shares: `-w simple` prints the very same rows joined with ", ".
import type {
  HealthSample, MemberRecord, SnapshotStatusRecord, StatusSample,
} from '../../model.js';
import { parseHumanSize, type ParsedSize } from '../../units/sizes.js';
import { countFromText, NumberRangeError } from '../../units/integers.js';
import { parseGoDurationMs } from '../../units/time.js';

export type TableKind = 'status' | 'health' | 'snapshot' | 'member';
export type RowFormat = 'table' | 'simple';
export type RowRecord = StatusSample | HealthSample | SnapshotStatusRecord | MemberRecord;
/** A row that could not be used: the reason becomes a ParseIssue. */
export interface RowProblem { problem: string }

// Debian's etcd-client 3.5.30 (built against Debian's newer tablewriter) draws its tables with box
// characters and does not wrap long cells (test/fixtures/etcd-3.5.30/endpoint-status.table.txt):
//   ┌────────────────────────┬──────────────────┬─────────┬
//   │        ENDPOINT        │        ID        │ VERSION │
//   ├────────────────────────┼──────────────────┼─────────┼
//   └────────────────────────┴──────────────────┴─────────┴
// Such a line is read as the ASCII table line it stands for.
const BOX_BORDER = /^[┌├└][─┬┼┴┌┐├┤└┘]+$/;

/** A box-drawn table line → its ASCII form (`+---+`, `| a |`); any other line unchanged. */
export function asciiTableLine(line: string): string {
  const c = line.charCodeAt(0);
  if (c === 0x2502) return line.replaceAll('│', '|'); // │
  if ((c === 0x250c || c === 0x251c || c === 0x2514) && BOX_BORDER.test(line)) {
    return line.replace(/[─]/g, '-').replace(/[┬┼┴┌┐├┤└┘]/g, '+');
  }
  return line;
}

/** `+----------+----------+` (tablewriter borders; patronictl's `+ Cluster: … ---+` is not one). */
export function isTableBorder(line: string): boolean {
  return /^\+(?:[-=]+\+)+$/.test(line);
}

/** `| a | b |` → ['a', 'b']; null when the line is not a table row. */
export function splitTableRow(line: string): string[] | null {
  if (!line.startsWith('|') || line.length < 2) return null;
  const inner = line.endsWith('|') ? line.slice(1, -1) : line.slice(1);
  return inner.split('|').map((c) => c.trim());
}

/** The header decides the table: columns are found by name, never by position or width. */
export function tableKindOf(header: readonly string[]): TableKind | null {
  const has = (name: string) => header.includes(name);
  if (has('ENDPOINT') && has('HEALTH')) return 'health';
  if (has('ENDPOINT') && (has('DB SIZE') || has('RAFT INDEX'))) return 'status';
  if (has('HASH') && has('TOTAL KEYS')) return 'snapshot';
  if (has('ID') && has('PEER ADDRS')) return 'member';
  return null;
}

/** The column whose blank cell marks a wrapped continuation row. */
export function keyColumnOf(kind: TableKind): string {
  return kind === 'snapshot' ? 'HASH' : kind === 'member' ? 'ID' : 'ENDPOINT';
}

// ---- reading a table line by line -------------------------------------------------------------

/** Where a TableReader hands its results; `unknown` is for lines of no known output. */
export interface TableSink {
  record(r: RowRecord): void;
  issue(line: number, reason: string, excerpt: string): void;
  unknown(line: number, reason: string, excerpt: string): void;
}

const upper = (cells: string[]) => cells.map((c) => c.toUpperCase());

/**
 * One table: top border, header, separator, rows, bottom border. It holds a row back until the
 * next row or border shows whether wrapped continuation rows follow.
 */
export class TableReader {
  private pending: { cells: string[]; line: number } | null = null;

  private constructor(
    private kind: TableKind | null, // null: another tool's table (patronictl list), skipped
    private header: string[],
    private phase: 'header' | 'rows',
  ) {}

  /** A top border, or a known header pasted without its border; null for anything else. */
  static open(line: string): TableReader | null {
    if (isTableBorder(line)) return new TableReader(null, [], 'header');
    const cells = splitTableRow(line);
    const kind = cells && tableKindOf(upper(cells));
    return kind ? new TableReader(kind, upper(cells!), 'rows') : null;
  }

  /** The reader for the next line (this one, or a new table), or 'not-mine' to close this one. */
  push(line: string, lineNo: number, sink: TableSink): TableReader | null | 'not-mine' {
    // patronictl's `+ Cluster: pg_cluster (7146…) ---+----+` belongs to a skipped table.
    if (isTableBorder(line) || (this.kind === null && line.startsWith('+'))) {
      if (this.phase === 'rows' && this.pending) return this.close(sink);
      if (this.header.length > 0) this.phase = 'rows';
      return this;
    }
    const cells = splitTableRow(line);
    if (!cells) return 'not-mine';
    if (this.phase === 'header' && this.header.length === 0) {
      this.header = upper(cells);
      this.kind = tableKindOf(this.header);
      if (!this.kind) sink.unknown(lineNo, 'table with no etcdctl header', line);
      return this;
    }
    if (tableKindOf(upper(cells))) {
      // The next table's header: its top border was taken for this one's bottom border.
      this.close(sink);
      return TableReader.open(line);
    }
    this.phase = 'rows';
    if (this.kind) this.pushRow(this.kind, cells, lineNo, line, sink);
    return this;
  }

  private pushRow(kind: TableKind, cells: string[], lineNo: number, line: string, sink: TableSink): void {
    if (cells.length !== this.header.length) {
      return sink.issue(lineNo, `table row has ${cells.length} cells, header has ${this.header.length}`, line);
    }
    // tablewriter wraps cells longer than 30 characters at spaces onto rows whose other cells are
    // blank: `| | | | | | | | | | alarm:NOSPACE |` continues the row above.
    if (cells[this.header.indexOf(keyColumnOf(kind))] === '') {
      if (!this.pending) return sink.issue(lineNo, 'continuation row without a row above', line);
      this.pending.cells = this.pending.cells.map((c, i) => (cells[i] ? `${c} ${cells[i]}`.trim() : c));
      return;
    }
    this.flush(sink);
    this.pending = { cells, line: lineNo };
  }

  private flush(sink: TableSink): void {
    if (!this.kind || !this.pending) return;
    const { cells, line } = this.pending;
    this.pending = null;
    const rec = recordFromRow(this.kind, new Map(this.header.map((h, i) => [h, cells[i] ?? ''])), line, 'table');
    if ('problem' in rec) sink.issue(line, rec.problem, `| ${cells.join(' | ')} |`);
    else sink.record(rec);
  }

  /** Hands over the row held back; the table is done. */
  close(sink: TableSink): null {
    this.flush(sink);
    return null;
  }
}

// ---- cell values -------------------------------------------------------------------------------

/** A size cell: exact bytes (`7700480`) or humanized (`7.7 MB`); bytes beyond 2^53-1 throw NumberRangeError. */
function parseSizeCell(text: string): ParsedSize | null {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return { bytes: countFromText(t, 'value'), approx: false };
  const size = parseHumanSize(t);
  if (size !== null && !Number.isSafeInteger(size.bytes)) throw new NumberRangeError('value', t, 'is beyond 2^53-1 bytes and cannot be kept exactly');
  return size;
}

export function parseBoolText(text: string): boolean | null {
  return text === 'true' ? true : text === 'false' ? false : null;
}

/**
 * A count cell (revision, raft term/index, keys). Not a number → null (a bad cell); a number out of range
 * (beyond 2^53-1, negative, 1.8e22) throws NumberRangeError, which CellReader turns into a problem naming
 * the column instead of a rounded value.
 */
export function parseIntText(text: string): number | null {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  return /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(text) ? countFromText(text, 'value') : null;
}

/** uint64 decimal (as JSON, fields and alarm strings print ids) → hex as tables print them. */
export function hexFromDecimal(text: string): string | null {
  if (!/^\d{1,20}$/.test(text)) return null;
  const v = BigInt(text);
  return v < 2n ** 64n ? v.toString(16) : null;
}

/**
 * The ERRORS cell is `strings.Join(errors, ", ")` and each alarm error is proto text with a trailing
 * space, e.g. `memberID:1820643873094231375 alarm:NOSPACE `. An error may itself contain ", ", so we
 * split only where the next error starts with a known prefix.
 */
export function splitErrors(text: string, separator: RegExp = /\s*,\s+(?=memberID:|etcdserver:)/): string[] {
  const t = text.trim();
  if (t === '') return [];
  return t.split(separator).map((s) => s.trim()).filter((s) => s !== '');
}

/** Alarm names named in error strings, deduplicated, in order of appearance. */
export function alarmsIn(errors: readonly string[]): string[] {
  const found = new Set<string>();
  for (const e of errors) for (const m of e.matchAll(/\balarm:([A-Z_]+)/g)) found.add(m[1]!);
  return [...found];
}

/** tablewriter/simple print `%x` without padding; the model keeps 8 digits. */
export function padHash(hex: string): string {
  return hex.toLowerCase().padStart(8, '0');
}

// ---- rows → records ----------------------------------------------------------------------------

type Cells = ReadonlyMap<string, string>;

/** Builds the record for one (merged) row; `cells` maps header names to cell text. */
export function recordFromRow(kind: TableKind, cells: Cells, line: number, format: RowFormat): RowRecord | RowProblem {
  switch (kind) {
    case 'status': return statusFromRow(cells, line, format);
    case 'health': return healthFromRow(cells, line, format);
    case 'snapshot': return snapshotFromRow(cells, line, format);
    case 'member': return memberFromRow(cells, line);
  }
}

/** Reads typed cells and collects the name of the first one that does not parse. */
class CellReader {
  bad: string | null = null;
  constructor(private readonly cells: Cells) {}
  text(name: string): string | null {
    const v = this.cells.get(name);
    return v === undefined || v === '' ? null : v;
  }
  typed<T>(name: string, parse: (t: string) => T | null): T | null {
    const t = this.text(name);
    if (t === null) return null;
    let v: T | null;
    try {
      v = parse(t);
    } catch (e) {
      if (!(e instanceof NumberRangeError)) throw e;
      this.bad ??= `number out of range: ${name} ${e.text.slice(0, 40)} ${e.why}`;
      return null;
    }
    if (v === null) this.bad ??= `bad ${name} cell: ${t.slice(0, 40)}`;
    return v;
  }
}

function statusFromRow(cells: Cells, line: number, format: RowFormat): StatusSample | RowProblem {
  const r = new CellReader(cells);
  const endpoint = r.text('ENDPOINT');
  const memberId = r.typed('ID', (t) => (/^[0-9a-f]{1,16}$/.test(t) ? t : null));
  const size = r.typed('DB SIZE', parseSizeCell);
  const inUse = r.typed('IN USE', parseSizeCell);
  const errors = splitErrors(r.text('ERRORS') ?? '');
  const rec: StatusSample = {
    kind: 'status', line, time: null, format, endpoint: endpoint ?? '', memberId, clusterId: null,
    version: r.text('VERSION'),
    dbSizeBytes: size?.bytes ?? null, dbSizeApprox: size?.approx ?? false,
    dbSizeInUseBytes: inUse?.bytes ?? null, revision: null,
    raftTerm: r.typed('RAFT TERM', parseIntText),
    raftIndex: r.typed('RAFT INDEX', parseIntText),
    raftAppliedIndex: r.typed('RAFT APPLIED INDEX', parseIntText),
    isLeader: r.typed('IS LEADER', parseBoolText), leaderId: null,
    isLearner: r.typed('IS LEARNER', parseBoolText),
    errors, alarms: alarmsIn(errors),
  };
  // 3.6 columns (etcdctl/ctlv3/command/printer.go makeEndpointStatusTable on release-3.6):
  // STORAGE VERSION, IN USE, PERCENTAGE NOT IN USE, QUOTA, DOWNGRADE TARGET VERSION, DOWNGRADE ENABLED.
  if (cells.has('QUOTA')) rec.dbSizeQuotaBytes = r.typed('QUOTA', parseSizeCell)?.bytes ?? null;
  if (cells.has('STORAGE VERSION')) rec.storageVersion = r.text('STORAGE VERSION') ?? '';
  if (endpoint === null) return { problem: 'status row without ENDPOINT' };
  return r.bad !== null ? { problem: r.bad } : rec;
}

function healthFromRow(cells: Cells, line: number, format: RowFormat): HealthSample | RowProblem {
  const r = new CellReader(cells);
  const endpoint = r.text('ENDPOINT');
  const healthy = r.typed('HEALTH', parseBoolText);
  const tookMs = r.typed('TOOK', parseGoDurationMs);
  if (endpoint === null || healthy === null) return { problem: r.bad ?? 'health row without ENDPOINT or HEALTH' };
  if (r.bad !== null) return { problem: r.bad };
  return { kind: 'health', line, time: null, format, endpoint, healthy, tookMs, error: r.text('ERROR') };
}

function snapshotFromRow(cells: Cells, line: number, format: RowFormat): SnapshotStatusRecord | RowProblem {
  const r = new CellReader(cells);
  const hash = r.typed('HASH', (t) => (/^[0-9a-f]{1,8}$/.test(t) ? padHash(t) : null));
  const revision = r.typed('REVISION', parseIntText);
  const totalKeys = r.typed('TOTAL KEYS', parseIntText);
  const size = r.typed('TOTAL SIZE', parseSizeCell);
  if (hash === null || revision === null || totalKeys === null || size === null) {
    return { problem: r.bad ?? 'snapshot row with an empty cell' };
  }
  const rec: SnapshotStatusRecord = {
    kind: 'snapshot-status', line, time: null, format, hash, revision, totalKeys,
    totalSizeBytes: size.bytes, totalSizeApprox: size.approx,
  };
  // etcdutl 3.6 adds VERSION (etcdutl/etcdutl/printer.go makeDBStatusTable, release-3.6) and counts
  // TOTAL KEYS as live user keys (etcdutl/snapshot/v3_snapshot.go Status: len(seenKeys)).
  if (cells.has('VERSION')) {
    rec.version = r.text('VERSION') ?? '';
    rec.totalKeysMeaning = 'live-keys';
  }
  return rec;
}

function memberFromRow(cells: Cells, line: number): MemberRecord | RowProblem {
  const r = new CellReader(cells);
  const memberId = r.typed('ID', (t) => (/^[0-9a-f]{1,16}$/.test(t) ? t : null));
  const isLearner = r.typed('IS LEARNER', parseBoolText);
  if (memberId === null) return { problem: r.bad ?? 'member row without ID' };
  if (r.bad !== null) return { problem: r.bad };
  const urls = (name: string) => (r.text(name) ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
  return {
    kind: 'member', line, time: null, memberId, status: r.text('STATUS'), name: r.text('NAME'),
    peerUrls: urls('PEER ADDRS'), clientUrls: urls('CLIENT ADDRS'), isLearner,
  };
}
