// etcdctl `-w json` output: Go encoding/json of the gogo-protobuf structs, so uint64 ids are bare
// numbers above 2^53 (`"member_id":10276657743932975437`); lossless-json keeps them exact.
import { isLosslessNumber, parse } from 'lossless-json';
import type { AlarmRecord, HealthSample, LogEvent, MemberRecord, RecordTime, SnapshotStatusRecord, StatusSample } from '../../model.js';
import { parseGoDurationMs, parseTimestamp } from '../../units/time.js';
import { countFromText, NumberRangeError, uint64FromText } from '../../units/integers.js';
import { alarmsIn, hexFromDecimal, padHash, splitErrors } from './table.js';
import { CLIENT_RETRY_MSG, clientErrorEvent } from './client-error.js';

export type JsonRecord = StatusSample | HealthSample | SnapshotStatusRecord | AlarmRecord | MemberRecord | LogEvent;

/** Bracket depth of a JSON text fed in pieces; strings (and escapes in them) are skipped. */
export class JsonScanner {
  depth = 0;
  private inString = false;
  private escaped = false;

  /** Feeds text; returns the index just past the character that closed the document, or -1. */
  feed(text: string): number {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth <= 0) return i + 1;
      }
    }
    return -1;
  }

  /** A raw newline inside a string is not JSON: the document was cut or is not JSON at all. */
  get brokenAtLineEnd(): boolean {
    return this.inString;
  }
}

/**
 * A document → records; null when it is valid JSON of no etcdctl shape we know. A number out of range for
 * its field throws NumberRangeError (units/integers.ts); the parser reports the document as skipped.
 */
export function recordsFromJsonText(text: string, line: number): JsonRecord[] | null | 'invalid' {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return 'invalid';
  }
  if (Array.isArray(doc)) {
    if (doc.length === 0) return [];
    if (doc.every((e) => isObject(e) && 'Endpoint' in e)) return doc.flatMap((e) => statusFromJson(e as Obj, line));
    if (doc.every((e) => isObject(e) && 'endpoint' in e && 'health' in e)) return doc.flatMap((e) => healthFromJson(e as Obj, line));
    return null;
  }
  if (!isObject(doc)) return null;
  // 3.4 `snapshot save` logs zap lines to stderr: `{"level":"info","ts":1795476334.581744,…,"msg":"saved",…}`;
  // 3.5's client logs its failed retries there: kept as what the client saw.
  if ('level' in doc && 'msg' in doc) {
    const error = str(doc.error);
    if (doc.msg !== CLIENT_RETRY_MSG || error === null) return [];
    return [clientErrorEvent(error, line, text, zapTime(doc.ts), 'warn')];
  }
  if ('totalKey' in doc || ('hash' in doc && 'totalSize' in doc)) return snapshotFromJson(doc, line);
  if (Array.isArray(doc.members)) return doc.members.filter(isObject).flatMap((m) => memberFromJson(m, line));
  if (Array.isArray(doc.alarms)) return doc.alarms.filter(isObject).flatMap((a) => alarmFromJson(a, line));
  // `alarm list` with no alarm: omitempty drops the list and leaves the header alone.
  if ('header' in doc && Object.keys(doc).length === 1) return [];
  return null;
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}

/** A JSON number's text, or a numeric string's (grpc-gateway prints uint64 as strings); null for anything else. */
function numberText(v: unknown): string | null {
  if (isLosslessNumber(v)) return v.value;
  return typeof v === 'string' && /^-?\d+$/.test(v) ? v : null;
}

/**
 * A uint64 id as its exact decimal text. An id above 2^64-1, negative or not an integer throws
 * NumberRangeError naming the field: the document is reported as skipped, never read as NULL or dropped.
 */
function decimal(v: unknown, field: string): string | null {
  const t = numberText(v);
  return t === null ? null : uint64FromText(t, field);
}

/** A revision, size or index; beyond 2^53-1, negative or fractional (1.8e22) throws NumberRangeError. */
function int(v: unknown, field: string): number | null {
  const t = numberText(v);
  return t === null ? null : countFromText(t, field);
}

/** A uint64 id → hex. 3.5's `member list --hex` prints hex strings already. */
function hexId(v: unknown, field: string): string | null {
  const d = decimal(v, field);
  if (d !== null) return hexFromDecimal(d);
  if (typeof v === 'string' && /^[0-9a-fA-F]{17,}$/.test(v)) throw new NumberRangeError(field, v, 'is beyond 2^64-1, the largest 64-bit id');
  return typeof v === 'string' && /^[0-9a-fA-F]{1,16}$/.test(v) ? v.toLowerCase() : null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** Is the server at least 3.minor? Fields added later are dropped by omitempty when zero, and absent before. */
function since(version: string | null, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  return m !== null && (Number(m[1]) > 3 || (Number(m[1]) === 3 && Number(m[2]) >= minor));
}

/** Fields added in 3.4; omitempty drops them when zero/false, but 3.3 never has them. */
function since34(version: string | null): boolean {
  return since(version, 4);
}

function statusFromJson(e: Obj, line: number): StatusSample[] {
  const endpoint = str(e.Endpoint);
  const s = e.Status;
  if (endpoint === null || !isObject(s)) return [];
  const header = isObject(s.header) ? s.header : {};
  const version = str(s.version);
  const newer = since34(version);
  const memberDec = decimal(header.member_id, 'member_id');
  const leaderDec = decimal(s.leader, 'leader');
  const errors = strings(s.errors).flatMap((x) => splitErrors(x));
  const zeroOr = (v: unknown, field: string): number | null => int(v, field) ?? (v === undefined ? 0 : null);
  return [{
    kind: 'status', line, time: null, format: 'json', endpoint,
    memberId: hexId(header.member_id, 'member_id'), clusterId: hexId(header.cluster_id, 'cluster_id'), version,
    dbSizeBytes: zeroOr(s.dbSize, 'dbSize'), dbSizeApprox: false,
    dbSizeInUseBytes: int(s.dbSizeInUse, 'dbSizeInUse') ?? (newer ? 0 : null),
    revision: zeroOr(header.revision, 'revision'), raftTerm: zeroOr(s.raftTerm, 'raftTerm'), raftIndex: zeroOr(s.raftIndex, 'raftIndex'),
    raftAppliedIndex: int(s.raftAppliedIndex, 'raftAppliedIndex') ?? (newer ? 0 : null),
    isLeader: memberDec !== null && leaderDec !== null ? memberDec === leaderDec : leaderDec === null && memberDec !== null ? false : null,
    leaderId: leaderDec !== null && leaderDec !== '0' ? hexFromDecimal(leaderDec) : null,
    isLearner: typeof s.isLearner === 'boolean' ? s.isLearner : newer ? false : null,
    errors, alarms: alarmsIn(errors),
    // 3.6 servers (api/etcdserverpb/rpc.pb.go StatusResponse on release-3.6): `"storageVersion"`, `"dbSizeQuota"`.
    ...(since(version, 6) || s.dbSizeQuota !== undefined ? { dbSizeQuotaBytes: zeroOr(s.dbSizeQuota, 'dbSizeQuota') } : {}),
    ...(since(version, 6) || s.storageVersion !== undefined ? { storageVersion: str(s.storageVersion) ?? '' } : {}),
  }];
}

function healthFromJson(e: Obj, line: number): HealthSample[] {
  const endpoint = str(e.endpoint);
  if (endpoint === null || typeof e.health !== 'boolean') return [];
  const took = str(e.took);
  const error = str(e.error)?.trim() || null;
  return [{
    kind: 'health', line, time: null, format: 'json', endpoint, healthy: e.health,
    tookMs: took === null ? null : parseGoDurationMs(took), error,
  }];
}

// `{"hash":2350188674,"revision":3377,"totalKey":2116,"totalSize":7700480}`: the hash is decimal here.
function snapshotFromJson(d: Obj, line: number): SnapshotStatusRecord[] {
  const orZero = (v: unknown, field: string): number | null => (v === undefined ? 0 : int(v, field)); // omitempty
  const hash = orZero(d.hash, 'hash');
  const [revision, totalKeys, size] = [orZero(d.revision, 'revision'), orZero(d.totalKey, 'totalKey'), orZero(d.totalSize, 'totalSize')];
  if (hash == null || revision == null || totalKeys == null || size == null) return [];
  if (hash > 0xffffffff) throw new NumberRangeError('hash', String(hash), 'is beyond 2^32-1 (the hash is a CRC-32)');
  const hex = hash.toString(16);
  // etcdutl 3.6's Status has `"version"` without omitempty (etcdutl/snapshot/v3_snapshot.go, release-3.6)
  // and counts totalKey as live user keys.
  const version = typeof d.version === 'string' ? { version: d.version, totalKeysMeaning: 'live-keys' as const } : {};
  return [{
    kind: 'snapshot-status', line, time: null, format: 'json', hash: padHash(hex), revision,
    totalKeys, totalSizeBytes: size, totalSizeApprox: false, ...version,
  }];
}

const ALARM_TYPES: Record<string, string> = { 0: 'NONE', 1: 'NOSPACE', 2: 'CORRUPT' };

function alarmFromJson(a: Obj, line: number): AlarmRecord[] {
  const memberId = decimal(a.memberID, 'memberID');
  const code = typeof a.alarm === 'string' ? null : decimal(a.alarm, 'alarm');
  const alarm = typeof a.alarm === 'string' ? a.alarm : code !== null ? ALARM_TYPES[code] ?? `UNKNOWN(${code})` : null;
  if (memberId === null || alarm === null) return [];
  return [{ kind: 'alarm', line, time: null, memberId, alarm }];
}

function memberFromJson(m: Obj, line: number): MemberRecord[] {
  const memberId = hexId(m.ID, 'ID');
  if (memberId === null) return [];
  const name = str(m.name) ?? '';
  return [{
    kind: 'member', line, time: null, memberId,
    // etcdctl's table prints `unstarted` when the name is empty; JSON has no status field.
    status: name === '' ? 'unstarted' : 'started', name: name === '' ? null : name,
    peerUrls: strings(m.peerURLs),
    clientUrls: strings(m.clientURLs ?? m.clientURLS), // 3.5 `--hex` spells it clientURLS
    isLearner: typeof m.isLearner === 'boolean' ? m.isLearner : false,
  }];
}

/** zap's `ts`: an ISO 8601 string with offset (3.5+) or epoch seconds as a float (3.4). */
function zapTime(ts: unknown): RecordTime | null {
  if (typeof ts === 'string') {
    const t = parseTimestamp(ts, { tz: null });
    return t && t.basis === 'explicit' ? t : null;
  }
  const d = isLosslessNumber(ts) ? Number(ts.value) : null;
  return d !== null && Number.isFinite(d) && d > 0 ? { ms: Math.round(d * 1000), offsetMin: null, basis: 'explicit' } : null;
}
