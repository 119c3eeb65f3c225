// Walking bbolt B+trees read-only. Every page reached is marked in a bitmap sized by the meta's
// high-water pgid (already checked against the file size), so a page reached twice (a cycle, a page
// pointing at itself, two parents) is an error rather than a hang, and the pages never reached are
// exactly the free pages (bbolt db.freepages(): etcd on Linux does not persist the freelist).
import type { BoltFile } from './file.js';
import type { BoltMeta } from './meta.js';
import { ReadAhead } from './read-ahead.js';
import { PAGE_HEADER_SIZE } from './meta.js';
import {
  BRANCH_PAGE, BUCKET_HEADER_SIZE, BUCKET_LEAF_FLAG, LEAF_PAGE, checkElementArray, makePage, pageError,
  pageKind, readBranchChild, readLeafEntry, u64, type LeafEntry, type Page,
} from './page.js';

/** bbolt splits branch pages at >= 2 keys, so 64 levels cannot be reached below 2^64 pages. */
const MAX_DEPTH = 64;

export interface TreeStats {
  branchPages: number;
  leafPages: number;
  /** Extra pages of overflowing pages (a page with overflow 3 adds 3). */
  overflowPages: number;
  /** Levels below the bucket's root page (a lone root leaf is depth 1); 0 for an inline bucket. */
  depth: number;
  /** Sub-buckets found (nested anywhere below). */
  subBuckets: number;
  inlineSubBuckets: number;
}

export function emptyTreeStats(): TreeStats {
  return { branchPages: 0, leafPages: 0, overflowPages: 0, depth: 0, subBuckets: 0, inlineSubBuckets: 0 };
}

export interface ReaderOptions {
  /** Refuse overflowing pages larger than this (default 256 MiB), instead of allocating them. */
  maxPageSpanBytes?: number;
}

/** The location of a bucket: a root page, or an inline page inside its parent's leaf value. */
export type BucketRoot = { kind: 'page'; pgid: number } | { kind: 'inline'; page: Page };

export class PageReader {
  readonly pageSize: number;
  readonly pgid: number;
  /** 1 for each page id reached (meta pages 0 and 1 included). */
  readonly reached: Uint8Array;
  private readonly littleEndian: boolean;
  private readonly maxSpan: number;
  private readonly readAhead: ReadAhead;

  constructor(private readonly file: BoltFile, meta: BoltMeta, options: ReaderOptions = {}) {
    this.pageSize = meta.pageSize;
    this.pgid = meta.pgid;
    this.littleEndian = meta.byteOrder === 'little-endian';
    this.maxSpan = options.maxPageSpanBytes ?? 256 * 1024 * 1024;
    this.readAhead = new ReadAhead(file, meta.pageSize);
    this.reached = new Uint8Array(meta.pgid);
    this.reached[0] = 1;
    this.reached[1] = 1;
  }

  /** Reads page `id` (with its overflow) that `from` refers to; marks it and its overflow reached. */
  readPage(id: number, from: Page | null, what: string): Page {
    if (id < 2 || id >= this.pgid) throw this.referError(id, from, what, `points to page ${id}, outside [2, ${this.pgid})`);
    if (from !== null && from.inlineBucket === null && id === from.id) throw this.referError(id, from, what, `points to its own page ${id}`);
    if (this.reached[id] === 1) {
      throw this.referError(id, from, what, `points to page ${id}, which is already reached (cycle or shared page)`);
    }
    const offset = id * this.pageSize;
    const taken = this.readAhead.take(id);
    const first = taken?.view ?? this.file.read(offset, this.pageSize, `page ${id}`);
    let page = makePage(first, id, offset, this.littleEndian, null);
    page.block = taken?.block ?? null;
    const headerId = u64(page, 0);
    if (headerId !== id) throw pageError(page, `header says page ${headerId === Number.MAX_SAFE_INTEGER ? '≥2^53' : headerId}, expected ${id}`);
    if (page.overflow > 0) {
      const last = id + page.overflow;
      if (last >= this.pgid) throw pageError(page, `overflow ${page.overflow} runs past the high-water mark ${this.pgid}`);
      const span = (page.overflow + 1) * this.pageSize;
      if (span > this.maxSpan) throw pageError(page, `overflow ${page.overflow} spans ${span} bytes, over the ${this.maxSpan} limit`);
      for (let p = id + 1; p <= last; p++) {
        if (this.reached[p] === 1) throw pageError(page, `overflow page ${p} is already reached by another page`);
      }
      const rest = this.file.read(offset + this.pageSize, span - this.pageSize, `page ${id} overflow`);
      this.release(page);
      page = makePage(Buffer.concat([first, rest], span), id, offset, this.littleEndian, null);
      this.reached.fill(1, id + 1, last + 1);
    }
    this.reached[id] = 1;
    return page;
  }

  /** Reads ahead the children of a branch page that are in range and not reached yet. */
  private prefetch(ids: readonly number[]): void {
    // Float64Array: numeric sort without a comparator; children usually arrive sorted already.
    const sorted = Float64Array.from(ids).sort();
    const wanted: number[] = [];
    for (const id of sorted) {
      if (id >= 2 && id < this.pgid && this.reached[id] === 0 && id !== wanted[wanted.length - 1]) wanted.push(id);
    }
    this.readAhead.load(wanted);
  }

  /** The walker is done with `page`: its read-ahead bytes may be reused. */
  release(page: Page): void {
    this.readAhead.release(page.block);
    page.block = null;
  }

  /** An error about a reference to page `id`, named after the page holding the reference. */
  private referError(id: number, from: Page | null, what: string, message: string): Error {
    return from === null ? pageError(this.stub(id), message) : pageError(from, `${what} ${message}`);
  }

  private stub(id: number): Page {
    return makePage(Buffer.alloc(PAGE_HEADER_SIZE), id, id * this.pageSize, this.littleEndian, null);
  }

  /** Parses a bucket header value {root u64, sequence u64}[inline page] held in `entry`. */
  bucketRoot(entry: LeafEntry, name: string): BucketRoot {
    const { page, keyEnd, valueEnd } = entry;
    if (valueEnd - keyEnd < BUCKET_HEADER_SIZE) {
      throw pageError(page, `leaf element ${entry.index} is a bucket but its value has ${valueEnd - keyEnd} bytes, under 16`);
    }
    const root = u64(page, keyEnd);
    if (root !== 0) return { kind: 'page', pgid: root };
    const start = keyEnd + BUCKET_HEADER_SIZE;
    const inlineBuf = page.buf.subarray(start, valueEnd);
    const inlinePage = makePage(inlineBuf, page.id, page.byteOffset + start, this.littleEndian, name);
    return { kind: 'inline', page: inlinePage };
  }

  /**
   * Visits every leaf entry of the bucket rooted at `root` in key order, calling `onEntry` (which
   * must not keep the entry object). Sub-bucket entries are passed too. With `descend`, their trees
   * are walked for page accounting (into the same stats) but their entries are not visited; without
   * it (the root bucket), onEntry is expected to walk them.
   */
  walkBucket(
    root: BucketRoot, stats: TreeStats, onEntry: (entry: LeafEntry) => void, from: Page | null, depth: number, descend: boolean,
  ): void {
    const walk: Walk = { stats, onEntry, bucketDepth: depth, descend };
    if (root.kind === 'inline') {
      const page = root.page;
      if (page.flags !== LEAF_PAGE) throw pageError(page, `inline page is ${pageKind(page.flags)}, expected leaf`);
      this.visitLeaf(page, walk);
      return;
    }
    this.walkPage(root.pgid, from, 'bucket root', walk, 1);
  }

  private walkPage(id: number, from: Page | null, what: string, walk: Walk, level: number): void {
    const { stats } = walk;
    const page = this.readPage(id, from, what);
    if (level > MAX_DEPTH) throw pageError(page, `tree deeper than ${MAX_DEPTH} levels`);
    stats.overflowPages += page.overflow;
    if (level > stats.depth) stats.depth = level;
    if (page.flags === BRANCH_PAGE) {
      stats.branchPages++;
      checkElementArray(page);
      if (page.count === 0) throw pageError(page, 'branch page has no elements');
      const children: number[] = [];
      for (let i = 0; i < page.count; i++) children.push(readBranchChild(page, i));
      this.release(page);
      this.prefetch(children);
      children.forEach((child, i) => this.walkPage(child, page, `branch element ${i}`, walk, level + 1));
    } else if (page.flags === LEAF_PAGE) {
      stats.leafPages++;
      this.visitLeaf(page, walk);
      this.release(page);
    } else {
      throw pageError(page, `${pageKind(page.flags)} page where a branch or leaf page belongs`);
    }
  }

  private visitLeaf(page: Page, walk: Walk): void {
    checkElementArray(page);
    const entry: LeafEntry = { page, index: 0, flags: 0, keyStart: 0, keyEnd: 0, valueEnd: 0 };
    for (let i = 0; i < page.count; i++) {
      readLeafEntry(page, i, entry);
      if (walk.descend && (entry.flags & BUCKET_LEAF_FLAG) !== 0) this.walkSubBucket(entry, walk.stats, walk.bucketDepth);
      walk.onEntry(entry);
    }
  }

  private walkSubBucket(entry: LeafEntry, stats: TreeStats, bucketDepth: number): void {
    if (bucketDepth >= MAX_DEPTH) throw pageError(entry.page, `buckets nested deeper than ${MAX_DEPTH}`);
    const name = entry.page.buf.toString('latin1', entry.keyStart, entry.keyEnd);
    const root = this.bucketRoot(entry, name);
    stats.subBuckets++;
    if (root.kind === 'inline') stats.inlineSubBuckets++;
    const nested = emptyTreeStats();
    this.walkBucket(root, nested, () => undefined, entry.page, bucketDepth + 1, true);
    stats.branchPages += nested.branchPages;
    stats.leafPages += nested.leafPages;
    stats.overflowPages += nested.overflowPages;
    stats.subBuckets += nested.subBuckets;
    stats.inlineSubBuckets += nested.inlineSubBuckets;
  }
}

interface Walk {
  stats: TreeStats;
  onEntry: (entry: LeafEntry) => void;
  bucketDepth: number;
  descend: boolean;
}
