// Just enough protobuf for etcd's backend values: mvccpb.KeyValue, leasepb.Lease, AlarmMember.
// Wire types used: 0 (varint) and 2 (length-delimited). Other wire types are skipped when well
// formed (forward compatibility), and anything malformed throws ProtobufError, which the backend
// reader turns into an issue for that row instead of aborting the whole file.

export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

/** A cursor over buf[pos, end). */
export interface ProtoCursor {
  buf: Uint8Array;
  pos: number;
  end: number;
}

/** A varint as a JS number; exact below 2^53 (callers use readVarintBig for ids). */
export function readVarint(c: ProtoCursor): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.end) throw new ProtobufError('varint runs past the end');
    const b = c.buf[c.pos++]!;
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 128;
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

/** A varint as an exact unsigned 64-bit BigInt. */
export function readVarintBig(c: ProtoCursor): bigint {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.end) throw new ProtobufError('varint runs past the end');
    const b = c.buf[c.pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return BigInt.asUintN(64, result);
    shift += 7n;
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

/** Field tag: returns [fieldNumber, wireType]. */
export function readTag(c: ProtoCursor): [number, number] {
  const tag = readVarint(c);
  const field = Math.floor(tag / 8);
  if (field === 0) throw new ProtobufError('field number 0');
  return [field, tag % 8];
}

/** Returns [start, end) of a length-delimited field's payload and advances past it. */
export function readBytesRange(c: ProtoCursor): [number, number] {
  const length = readVarint(c);
  const start = c.pos;
  if (length > c.end - start) throw new ProtobufError(`length ${length} runs past the end`);
  c.pos = start + length;
  return [start, c.pos];
}

export function skipField(c: ProtoCursor, wireType: number): void {
  switch (wireType) {
    case 0: readVarint(c); return;
    case 1: advance(c, 8); return;
    case 2: readBytesRange(c); return;
    case 5: advance(c, 4); return;
    default: throw new ProtobufError(`unsupported wire type ${wireType}`);
  }
}

function advance(c: ProtoCursor, n: number): void {
  if (n > c.end - c.pos) throw new ProtobufError('fixed-width field runs past the end');
  c.pos += n;
}

function expectWire(actual: number, expected: number, field: number): void {
  if (actual !== expected) throw new ProtobufError(`field ${field} has wire type ${actual}, expected ${expected}`);
}

/** mvccpb.KeyValue (mvcc/mvccpb/kv.proto): key=1, create_revision=2, mod_revision=3, version=4, value=5, lease=6. */
export interface DecodedKeyValue {
  keyStart: number;
  keyEnd: number;
  createRevision: number;
  modRevision: number;
  version: number;
  valueStart: number;
  valueEnd: number;
  /** int64 lease id as decimal text; null when 0 / absent. */
  lease: string | null;
}

/**
 * Decodes into `kv` (reused by the caller: one object for millions of rows). The hot path of the
 * reader, so tags and small varints are decoded inline, without tuples or cursor objects.
 */
export function decodeKeyValue(buf: Uint8Array, start: number, end: number, kv: DecodedKeyValue = emptyKeyValue()): DecodedKeyValue {
  kv.keyStart = kv.keyEnd = kv.valueStart = kv.valueEnd = start;
  kv.createRevision = kv.modRevision = kv.version = 0;
  kv.lease = null;
  let pos = start;
  while (pos < end) {
    let tag = buf[pos++]!;
    if (tag >= 0x80) {
      const c: ProtoCursor = { buf, pos: pos - 1, end };
      tag = readVarint(c);
      pos = c.pos;
    }
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field >= 2 && field <= 4 && wire === 0) {
      // Revisions and versions: one to eight bytes, exact below 2^53.
      let n = 0;
      let scale = 1;
      let b: number;
      do {
        if (pos >= end || scale > 2 ** 49) return decodeKeyValueSlow(buf, start, end, kv);
        b = buf[pos++]!;
        n += (b & 0x7f) * scale;
        scale *= 128;
      } while (b >= 0x80);
      if (field === 2) kv.createRevision = n;
      else if (field === 3) kv.modRevision = n;
      else kv.version = n;
    } else if ((field === 1 || field === 5) && wire === 2) {
      let length = 0;
      let scale = 1;
      let b: number;
      do {
        if (pos >= end || scale > 2 ** 28) throw new ProtobufError('bad length varint');
        b = buf[pos++]!;
        length += (b & 0x7f) * scale;
        scale *= 128;
      } while (b >= 0x80);
      if (length > end - pos) throw new ProtobufError(`length ${length} runs past the end`);
      if (field === 1) {
        kv.keyStart = pos;
        kv.keyEnd = pos + length;
      } else {
        kv.valueStart = pos;
        kv.valueEnd = pos + length;
      }
      pos += length;
    } else {
      return decodeKeyValueSlow(buf, start, end, kv);
    }
  }
  return kv;
}

export function emptyKeyValue(): DecodedKeyValue {
  return { keyStart: 0, keyEnd: 0, createRevision: 0, modRevision: 0, version: 0, valueStart: 0, valueEnd: 0, lease: null };
}

/** The general decoder: leases, negative or huge numbers, unknown fields, wrong wire types. */
function decodeKeyValueSlow(buf: Uint8Array, start: number, end: number, kv: DecodedKeyValue): DecodedKeyValue {
  const c: ProtoCursor = { buf, pos: start, end };
  kv.keyStart = kv.keyEnd = kv.valueStart = kv.valueEnd = start;
  kv.createRevision = kv.modRevision = kv.version = 0;
  kv.lease = null;
  while (c.pos < c.end) {
    const [field, wire] = readTag(c);
    if (field === 1 || field === 5) {
      expectWire(wire, 2, field);
      const [s, e] = readBytesRange(c);
      if (field === 1) {
        kv.keyStart = s;
        kv.keyEnd = e;
      } else {
        kv.valueStart = s;
        kv.valueEnd = e;
      }
    } else if (field >= 2 && field <= 4) {
      expectWire(wire, 0, field);
      const n = readSignedSmall(c);
      if (field === 2) kv.createRevision = n;
      else if (field === 3) kv.modRevision = n;
      else kv.version = n;
    } else if (field === 6) {
      expectWire(wire, 0, field);
      const id = BigInt.asIntN(64, readVarintBig(c));
      kv.lease = id === 0n ? null : id.toString();
    } else {
      skipField(c, wire);
    }
  }
  return kv;
}

/** An int64 varint expected to fit a JS number (revisions, versions, TTLs). */
function readSignedSmall(c: ProtoCursor): number {
  const save = c.pos;
  const n = readVarint(c);
  if (n <= Number.MAX_SAFE_INTEGER) return n;
  c.pos = save;
  const big = BigInt.asIntN(64, readVarintBig(c));
  if (big < BigInt(Number.MIN_SAFE_INTEGER) || big > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ProtobufError(`int64 ${big} does not fit a JS number`);
  }
  return Number(big);
}

/** leasepb.Lease: ID=1 int64, TTL=2 int64, RemainingTTL=3 int64. */
export interface DecodedLease {
  id: string;
  ttl: number;
  remainingTtl: number;
}

export function decodeLease(buf: Uint8Array): DecodedLease {
  const c: ProtoCursor = { buf, pos: 0, end: buf.length };
  const lease: DecodedLease = { id: '0', ttl: 0, remainingTtl: 0 };
  while (c.pos < c.end) {
    const [field, wire] = readTag(c);
    if (field === 1) {
      expectWire(wire, 0, field);
      lease.id = BigInt.asIntN(64, readVarintBig(c)).toString();
    } else if (field === 2 || field === 3) {
      expectWire(wire, 0, field);
      const n = readSignedSmall(c);
      if (field === 2) lease.ttl = n;
      else lease.remainingTtl = n;
    } else {
      skipField(c, wire);
    }
  }
  return lease;
}

/** etcdserverpb.AlarmMember: memberID=1 uint64, alarm=2 AlarmType (NONE=0, NOSPACE=1, CORRUPT=2). */
export interface DecodedAlarm {
  memberId: string;
  alarm: number;
}

export function decodeAlarmMember(buf: Uint8Array): DecodedAlarm {
  const c: ProtoCursor = { buf, pos: 0, end: buf.length };
  const alarm: DecodedAlarm = { memberId: '0', alarm: 0 };
  while (c.pos < c.end) {
    const [field, wire] = readTag(c);
    if (field === 1) {
      expectWire(wire, 0, field);
      alarm.memberId = readVarintBig(c).toString();
    } else if (field === 2) {
      expectWire(wire, 0, field);
      alarm.alarm = readSignedSmall(c);
    } else {
      skipField(c, wire);
    }
  }
  return alarm;
}
