// One free page, validated as a stale leaf page of etcd's `key` bucket. bbolt never zeroes a freed
// page, so a page compaction freed still holds the revision rows it had; but a free page may also
// hold half-overwritten bytes or anything else, so every structural fact bbolt's node.write
// guarantees is checked, and one bad element rejects the whole page:
//   - header: id == position, flags == 0x02 (leaf), count >= 1, elements fit;
//   - elements: flags 0, data packed in element order right after the element array (node.write
//     advances `off` by len(key)+len(value) per element), revision keys strictly increasing;
//   - key: 17 bytes main|'_'|sub (+ 't' for a tombstone); value: an mvccpb.KeyValue as gogoproto
//     marshals it (fields in number order, each once, zero values omitted, minimal varints) that
//     agrees with the key: mod_revision == main, 1 <= version, create_revision <= mod_revision.
import { u32, u64, u64be, type Page } from './page.js';
import { PAGE_HEADER_SIZE } from './meta.js';
import type { KeyRevisionFields } from './key-bucket.js';
import { decodeUtf8Visible } from '../../units/bytes-text.js';

const ELEMENT = 16;
const REV_BYTES = 17;
/** No real etcd txn has a million operations (--max-txn-ops defaults to 128). */
const MAX_SUB = 1 << 20;

/** A revision row read from a free page. */
export interface CarvedRow extends KeyRevisionFields {
  pageId: number;
  /** CRC of the row's key + KeyValue bytes: two copies with the same CRC hold the same row. */
  fingerprint: number;
}

export type PageVerdict = { ok: true; rows: CarvedRow[] } | { ok: false; reason: string };

/** Validates `page` (its whole span) and returns its rows, or why it is not a key-bucket leaf page. */
export function carveLeafPage(page: Page, fingerprint: (buf: Buffer, start: number, end: number) => number): PageVerdict {
  const buf = page.buf;
  const count = page.count;
  if (count === 0) return { ok: false, reason: 'empty leaf page' };
  let expected = PAGE_HEADER_SIZE + count * ELEMENT;
  if (expected > buf.length) return { ok: false, reason: 'element array past the page end' };
  const rows: CarvedRow[] = [];
  let prevMain = -1;
  let prevSub = -1;
  for (let i = 0; i < count; i++) {
    const elem = PAGE_HEADER_SIZE + i * ELEMENT;
    if (u32(page, elem) !== 0) return { ok: false, reason: 'element flags set (a bucket, not a key-bucket row)' };
    const keyStart = elem + u32(page, elem + 4);
    const ksize = u32(page, elem + 8);
    const vsize = u32(page, elem + 12);
    if (keyStart !== expected) return { ok: false, reason: 'element data not packed in order' };
    const keyEnd = keyStart + ksize;
    const valueEnd = keyEnd + vsize;
    if (valueEnd > buf.length) return { ok: false, reason: 'element past the page end' };
    expected = valueEnd;
    if ((ksize !== REV_BYTES && ksize !== REV_BYTES + 1) || buf[keyStart + 8] !== 0x5f) {
      return { ok: false, reason: 'not a key-bucket page (keys are not revisions)' };
    }
    const tombstone = ksize === REV_BYTES + 1;
    if (tombstone && buf[keyStart + REV_BYTES] !== 0x74) return { ok: false, reason: 'bad revision key' };
    if (buf[keyStart]! !== 0 || buf[keyStart + 9]! !== 0) return { ok: false, reason: 'revision out of range' };
    const main = u64be(buf, keyStart);
    const sub = u64be(buf, keyStart + 9);
    if (main < 1 || sub >= MAX_SUB) return { ok: false, reason: 'revision out of range' };
    if (main < prevMain || (main === prevMain && sub <= prevSub)) return { ok: false, reason: 'revisions out of order' };
    prevMain = main;
    prevSub = sub;
    const kv = decodeStrictKeyValue(buf, keyEnd, valueEnd);
    if (kv === null) return { ok: false, reason: 'value is not a well-formed KeyValue' };
    const problem = tombstone ? checkTombstone(kv) : checkPut(kv, main);
    if (problem !== null) return { ok: false, reason: problem };
    rows.push({
      main, sub, tombstone, key: decodeUtf8Visible(buf, kv.keyStart, kv.keyEnd), createRevision: kv.create, modRevision: kv.mod,
      version: kv.version, valueSize: kv.valueEnd - kv.valueStart, lease: kv.lease, pageId: page.id,
      fingerprint: fingerprint(buf, keyStart, valueEnd),
    });
  }
  return { ok: true, rows };
}

function checkPut(kv: StrictKeyValue, main: number): string | null {
  if (kv.keyEnd === kv.keyStart) return 'empty key';
  if (kv.mod !== main) return 'mod_revision differs from the row revision';
  if (kv.version < 1 || kv.create < 1 || kv.create > kv.mod) return 'create_revision/version inconsistent';
  // The first put of a key is version 1 at create == mod; later puts have mod > create and at most
  // one put per revision in between.
  if ((kv.version === 1) !== (kv.create === kv.mod) || kv.version - 1 > kv.mod - kv.create) return 'create_revision/version inconsistent';
  return null;
}

function checkTombstone(kv: StrictKeyValue): string | null {
  if (kv.keyEnd === kv.keyStart) return 'empty key';
  // appendMarkTombstone rows carry KeyValue{Key: key} and nothing else.
  if (kv.seen !== 0b10) return 'tombstone value holds more than a key';
  return null;
}

interface StrictKeyValue {
  keyStart: number;
  keyEnd: number;
  create: number;
  mod: number;
  version: number;
  valueStart: number;
  valueEnd: number;
  lease: string | null;
  /** Bit n set when field n was present. */
  seen: number;
}

/**
 * mvccpb.KeyValue exactly as gogoproto's Marshal writes it: fields 1..6 in increasing order, each at
 * most once, wire type 2 for key/value and 0 for the rest, no zero scalars, no empty bytes, minimal
 * varints, and nothing left over. Anything else returns null.
 */
export function decodeStrictKeyValue(buf: Uint8Array, start: number, end: number): StrictKeyValue | null {
  const kv: StrictKeyValue = { keyStart: start, keyEnd: start, create: 0, mod: 0, version: 0, valueStart: start, valueEnd: start, lease: null, seen: 0 };
  const c = { pos: start };
  let last = 0;
  while (c.pos < end) {
    const tag = buf[c.pos++]!;
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field <= last || field > 6) return null;
    last = field;
    kv.seen |= 1 << field;
    if (field === 1 || field === 5) {
      if (wire !== 2) return null;
      const length = readMinimalVarint(buf, c, end);
      if (length === null || length === 0 || length > end - c.pos) return null;
      if (field === 1) [kv.keyStart, kv.keyEnd] = [c.pos, c.pos + length];
      else [kv.valueStart, kv.valueEnd] = [c.pos, c.pos + length];
      c.pos += length;
    } else {
      if (wire !== 0) return null;
      if (field === 6) {
        const lease = readLease(buf, c, end);
        if (lease === null) return null;
        kv.lease = lease;
        continue;
      }
      const n = readMinimalVarint(buf, c, end);
      if (n === null || n === 0) return null;
      if (field === 2) kv.create = n;
      else if (field === 3) kv.mod = n;
      else kv.version = n;
    }
  }
  return c.pos === end ? kv : null;
}

/** A positive varint below 2^53 without redundant trailing zero bytes; null otherwise. */
function readMinimalVarint(buf: Uint8Array, c: { pos: number }, end: number): number | null {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (c.pos >= end) return null;
    const b = buf[c.pos++]!;
    n += (b & 0x7f) * scale;
    if (b < 0x80) return i > 0 && b === 0 ? null : n;
    scale *= 128;
  }
  return null;
}

/** etcd lease ids are positive int64s (lessor: `id = LeaseID(rand.Int63())`, > 0). */
function readLease(buf: Uint8Array, c: { pos: number }, end: number): string | null {
  let n = 0n;
  let shift = 0n;
  for (let i = 0; i < 9; i++) {
    if (c.pos >= end) return null;
    const b = buf[c.pos++]!;
    n |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return (i > 0 && b === 0) || n === 0n || n >= 1n << 63n ? null : n.toString();
    shift += 7n;
  }
  return null;
}

/** The page header id as a number (MAX_SAFE_INTEGER past 2^53). */
export function headerId(page: Page): number {
  return u64(page, 0);
}

/** A carved revision kept once (carve-store.ts), with how many identical copies the free pages held. */
export interface RecoveredRevision extends CarvedRow {
  /** Identical copies found. */
  copies: number;
}
