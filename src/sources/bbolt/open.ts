// Opening a bbolt file: trailer detection (and sha256 check), meta pages, the chosen meta.
import { openFileForRead, type BoltFile, type TrailerStatus } from './file.js';
import { readMeta, type BoltMeta, type ByteOrder } from './meta.js';

export interface OpenBoltOptions {
  /** Stream sha256 over the image to check an `etcdctl snapshot save` trailer. Default true. */
  verifyTrailer?: boolean;
  /** Refuse overflowing pages larger than this (default 256 MiB). */
  maxPageSpanBytes?: number;
}

/** What we learned from the file and its meta pages. */
export interface BoltFileInfo {
  path: string;
  fileSize: number;
  trailer: TrailerStatus;
  byteOrder: ByteOrder;
  pageSize: number;
  /** High-water mark: the image is pgid × pageSize bytes. */
  pgid: number;
  /** Decimal u64 of the meta in use. */
  txid: string;
  rootPgid: number;
  /** null when the freelist is not persisted (etcd on Linux: NoFreelistSync). */
  freelistPgid: number | null;
  /** Which meta page is in use (the valid one with the higher txid). */
  metaPage: 0 | 1;
  /** The other meta page: its txid when valid, else why it is not. */
  otherMeta: { valid: true; txid: string } | { valid: false; reason: string };
}

export interface OpenBolt {
  file: BoltFile;
  meta: BoltMeta;
  info: BoltFileInfo;
}

/** Opens and validates a bbolt file; the caller owns `file` and must close() it. */
export function openBoltFile(path: string, options: OpenBoltOptions = {}): OpenBolt {
  const opened = openBoltImage(path, options);
  opened.info.trailer = opened.file.trailerStatus();
  return opened;
}

/**
 * As openBoltFile, but the trailer check may still be running (info.trailer is provisional): call
 * file.trailerStatus() when done with the pages, so that the hash overlaps the walk.
 */
export function openBoltImage(path: string, options: OpenBoltOptions = {}): OpenBolt {
  const file = openFileForRead(path, options.verifyTrailer !== false);
  try {
    const { meta, other } = readMeta(file);
    const info: BoltFileInfo = {
      path,
      fileSize: file.fileSize,
      trailer: file.dataLength === file.fileSize ? { kind: 'none' } : { kind: 'sha256', verified: false },
      byteOrder: meta.byteOrder,
      pageSize: meta.pageSize,
      pgid: meta.pgid,
      txid: meta.txid,
      rootPgid: meta.rootPgid,
      freelistPgid: meta.freelistPgid,
      metaPage: meta.page,
      otherMeta: other.valid ? { valid: true, txid: other.meta.txid } : { valid: false, reason: other.reason },
    };
    return { file, meta, info };
  } catch (error) {
    file.close();
    throw error;
  }
}

/** openBoltFile + close: just the facts. */
export function inspectBoltFile(path: string, options: OpenBoltOptions = {}): BoltFileInfo {
  const { file, info } = openBoltFile(path, options);
  file.close();
  return info;
}
