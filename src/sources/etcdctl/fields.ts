// etcdctl `-w fields` output: `"Name" : value` lines (fmt.Println), one block per endpoint/member/alarm
// ended by a blank line; `snapshot status` prints its four lines with no blank line after them.
import type { AlarmRecord, HealthSample, MemberRecord, SnapshotStatusRecord, StatusSample } from '../../model.js';
import { parseGoDurationMs } from '../../units/time.js';
import { alarmsIn, padHash, parseBoolText, splitErrors } from './table.js';
import { countFromText, hexFromUint64Text, NumberRangeError, uint64FromText } from '../../units/integers.js';

export type FieldsRecord = StatusSample | HealthSample | SnapshotStatusRecord | AlarmRecord | MemberRecord;

export interface FieldEntry {
  key: string;
  value: string;
  line: number;
}

// etcd 3.1's printer wrote some keys as `"DBSize" :"` before the value (etcd#7117 pasted
// `"DBSize" :" 114688`, `"Leader" :" 9372538179322589801`): the stray quote is not part of the value.
const FIELD_LINE = /^"([A-Za-z]+)" :"?(?: (.*))?$/;

export function parseFieldLine(text: string, line: number): FieldEntry | null {
  const m = FIELD_LINE.exec(text);
  return m ? { key: m[1]!, value: (m[2] ?? '').trim(), line } : null;
}

/** A `snapshot status` block: Hash, Revision, Keys, Size (and `"Version"` from etcdutl 3.6). */
export function isSnapshotFields(entries: readonly FieldEntry[]): boolean {
  const keys = new Set(entries.map((e) => e.key));
  return keys.has('Hash') && keys.has('Keys') && keys.has('Size');
}

/**
 * The block is complete without a blank line: snapshot status prints none, and etcdutl 3.6 ends it with
 * `"Version" : 3.6.0` (etcdutl/etcdutl/printer_fields.go DBStatus, release-3.6), so a 3.5 block is
 * complete only when a line other than `"Version"` follows (the parser checks that).
 */
export function isFieldsBlockComplete(entries: readonly FieldEntry[]): boolean {
  return isSnapshotFields(entries) && entries.some((e) => e.key === 'Version');
}

/** A block → records; null when it is no block we know (a `get`, `lease` … response). */
export function recordsFromFields(entries: readonly FieldEntry[]): FieldsRecord[] | null {
  if (entries.length === 0) return [];
  const map = new Map<string, FieldEntry>();
  for (const e of entries) map.set(e.key, e); // 3.4 prints "RaftTerm" twice: the last one wins
  const line = entries[0]!.line;
  if (map.has('Health') && map.has('Endpoint')) return healthFromFields(map, line);
  if (map.has('DBSize') && map.has('Endpoint')) return statusFromFields(map, line);
  if (isSnapshotFields(entries)) return snapshotFromFields(map, line);
  if (map.has('AlarmType')) return alarmsFromFields(entries);
  if (map.has('ID') && (map.has('Name') || map.has('IsLearner'))) return membersFromFields(entries);
  // `alarm list` with no alarm prints the response header alone.
  const header = ['ClusterID', 'MemberID', 'Revision', 'RaftTerm'];
  if ([...map.keys()].every((k) => header.includes(k))) return [];
  return null;
}

/** Go `%q` text → string (JSON escapes cover what etcdctl prints); bare text is kept as is. */
function unquote(v: string): string {
  if (!/^".*"$/.test(v)) return v;
  try {
    const s: unknown = JSON.parse(v);
    return typeof s === 'string' ? s : v.slice(1, -1);
  } catch {
    return v.slice(1, -1);
  }
}

/**
 * An id as fields prints it: decimal (`fmt.Println(h.MemberId)`), or hex with `--hex` in 3.6
 * (`types.ID(h.MemberId)`, printer_fields.go hdr on release-3.6). A hex id of digits only cannot be told
 * from a decimal one; it is read as decimal (1 id in about 1,900).
 */
function idHex(v: string, field: string): string | null {
  // Digits only: decimal, and a uint64 (above 2^64-1 or negative throws NumberRangeError naming the field).
  if (/^-?\d+$/.test(v)) return hexFromUint64Text(v, field);
  if (/^[0-9a-f]{17,}$/.test(v)) throw new NumberRangeError(field, v, 'is beyond 2^64-1, the largest 64-bit id');
  return /^[0-9a-f]{1,16}$/.test(v) ? v : null;
}

/** A count printed by fields: absent or not numeric → null; a number out of range throws NumberRangeError. */
function countField(v: string | undefined, field: string): number | null {
  if (v === undefined || !/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(v)) return null;
  return countFromText(v, field);
}

function statusFromFields(map: Map<string, FieldEntry>, line: number): StatusSample[] {
  const get = (k: string) => map.get(k)?.value;
  const int = (k: string) => countField(get(k), k);
  const hex = (k: string) => idHex(get(k) ?? '', k);
  // `"Errors" : [memberID:10276657743932975437 alarm:NOSPACE ]`: a Go slice, elements space-separated.
  const list = /^\[(.*)\]$/.exec(get('Errors') ?? '')?.[1] ?? '';
  const errors = splitErrors(list, /\s+(?=memberID:|etcdserver:)/);
  const leaderId = hex('Leader');
  const memberId = hex('MemberID');
  return [{
    kind: 'status', line, time: null, format: 'fields', endpoint: unquote(get('Endpoint') ?? ''),
    memberId, clusterId: hex('ClusterID'), version: map.has('Version') ? unquote(get('Version')!) : null,
    dbSizeBytes: int('DBSize'), dbSizeApprox: false, dbSizeInUseBytes: int('DBSizeInUse'),
    revision: int('Revision'), raftTerm: int('RaftTerm'), raftIndex: int('RaftIndex'),
    raftAppliedIndex: int('RaftAppliedIndex'),
    isLeader: leaderId !== null && memberId !== null ? leaderId === memberId : null,
    leaderId: leaderId === '0' ? null : leaderId,
    isLearner: parseBoolText(get('IsLearner') ?? ''), errors, alarms: alarmsIn(errors),
    // 3.6 (printer_fields.go EndpointStatus, release-3.6): "StorageVersion" (%q), "DBSizeQuota".
    ...(map.has('DBSizeQuota') ? { dbSizeQuotaBytes: int('DBSizeQuota') } : {}),
    ...(map.has('StorageVersion') ? { storageVersion: unquote(get('StorageVersion')!) } : {}),
  }];
}

function healthFromFields(map: Map<string, FieldEntry>, line: number): HealthSample[] {
  const healthy = parseBoolText(map.get('Health')!.value);
  if (healthy === null) return [];
  const took = map.get('Took')?.value ?? '';
  return [{
    kind: 'health', line, time: null, format: 'fields', endpoint: unquote(map.get('Endpoint')!.value), healthy,
    tookMs: parseGoDurationMs(took), error: map.get('Error')?.value || null,
  }];
}

function snapshotFromFields(map: Map<string, FieldEntry>, line: number): SnapshotStatusRecord[] {
  const hash = countField(map.get('Hash')!.value, 'Hash');
  const revision = countField(map.get('Revision')?.value, 'Revision');
  const totalKeys = countField(map.get('Keys')!.value, 'Keys');
  const size = countField(map.get('Size')!.value, 'Size');
  if (hash !== null && hash > 0xffffffff) throw new NumberRangeError('Hash', String(hash), 'is beyond 2^32-1 (the hash is a CRC-32)');
  const hex = hash === null ? null : hash.toString(16);
  if (hex === null || revision === null || totalKeys === null || size === null) return [];
  return [{
    kind: 'snapshot-status', line, time: null, format: 'fields', hash: padHash(hex), revision, totalKeys,
    totalSizeBytes: size, totalSizeApprox: false,
    ...(map.has('Version') ? { version: map.get('Version')!.value, totalKeysMeaning: 'live-keys' as const } : {}),
  }];
}

// The header's "MemberID" comes first; each alarm is `"MemberID" : …` then `"AlarmType" : NOSPACE`.
function alarmsFromFields(entries: readonly FieldEntry[]): AlarmRecord[] {
  const out: AlarmRecord[] = [];
  let memberId: string | null = null;
  for (const e of entries) {
    // `alarm list` prints member ids in decimal; 3.6 `--hex` prints them in hex: kept in decimal.
    if (e.key === 'MemberID') memberId = /^-?\d+$/.test(e.value) ? uint64FromText(e.value, 'MemberID') : /^[0-9a-f]{1,16}$/.test(e.value) ? BigInt(`0x${e.value}`).toString() : null;
    if (e.key === 'AlarmType' && memberId !== null && /^[A-Z_]+$/.test(e.value)) {
      out.push({ kind: 'alarm', line: e.line, time: null, memberId, alarm: e.value });
    }
  }
  return out;
}

function membersFromFields(entries: readonly FieldEntry[]): MemberRecord[] {
  const out: MemberRecord[] = [];
  let cur: MemberRecord | null = null;
  for (const e of entries) {
    if (e.key === 'ID') {
      const memberId = idHex(e.value, 'ID');
      cur = memberId === null ? null : {
        kind: 'member', line: e.line, time: null, memberId, status: null, name: null, peerUrls: [], clientUrls: [], isLearner: null,
      };
      if (cur) out.push(cur);
    } else if (cur && e.key === 'Name') {
      cur.name = unquote(e.value) || null;
      cur.status = cur.name === null ? 'unstarted' : 'started';
    } else if (cur && e.key === 'PeerURL') cur.peerUrls.push(unquote(e.value));
    else if (cur && e.key === 'ClientURL') cur.clientUrls.push(unquote(e.value));
    else if (cur && e.key === 'IsLearner') cur.isLearner = parseBoolText(e.value);
  }
  return out;
}
