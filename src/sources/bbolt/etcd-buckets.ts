// etcd's small buckets (everything but `key`), interpreted row by row. Layouts (etcd 3.4/3.5):
//   meta     consistent_index, term (3.5): u64 BE; scheduledCompactRev/finishedCompactRev: 17-byte
//            revision {main BE, '_', sub BE}; confState (3.5): JSON; storageVersion (3.6): text
//   alarm    key = AlarmMember protobuf, value empty
//   lease    key = lease id int64 BE, value = leasepb.Lease
//   members  key = member id in lowercase hex, value = JSON; members_removed: value "removed"
//   cluster  clusterVersion → "3.4.0"; downgrade (3.5) → JSON
//   auth     authEnabled → 1 byte; authRevision → u64 BE; authUsers/authRoles: key = name
import { ProtobufError, decodeAlarmMember, decodeLease } from './protobuf.js';

export interface EtcdMetaBucket {
  /** Decimal u64: the last raft index applied to the backend. */
  consistentIndex: string | null;
  /** Decimal u64; written from 3.5 on. */
  term: string | null;
  confState: string | null;
  scheduledCompactRev: number | null;
  finishedCompactRev: number | null;
  storageVersion: string | null;
  /** Rows with other names. */
  other: { key: string; valueSize: number }[];
}

export interface EtcdAlarm {
  /** Decimal, as `etcdctl alarm list` prints it. */
  memberId: string;
  /** NOSPACE, CORRUPT, NONE, or UNKNOWN(n). */
  alarm: string;
}

export interface EtcdLease {
  /** Decimal int64. */
  id: string;
  ttl: number;
  remainingTtl: number;
}

export interface EtcdMember {
  /** Lowercase hex, as `member list` prints it. */
  id: string;
  name: string | null;
  peerUrls: string[];
  clientUrls: string[];
  /** null only when the JSON could not be parsed. */
  isLearner: boolean | null;
  /** The stored JSON text. */
  json: string;
}

export interface EtcdSmallBuckets {
  meta: EtcdMetaBucket;
  alarms: EtcdAlarm[];
  leases: EtcdLease[];
  members: EtcdMember[];
  /** Hex ids from members_removed. */
  membersRemoved: string[];
  clusterVersion: string | null;
  downgrade: string | null;
  authEnabled: boolean | null;
  authRevision: string | null;
  authUsers: string[];
  authRoles: string[];
}

export function emptySmallBuckets(): EtcdSmallBuckets {
  return {
    meta: {
      consistentIndex: null, term: null, confState: null, scheduledCompactRev: null, finishedCompactRev: null,
      storageVersion: null, other: [],
    },
    alarms: [], leases: [], members: [], membersRemoved: [], clusterVersion: null, downgrade: null,
    authEnabled: null, authRevision: null, authUsers: [], authRoles: [],
  };
}

const ALARM_NAMES = ['NONE', 'NOSPACE', 'CORRUPT'];
export const INTERPRETED_BUCKETS = new Set([
  'meta', 'alarm', 'lease', 'members', 'members_removed', 'cluster', 'auth', 'authUsers', 'authRoles',
]);

/** Interprets one row of a small bucket into `out`; returns a reason when the row is malformed. */
export function interpretSmallBucketRow(out: EtcdSmallBuckets, bucket: string, key: Buffer, value: Buffer): string | null {
  try {
    switch (bucket) {
      case 'meta': return interpretMeta(out.meta, key.toString('utf8'), value);
      case 'alarm': {
        const alarm = decodeAlarmMember(key);
        out.alarms.push({ memberId: alarm.memberId, alarm: ALARM_NAMES[alarm.alarm] ?? `UNKNOWN(${alarm.alarm})` });
        return null;
      }
      case 'lease': {
        const lease = decodeLease(value);
        out.leases.push({ id: lease.id, ttl: lease.ttl, remainingTtl: lease.remainingTtl });
        return null;
      }
      case 'members': {
        out.members.push(parseMember(key.toString('utf8'), value.toString('utf8')));
        return null;
      }
      case 'members_removed': out.membersRemoved.push(key.toString('utf8')); return null;
      case 'cluster': return interpretCluster(out, key.toString('utf8'), value);
      case 'auth': return interpretAuth(out, key.toString('utf8'), value);
      case 'authUsers': out.authUsers.push(key.toString('utf8')); return null;
      case 'authRoles': out.authRoles.push(key.toString('utf8')); return null;
      default: return null;
    }
  } catch (error) {
    if (error instanceof ProtobufError) return `${bucket} row: ${error.message}`;
    throw error;
  }
}

function interpretMeta(meta: EtcdMetaBucket, name: string, value: Buffer): string | null {
  switch (name) {
    case 'consistent_index':
    case 'term': {
      if (value.length !== 8) return `meta ${name} has ${value.length} bytes, expected 8`;
      const n = value.readBigUInt64BE(0).toString();
      if (name === 'term') meta.term = n;
      else meta.consistentIndex = n;
      return null;
    }
    case 'scheduledCompactRev':
    case 'finishedCompactRev': {
      // 17 bytes (newRevBytes); the website doc's "16 bytes" is wrong. Only main matters.
      if (value.length < 8) return `meta ${name} has ${value.length} bytes, expected 17`;
      const main = value.readUInt32BE(0) * 0x100000000 + value.readUInt32BE(4);
      if (name === 'scheduledCompactRev') meta.scheduledCompactRev = main;
      else meta.finishedCompactRev = main;
      return null;
    }
    case 'confState': meta.confState = value.toString('utf8'); return null;
    case 'storageVersion': meta.storageVersion = value.toString('utf8'); return null;
    default: meta.other.push({ key: name, valueSize: value.length }); return null;
  }
}

function interpretCluster(out: EtcdSmallBuckets, name: string, value: Buffer): string | null {
  if (name === 'clusterVersion') out.clusterVersion = value.toString('utf8');
  else if (name === 'downgrade') out.downgrade = value.toString('utf8');
  return null;
}

function interpretAuth(out: EtcdSmallBuckets, name: string, value: Buffer): string | null {
  if (name === 'authEnabled') out.authEnabled = value.length > 0 && value[0] === 1;
  else if (name === 'authRevision') {
    if (value.length !== 8) return `auth authRevision has ${value.length} bytes, expected 8`;
    out.authRevision = value.readBigUInt64BE(0).toString();
  }
  return null;
}

function parseMember(id: string, json: string): EtcdMember {
  const member: EtcdMember = { id, name: null, peerUrls: [], clientUrls: [], isLearner: null, json };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return member;
  }
  if (typeof parsed !== 'object' || parsed === null) return member;
  const record = parsed as Record<string, unknown>;
  if (typeof record['name'] === 'string') member.name = record['name'];
  member.peerUrls = stringArray(record['peerURLs']);
  member.clientUrls = stringArray(record['clientURLs']);
  // RaftAttributes.IsLearner is `json:"isLearner,omitempty"`: absent means false.
  member.isLearner = record['isLearner'] === true;
  return member;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
