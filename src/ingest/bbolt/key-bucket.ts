// The etcd `key` bucket: one row per revision. Row key = main u64 BE | '_' | sub u64 BE (17 bytes),
// plus 't' for a tombstone (18 bytes); row value = mvccpb.KeyValue. Rows sort by revision, so the
// walk is chronological. Example tombstone row from tools/etcd-dump-db/README.md:
//   key="\x00\x00\x00\x00\x005@x_\x00\x00\x00\x00\x00\x00\x00\tt", value="\n\x153640412599896088633_9"
import { ProtobufError, decodeKeyValue } from './protobuf.js';
import type { LeafEntry } from './page.js';

const REV_BYTES = 17;
const SEPARATOR = 0x5f; // '_'
const TOMBSTONE = 0x74; // 't'

/** One row of the `key` bucket. Handed to onRevision; `value` is a view valid only during the call. */
export interface EtcdRevision {
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
  value: Buffer;
  /** bbolt row size: revision key bytes + KeyValue bytes. */
  rowBytes: number;
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

interface MutableAggregate extends KeyAggregate {
  valueSizeSum: number;
}

export type RowProblem = { reason: string };

/** Decodes rows and keeps per-key aggregates (when asked) without holding rows. */
export class KeyBucketReader {
  readonly totals: KeyBucketTotals = {
    revisions: 0, puts: 0, tombstones: 0, firstRevision: null, lastRevision: null, distinctKeys: 0, bytes: 0,
  };
  private readonly aggregates = new Map<string, MutableAggregate>();

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
    const main = buf.readUInt32BE(keyStart) * 0x100000000 + buf.readUInt32BE(keyStart + 4);
    const sub = buf.readUInt32BE(keyStart + 9) * 0x100000000 + buf.readUInt32BE(keyStart + 13);
    let kv;
    try {
      kv = decodeKeyValue(buf, keyEnd, valueEnd);
    } catch (error) {
      if (error instanceof ProtobufError) return { reason: `key bucket row ${entry.index} (rev ${main}): ${error.message}` };
      throw error;
    }
    const rev: EtcdRevision = {
      main, sub, tombstone,
      key: buf.toString('utf8', kv.keyStart, kv.keyEnd),
      createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, lease: kv.lease,
      valueSize: kv.valueEnd - kv.valueStart,
      value: buf.subarray(kv.valueStart, kv.valueEnd),
      rowBytes: valueEnd - keyStart,
    };
    this.count(rev);
    if (this.collectKeys) this.aggregate(rev);
    this.onRevision?.(rev);
    return null;
  }

  private count(rev: EtcdRevision): void {
    const t = this.totals;
    t.revisions++;
    if (rev.tombstone) t.tombstones++;
    else t.puts++;
    t.bytes += rev.rowBytes;
    if (t.firstRevision === null || rev.main < t.firstRevision) t.firstRevision = rev.main;
    if (t.lastRevision === null || rev.main > t.lastRevision) t.lastRevision = rev.main;
  }

  private aggregate(rev: EtcdRevision): void {
    let agg = this.aggregates.get(rev.key);
    if (agg === undefined) {
      agg = {
        key: rev.key, revisions: 0, puts: 0, tombstones: 0, firstModRevision: rev.main, lastModRevision: rev.main,
        createRevision: null, version: null, lease: null, deleted: false,
        valueSizeMin: null, valueSizeAvg: null, valueSizeMax: null, valueSizeSum: 0, bytesHeld: 0,
      };
      this.aggregates.set(rev.key, agg);
    }
    agg.revisions++;
    agg.bytesHeld += rev.rowBytes;
    agg.firstModRevision = Math.min(agg.firstModRevision, rev.main);
    agg.lastModRevision = Math.max(agg.lastModRevision, rev.main);
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
    agg.valueSizeMin = agg.valueSizeMin === null ? rev.valueSize : Math.min(agg.valueSizeMin, rev.valueSize);
    agg.valueSizeMax = agg.valueSizeMax === null ? rev.valueSize : Math.max(agg.valueSizeMax, rev.valueSize);
  }

  /** Aggregates sorted by key (byte order of the UTF-8 text, as etcd sorts keys). */
  keys(): KeyAggregate[] {
    this.totals.distinctKeys = this.collectKeys ? this.aggregates.size : null;
    const rows: { bytes: Buffer; agg: KeyAggregate }[] = [];
    for (const agg of this.aggregates.values()) {
      const { valueSizeSum, ...rest } = agg;
      const out: KeyAggregate = { ...rest, valueSizeAvg: agg.puts > 0 ? valueSizeSum / agg.puts : null };
      rows.push({ bytes: Buffer.from(agg.key), agg: out });
    }
    return rows.sort((a, b) => Buffer.compare(a.bytes, b.bytes)).map((row) => row.agg);
  }
}
