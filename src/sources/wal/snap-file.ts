// member/snap/<term>-<index>.snap: snappb.Snapshot {crc = 1 (uint32), data = 2} where data is a
// raftpb.Snapshot and crc its CRC-32C (etcdserver/api/snap/snapshotter.go). Its data holds the v2 store
// and membership, not the keys (those are in member/snap/db); what matters here is the index and term:
// the WAL window starts after the newest one.
import { updateCrc32c } from '../bbolt/index.js';
import { decodeRaftSnapshotMetadata } from './raft.js';
import { readLengthDelimited, readUvarint, skipField, WalDecodeError, type Cursor } from './varint.js';

export interface SnapFile {
  index: number;
  term: number;
  /** Bytes of the raft snapshot's data (the v2 store JSON). */
  dataBytes: number;
  crcOk: boolean;
}

export type SnapFileResult = { ok: true; snap: SnapFile } | { ok: false; reason: string };

export function readSnapFile(buf: Uint8Array): SnapFileResult {
  try {
    const c: Cursor = { buf, pos: 0, end: buf.length };
    let crc: number | null = null;
    let data: [number, number] | null = null;
    while (c.pos < c.end) {
      const tag = readUvarint(c);
      if (tag === 8) crc = readUvarint(c) % 0x100000000;
      else if (tag === 18) data = readLengthDelimited(c);
      else skipField(c, tag & 7);
    }
    if (data === null) return { ok: false, reason: 'no snapshot data (not a .snap file, or empty)' };
    const m = decodeRaftSnapshotMetadata(buf, data[0], data[1]);
    return { ok: true, snap: { index: m.index, term: m.term, dataBytes: m.dataBytes, crcOk: crc === updateCrc32c(0, buf, data[0], data[1]) } };
  } catch (e) {
    if (e instanceof WalDecodeError) return { ok: false, reason: e.message };
    throw e;
  }
}
