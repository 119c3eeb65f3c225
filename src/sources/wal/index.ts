// A member's data directory: WAL segments (member/wal/*.wal) and raft snapshots (member/snap/*.snap),
// read from bytes. Pure: the caller reads the files (src/ingest/ingest-wal.ts).
export { readWal, parseSegmentName } from './read-wal.js';
export type { WalRead, WalEntryRecord, WalSegmentInput, WalSegmentSummary } from './read-wal.js';
export type { WalOp, TxnCompare, TxnBranch } from './request.js';
export type { HardState, SnapshotMarker, WalMetadata } from './raft.js';
export { readSnapFile } from './snap-file.js';
export type { SnapFile, SnapFileResult } from './snap-file.js';
export { scanSegment, MAX_RECORD_BYTES } from './frames.js';
export type { WalDamage } from './frames.js';
