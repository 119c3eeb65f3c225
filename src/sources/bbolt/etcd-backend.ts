// Reads an etcd v3 backend (member/snap/db, or an `etcdctl snapshot save` file) read-only and
// summarises it: page accounting, free pages, the `snapshot status` figures computed the way
// etcdctl computes them, every revision of the `key` bucket (streamed), and the small buckets.
import { updateCrc32c } from './crc32c.js';
import { BoltFormatError } from './errors.js';
import { interpretSmallBucketRow, emptySmallBuckets, INTERPRETED_BUCKETS, type EtcdSmallBuckets } from './etcd-buckets.js';
import { openBoltImage, type BoltFileInfo, type OpenBoltOptions } from './open.js';
import { KeyBucketReader, type EtcdRevision, type KeyAggregate, type KeyBucketTotals } from './key-bucket.js';
import { BUCKET_LEAF_FLAG, FREELIST_PAGE, pageError, pageKind, u64be, type LeafEntry, type Page } from './page.js';
import { PageReader, emptyTreeStats, type TreeStats } from './tree.js';
import { LiveRevisions, carveFreePages, type CarveResult } from './carve.js';

export interface ReadEtcdBackendOptions extends OpenBoltOptions {
  /** Called for every row of the `key` bucket, in revision order. Do not keep `rev.value`. */
  onRevision?(rev: EtcdRevision): void;
  /** Keep per-key aggregates (memory grows with the number of distinct keys). Default true. */
  collectKeys?: boolean;
  /** Compute the snapshot status HASH (CRC-32C over every entry). Default true. */
  computeHash?: boolean;
  /** After the walk, carve compacted revisions out of the free pages (carve.ts). Default false. */
  carve?: boolean;
}

export interface BucketSummary {
  name: string;
  inline: boolean;
  /** Entries directly in the bucket (what `snapshot status` counts). */
  entries: number;
  /** Bytes of keys + values of those entries. */
  bytes: number;
  /** Pages reachable from this bucket, nested sub-buckets included; 0 for an inline bucket. */
  branchPages: number;
  leafPages: number;
  overflowPages: number;
  depth: number;
  subBuckets: number;
}

/** What `etcdctl snapshot status -w json` prints, computed by us. */
export interface SnapshotStatusFigures {
  /** CRC-32C; null when computeHash was false. */
  hash: number | null;
  revision: number;
  totalKey: number;
  totalSize: number;
}

export interface PageAccounting {
  /** Meta high-water pgid: pages [0, pgid) make up the image. */
  highWater: number;
  meta: number;
  /** Pages of the root bucket's own tree (bucket names). */
  rootTree: number;
  /** Pages reached from buckets (all levels, overflow included). */
  bucketPages: number;
  /** The persisted freelist page(s), 0 when not persisted (etcd on Linux). */
  freelistPages: number;
  /** Page ids the persisted freelist lists, null when not persisted. */
  freelistListed: number | null;
  /** Pages in [2, pgid) that nothing reaches. */
  free: number;
}

export interface BackendIssue {
  bucket: string;
  pageId: number;
  byteOffset: number;
  reason: string;
}

export interface EtcdBackendSummary extends EtcdSmallBuckets {
  file: BoltFileInfo;
  pages: PageAccounting;
  /** pgid × pageSize, etcd's dbSize. */
  dbSize: number;
  /** dbSize − free × pageSize, etcd's dbSizeInUse. */
  dbSizeInUse: number;
  buckets: BucketSummary[];
  snapshotStatus: SnapshotStatusFigures;
  keyBucket: KeyBucketTotals;
  /** Per-key aggregates sorted by key; empty when collectKeys is false. */
  keys: KeyAggregate[];
  /** Rows that could not be interpreted (first 100), and how many there were. */
  issues: BackendIssue[];
  issueCount: number;
  /** Revisions recovered from free pages; null unless the carve option was set. */
  carve: CarveResult | null;
}

const MAX_ISSUES = 100;

export function readEtcdBackend(path: string, options: ReadEtcdBackendOptions = {}): EtcdBackendSummary {
  const opened = openBoltImage(path, options);
  try {
    const live = options.carve === true ? new LiveRevisions() : null;
    const reader = new PageReader(opened.file, opened.meta, options);
    const summary = readOpened(opened.info, live === null ? options : withLiveIndex(options, live), reader);
    if (live !== null) {
      summary.carve = carveFreePages({
        file: opened.file, pageSize: reader.pageSize, pgid: reader.pgid, littleEndian: opened.meta.byteOrder === 'little-endian',
        reached: reader.reached, live, finishedCompactRev: summary.meta.finishedCompactRev, scheduledCompactRev: summary.meta.scheduledCompactRev,
      });
    }
    summary.file.trailer = opened.file.trailerStatus();
    return summary;
  } finally {
    opened.file.close();
  }
}

/** Also records every live revision (the carver must tell recovered history from stale copies). */
function withLiveIndex(options: ReadEtcdBackendOptions, live: LiveRevisions): ReadEtcdBackendOptions {
  const user = options.onRevision;
  return {
    ...options,
    onRevision: (rev) => {
      live.add(rev.main, rev.sub, rev.key, rev.tombstone, rev.createRevision, rev.version);
      user?.(rev);
    },
  };
}

interface WalkState {
  reader: PageReader;
  hashing: boolean;
  crc: number;
  totalKey: number;
  revision: number;
  small: EtcdSmallBuckets;
  keyReader: KeyBucketReader;
  issues: BackendIssue[];
  issueCount: number;
}

function readOpened(info: BoltFileInfo, options: ReadEtcdBackendOptions, reader: PageReader): EtcdBackendSummary {
  const state: WalkState = {
    reader, hashing: options.computeHash !== false, crc: 0, totalKey: 0, revision: 0, small: emptySmallBuckets(),
    keyReader: new KeyBucketReader(options.onRevision, options.collectKeys !== false), issues: [], issueCount: 0,
  };
  const rootStats = emptyTreeStats();
  const buckets: BucketSummary[] = [];
  const onBucket = (entry: LeafEntry): void => void buckets.push(readTopBucket(state, entry));
  reader.walkBucket({ kind: 'page', pgid: info.rootPgid }, rootStats, onBucket, null, 0, false);
  const bucketPages = buckets.reduce((n, b) => n + b.branchPages + b.leafPages + b.overflowPages, 0);
  const rootTree = rootStats.branchPages + rootStats.leafPages + rootStats.overflowPages;
  const freelist = readFreelist(reader, info.freelistPgid);
  const free = countFree(reader.reached);
  const keys = state.keyReader.keys();
  return {
    ...state.small,
    file: info,
    pages: { highWater: info.pgid, meta: 2, rootTree, bucketPages, freelistPages: freelist.pages, freelistListed: freelist.listed, free },
    dbSize: info.pgid * info.pageSize,
    dbSizeInUse: (info.pgid - free) * info.pageSize,
    buckets,
    snapshotStatus: {
      hash: state.hashing ? state.crc : null, revision: state.revision, totalKey: state.totalKey, totalSize: info.pgid * info.pageSize,
    },
    keyBucket: state.keyReader.totals,
    keys,
    issues: state.issues,
    issueCount: state.issueCount,
    carve: null,
  };
}

/** One root entry = one top-level bucket: walk it in key order, hashing and interpreting rows. */
function readTopBucket(state: WalkState, entry: LeafEntry): BucketSummary {
  const { page, keyStart, keyEnd } = entry;
  const name = page.buf.toString('utf8', keyStart, keyEnd);
  if ((entry.flags & BUCKET_LEAF_FLAG) === 0) {
    throw pageError(page, `root element ${entry.index} ("${name}") is not a bucket`);
  }
  if (state.hashing) state.crc = updateCrc32c(state.crc, page.buf, keyStart, keyEnd);
  const root = state.reader.bucketRoot(entry, name);
  const stats: TreeStats = emptyTreeStats();
  const summary: BucketSummary = {
    name, inline: root.kind === 'inline', entries: 0, bytes: 0, branchPages: 0, leafPages: 0, overflowPages: 0, depth: 0, subBuckets: 0,
  };
  const onRow = rowHandler(state, name, summary);
  state.reader.walkBucket(root, stats, onRow, page, 1, true);
  Object.assign(summary, {
    branchPages: stats.branchPages, leafPages: stats.leafPages, overflowPages: stats.overflowPages,
    depth: stats.depth, subBuckets: stats.subBuckets,
  });
  return summary;
}

function rowHandler(state: WalkState, bucket: string, summary: BucketSummary): (entry: LeafEntry) => void {
  const isKey = bucket === 'key';
  const interpreted = INTERPRETED_BUCKETS.has(bucket);
  return (entry) => {
    const { page, keyStart, keyEnd, valueEnd } = entry;
    const subBucket = (entry.flags & BUCKET_LEAF_FLAG) !== 0;
    // bbolt ForEach hands a sub-bucket's entry over with a nil value: only its name is hashed.
    const end = subBucket ? keyEnd : valueEnd;
    if (state.hashing) state.crc = updateCrc32c(state.crc, page.buf, keyStart, end);
    state.totalKey++;
    summary.entries++;
    summary.bytes += end - keyStart;
    if (subBucket) return;
    if (isKey) {
      if (keyEnd - keyStart >= 8) state.revision = u64be(page.buf, keyStart);
      const problem = state.keyReader.readRow(entry);
      if (problem !== null) addIssue(state, bucket, page, problem.reason);
    } else if (interpreted) {
      const problem = interpretSmallBucketRow(state.small, bucket, page.buf.subarray(keyStart, keyEnd), page.buf.subarray(keyEnd, valueEnd));
      if (problem !== null) addIssue(state, bucket, page, problem);
    }
  };
}

function addIssue(state: WalkState, bucket: string, page: Page, reason: string): void {
  state.issueCount++;
  if (state.issues.length < MAX_ISSUES) state.issues.push({ bucket, pageId: page.id, byteOffset: page.byteOffset, reason });
}

/** A persisted freelist (non-Linux etcd): mark its pages reached and count the ids it lists. */
function readFreelist(reader: PageReader, pgid: number | null): { pages: number; listed: number | null } {
  if (pgid === null) return { pages: 0, listed: null };
  const page = reader.readPage(pgid, null, 'freelist');
  if (page.flags !== FREELIST_PAGE) throw pageError(page, `meta names it the freelist, but it is a ${pageKind(page.flags)} page`);
  let listed = page.count;
  if (page.count === 0xffff) {
    if (page.buf.length < 24) throw new BoltFormatError('freelist count overflow word missing', page.id, page.byteOffset);
    listed = Number(page.littleEndian ? page.buf.readBigUInt64LE(16) : page.buf.readBigUInt64BE(16));
  }
  const needed = 16 + (page.count === 0xffff ? 8 : 0) + listed * 8;
  if (needed > page.buf.length) throw pageError(page, `freelist lists ${listed} ids, which need ${needed} bytes`);
  return { pages: page.overflow + 1, listed };
}

function countFree(reached: Uint8Array): number {
  let free = 0;
  for (let i = 2; i < reached.length; i++) if (reached[i] === 0) free++;
  return free;
}
