// Rows of a member's data directory (migration 16): WAL segments and their entries, raft .snap files, and
// the leases of a backend/snapshot. Called inside the caller's transaction.
import type { Db } from './open.js';
import type { WalEntryRecord, WalOp, WalRead, SnapFile } from '../sources/wal/index.js';

export interface WalSegmentMeta {
  name: string;
  fileBytes: number;
  mtimeMs: number | null;
}

export function storeWalSegment(db: Db, sourceId: number, meta: WalSegmentMeta, w: WalRead): number {
  const seg = w.segments[0];
  const first = w.entries[0];
  const last = w.entries[w.entries.length - 1];
  const snap = w.snapshots.reduce<{ index: number; term: number } | null>((a, s) => (a === null || s.index > a.index ? s : a), null);
  db.prepare(`INSERT INTO wal_segments VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`).run(
    sourceId, meta.name, seg?.seq ?? null, seg?.startIndex ?? null, w.metadata?.memberId ?? null, w.metadata?.clusterId ?? null,
    w.records, w.entries.length, first?.index ?? null, last?.index ?? null, first?.term ?? null, last?.term ?? null,
    w.hardState?.term ?? null, w.hardState?.vote ?? null, w.hardState?.commit ?? null, snap?.index ?? null, snap?.term ?? null,
    meta.fileBytes, seg?.end ?? 0, w.damage?.offset ?? null, w.damage?.reason ?? null, w.undecoded.length, meta.mtimeMs,
  );
  const insert = db.prepare(`INSERT INTO wal_entries (source_id, member_id, raft_index, term, seq, op, key, range_end, value_size, lease,
    ttl, revision, branch, request_id, username, detail, byte_offset) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const member = w.metadata?.memberId ?? null;
  let rows = 0;
  for (const e of w.entries) {
    e.ops.forEach((op, seq) => {
      const r = opColumns(op);
      insert.run(sourceId, member, e.index, e.term, seq, op.kind, r.key, r.rangeEnd, r.valueSize, r.lease, r.ttl, r.revision, r.branch,
        e.requestId, e.user, r.detail, e.offset);
      rows++;
    });
  }
  return rows;
}

interface OpColumns {
  key: string | null; rangeEnd: string | null; valueSize: number | null; lease: string | null; ttl: number | null;
  revision: number | null; branch: string | null; detail: string | null;
}

function opColumns(op: WalOp): OpColumns {
  const c: OpColumns = { key: null, rangeEnd: null, valueSize: null, lease: null, ttl: null, revision: null, branch: null, detail: null };
  switch (op.kind) {
    case 'put': return { ...c, key: op.key, valueSize: op.valueSize, lease: op.lease, branch: op.branch };
    case 'delete-range': case 'range': return { ...c, key: op.key, rangeEnd: op.rangeEnd, branch: op.branch };
    case 'txn': return { ...c, detail: JSON.stringify({ compares: op.compares, success: op.success, failure: op.failure }) };
    case 'lease-grant': return { ...c, lease: op.lease, ttl: op.ttl };
    case 'lease-revoke': return { ...c, lease: op.lease };
    case 'lease-checkpoint': return { ...c, lease: op.lease, ttl: op.remainingTtl };
    case 'compaction': return { ...c, revision: op.revision, detail: JSON.stringify({ physical: op.physical }) };
    case 'alarm': return { ...c, detail: JSON.stringify({ action: op.action, alarm: op.alarm, member: op.member }) };
    case 'auth': return { ...c, key: op.name, detail: JSON.stringify({ request: op.request }) };
    case 'cluster': return { ...c, detail: JSON.stringify({ request: op.request }) };
    case 'v2': return { ...c, key: op.path, valueSize: op.valueSize, detail: JSON.stringify({ method: op.method }) };
    case 'other': return { ...c, detail: JSON.stringify({ field: op.field }) };
    case 'empty': case 'conf-change': return c;
  }
}

export function storeRaftSnap(db: Db, sourceId: number, name: string, s: SnapFile, mtimeMs: number | null): void {
  db.prepare('INSERT INTO raft_snaps VALUES (?,?,?,?,?,?,?)').run(sourceId, name, s.index, s.term, s.dataBytes, s.crcOk ? 1 : 0, mtimeMs);
}

/** The `lease` bucket of a backend or snapshot (inside storeSnapshot's transaction). */
export function storeSnapshotLeases(db: Db, sourceId: number, leases: readonly { id: string; ttl: number; remainingTtl: number }[]): void {
  const insert = db.prepare('INSERT OR IGNORE INTO snapshot_leases VALUES (?,?,?,?)');
  for (const l of leases) insert.run(sourceId, l.id, l.ttl, l.remainingTtl);
}

export type { WalEntryRecord };
