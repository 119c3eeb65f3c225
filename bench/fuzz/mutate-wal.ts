// Mutations of a member's data-dir files (issue 16): WAL segments and raft .snap files. Layout (etcd
// wal/encoder.go, wal/decoder.go; snap/snapshotter.go), written here independently of src/sources/wal so a
// mistake there is not copied into the fuzzer:
//   WAL frame: length word u64 LE (lower 56 bits the record length; top byte 0x80 | pad when padded to 8),
//     then walpb.Record {type varint = 1, crc varint = 2, data bytes = 3}, then zero padding.
//     crc: CRC-32C of data chained from the previous record's crc; a crc record (type 4) carries the chain.
//   .snap: snappb.Snapshot {crc varint = 1, data bytes = 2}, crc = CRC-32C(data).
// Record-level edits re-encode the segment (and often re-seal the CRC chain, so the damage reaches the
// entry decoder instead of stopping at the CRC); byte-level edits damage the raw frames.
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Mutated } from './mutate-text.js';
import type { Rng } from './rng.js';

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32c(prev: number, b: Uint8Array): number {
  let c = ~prev >>> 0;
  for (let i = 0; i < b.length; i++) c = (CRC32C_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8)) >>> 0;
  return ~c >>> 0;
}

function uvarint(n: bigint): Buffer {
  const out: number[] = [];
  let v = n;
  do { let b = Number(v & 0x7fn); v >>= 7n; if (v > 0n) b |= 0x80; out.push(b); } while (v > 0n);
  return Buffer.from(out);
}

function readVarint(b: Buffer, pos: number): [bigint, number] {
  let v = 0n; let shift = 0n; let p = pos;
  while (p < b.length && shift < 70n) {
    const x = b[p++]!;
    v |= BigInt(x & 0x7f) << shift;
    if ((x & 0x80) === 0) return [v, p];
    shift += 7n;
  }
  throw new Error('varint');
}

interface Rec { type: bigint; crc: bigint; data: Buffer }

/** The records of a segment up to its first zero word or damage (the fixtures are clean). */
function parseSegment(seg: Buffer): Rec[] {
  const out: Rec[] = [];
  let pos = 0;
  while (pos + 8 <= seg.length) {
    const lo = seg.readUInt32LE(pos); const hi = seg.readUInt32LE(pos + 4);
    if (lo === 0 && hi === 0) break;
    const pad = hi >= 0x80000000 ? (hi >>> 24) & 7 : 0;
    const len = (hi & 0xffffff) * 0x100000000 + lo;
    const end = pos + 8 + len;
    if (end + pad > seg.length) break;
    const rec: Rec = { type: 0n, crc: 0n, data: Buffer.alloc(0) };
    try {
      for (let p = pos + 8; p < end;) {
        const [tag, q] = readVarint(seg, p); p = q;
        if (tag === 8n) [rec.type, p] = readVarint(seg, p);
        else if (tag === 16n) [rec.crc, p] = readVarint(seg, p);
        else if (tag === 26n) { const [l, r] = readVarint(seg, p); rec.data = seg.subarray(r, r + Number(l)); p = r + Number(l); }
        else break;
      }
    } catch { break; }
    out.push(rec);
    pos = end + pad;
  }
  return out;
}

function encodeRecord(r: Rec): Buffer {
  const parts = [Buffer.from([8]), uvarint(r.type), Buffer.from([16]), uvarint(r.crc)];
  if (r.data.length > 0) parts.push(Buffer.from([26]), uvarint(BigInt(r.data.length)), r.data);
  return Buffer.concat(parts);
}

function frame(body: Buffer): Buffer {
  const pad = (8 - (body.length % 8)) % 8;
  const word = Buffer.alloc(8);
  word.writeUInt32LE(body.length >>> 0, 0);
  word.writeUInt32LE((Math.floor(body.length / 0x100000000) | (pad > 0 ? (0x80 | pad) << 24 : 0)) >>> 0, 4);
  return Buffer.concat([word, body, Buffer.alloc(pad)]);
}

/** Recomputes every record's crc from the chain start (the first crc record's value, kept). */
function reseal(recs: Rec[]): void {
  let crc = 0;
  for (const [i, r] of recs.entries()) {
    if (r.type === 4n) { if (i === 0) crc = Number(r.crc & 0xffffffffn); else r.crc = BigInt(crc); continue; }
    crc = crc32c(crc, r.data);
    r.crc = BigInt(crc);
  }
}

/** Byte strings that a hostile key puts into an entry (escape sequences, invalid UTF-8, bidi, NUL). */
const HOSTILE_KEY_BYTES = ['\x1b]52;c;', '\x1b[2J', '\r\n<script>', '\u202e', '\u009b', '\x00\x07'].map((s) => Buffer.from(s, 'utf8'))
  .concat([Buffer.from([0xff, 0xfe]), Buffer.from([0xc3])]);

function recordEdit(recs: Rec[], r: Rng, ops: string[]): void {
  if (recs.length === 0) return;
  const i = r.int(recs.length);
  const rec = recs[i]!;
  switch (r.int(8)) {
    case 0: { const d = Buffer.from(rec.data); for (let n = r.range(1, 6); n > 0 && d.length > 0; n--) d[r.int(d.length)]! ^= 1 << r.int(8); rec.data = d; ops.push(`rec${i}.data-flips`); return; }
    case 1: { rec.data = rec.data.subarray(0, r.int(rec.data.length + 1)); ops.push(`rec${i}.data-cut`); return; }
    case 2: { rec.type = r.pick([0n, 1n, 2n, 3n, 4n, 5n, 6n, 127n, (1n << 63n) - 1n, 1n << 64n]); ops.push(`rec${i}.type=${rec.type}`); return; }
    case 3: { recs.splice(i, 1); ops.push(`rec${i}.drop`); return; }
    case 4: { recs.splice(i, 0, { ...rec }); ops.push(`rec${i}.dup`); return; }
    case 5: { const j = r.int(recs.length); recs[i] = recs[j]!; recs[j] = rec; ops.push(`rec${i}<->rec${j}`); return; }
    case 6: { // hostile bytes over a key-like run inside an entry ('/...'), same length
      const text = rec.data.toString('latin1');
      const hits = [...text.matchAll(/\/[\x21-\x7e]{3,}/g)];
      if (hits.length === 0 || rec.data.length === 0) { rec.crc ^= 1n; ops.push(`rec${i}.crc^1`); return; }
      const m = r.pick(hits);
      const d = Buffer.from(rec.data);
      const at = m.index! + 1 + r.int(Math.max(1, m[0].length - 1));
      const h = r.pick(HOSTILE_KEY_BYTES);
      h.copy(d, at, 0, Math.min(h.length, d.length - at));
      rec.data = d; ops.push(`rec${i}.key-bytes@${at}`); return;
    }
    default: { // a varint inside the entry's protobuf set to an edge value (lengths, indexes, terms)
      const d = rec.data;
      if (d.length < 2) return;
      const at = r.int(d.length - 1);
      const v = uvarint(r.pick([0n, 1n, 127n, 128n, 0x7fffffffn, 0xffffffffn, (1n << 63n) - 1n, (1n << 64n) - 1n, BigInt(d.length), BigInt(d.length + 1)]));
      rec.data = Buffer.concat([d.subarray(0, at), v, d.subarray(Math.min(d.length, at + 1 + r.int(3)))]);
      ops.push(`rec${i}.varint@${at}`);
    }
  }
}

function recordLevel(seg: Buffer, r: Rng, ops: string[]): Buffer {
  const recs = parseSegment(seg);
  for (let k = r.range(1, 3); k > 0; k--) recordEdit(recs, r, ops);
  if (r.chance(0.7)) { reseal(recs); ops.push('reseal-crc'); }
  return Buffer.concat(recs.map((x) => frame(encodeRecord(x))));
}

/** Parse and re-encode a segment's records (re-sealing the CRC chain when asked), no edit: the fuzz test
 * checks this gives the real segments back byte for byte, so record-level edits change only what they say. */
export function reencodeSegment(seg: Buffer, resealChain: boolean): Buffer {
  const recs = parseSegment(seg);
  if (resealChain) reseal(recs);
  return Buffer.concat(recs.map((x) => frame(encodeRecord(x))));
}

/** Offsets of the frames' length words, for edits that should land on a frame boundary. */
function frameOffsets(seg: Buffer): number[] {
  const out: number[] = [];
  let pos = 0;
  while (pos + 8 <= seg.length && out.length < 100_000) {
    const lo = seg.readUInt32LE(pos); const hi = seg.readUInt32LE(pos + 4);
    if (lo === 0 && hi === 0) break;
    out.push(pos);
    const pad = hi >= 0x80000000 ? (hi >>> 24) & 7 : 0;
    pos += 8 + (hi & 0xffffff) * 0x100000000 + lo + pad;
  }
  return out;
}

function byteLevel(seg: Buffer, r: Rng, ops: string[]): Buffer {
  const frames = frameOffsets(seg);
  const at = frames.length > 0 ? r.pick(frames) : 0;
  const d = Buffer.from(seg);
  switch (r.int(5)) {
    case 0: { // flip bytes inside one record
      const len = d.length >= at + 8 ? d.readUInt32LE(at) : 0;
      for (let n = r.range(1, 4); n > 0; n--) { const p = at + 8 + r.int(Math.max(1, Math.min(len, 1 << 20))); if (p < d.length) d[p]! ^= 1 << r.int(8); }
      ops.push(`flip-in-record@${at}`); return d;
    }
    case 1: { const cut = r.chance(0.5) ? r.int(d.length) : Math.min(d.length, at + r.int(24)); ops.push(`cut ${cut}`); return d.subarray(0, cut); }
    case 2: { // a length word set to an edge value (the pad byte too, sometimes)
      if (at + 8 > d.length) return d;
      const v = r.pick([0, 1, 7, 8, 9, 0x7fffffff, 0xffffffff, d.length, d.length - at, 10 * 1024 * 1024, r.u32()]);
      d.writeUInt32LE(v >>> 0, at);
      if (r.chance(0.4)) d.writeUInt32LE(r.pick([0, 0x80000000, 0x87000000, 0x81000000 | r.int(0xffffff), 0xffffffff]) >>> 0, at + 4);
      ops.push(`length@${at}=${v}`); return d;
    }
    case 3: { // break a CRC: flip a byte of the record's crc varint (after tag 0x10)
      const p = d.indexOf(0x10, at + 8);
      if (p >= 0 && p + 1 < d.length) d[p + 1]! ^= 1 << r.int(7);
      ops.push(`crc-break@${at}`); return d;
    }
    default: { // a preallocated tail: zeros, or zeros then junk
      const tail = Buffer.alloc(r.range(1, 4) * 4096);
      if (r.chance(0.5)) tail[r.int(tail.length)] = r.range(1, 255);
      ops.push('zero-tail'); return Buffer.concat([d, tail]);
    }
  }
}

/** A WAL segment (plain or .wal.gz) damaged at record or byte level; gzipped again when it was. */
export function mutateWal(seed: Buffer, r: Rng): Mutated {
  const gz = seed[0] === 0x1f && seed[1] === 0x8b;
  let d: Buffer = gz ? gunzipSync(seed) : Buffer.from(seed);
  const ops: string[] = [];
  // The gzipped fixtures are whole 64 MB preallocated segments; most cases use them cut after the last record.
  if (d.length > 8 * 1024 * 1024) {
    if (r.chance(0.2)) ops.push('keep-zero-tail');
    else { let end = d.length; while (end > 0 && d[end - 1] === 0) end--; d = d.subarray(0, Math.min(d.length, Math.ceil(end / 8) * 8)); }
  }
  if (r.chance(0.6)) d = recordLevel(d, r, ops);
  if (ops.length === 0 || r.chance(0.5)) d = byteLevel(d, r, ops);
  if (gz && r.chance(0.7)) { d = gzipSync(d); ops.push('gzip'); }
  return { data: d, ops };
}

/** A raft .snap: its data bytes or protobuf damaged, its crc often re-sealed so the damage reaches the decoder. */
export function mutateSnap(seed: Buffer, r: Rng): Mutated {
  const ops: string[] = [];
  let crc = 0n; let data: Buffer = Buffer.alloc(0);
  try {
    for (let p = 0; p < seed.length;) {
      const [tag, q] = readVarint(seed, p); p = q;
      if (tag === 8n) [crc, p] = readVarint(seed, p);
      else if (tag === 18n) { const [l, s] = readVarint(seed, p); data = seed.subarray(s, s + Number(l)); p = s + Number(l); } else break;
    }
  } catch { /* use what was read */ }
  const rec: Rec = { type: 0n, crc, data };
  if (r.chance(0.7)) {
    const wrap: Rec[] = [rec];
    for (let k = r.range(1, 2); k > 0; k--) recordEdit(wrap, r, ops);
    const m = wrap[0] ?? rec;
    if (r.chance(0.75)) { m.crc = BigInt(crc32c(0, m.data)); ops.push('reseal-crc'); }
    let out = Buffer.concat([Buffer.from([8]), uvarint(m.crc), Buffer.from([18]), uvarint(BigInt(m.data.length)), m.data]);
    if (r.chance(0.2)) { out = out.subarray(0, r.int(out.length)); ops.push(`cut ${out.length}`); }
    return { data: out, ops };
  }
  const d = Buffer.from(seed);
  for (let n = r.range(1, 8); n > 0 && d.length > 0; n--) d[r.int(d.length)]! ^= 1 << r.int(8);
  ops.push('bit-flips');
  return { data: d, ops };
}
