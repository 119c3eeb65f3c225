// Page-level mutations of bbolt files (etcd snapshots and backends). Layout (go.etcd.io/bbolt, page.go
// and db.go; little-endian on amd64):
//   page header (16 bytes): id u64 | flags u16 | count u16 | overflow u32
//   meta (at byte 16 of pages 0 and 1): magic u32 | version u32 | pageSize u32 | flags u32 |
//     root.root u64 | root.sequence u64 | freelist u64 | pgid u64 | txid u64 | checksum u64
//     (checksum: FNV-1a 64 over the 56 meta bytes before it)
//   branch element (16): pos u32 | ksize u32 | pgid u64;  leaf element (16): flags u32 | pos u32 | ksize u32 | vsize u32
// `etcdctl snapshot save` appends sha256(image) (32 bytes). A mutation can re-seal the meta checksum
// and the trailer afterwards, so the damage reaches the tree walk instead of being refused at the door.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Mutated } from './mutate-text.js';
import type { Rng } from './rng.js';

const META_FIELDS: Record<string, [offset: number, width: 4 | 8]> = {
  magic: [16, 4], version: [20, 4], pageSize: [24, 4], flags: [28, 4], root: [32, 8], sequence: [40, 8],
  freelist: [48, 8], pgid: [56, 8], txid: [64, 8], checksum: [72, 8],
};

const PAGE_FIELDS: Record<string, [offset: number, width: 2 | 4 | 8]> = {
  id: [0, 8], flags: [8, 2], count: [10, 2], overflow: [12, 4],
};

interface Layout { pageSize: number; pages: number; trailer: boolean }

function layoutOf(d: Buffer): Layout {
  const ps = d.length >= 28 ? d.readUInt32LE(24) : 4096;
  const pageSize = ps >= 512 && ps <= 65536 && (ps & (ps - 1)) === 0 ? ps : 4096;
  const trailer = d.length % 512 === 32;
  return { pageSize, pages: Math.floor((d.length - (trailer ? 32 : 0)) / pageSize), trailer };
}

function edgeValue(r: Rng, width: number, l: Layout, current: bigint): bigint {
  const max = (1n << BigInt(width * 8)) - 1n;
  const candidates = [
    0n, 1n, 2n, 3n, BigInt(l.pages - 1), BigInt(l.pages), BigInt(l.pages + 1), BigInt(l.pages * 2), current + 1n,
    current - 1n, max, max - 1n, 1n << BigInt(width * 8 - 1), 0x7fffffffn, 0xffffn, 9007199254740993n,
    BigInt(r.u32()), 0x10n, 0x04n, 0x02n, 0x01n, 0x12n,
  ];
  return r.pick(candidates) & max;
}

function writeUInt(d: Buffer, offset: number, width: number, v: bigint): void {
  if (offset + width > d.length) return;
  if (width === 8) d.writeBigUInt64LE(v, offset);
  else if (width === 4) d.writeUInt32LE(Number(v), offset);
  else d.writeUInt16LE(Number(v), offset);
}

function readUInt(d: Buffer, offset: number, width: number): bigint {
  if (offset + width > d.length) return 0n;
  if (width === 8) return d.readBigUInt64LE(offset);
  return BigInt(width === 4 ? d.readUInt32LE(offset) : d.readUInt16LE(offset));
}

function fnv1a64(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

function resealMeta(d: Buffer, page: number, pageSize: number): void {
  const base = page * pageSize;
  if (base + 80 > d.length) return;
  d.writeBigUInt64LE(fnv1a64(d.subarray(base + 16, base + 72)), base + 72);
}

function metaEdit(d: Buffer, r: Rng, l: Layout, ops: string[]): void {
  const page = r.int(2);
  const field = r.pick(Object.keys(META_FIELDS));
  const [off, width] = META_FIELDS[field]!;
  const at = page * l.pageSize + off;
  const v = edgeValue(r, width, l, readUInt(d, at, width));
  writeUInt(d, at, width, v);
  const reseal = field !== 'checksum' && r.chance(0.75);
  if (reseal) resealMeta(d, page, l.pageSize);
  ops.push(`meta${page}.${field}=${v}${reseal ? '+reseal' : ''}`);
}

function pageHeaderEdit(d: Buffer, r: Rng, l: Layout, ops: string[]): void {
  const page = l.pages > 2 ? r.range(2, l.pages - 1) : r.int(l.pages);
  const field = r.pick(Object.keys(PAGE_FIELDS));
  const [off, width] = PAGE_FIELDS[field]!;
  const at = page * l.pageSize + off;
  const v = edgeValue(r, width, l, readUInt(d, at, width));
  writeUInt(d, at, width, v);
  ops.push(`page${page}.${field}=${v}`);
}

/** Pages whose header says branch or leaf, so element edits land on elements. */
function treePages(d: Buffer, l: Layout): number[] {
  const out: number[] = [];
  for (let p = 2; p < l.pages; p++) {
    const flags = d.readUInt16LE(p * l.pageSize + 8);
    if ((flags === 0x01 || flags === 0x02) && d.readUInt16LE(p * l.pageSize + 10) > 0) out.push(p);
  }
  return out;
}

function elementEdit(d: Buffer, r: Rng, l: Layout, ops: string[]): void {
  const pages = treePages(d, l);
  if (pages.length === 0) { pageHeaderEdit(d, r, l, ops); return; }
  const page = r.pick(pages);
  const base = page * l.pageSize;
  const count = d.readUInt16LE(base + 10);
  const index = r.int(Math.min(count, Math.floor((l.pageSize - 16) / 16)));
  const fieldOffset = r.pick([0, 4, 8, 12]);
  const at = base + 16 + index * 16 + fieldOffset;
  const v = edgeValue(r, 4, l, readUInt(d, at, 4));
  writeUInt(d, at, 4, v);
  ops.push(`page${page}.elem${index}+${fieldOffset}=${v}`);
}

/** Overwrites bytes of a stored key or value (in the protobuf inside a leaf) with hostile bytes of the same length. */
function keyBytesEdit(d: Buffer, r: Rng, l: Layout, ops: string[]): void {
  const text = d.toString('latin1');
  const hits = [...text.matchAll(/\/[\x21-\x7e]{3,}/g)].filter((m) => m.index! >= 2 * l.pageSize);
  if (hits.length === 0) { elementEdit(d, r, l, ops); return; }
  const m = r.pick(hits);
  const hostile = Buffer.from(r.pick(['\x1b]52;c;', '\x1b[2J', '\r\n<script>', '\xff\xfe', '\u202e', '\u009b', '\x00\x07']), r.chance(0.5) ? 'utf8' : 'latin1');
  const at = m.index! + 1 + r.int(Math.max(1, m[0].length - 1));
  hostile.copy(d, at, 0, Math.min(hostile.length, d.length - at));
  ops.push(`key-bytes@${at}`);
}

function pageCopy(d: Buffer, r: Rng, l: Layout, ops: string[]): void {
  if (l.pages < 2) return;
  const from = r.int(l.pages); const to = r.int(l.pages);
  d.copy(d, to * l.pageSize, from * l.pageSize, (from + 1) * l.pageSize);
  ops.push(`page-copy ${from}->${to}`);
}

function pageZero(d: Buffer, r: Rng, l: Layout, ops: string[]): void {
  const p = r.int(l.pages);
  d.fill(r.chance(0.5) ? 0 : 0xff, p * l.pageSize, (p + 1) * l.pageSize);
  ops.push(`page-fill ${p}`);
}

function bitFlips(d: Buffer, r: Rng, _l: Layout, ops: string[]): void {
  const n = r.range(1, 8);
  for (let i = 0; i < n; i++) d[r.int(d.length)]! ^= 1 << r.int(8);
  ops.push(`bit-flips x${n}`);
}

const PAGE_MUTATIONS = [metaEdit, metaEdit, pageHeaderEdit, elementEdit, elementEdit, keyBytesEdit, keyBytesEdit, pageCopy, pageZero, bitFlips];

/** Structure-aware damage to a bbolt image, then (often) a trailer that matches it again. */
export function mutateBbolt(seed: Buffer, r: Rng): Mutated {
  const l = layoutOf(seed);
  let d = Buffer.from(seed);
  const ops: string[] = [];
  for (let k = r.range(1, 3); k > 0; k--) r.pick(PAGE_MUTATIONS)(d, r, l, ops);
  const end = r.int(10);
  if (end === 0) { d = d.subarray(0, r.chance(0.5) ? r.int(d.length) : r.int(l.pages + 1) * l.pageSize); ops.push(`truncate ${d.length}`); }
  else if (end === 1 && l.trailer) { d = d.subarray(0, d.length - 32); ops.push('drop-trailer'); }
  else if (end === 2) { d = Buffer.concat([d, Buffer.alloc(r.range(1, 3) * l.pageSize, r.chance(0.5) ? 0 : 0xaa)]); ops.push('append'); }
  else if (end <= 6 && l.trailer) {
    const image = d.subarray(0, d.length - 32);
    createHash('sha256').update(image).digest().copy(d, d.length - 32);
    ops.push('reseal-trailer');
  }
  return { data: d, ops };
}

/** A gzipped snapshot: the image inside damaged and re-gzipped, or the gzip stream itself damaged. */
export function mutateBboltGz(seed: Buffer, r: Rng): Mutated {
  const gz = seed[0] === 0x1f && seed[1] === 0x8b ? seed : gzipSync(seed);
  if (r.chance(0.7)) {
    const inner = mutateBbolt(gunzipSync(gz), r);
    return { data: gzipSync(inner.data), ops: ['gz(', ...inner.ops, ')'] };
  }
  const d = Buffer.from(gz);
  switch (r.int(4)) {
    case 0: { for (let i = r.range(1, 8); i > 0; i--) d[r.range(10, d.length - 1)]! ^= 1 << r.int(8); return { data: d, ops: ['gz-bit-flips'] }; }
    case 1: return { data: d.subarray(0, r.int(d.length)), ops: ['gz-truncate'] };
    case 2: return { data: Buffer.concat([d, gzipSync(Buffer.alloc(r.range(1, 64) * 1024 * 1024))]), ops: ['gz-append-zeros-member'] };
    default: d.writeUInt32LE(r.u32(), d.length - 4); return { data: d, ops: ['gz-isize'] };
  }
}
