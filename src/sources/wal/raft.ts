// raft's and etcd's small messages inside WAL records (raft/raftpb/raft.proto, wal/walpb/record.proto,
// etcdserver/etcdserverpb/etcdserver.proto).
import { readLengthDelimited, readUvarint, readHexId, skipField, type Cursor } from './varint.js';

/** raftpb.Entry: Term = 2, Index = 3, Type = 1 (0 normal, 1 conf change, 2 conf change v2), Data = 4. */
export interface RaftEntry {
  term: number;
  index: number;
  type: number;
  dataStart: number;
  dataEnd: number;
}

export function decodeEntry(buf: Uint8Array, start: number, end: number, e: RaftEntry): RaftEntry {
  e.term = 0; e.index = 0; e.type = 0; e.dataStart = e.dataEnd = start;
  const c: Cursor = { buf, pos: start, end };
  while (c.pos < end) {
    const tag = readUvarint(c);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0 && field === 1) e.type = readUvarint(c);
    else if (wire === 0 && field === 2) e.term = readUvarint(c);
    else if (wire === 0 && field === 3) e.index = readUvarint(c);
    else if (wire === 2 && field === 4) [e.dataStart, e.dataEnd] = readLengthDelimited(c);
    else skipField(c, wire);
  }
  return e;
}

/** raftpb.HardState: term = 1, vote = 2, commit = 3. */
export interface HardState {
  term: number;
  vote: string;
  commit: number;
}

export function decodeHardState(buf: Uint8Array, start: number, end: number): HardState {
  const h: HardState = { term: 0, vote: '0', commit: 0 };
  const c: Cursor = { buf, pos: start, end };
  while (c.pos < end) {
    const tag = readUvarint(c);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0 && field === 1) h.term = readUvarint(c);
    else if (wire === 0 && field === 2) h.vote = readHexId(c);
    else if (wire === 0 && field === 3) h.commit = readUvarint(c);
    else skipField(c, wire);
  }
  return h;
}

/** walpb.Snapshot (a marker: the raft snapshot at index/term was saved): index = 1, term = 2. */
export interface SnapshotMarker {
  index: number;
  term: number;
}

export function decodeSnapshotMarker(buf: Uint8Array, start: number, end: number): SnapshotMarker {
  const s: SnapshotMarker = { index: 0, term: 0 };
  const c: Cursor = { buf, pos: start, end };
  while (c.pos < end) {
    const tag = readUvarint(c);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0 && field === 1) s.index = readUvarint(c);
    else if (wire === 0 && field === 2) s.term = readUvarint(c);
    else skipField(c, wire);
  }
  return s;
}

/** etcdserverpb.Metadata (the WAL's metadata record): NodeID = 1, ClusterID = 2, both hex as etcd prints them. */
export interface WalMetadata {
  memberId: string;
  clusterId: string;
}

export function decodeMetadata(buf: Uint8Array, start: number, end: number): WalMetadata {
  const m: WalMetadata = { memberId: '0', clusterId: '0' };
  const c: Cursor = { buf, pos: start, end };
  while (c.pos < end) {
    const tag = readUvarint(c);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0 && field === 1) m.memberId = readHexId(c);
    else if (wire === 0 && field === 2) m.clusterId = readHexId(c);
    else skipField(c, wire);
  }
  return m;
}

/** raftpb.SnapshotMetadata inside raftpb.Snapshot {data = 1, metadata = 2}: conf_state = 1, index = 2, term = 3. */
export function decodeRaftSnapshotMetadata(buf: Uint8Array, start: number, end: number): SnapshotMarker & { dataBytes: number } {
  const out = { index: 0, term: 0, dataBytes: 0 };
  const c: Cursor = { buf, pos: start, end };
  while (c.pos < end) {
    const tag = readUvarint(c);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 2 && field === 1) {
      const [s, e] = readLengthDelimited(c);
      out.dataBytes = e - s;
    } else if (wire === 2 && field === 2) {
      const [s, e] = readLengthDelimited(c);
      const m: Cursor = { buf, pos: s, end: e };
      while (m.pos < e) {
        const t = readUvarint(m);
        if ((t & 7) === 0 && t >>> 3 === 2) out.index = readUvarint(m);
        else if ((t & 7) === 0 && t >>> 3 === 3) out.term = readUvarint(m);
        else skipField(m, t & 7);
      }
    } else skipField(c, wire);
  }
  return out;
}
