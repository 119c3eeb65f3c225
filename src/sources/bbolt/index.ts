// Read-only bbolt / etcd v3 backend reader (pure TypeScript, page-at-a-time reads).
export { BoltFormatError } from './errors.js';
export { openBoltFile, inspectBoltFile } from './open.js';
export type { OpenBolt, OpenBoltOptions, BoltFileInfo } from './open.js';
export type { TrailerStatus } from './file.js';
export type { ByteOrder } from './meta.js';
export { declaredImage, META_HEAD_BYTES, type DeclaredImage } from './meta.js';
export { readEtcdBackend } from './etcd-backend.js';
export type {
  ReadEtcdBackendOptions, EtcdBackendSummary, BucketSummary, SnapshotStatusFigures, PageAccounting, BackendIssue,
} from './etcd-backend.js';
export type { EtcdRevision, KeyAggregate, KeyBucketTotals } from './key-bucket.js';
export type { EtcdMetaBucket, EtcdAlarm, EtcdLease, EtcdMember, EtcdSmallBuckets } from './etcd-buckets.js';
export { crc32c, updateCrc32c } from './crc32c.js';
export type { CarveResult, RecoveredRevision, CompactedRange } from './carve.js';
