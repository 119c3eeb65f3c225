// The etcd `key` bucket: one row per revision. Row key = main u64 BE | '_' | sub u64 BE (17 bytes),
// plus 't' for a tombstone (18 bytes); row value = mvccpb.KeyValue. Rows sort by revision, so the
// walk is chronological. Example tombstone row from tools/etcd-dump-db/README.md:
//   key="\x00\x00\x00\x00\x005@x_\x00\x00\x00\x00\x00\x00\x00\tt", value="\n\x153640412599896088633_9"
import { ProtobufError, decodeKeyValue, emptyKeyValue } from './protobuf.js';
import { KeyTable } from './key-table.js';
import { decodeUtf8Visible } from '../../units/bytes-text.js';
import { u64be, type LeafEntry } from './page.js';

const REV_BYTES = 17;
const SEPARATOR = 0x5f; // '_'
const TOMBSTONE = 0x74; // 't'

/** A `key` bucket row: its revision key and the decoded mvccpb.KeyValue (value size only). */
export interface KeyRevisionFields {
  main: number;
  sub: number;
  tombstone: boolean;
  /** The etcd key, bytes decoded as UTF-8. */
  key: string;
  /** As stored: 0 in tombstones, whose KeyValue carries only the key. */
  createRevision: number;
  modRevision: number;
  version: number;
  /** Decimal int64 lease id; null when none. */
  lease: string | null;
  valueSize: number;
}

/** One row of the `key` bucket, handed to onRevision. `value` is a view valid only during the call. */
export interface EtcdRevision extends KeyRevisionFields {
  /** A view into the page buffer (built on access): copy it to keep it. */
  readonly value: Buffer;
  /** bbolt row size: revision key bytes + KeyValue bytes. */
  rowBytes: number;
}

/** EtcdRevision with `value` as a getter, so rows whose value nobody reads cost no Buffer view. */
class RevisionRow implements EtcdRevision {
  constructor(
    readonly main: number,
    readonly sub: number,
    readonly tombstone: boolean,
    readonly key: string,
    readonly createRevision: number,
    readonly modRevision: number,
    readonly version: number,
    readonly lease: string | null,
    readonly valueSize: number,
    readonly rowBytes: number,
    private readonly page: Buffer,
    private readonly valueStart: number,
  ) {}

  get value(): Buffer {
    return this.page.subarray(this.valueStart, this.valueStart + this.valueSize);
  }
}

/** Per etcd key, over the rows still stored. */
export interface KeyAggregate {
  key: string;
  /** Rows held: puts + tombstones. */
  revisions: number;
  puts: number;
  tombstones: number;
  firstModRevision: number;
  lastModRevision: number;
  /** From the latest put row (null when the key has only tombstones here). */
  createRevision: number | null;
  version: number | null;
  lease: string | null;
  /** The latest row is a tombstone. */
  deleted: boolean;
  valueSizeMin: number | null;
  valueSizeAvg: number | null;
  valueSizeMax: number | null;
  /** Sum of bbolt row sizes (revision key + KeyValue bytes). */
  bytesHeld: number;
}

export interface KeyBucketTotals {
  revisions: number;
  puts: number;
  tombstones: number;
  /** Smallest and largest main revision seen (null for an empty bucket). */
  firstRevision: number | null;
  lastRevision: number | null;
  /** null when per-key aggregates were not collected. */
  distinctKeys: number | null;
  bytes: number;
}

/** Numbers only while counting (no null ↔ number field changes on the hot path). */
interface MutableAggregate {
  key: string;
  revisions: number;
  puts: number;
  tombstones: number;
  firstModRevision: number;
  lastModRevision: number;
  createRevision: number;
  version: number;
  lease: string | null;
  deleted: boolean;
  valueSizeMin: number;
  valueSizeMax: number;
  valueSizeSum: number;
  bytesHeld: number;
}

export type RowProblem = { reason: string };

/** Decodes rows and keeps per-key aggregates (when asked) without holding rows. */
export class KeyBucketReader {
  readonly totals: KeyBucketTotals = {
    revisions: 0, puts: 0, tombstones: 0, firstRevision: null, lastRevision: null, distinctKeys: 0, bytes: 0,
  };
  private readonly aggregates = new KeyTable<MutableAggregate>();
  private readonly kv = emptyKeyValue();

  constructor(
    private readonly onRevision: ((rev: EtcdRevision) => void) | undefined,
    private readonly collectKeys: boolean,
  ) {}

  /** Returns a problem for a row that is not a revision; the row is then left out of the figures. */
  readRow(entry: LeafEntry): RowProblem | null {
    const { page, keyStart, keyEnd, valueEnd } = entry;
    const buf = page.buf;
    const ksize = keyEnd - keyStart;
    if ((ksize !== REV_BYTES && ksize !== REV_BYTES + 1) || buf[keyStart + 8] !== SEPARATOR) {
      return { reason: `key bucket row ${entry.index} has a ${ksize}-byte key, not a revision` };
    }
    const tombstone = ksize === REV_BYTES + 1;
    if (tombstone && buf[keyStart + REV_BYTES] !== TOMBSTONE) {
      return { reason: `key bucket row ${entry.index} has an 18-byte key not ending in 't'` };
    }
    const main = u64be(buf, keyStart);
    const sub = u64be(buf, keyStart + 9);
    const kv = this.kv;
    try {
      decodeKeyValue(buf, keyEnd, valueEnd, kv);
    } catch (error) {
      if (error instanceof ProtobufError) return { reason: `key bucket row ${entry.index} (rev ${main}): ${error.message}` };
      throw error;
    }
    const agg = this.collectKeys ? this.aggregates.lookup(buf, kv.keyStart, kv.keyEnd, newAggregate) : null;
    const rev = new RevisionRow(
      main, sub, tombstone, agg !== null ? agg.key : decodeUtf8Visible(buf, kv.keyStart, kv.keyEnd), kv.createRevision,
      kv.modRevision, kv.version, kv.lease, kv.valueEnd - kv.valueStart, valueEnd - keyStart, buf, kv.valueStart,
    );
    this.count(rev);
    if (agg !== null) aggregate(agg, rev);
    this.onRevision?.(rev);
    return null;
  }

  private count(rev: RevisionRow): void {
    const t = this.totals;
    t.revisions++;
    if (rev.tombstone) t.tombstones++;
    else t.puts++;
    t.bytes += rev.rowBytes;
    if (t.firstRevision === null || rev.main < t.firstRevision) t.firstRevision = rev.main;
    if (t.lastRevision === null || rev.main > t.lastRevision) t.lastRevision = rev.main;
  }

  /** Aggregates sorted by key (byte order of the UTF-8 text, as etcd sorts keys). */
  keys(): KeyAggregate[] {
    this.totals.distinctKeys = this.collectKeys ? this.aggregates.size : null;
    const rows: KeyAggregate[] = [];
    for (const a of this.aggregates.values()) {
      const hasPut = a.puts > 0;
      const out: KeyAggregate = {
        key: a.key, revisions: a.revisions, puts: a.puts, tombstones: a.tombstones,
        firstModRevision: a.firstModRevision, lastModRevision: a.lastModRevision,
        createRevision: hasPut ? a.createRevision : null, version: hasPut ? a.version : null, lease: a.lease,
        deleted: a.deleted, valueSizeMin: hasPut ? a.valueSizeMin : null,
        valueSizeAvg: hasPut ? a.valueSizeSum / a.puts : null, valueSizeMax: hasPut ? a.valueSizeMax : null,
        bytesHeld: a.bytesHeld,
      };
      rows.push(out);
    }
    return rows.sort((a, b) => compareUtf8Order(a.key, b.key));
  }
}

function newAggregate(key: string): MutableAggregate {
  return {
    key, revisions: 0, puts: 0, tombstones: 0, firstModRevision: Number.MAX_SAFE_INTEGER, lastModRevision: -1,
    createRevision: -1, version: -1, lease: null, deleted: false,
    valueSizeMin: Number.MAX_SAFE_INTEGER, valueSizeMax: -1, valueSizeSum: 0, bytesHeld: 0,
  };
}

function aggregate(agg: MutableAggregate, rev: RevisionRow): void {
  agg.revisions++;
  agg.bytesHeld += rev.rowBytes;
  if (rev.main < agg.firstModRevision) agg.firstModRevision = rev.main;
  if (rev.main > agg.lastModRevision) agg.lastModRevision = rev.main;
  agg.deleted = rev.tombstone;
  if (rev.tombstone) {
    agg.tombstones++;
    return;
  }
  agg.puts++;
  agg.createRevision = rev.createRevision;
  agg.version = rev.version;
  agg.lease = rev.lease;
  agg.valueSizeSum += rev.valueSize;
  if (rev.valueSize < agg.valueSizeMin) agg.valueSizeMin = rev.valueSize;
  if (rev.valueSize > agg.valueSizeMax) agg.valueSizeMax = rev.valueSize;
}

/**
 * Orders strings as their UTF-8 bytes sort (etcd's key order) without encoding them: UTF-16 code
 * unit order agrees with UTF-8 byte order except that surrogates (U+D800–DFFF, i.e. code points
 * past U+FFFF, 4 UTF-8 bytes) must sort after U+E000–FFFF (3 UTF-8 bytes).
 */
export function compareUtf8Order(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return surrogateLast(x) - surrogateLast(y);
  }
  return a.length - b.length;
}

function surrogateLast(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
