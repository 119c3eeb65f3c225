// A member's WAL read whole: segments in sequence order, records checked (framing, CRC chain), entries
// decoded to their requests. As etcd's ReadAll, an entry at an index already seen replaces it and every
// later one (a new leader overwrote an uncommitted tail).
import {
  scanSegment, RECORD_CRC, RECORD_ENTRY, RECORD_METADATA, RECORD_SNAPSHOT, RECORD_STATE, type WalDamage, type WalRecord,
} from './frames.js';
import { decodeEntry, decodeHardState, decodeMetadata, decodeSnapshotMarker, type HardState, type RaftEntry, type SnapshotMarker, type WalMetadata } from './raft.js';
import { decodeEntryRequest, type WalOp } from './request.js';
import { WalDecodeError } from './varint.js';

export interface WalSegmentInput {
  name: string;
  bytes: Uint8Array;
}

export interface WalEntryRecord {
  index: number;
  term: number;
  /** 0 normal, 1 conf change, 2 conf change v2. */
  entryType: number;
  requestId: string | null;
  user: string | null;
  ops: WalOp[];
  /** The segment and byte offset of the record. */
  segment: number;
  offset: number;
}

export interface WalSegmentSummary {
  name: string;
  /** From the file name %016x-%016x.wal: sequence and the raft index it starts at (null: not such a name). */
  seq: number | null;
  startIndex: number | null;
  bytes: number;
  records: number;
  /** End of the last valid record. */
  end: number;
}

export interface WalRead {
  segments: WalSegmentSummary[];
  metadata: WalMetadata | null;
  hardState: HardState | null;
  snapshots: SnapshotMarker[];
  entries: WalEntryRecord[];
  /** Entries whose data is neither request form (kept with an 'other' op), with the reason. */
  undecoded: { index: number; reason: string }[];
  /** The first damage met; nothing after it is read. */
  damage: (WalDamage & { segment: string }) | null;
  records: number;
}

const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal(?:\.gz)?$/;

export function parseSegmentName(name: string): { seq: number; startIndex: number } | null {
  const m = NAME.exec(name);
  return m ? { seq: parseInt(m[1]!, 16), startIndex: parseInt(m[2]!, 16) } : null;
}

/** Sorts segments as etcd does: by file name (sequence first). */
export function readWal(inputs: WalSegmentInput[]): WalRead {
  const sorted = [...inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: WalRead = { segments: [], metadata: null, hardState: null, snapshots: [], entries: [], undecoded: [], damage: null, records: 0 };
  const positionOf = new Map<number, number>();
  const entry: RaftEntry = { term: 0, index: 0, type: 0, dataStart: 0, dataEnd: 0 };
  let crc = 0;
  for (let si = 0; si < sorted.length && !out.damage; si++) {
    const { name } = sorted[si]!;
    const input = sorted[si]!.bytes;
    const bytes = input instanceof Buffer ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const parsed = parseSegmentName(name.replace(/^.*\//, ''));
    const onRecord = (r: WalRecord): void => {
      try {
        takeRecord(out, bytes, r, si, entry, positionOf);
      } catch (e) {
        if (!(e instanceof WalDecodeError)) throw e;
        out.undecoded.push({ index: entry.index, reason: `record at byte ${r.offset}: ${e.message}` });
      }
    };
    const scan = scanSegment(bytes, crc, onRecord);
    crc = scan.crc;
    out.records += scan.records;
    out.segments.push({ name, seq: parsed?.seq ?? null, startIndex: parsed?.startIndex ?? null, bytes: bytes.length, records: scan.records, end: scan.end });
    if (scan.damage) out.damage = { ...scan.damage, segment: name };
  }
  return out;
}

function takeRecord(out: WalRead, buf: Uint8Array, r: WalRecord, segment: number, e: RaftEntry, positionOf: Map<number, number>): void {
  switch (r.type) {
    case RECORD_ENTRY: {
      decodeEntry(buf, r.dataStart, r.dataEnd, e);
      const at = positionOf.get(e.index);
      if (at !== undefined) {
        for (let i = at; i < out.entries.length; i++) positionOf.delete(out.entries[i]!.index);
        out.entries.length = at;
      }
      const rec: WalEntryRecord = { index: e.index, term: e.term, entryType: e.type, requestId: null, user: null, ops: [], segment, offset: r.offset };
      if (e.type !== 0) rec.ops.push({ kind: 'conf-change' });
      else {
        try {
          const req = decodeEntryRequest(buf, e.dataStart, e.dataEnd);
          rec.requestId = req.requestId;
          rec.user = req.user;
          rec.ops = req.ops;
        } catch (err) {
          if (!(err instanceof WalDecodeError)) throw err;
          out.undecoded.push({ index: e.index, reason: err.message });
          rec.ops.push({ kind: 'other', field: 0 });
        }
      }
      positionOf.set(e.index, out.entries.length);
      out.entries.push(rec);
      return;
    }
    case RECORD_STATE: {
      if (r.dataEnd > r.dataStart) out.hardState = decodeHardState(buf, r.dataStart, r.dataEnd);
      return;
    }
    case RECORD_SNAPSHOT: out.snapshots.push(decodeSnapshotMarker(buf, r.dataStart, r.dataEnd)); return;
    case RECORD_METADATA: out.metadata ??= decodeMetadata(buf, r.dataStart, r.dataEnd); return;
    case RECORD_CRC: return;
  }
}
