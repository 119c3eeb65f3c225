// Protobuf varints for the WAL room (bbolt's reader is tuned for KeyValue rows; these cursors are shared by
// records, entries and requests). Values above 2^53 lose precision here; ids use readUvarintBig.

export class WalDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalDecodeError';
  }
}

export interface Cursor {
  buf: Uint8Array;
  pos: number;
  end: number;
}

export function readUvarint(c: Cursor): number {
  const b0 = c.buf[c.pos];
  if (b0 !== undefined && b0 < 0x80 && c.pos < c.end) {
    c.pos++;
    return b0;
  }
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.end) throw new WalDecodeError('varint runs past the end');
    const b = c.buf[c.pos++]!;
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 128;
  }
  throw new WalDecodeError('varint longer than 10 bytes');
}

export function readUvarintBig(c: Cursor): bigint {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.end) throw new WalDecodeError('varint runs past the end');
    const b = c.buf[c.pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return BigInt.asUintN(64, result);
    shift += 7n;
  }
  throw new WalDecodeError('varint longer than 10 bytes');
}

/** An int64 carried as a varint (two's complement in 64 bits), as decimal text. */
export function readInt64Text(c: Cursor): string {
  return BigInt.asIntN(64, readUvarintBig(c)).toString();
}

/** A uint64 id as lowercase hex (etcd prints member and lease ids in hex). */
export function readHexId(c: Cursor): string {
  return readUvarintBig(c).toString(16);
}

/** [start, end) of a length-delimited field, the cursor moved past it. */
export function readLengthDelimited(c: Cursor): [number, number] {
  const n = readUvarint(c);
  if (n > c.end - c.pos) throw new WalDecodeError(`length ${n} runs past the end`);
  const start = c.pos;
  c.pos += n;
  return [start, c.pos];
}

export function skipField(c: Cursor, wire: number): void {
  switch (wire) {
    case 0: readUvarint(c); return;
    case 1: advance(c, 8); return;
    case 2: readLengthDelimited(c); return;
    case 5: advance(c, 4); return;
    default: throw new WalDecodeError(`unsupported wire type ${wire}`);
  }
}

function advance(c: Cursor, n: number): void {
  if (n > c.end - c.pos) throw new WalDecodeError('fixed-width field runs past the end');
  c.pos += n;
}
