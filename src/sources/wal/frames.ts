// etcd's WAL framing (wal/encoder.go, wal/decoder.go in 3.4; server/storage/wal in 3.5): each record is
// an 8-byte little-endian length word, then a walpb.Record {type=1, crc=2, data=3}, then zero padding to
// 8 bytes. The word's lower 56 bits are the record length; when padded, the top byte is 0x80 | pad bytes
// (encodeFrameSize). A zero word ends the segment: segments are preallocated to 64 MB and zero-filled.
// The crc of every record but a crc record is CRC-32C over its data, chained from the previous record's
// (and across segments: each segment opens with a crc record carrying the previous segment's last crc).
import { updateCrc32c } from '../bbolt/index.js';
import { readUvarint, WalDecodeError } from './varint.js';

export const RECORD_METADATA = 1;
export const RECORD_ENTRY = 2;
export const RECORD_STATE = 3;
export const RECORD_CRC = 4;
export const RECORD_SNAPSHOT = 5;

/** etcd refuses records of 10 MB or more (maxWALEntrySizeLimit). */
export const MAX_RECORD_BYTES = 10 * 1024 * 1024;

export interface WalRecord {
  type: number;
  crc: number;
  /** The record's data is buf[dataStart, dataEnd). */
  dataStart: number;
  dataEnd: number;
  /** Byte offset of the record's length word in the segment. */
  offset: number;
}

export interface WalDamage {
  offset: number;
  reason: string;
}

export interface SegmentScan {
  records: number;
  /** Where reading stopped: the end of the last valid record. */
  end: number;
  /** The running CRC after the last valid record (the next segment's crc record carries it). */
  crc: number;
  /** Set when the segment ends in something other than a zero word or its last byte. */
  damage: WalDamage | null;
}

/**
 * Walks the records of one segment, calling `onRecord` for each valid one. Stops at the first zero
 * length word, the end of the bytes, or damage (torn frame, CRC mismatch, malformed record): all
 * records before the damage have been delivered. `crc` is the chain value carried in from the
 * previous segment (0 for the first).
 */
export function scanSegment(buf: Uint8Array, crc: number, onRecord: (r: WalRecord) => void): SegmentScan {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  let records = 0;
  const rec: WalRecord = { type: 0, crc: 0, dataStart: 0, dataEnd: 0, offset: 0 };
  const stop = (reason: string | null): SegmentScan => ({ records, end: pos, crc, damage: reason ? { offset: pos, reason } : null });
  while (pos < buf.length) {
    if (buf.length - pos < 8) return stop(allZero(buf, pos, buf.length) ? null : `${buf.length - pos} bytes after the last record, too few for a length word`);
    const lo = view.getUint32(pos, true);
    const hi = view.getUint32(pos + 4, true);
    if (lo === 0 && hi === 0) return stop(allZero(buf, pos, buf.length) ? null : 'a zero length word followed by non-zero bytes');
    const pad = hi >= 0x80000000 ? (hi >>> 24) & 7 : 0;
    const length = (hi & 0xffffff) * 0x100000000 + lo;
    if (length >= MAX_RECORD_BYTES - pad) return stop(`record length ${length} at or over etcd's 10 MB limit`);
    const frameEnd = pos + 8 + length + pad;
    if (frameEnd > buf.length) return stop(`torn record: ${length + pad} bytes declared, ${buf.length - pos - 8} present`);
    // As etcd's decoder: a record that fails to decode or to match its CRC is a torn write when a
    // 512-byte sector of its frame reads as zeros (isTornEntry), corruption otherwise.
    try {
      decodeRecord(buf, pos + 8, pos + 8 + length, rec);
    } catch (e) {
      return stop(tornOr(buf, pos, frameEnd, `malformed record: ${(e as Error).message}`));
    }
    if (rec.type === RECORD_CRC) {
      if (crc !== 0 && rec.crc !== crc) return stop(`crc record carries ${hex(rec.crc)}, the chain is at ${hex(crc)}`);
      crc = rec.crc;
    } else {
      const next = updateCrc32c(crc, buf, rec.dataStart, rec.dataEnd);
      if (next !== rec.crc) return stop(tornOr(buf, pos, frameEnd, `CRC mismatch: record says ${hex(rec.crc)}, data gives ${hex(next)}`));
      crc = next;
    }
    rec.offset = pos;
    onRecord(rec);
    records++;
    pos = frameEnd;
  }
  return stop(null);
}

/** walpb.Record: type int64 = 1, crc uint32 = 2, data bytes = 3. */
function decodeRecord(buf: Uint8Array, start: number, end: number, rec: WalRecord): void {
  rec.type = 0; rec.crc = 0; rec.dataStart = rec.dataEnd = start;
  const c = { buf, pos: start, end };
  while (c.pos < end) {
    const tag = readUvarint(c);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === 0) rec.type = readUvarint(c);
    else if (field === 2 && wire === 0) rec.crc = readUvarint(c) % 0x100000000;
    else if (field === 3 && wire === 2) {
      const n = readUvarint(c);
      if (n > end - c.pos) throw new WalDecodeError(`data length ${n} runs past the record`);
      rec.dataStart = c.pos; rec.dataEnd = c.pos + n; c.pos += n;
    } else throw new WalDecodeError(`unexpected field ${field} (wire type ${wire})`);
  }
  if (rec.type < 1 || rec.type > 5) throw new WalDecodeError(`unknown record type ${rec.type}`);
}

function tornOr(buf: Uint8Array, start: number, end: number, why: string): string {
  return hasZeroSector(buf, start, end) ? `torn record (a sector of it is zeros): ${why}` : why;
}

/** etcd's isTornEntry: a frame written across sectors whose tail never reached the disk reads as zeros. */
function hasZeroSector(buf: Uint8Array, start: number, end: number): boolean {
  let s = start;
  while (s < end) {
    const next = Math.min(end, (Math.floor(s / 512) + 1) * 512);
    if (allZero(buf, s, next)) return true;
    s = next;
  }
  return false;
}

const ZEROS = new Uint8Array(1 << 16);

/** memcmp against a zero block: a 64 MB preallocated tail is checked in a few milliseconds. */
function allZero(buf: Uint8Array, start: number, end: number): boolean {
  for (let s = start; s < end; s += ZEROS.length) {
    const n = Math.min(ZEROS.length, end - s);
    if (Buffer.compare(buf.subarray(s, s + n), n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n)) !== 0) return false;
  }
  return true;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
