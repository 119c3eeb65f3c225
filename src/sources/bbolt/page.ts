// bbolt pages: a 16-byte header {id u64, flags u16, count u16, overflow u32}, then `count` 16-byte
// elements. A page spans (overflow+1)*pageSize bytes. Element keys are addressed relative to the
// element itself (node.write: pos = key address − element address):
//   branch element: pos u32 | ksize u32 | pgid u64            → key at elem+pos
//   leaf element:   flags u32 | pos u32 | ksize u32 | vsize u32 → key at elem+pos, value right after
// Every offset is checked against the page span before use; a bad one names the page and element.
import { BoltFormatError } from './errors.js';
import { PAGE_HEADER_SIZE } from './meta.js';
import type { PageBlock } from './read-ahead.js';

export const BRANCH_PAGE = 0x01;
export const LEAF_PAGE = 0x02;
export const META_PAGE = 0x04;
export const FREELIST_PAGE = 0x10;
/** Leaf element flag: the value is a bucket header {root u64, sequence u64} (+ inline page). */
export const BUCKET_LEAF_FLAG = 0x01;
export const ELEMENT_SIZE = 16;
export const BUCKET_HEADER_SIZE = 16;

export interface Page {
  /** The page id; for an inline page, the id of the page that holds the bucket value. */
  id: number;
  /** File offset of this page's first byte (of the inline page itself when inline). */
  byteOffset: number;
  /** Set for an inline bucket's page: the bucket's name, for messages. */
  inlineBucket: string | null;
  flags: number;
  count: number;
  overflow: number;
  /** The page's bytes: the whole (overflow+1)*pageSize span, or the inline page slice. */
  buf: Buffer;
  littleEndian: boolean;
  /** The read-ahead block `buf` lives in (valid until released), null for a buffer of its own. */
  block: PageBlock | null;
}

/** A leaf element's location inside page.buf. Reused by iterators: copy what you keep. */
export interface LeafEntry {
  page: Page;
  index: number;
  flags: number;
  keyStart: number;
  keyEnd: number;
  valueEnd: number;
}

export function pageError(page: Page, message: string): BoltFormatError {
  const prefix = page.inlineBucket === null ? '' : `inline page of bucket "${page.inlineBucket}": `;
  return new BoltFormatError(prefix + message, page.id, page.byteOffset);
}

// Plain byte arithmetic instead of Buffer#readUInt32LE: these run per element of every page, and
// the Buffer methods validate their argument on each call (a tenth of the reader's time).
// Callers have already checked that the 4 bytes lie inside the page.
export function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}

export function u32be(b: Uint8Array, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

/** A big-endian u64 as a number (exact below 2^53): etcd revision main/sub. */
export function u64be(b: Uint8Array, o: number): number {
  return u32be(b, o) * 0x100000000 + u32be(b, o + 4);
}

export function u32(page: Page, offset: number): number {
  return page.littleEndian ? u32le(page.buf, offset) : u32be(page.buf, offset);
}

/** A u64 that must be a page id: values past 2^53 come back as MAX_SAFE_INTEGER (out of any range). */
export function u64(page: Page, offset: number): number {
  const hi = page.littleEndian ? u32le(page.buf, offset + 4) : u32be(page.buf, offset);
  const lo = page.littleEndian ? u32le(page.buf, offset) : u32be(page.buf, offset + 4);
  return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo;
}

/** Builds a Page over `buf`, reading and sanity-checking the header (element array must fit). */
export function makePage(
  buf: Buffer,
  id: number,
  byteOffset: number,
  littleEndian: boolean,
  inlineBucket: string | null,
): Page {
  const page: Page = { id, byteOffset, inlineBucket, flags: 0, count: 0, overflow: 0, buf, littleEndian, block: null };
  if (buf.length < PAGE_HEADER_SIZE) throw pageError(page, `page header needs 16 bytes, only ${buf.length} present`);
  page.flags = littleEndian ? buf.readUInt16LE(8) : buf.readUInt16BE(8);
  page.count = littleEndian ? buf.readUInt16LE(10) : buf.readUInt16BE(10);
  page.overflow = littleEndian ? buf.readUInt32LE(12) : buf.readUInt32BE(12);
  return page;
}

/** Checks that `count` elements fit in the page before anything indexes them. */
export function checkElementArray(page: Page): void {
  const end = PAGE_HEADER_SIZE + page.count * ELEMENT_SIZE;
  if (end > page.buf.length) {
    throw pageError(page, `${page.count} elements need ${end} bytes but the page has ${page.buf.length}`);
  }
}

export function pageKind(flags: number): string {
  switch (flags) {
    case BRANCH_PAGE: return 'branch';
    case LEAF_PAGE: return 'leaf';
    case META_PAGE: return 'meta';
    case FREELIST_PAGE: return 'freelist';
    default: return `unknown (flags 0x${flags.toString(16)})`;
  }
}

/** Locates leaf element `index` into `entry`, checking key and value bounds. */
export function readLeafEntry(page: Page, index: number, entry: LeafEntry): LeafEntry {
  const elem = PAGE_HEADER_SIZE + index * ELEMENT_SIZE;
  const pos = u32(page, elem + 4);
  const ksize = u32(page, elem + 8);
  const vsize = u32(page, elem + 12);
  const keyStart = elem + pos;
  const keyEnd = keyStart + ksize;
  const valueEnd = keyEnd + vsize;
  if (keyEnd > page.buf.length) throw pageError(page, `leaf element ${index} key extends past page end`);
  if (valueEnd > page.buf.length) throw pageError(page, `leaf element ${index} value extends past page end`);
  entry.page = page;
  entry.index = index;
  entry.flags = u32(page, elem);
  entry.keyStart = keyStart;
  entry.keyEnd = keyEnd;
  entry.valueEnd = valueEnd;
  return entry;
}

/** The child page id of branch element `index`, after checking that its key lies inside the page. */
export function readBranchChild(page: Page, index: number): number {
  const elem = PAGE_HEADER_SIZE + index * ELEMENT_SIZE;
  const keyEnd = elem + u32(page, elem) + u32(page, elem + 4);
  if (keyEnd > page.buf.length) throw pageError(page, `branch element ${index} key extends past page end`);
  return u64(page, elem + 8);
}
