// The writes of a member's WAL window in raft order, with the revision each one made. The WAL holds
// requests, not outcomes: a txn's branch depends on its compares, a delete or a lease revoke changes nothing
// when no key matches. So the window is replayed over the set of live keys (and the lease each names): exact
// when the window starts at raft index 1 (an empty store, revision 1), and otherwise revisions are unknown
// (null) while keys and counts still are (a create-if-absent compare on a key the window never wrote is then
// taken as true, which the report says).
import type { Db } from '../store/open.js';

export interface WalWrite {
  raftIndex: number;
  /** The main revision this write made (all writes of one txn or revoke share it); null when not knowable. */
  revision: number | null;
  key: string;
  op: 'put' | 'delete';
  valueSize: number | null;
  lease: string | null;
  /** The request that made it. */
  via: 'put' | 'txn' | 'delete-range' | 'lease-revoke';
}

interface Row {
  raft_index: number; seq: number; op: string; key: string | null; range_end: string | null; value_size: number | null;
  lease: string | null; branch: string | null; detail: string | null;
}

/** Members (WAL metadata ids) with entries in the store, in order. */
export function walMembers(db: Db): string[] {
  return (db.prepare(`SELECT DISTINCT member_id AS m FROM wal_segments WHERE member_id IS NOT NULL ORDER BY m`).all() as { m: string }[]).map((r) => r.m);
}

/** Streams the window's writes. Each raft index is taken once (a segment stored twice, cut and whole, adds nothing). */
export function* replayWal(db: Db, member: string): Generator<WalWrite> {
  const first = db.prepare('SELECT min(raft_index) AS i FROM wal_entries WHERE member_id = ?').get(member) as { i: number | null };
  let revision: number | null = first.i === 1 ? 1 : null;
  const live = new Map<string, string | null>(); // key -> lease
  const rows = db.prepare(`SELECT raft_index, seq, op, key, range_end, value_size, lease, branch, detail FROM wal_entries
    WHERE member_id = ? AND source_id = (SELECT min(source_id) FROM wal_entries w2 WHERE w2.member_id = wal_entries.member_id AND w2.raft_index = wal_entries.raft_index)
    ORDER BY raft_index, seq`).iterate(member) as IterableIterator<Row>;
  let pending: Row[] = [];
  let index = -1;
  const flush = function* (): Generator<WalWrite> {
    const out = applyEntry(pending, live, revision === null ? null : revision + 1);
    if (out.length > 0 && revision !== null) revision++;
    yield* out;
  };
  for (const r of rows) {
    if (r.raft_index !== index && pending.length > 0) { yield* flush(); pending = []; }
    index = r.raft_index;
    pending.push(r);
  }
  if (pending.length > 0) yield* flush();
}

function applyEntry(ops: Row[], live: Map<string, string | null>, rev: number | null): WalWrite[] {
  const out: WalWrite[] = [];
  const txn = ops.find((o) => o.op === 'txn');
  let branch: string | null = null;
  if (txn) {
    const d = JSON.parse(txn.detail ?? '{}') as { compares?: { key: string; target: string; result: string }[] };
    branch = (d.compares ?? []).every((c) => compareHolds(c, live)) ? 'success' : 'failure';
  }
  for (const o of ops) {
    if (o.branch !== null && o.branch !== branch) continue;
    const via = txn ? 'txn' : (o.op as WalWrite['via']);
    if (o.op === 'put' && o.key !== null) {
      live.set(o.key, o.lease);
      out.push({ raftIndex: o.raft_index, revision: rev, key: o.key, op: 'put', valueSize: o.value_size, lease: o.lease, via });
    } else if (o.op === 'delete-range' && o.key !== null) {
      for (const k of matching(live, o.key, o.range_end)) {
        live.delete(k);
        out.push({ raftIndex: o.raft_index, revision: rev, key: k, op: 'delete', valueSize: null, lease: null, via });
      }
    } else if (o.op === 'lease-revoke' && o.lease !== null) {
      for (const [k, l] of [...live].filter(([, l]) => l === o.lease).sort(([a], [b]) => (a < b ? -1 : 1))) {
        live.delete(k);
        out.push({ raftIndex: o.raft_index, revision: rev, key: k, op: 'delete', valueSize: null, lease: l, via: 'lease-revoke' });
      }
    }
  }
  return out;
}

/** Only existence compares can be judged from the window (create/version/mod against 0); others are taken as true. */
function compareHolds(c: { key: string; target: string; result: string }, live: Map<string, string | null>): boolean {
  if (c.target === 'create' || c.target === 'version' || c.target === 'mod') {
    const exists = live.has(c.key);
    if (c.result === 'equal') return !exists;
    if (c.result === 'greater' || c.result === 'not-equal') return exists;
  }
  return true;
}

function matching(live: Map<string, string | null>, key: string, rangeEnd: string | null): string[] {
  if (rangeEnd === null || rangeEnd === '') return live.has(key) ? [key] : [];
  const all = rangeEnd === '\0';
  return [...live.keys()].filter((k) => k >= key && (all || k < rangeEnd)).sort();
}
