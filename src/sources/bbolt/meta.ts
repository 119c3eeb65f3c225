// bbolt meta pages (pages 0 and 1). Structural integers are native-endian (raw struct casts in Go),
// so the byte order is detected from the magic 0xED0CDAED at byte 16: little-endian on amd64/arm64,
// big-endian on s390x. Layout after the 16-byte page header:
//   magic u32 | version u32 | pageSize u32 | flags u32 | root.root u64 | root.sequence u64 |
//   freelist u64 | pgid u64 | txid u64 | checksum u64 (FNV-1a 64 over the 56 bytes before it)
import { BoltFormatError } from './errors.js';
import type { BoltFile } from './file.js';

export type ByteOrder = 'little-endian' | 'big-endian';

export const MAGIC = 0xed0cdaed;
export const PAGE_HEADER_SIZE = 16;
const META_OFFSET = 16;
const META_SIZE = 64;
const VERSION = 2;
/** meta.freelist when etcd (NoFreelistSync on Linux) did not persist the freelist. */
const NO_FREELIST = 0xffffffffffffffffn;
const MIN_PAGE_SIZE = 512;
const MAX_PAGE_SIZE = 1 << 20;
const FALLBACK_PAGE_SIZES = [4096, 8192, 16384, 65536, 512, 1024, 2048, 32768];

export interface BoltMeta {
  /** 0 or 1: which meta page this is. */
  page: 0 | 1;
  byteOrder: ByteOrder;
  version: number;
  pageSize: number;
  rootPgid: number;
  /** null when not persisted (pgidNoFreelist). */
  freelistPgid: number | null;
  /** High-water mark: pages [0, pgid) are in use or free; the image is pgid*pageSize bytes. */
  pgid: number;
  /** Decimal string: a u64. */
  txid: string;
  checksum: string;
}

export type MetaCheck = { valid: true; meta: BoltMeta } | { valid: false; reason: string };

export interface ChosenMeta {
  meta: BoltMeta;
  /** The other meta page and why it was not used (older txid, or invalid). */
  other: MetaCheck;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64_MASK = 0xffffffffffffffffn;

export function fnv1a64(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & U64_MASK;
  return h;
}

export function readU64(buf: Buffer, offset: number, order: ByteOrder): bigint {
  return order === 'little-endian' ? buf.readBigUInt64LE(offset) : buf.readBigUInt64BE(offset);
}

function readU32(buf: Buffer, offset: number, order: ByteOrder): number {
  return order === 'little-endian' ? buf.readUInt32LE(offset) : buf.readUInt32BE(offset);
}

/** Out-of-range ids stay out of range (and are rejected by the bounds checks) without losing exactness below 2^53. */
function clampToSafe(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

function orderOfMagic(buf: Buffer): ByteOrder | null {
  if (buf.readUInt32LE(META_OFFSET) === MAGIC) return 'little-endian';
  if (buf.readUInt32BE(META_OFFSET) === MAGIC) return 'big-endian';
  return null;
}

/** Parses and validates one meta page held in `buf` (at least 80 bytes). */
export function parseMetaPage(buf: Buffer, page: 0 | 1): MetaCheck {
  const order = orderOfMagic(buf);
  if (order === null) return { valid: false, reason: `bad magic 0x${buf.readUInt32LE(META_OFFSET).toString(16)}` };
  const version = readU32(buf, META_OFFSET + 4, order);
  if (version !== VERSION) return { valid: false, reason: `version ${version}, expected ${VERSION}` };
  const stored = readU64(buf, META_OFFSET + 56, order);
  const computed = fnv1a64(buf.subarray(META_OFFSET, META_OFFSET + 56));
  if (stored !== computed) {
    return { valid: false, reason: `checksum 0x${stored.toString(16)} != computed 0x${computed.toString(16)}` };
  }
  const pageSize = readU32(buf, META_OFFSET + 8, order);
  if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE || (pageSize & (pageSize - 1)) !== 0) {
    return { valid: false, reason: `implausible page size ${pageSize}` };
  }
  const root = readU64(buf, META_OFFSET + 16, order);
  const freelist = readU64(buf, META_OFFSET + 32, order);
  const pgid = readU64(buf, META_OFFSET + 40, order);
  if (pgid > BigInt(Number.MAX_SAFE_INTEGER)) return { valid: false, reason: `high-water pgid ${pgid} is implausible` };
  const meta: BoltMeta = {
    page,
    byteOrder: order,
    version,
    pageSize,
    rootPgid: clampToSafe(root),
    freelistPgid: freelist === NO_FREELIST ? null : clampToSafe(freelist),
    pgid: Number(pgid),
    txid: readU64(buf, META_OFFSET + 48, order).toString(),
    checksum: stored.toString(16).padStart(16, '0'),
  };
  return { valid: true, meta };
}

/**
 * Reads both meta pages and picks the valid one with the higher txid (bbolt db.meta()).
 * The page size comes from meta 0 when it is valid; otherwise meta 1 is looked for at the usual sizes.
 */
export function readMeta(file: BoltFile): ChosenMeta {
  const headerBytes = PAGE_HEADER_SIZE + META_SIZE;
  if (file.dataLength < headerBytes) {
    throw new BoltFormatError(`file has ${file.dataLength} bytes, too short for a bbolt meta page (${headerBytes})`, 0, 0);
  }
  const first = file.read(0, headerBytes, 'meta page 0');
  const meta0 = parseMetaPage(first, 0);
  const sizes = meta0.valid ? [meta0.meta.pageSize] : FALLBACK_PAGE_SIZES;
  // Without a valid meta 0 the page size is unknown: look for meta 1 at the usual sizes, and report
  // the first candidate that at least had the magic (else the one at 4096).
  let meta1: MetaCheck | null = null;
  let firstTried: MetaCheck | null = null;
  for (const size of sizes) {
    if (size + headerBytes > file.dataLength) continue;
    const check = parseMetaPage(file.read(size, headerBytes, 'meta page 1'), 1);
    firstTried ??= check;
    if (check.valid) {
      meta1 = check;
      break;
    }
    if (meta1 === null && !check.reason.startsWith('bad magic')) meta1 = check;
  }
  meta1 ??= firstTried ?? { valid: false, reason: 'file too short for meta page 1' };
  if (!meta0.valid && !meta1.valid) {
    const magicHint = orderOfMagic(first) === null ? ' (no bbolt magic 0xED0CDAED at byte 16 in either byte order)' : '';
    throw new BoltFormatError(`no valid meta page${magicHint}: meta 0: ${meta0.reason}; meta 1: ${meta1.reason}`, 0, 0);
  }
  const chosen = pickMeta(meta0, meta1);
  checkMeta(chosen.meta, file);
  return chosen;
}

function pickMeta(meta0: MetaCheck, meta1: MetaCheck): ChosenMeta {
  if (meta0.valid && meta1.valid) {
    if (meta0.meta.pageSize !== meta1.meta.pageSize || meta0.meta.byteOrder !== meta1.meta.byteOrder) {
      // bbolt would read meta 1 at meta 0's page size; a disagreeing meta 1 is as good as invalid.
      return { meta: meta0.meta, other: { valid: false, reason: 'page size or byte order differs from meta 0' } };
    }
    return BigInt(meta1.meta.txid) > BigInt(meta0.meta.txid)
      ? { meta: meta1.meta, other: meta0 }
      : { meta: meta0.meta, other: meta1 };
  }
  if (meta0.valid) return { meta: meta0.meta, other: meta1 };
  if (meta1.valid) return { meta: meta1.meta, other: meta0 };
  throw new BoltFormatError('no valid meta page');
}

function checkMeta(meta: BoltMeta, file: BoltFile): void {
  const at = meta.page * meta.pageSize;
  if (meta.pgid < 3) throw new BoltFormatError(`high-water pgid ${meta.pgid} leaves no room for a root page`, meta.page, at);
  const imageBytes = meta.pgid * meta.pageSize;
  if (imageBytes > file.dataLength) {
    throw new BoltFormatError(
      `high-water pgid ${meta.pgid} × page size ${meta.pageSize} = ${imageBytes} bytes, but the file holds only ${file.dataLength} (truncated?)`,
      meta.page,
      at,
    );
  }
  if (meta.rootPgid < 2 || meta.rootPgid >= meta.pgid) {
    throw new BoltFormatError(`root bucket page ${meta.rootPgid} is outside [2, ${meta.pgid})`, meta.page, at);
  }
  if (meta.freelistPgid !== null && (meta.freelistPgid < 2 || meta.freelistPgid >= meta.pgid)) {
    throw new BoltFormatError(`freelist page ${meta.freelistPgid} is outside [2, ${meta.pgid})`, meta.page, at);
  }
}

/** The bbolt image size a file's meta pages declare: page size × high-water pgid. */
export interface DeclaredImage {
  bytes: number;
  pageSize: number;
  pgid: number;
}

/** Bytes of a file's start that always hold both meta pages (meta 1 is at one page size, ≤ MAX_PAGE_SIZE). */
export const META_HEAD_BYTES = MAX_PAGE_SIZE + PAGE_HEADER_SIZE + META_SIZE;

/**
 * What the meta pages in the first bytes of a file (at least META_HEAD_BYTES, or the whole file) declare,
 * before the rest is read: a gzipped snapshot is unpacked no further than this (plus a sha256 trailer).
 * The larger declaration of the valid metas; null when neither is valid (the reader then says why).
 */
export function declaredImage(head: Buffer): DeclaredImage | null {
  const headerBytes = PAGE_HEADER_SIZE + META_SIZE;
  if (head.length < headerBytes) return null;
  const meta0 = parseMetaPage(head.subarray(0, headerBytes), 0);
  const sizes = meta0.valid ? [meta0.meta.pageSize] : FALLBACK_PAGE_SIZES;
  const valid: BoltMeta[] = meta0.valid ? [meta0.meta] : [];
  for (const size of sizes) {
    if (size + headerBytes > head.length) continue;
    const m1 = parseMetaPage(head.subarray(size, size + headerBytes), 1);
    if (m1.valid && m1.meta.pageSize === size) {
      valid.push(m1.meta);
      break;
    }
  }
  let best: DeclaredImage | null = null;
  for (const m of valid) {
    const bytes = m.pgid * m.pageSize;
    if (Number.isSafeInteger(bytes) && (best === null || bytes > best.bytes)) best = { bytes, pageSize: m.pageSize, pgid: m.pgid };
  }
  return best;
}
