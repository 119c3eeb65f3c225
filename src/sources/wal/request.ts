// The request inside a normal raft entry. etcd 3.4/3.5 propose etcdserverpb.InternalRaftRequest
// (etcdserver/etcdserverpb/raft_internal.proto); entries proposed by 3.4 for v2 (member attributes
// `/0/members/<id>/attributes`, the cluster version `/0/version`) are a bare etcdserverpb.Request, which etcd
// itself tells apart by trying InternalRaftRequest first (pbutil.MaybeUnmarshal). An empty entry is the
// one a new leader appends for its term.
import { readInt64Text, readLengthDelimited, readUvarint, skipField, WalDecodeError, type Cursor } from './varint.js';

/** One write (or other request) of an entry; a txn gives one op per put/delete in its branches. */
export type WalOp =
  | { kind: 'put'; key: string; valueSize: number; lease: string | null; branch: TxnBranch }
  | { kind: 'delete-range'; key: string; rangeEnd: string | null; branch: TxnBranch }
  | { kind: 'range'; key: string; rangeEnd: string | null; branch: TxnBranch }
  | { kind: 'txn'; compares: TxnCompare[]; success: number; failure: number }
  | { kind: 'lease-grant'; lease: string; ttl: number }
  | { kind: 'lease-revoke'; lease: string }
  | { kind: 'lease-checkpoint'; lease: string; remainingTtl: number }
  | { kind: 'compaction'; revision: number; physical: boolean }
  | { kind: 'alarm'; action: 'get' | 'activate' | 'deactivate'; alarm: 'none' | 'nospace' | 'corrupt' | string; member: string }
  | { kind: 'auth'; request: string; name: string | null }
  | { kind: 'cluster'; request: string }
  | { kind: 'v2'; method: string; path: string; valueSize: number }
  | { kind: 'empty' }
  | { kind: 'conf-change' }
  | { kind: 'other'; field: number };

export type TxnBranch = 'success' | 'failure' | null;

export interface TxnCompare {
  key: string;
  target: string;
  result: string;
}

export interface DecodedRequest {
  /** The proposal's request id (InternalRaftRequest.header.ID or ID), hex; null when absent. */
  requestId: string | null;
  /** header.username (auth enabled), null when empty. */
  user: string | null;
  ops: WalOp[];
}

const AUTH_FIELDS: Record<number, string> = {
  1000: 'auth-enable', 1011: 'auth-disable', 1012: 'authenticate', 1013: 'auth-status',
  1100: 'user-add', 1101: 'user-delete', 1102: 'user-get', 1103: 'user-change-password', 1104: 'user-grant-role',
  1105: 'user-revoke-role', 1106: 'user-list', 1107: 'role-list',
  1200: 'role-add', 1201: 'role-delete', 1202: 'role-get', 1203: 'role-grant-permission', 1204: 'role-revoke-permission',
};
const CLUSTER_FIELDS: Record<number, string> = { 1300: 'cluster-version-set', 1301: 'member-attr-set', 1302: 'downgrade-info-set' };
const TARGETS = ['version', 'create', 'mod', 'value', 'lease'];
const RESULTS = ['equal', 'greater', 'less', 'not-equal'];
const ALARMS = ['none', 'nospace', 'corrupt'];
const ALARM_ACTIONS = ['get', 'activate', 'deactivate'] as const;

/** Keys and paths are UTF-8 in practice (etcd allows any bytes: invalid sequences become U+FFFD here). */
function text(buf: Uint8Array, [s, e]: [number, number]): string {
  // read-wal.ts hands in a Buffer, whose toString slices without a view object per key.
  return buf instanceof Buffer ? buf.toString('utf8', s, e) : Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('utf8');
}

/** Decodes a normal entry's data; throws WalDecodeError on malformed protobuf. */
export function decodeEntryRequest(buf: Uint8Array, start: number, end: number): DecodedRequest {
  if (start === end) return { requestId: null, user: null, ops: [{ kind: 'empty' }] };
  try {
    return decodeInternal(buf, start, end);
  } catch (e) {
    if (!(e instanceof WalDecodeError) && !(e instanceof NotInternal)) throw e;
    return decodeV2(buf, start, end);
  }
}

class NotInternal extends Error {}

function decodeInternal(buf: Uint8Array, start: number, end: number): DecodedRequest {
  const out: DecodedRequest = { requestId: null, user: null, ops: [] };
  const c: Cursor = { buf, pos: start, end };
  while (c.pos < end) {
    const tag = readUvarint(c);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === 0) { out.requestId = readUvarintHex(c); continue; }
    if (wire !== 2) throw new NotInternal();
    const r = readLengthDelimited(c);
    const sub: Cursor = { buf, pos: r[0], end: r[1] };
    switch (field) {
      case 2: out.ops.push(...decodeV2(buf, r[0], r[1]).ops); break;
      case 3: out.ops.push(decodeRange(sub, 'range', null)); break;
      case 4: out.ops.push(decodePut(sub, null)); break;
      case 5: out.ops.push(decodeRange(sub, 'delete-range', null)); break;
      case 6: decodeTxn(sub, out.ops); break;
      case 7: out.ops.push(decodeCompaction(sub)); break;
      case 8: out.ops.push(decodeLeaseGrant(sub)); break;
      case 9: out.ops.push({ kind: 'lease-revoke', lease: firstInt64(sub, 1) ?? '0' }); break;
      case 10: out.ops.push(decodeAlarm(sub)); break;
      case 11: decodeCheckpoints(sub, out.ops); break;
      case 100: decodeHeader(sub, out); break;
      default:
        if (AUTH_FIELDS[field]) out.ops.push({ kind: 'auth', request: AUTH_FIELDS[field], name: firstString(sub, 1) });
        else if (CLUSTER_FIELDS[field]) out.ops.push({ kind: 'cluster', request: CLUSTER_FIELDS[field] });
        else throw new NotInternal();
    }
  }
  if (out.ops.length === 0) throw new NotInternal();
  return out;
}

/** A uint64 varint as hex, in two 32-bit halves (no BigInt: one per entry, on the hot path). */
function readUvarintHex(c: Cursor): string {
  let lo = 0;
  let hi = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (c.pos >= c.end) throw new WalDecodeError('varint runs past the end');
    const b = c.buf[c.pos++]!;
    const v = b & 0x7f;
    if (shift < 32) lo += v * 2 ** shift;
    else hi += v * 2 ** (shift - 32);
    if (b < 0x80) {
      hi = (hi + Math.floor(lo / 0x100000000)) % 0x100000000;
      lo %= 0x100000000;
      return hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, '0');
    }
  }
  throw new WalDecodeError('varint longer than 10 bytes');
}

/** RequestHeader: ID = 1, username = 2, auth_revision = 3. */
function decodeHeader(c: Cursor, out: DecodedRequest): void {
  while (c.pos < c.end) {
    const tag = readUvarint(c);
    if (tag === 8) out.requestId = readUvarintHex(c);
    else if (tag === 18) { const u = text(c.buf, readLengthDelimited(c)); out.user = u === '' ? null : u; }
    else skipField(c, tag & 7);
  }
}

/** PutRequest: key = 1, value = 2, lease = 3 (int64), prev_kv = 4, ignore_value = 5, ignore_lease = 6. */
function decodePut(c: Cursor, branch: TxnBranch): WalOp {
  let key = '';
  let valueSize = 0;
  let lease: string | null = null;
  while (c.pos < c.end) {
    const tag = readUvarint(c);
    if (tag === 10) key = text(c.buf, readLengthDelimited(c));
    else if (tag === 18) { const [s, e] = readLengthDelimited(c); valueSize = e - s; }
    else if (tag === 24) { const l = readInt64Text(c); lease = l === '0' ? null : l; }
    else skipField(c, tag & 7);
  }
  return { kind: 'put', key, valueSize, lease, branch };
}

/** RangeRequest and DeleteRangeRequest: key = 1, range_end = 2. */
function decodeRange(c: Cursor, kind: 'range' | 'delete-range', branch: TxnBranch): WalOp {
  let key = '';
  let rangeEnd: string | null = null;
  while (c.pos < c.end) {
    const tag = readUvarint(c);
    if (tag === 10) key = text(c.buf, readLengthDelimited(c));
    else if (tag === 18) rangeEnd = text(c.buf, readLengthDelimited(c));
    else skipField(c, tag & 7);
  }
  return { kind, key, rangeEnd, branch };
}

/** TxnRequest: compare = 1, success = 2, failure = 3 (RequestOp: range = 1, put = 2, delete_range = 3, txn = 4). */
function decodeTxn(c: Cursor, ops: WalOp[], depth = 0): void {
  if (depth > 16) throw new WalDecodeError('txn nested more than 16 deep');
  const txn: WalOp & { kind: 'txn' } = { kind: 'txn', compares: [], success: 0, failure: 0 };
  ops.push(txn);
  while (c.pos < c.end) {
    const tag = readUvarint(c);
    if ((tag & 7) !== 2) { skipField(c, tag & 7); continue; }
    const [s, e] = readLengthDelimited(c);
    const field = tag >>> 3;
    if (field === 1) txn.compares.push(decodeCompare({ buf: c.buf, pos: s, end: e }));
    else if (field === 2 || field === 3) {
      const branch = field === 2 ? 'success' : 'failure';
      if (field === 2) txn.success++; else txn.failure++;
      const op: Cursor = { buf: c.buf, pos: s, end: e };
      while (op.pos < op.end) {
        const t = readUvarint(op);
        if ((t & 7) !== 2) { skipField(op, t & 7); continue; }
        const [os, oe] = readLengthDelimited(op);
        const inner: Cursor = { buf: c.buf, pos: os, end: oe };
        const f = t >>> 3;
        if (f === 1) ops.push(decodeRange(inner, 'range', branch));
        else if (f === 2) ops.push(decodePut(inner, branch));
        else if (f === 3) ops.push(decodeRange(inner, 'delete-range', branch));
        else if (f === 4) decodeTxn(inner, ops, depth + 1);
      }
    }
  }
}

/** Compare: result = 1, target = 2, key = 3 (then the target's value). */
function decodeCompare(c: Cursor): TxnCompare {
  const cmp: TxnCompare = { key: '', target: 'version', result: 'equal' };
  while (c.pos < c.end) {
    const tag = readUvarint(c);
    if (tag === 8) { const r = readUvarint(c); cmp.result = RESULTS[r] ?? String(r); }
    else if (tag === 16) { const t = readUvarint(c); cmp.target = TARGETS[t] ?? String(t); }
    else if (tag === 26) cmp.key = text(c.buf, readLengthDelimited(c));
    else skipField(c, tag & 7);
  }
  return cmp;
}

/** CompactionRequest: revision = 1, physical = 2. */
function decodeCompaction(c: Cursor): WalOp {
  let revision = 0;
  let physical = false;
  while (c.pos < c.end) {
    const tag = readUvarint(c);
    if (tag === 8) revision = readUvarint(c);
    else if (tag === 16) physical = readUvarint(c) !== 0;
    else skipField(c, tag & 7);
  }
  return { kind: 'compaction', revision, physical };
}

/** LeaseGrantRequest: TTL = 1, ID = 2. */
function decodeLeaseGrant(c: Cursor): WalOp {
  let ttl = 0;
  let lease = '0';
  while (c.pos < c.end) {
    const tag = readUvarint(c);
    if (tag === 8) ttl = Number(readInt64Text(c));
    else if (tag === 16) lease = readInt64Text(c);
    else skipField(c, tag & 7);
  }
  return { kind: 'lease-grant', lease, ttl };
}

/** LeaseCheckpointRequest: checkpoints = 1 (LeaseCheckpoint: ID = 1, remaining_TTL = 2). */
function decodeCheckpoints(c: Cursor, ops: WalOp[]): void {
  while (c.pos < c.end) {
    const tag = readUvarint(c);
    if (tag !== 10) { skipField(c, tag & 7); continue; }
    const [s, e] = readLengthDelimited(c);
    const cp: Cursor = { buf: c.buf, pos: s, end: e };
    let lease = '0';
    let remainingTtl = 0;
    while (cp.pos < cp.end) {
      const t = readUvarint(cp);
      if (t === 8) lease = readInt64Text(cp);
      else if (t === 16) remainingTtl = Number(readInt64Text(cp));
      else skipField(cp, t & 7);
    }
    ops.push({ kind: 'lease-checkpoint', lease, remainingTtl });
  }
}

/** AlarmRequest: action = 1, memberID = 2, alarm = 3. */
function decodeAlarm(c: Cursor): WalOp {
  let action = 0;
  let alarm = 0;
  let member = '0';
  while (c.pos < c.end) {
    const tag = readUvarint(c);
    if (tag === 8) action = readUvarint(c);
    else if (tag === 16) member = readUvarintHex(c);
    else if (tag === 24) alarm = readUvarint(c);
    else skipField(c, tag & 7);
  }
  return { kind: 'alarm', action: ALARM_ACTIONS[action] ?? 'get', alarm: ALARMS[alarm] ?? String(alarm), member };
}

function firstInt64(c: Cursor, field: number): string | null {
  while (c.pos < c.end) {
    const tag = readUvarint(c);
    if (tag === field * 8) return readInt64Text(c);
    skipField(c, tag & 7);
  }
  return null;
}

function firstString(c: Cursor, field: number): string | null {
  while (c.pos < c.end) {
    const tag = readUvarint(c);
    if (tag === field * 8 + 2) return text(c.buf, readLengthDelimited(c));
    skipField(c, tag & 7);
  }
  return null;
}

/** etcdserverpb.Request (v2): ID = 1, Method = 2, Path = 3, Val = 4. */
function decodeV2(buf: Uint8Array, start: number, end: number): DecodedRequest {
  const c: Cursor = { buf, pos: start, end };
  let method = '';
  let path = '';
  let valueSize = 0;
  let requestId: string | null = null;
  while (c.pos < end) {
    const tag = readUvarint(c);
    if (tag === 8) requestId = readUvarintHex(c);
    else if (tag === 18) method = text(buf, readLengthDelimited(c));
    else if (tag === 26) path = text(buf, readLengthDelimited(c));
    else if (tag === 34) { const [s, e] = readLengthDelimited(c); valueSize = e - s; }
    else skipField(c, tag & 7);
  }
  if (method === '') throw new WalDecodeError('neither an InternalRaftRequest nor a v2 Request');
  return { requestId, user: null, ops: [{ kind: 'v2', method, path, valueSize }] };
}
