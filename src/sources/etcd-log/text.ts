// Text etcd log messages (capnslog after `pkg: `, journald-formatter bare messages, raft's std-logger)
// by prefix; only the rule that matched runs a regex.
import { readGoQuoted } from './request.js';
import {
  alarmName, checkedInt, classifyLeader, durationMs, ev, healthReason, type Classified, type Detail,
} from './rules.js';
import { hexFromUint64Text } from '../../units/integers.js';

type TextRule = (msg: string) => Classified;

// capnslog 3.4.8+: `failed to apply request "…" with response "" took (1.597475ms) to execute, err is etcdserver: no space`
// capnslog 3.3.21+: `failed to apply request,took 1.5ms,request header:<…> put:<…>,resp ,err is etcdserver: no space`
const APPLY_TAIL_RE = /^ with response "((?:[^"\\]|\\.)*)" took \(([^)]*)\) to execute, err is (.*)$/s;

function textApplyFailed(msg: string): Classified {
  let text: string | null = null;
  let error: string | null = null;
  let tookMs: number | null = null;
  if (msg.startsWith('failed to apply request "')) {
    const q = readGoQuoted(msg, 24);
    text = q.value;
    const m = APPLY_TAIL_RE.exec(msg.slice(q.end));
    if (m) { tookMs = durationMs(m[2]!); error = m[3]!; }
  } else if (msg.startsWith('failed to apply request,took ')) {
    const r = msg.indexOf(',request ');
    const e = msg.lastIndexOf(',err is ');
    const p = e > r ? msg.lastIndexOf(',resp ', e) : -1;
    if (r > 0) tookMs = durationMs(msg.slice(29, r));
    if (r > 0 && p > r) { text = msg.slice(r + 9, p); error = msg.slice(e + 8); }
  }
  const c = ev('etcd.apply.failed', { error, tookMs });
  if (text !== null) c.request = { text, outcome: 'failed', error, tookMs };
  return c;
}

// `%srequest %q with result %q took too long (%v) to execute`; the result is `error:<err>` when it failed.
const SLOW_TAIL_RE = /^ with result "((?:[^"\\]|\\.)*)" took too long \(([^)]*)\) to execute/s;

function textApplySlow(msg: string): Classified | null {
  const at = msg.indexOf('request "');
  if (at < 0) return null;
  const q = readGoQuoted(msg, at + 8);
  const m = SLOW_TAIL_RE.exec(msg.slice(q.end));
  if (!m) return null;
  const result = readGoQuoted(`"${m[1]!}"`, 0).value;
  const error = result.startsWith('error:') ? result.slice(6) : null;
  const tookMs = durationMs(m[2]!);
  const c = ev('etcd.apply.slow', { error, tookMs, prefix: msg.slice(0, at) });
  c.request = { text: q.value, outcome: 'slow', error, tookMs };
  return c;
}

/** The number `re` captures, checked for `field` (NumberRangeError when out of range); null when absent. */
function intAfter(msg: string, re: RegExp, field: string): number | null {
  const m = re.exec(msg);
  return m ? checkedInt(m[1]!, field) : null;
}

// A number as printed, sign, fraction and exponent included, so that `compact 1.8e22` or `-5` is reported
// as out of range instead of being read as 1 or 5.
const N = String.raw`(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)`;
const REV_RE = new RegExp(N);
const ALARM_RAISED_RE = /^alarm (\S+) raised by peer ([0-9a-f]+)/;
const DISARMED_MEMBER_RE = new RegExp(`memberID:${N}`);
const QUOTA_MAX_RE = new RegExp(`^backend quota ${N} exceeds maximum recommended quota ${N}`);
const FINISHED_COMPACTION_RE = new RegExp(String.raw`^finished scheduled compaction at ${N} \(took ([^)]*)\)`);
const SYNC_RE = /^sync duration of (\S+), expected less than (\S+)/;
// `failed to send out heartbeat on time (exceeded the 100ms timeout for 27.990113ms, to 935e65ab14460fee)`:
// the heartbeat interval first, then by how much it was exceeded (real 3.4.23 line).
const HEARTBEAT_RE = /exceeded the (\S+) timeout for (\S+), to ([0-9a-f]+)\)/;
const SNAPSHOT_BYTES_RE = new RegExp(String.raw`\[${N} bytes\]`);
// 3.0–3.2.22 etcdserver (before 1935a663 moved it to util.go's per-request warning), real line (etcd#7507):
// `apply entries took too long [104.2239ms for 1 entries]`
const APPLY_ENTRIES_RE = new RegExp(String.raw`^apply entries took too long \[(\S+) for ${N} entries\]`);
// rafthttp/peer_status.go capnslog: `peer 8e9e05c52164694d became active`,
// `peer 8e9e05c52164694d became inactive (message send to peer failed)`.
// etcd 2.x rafthttp: `the connection with 420c9b9a89d8b23d became inactive` / `… became active`.
const PEER_RE = /^(?:peer|the connection with) ([0-9a-f]+) became (active|inactive)/;
// membership/cluster.go capnslog: `added member a9efae717f838092 [http://10.0.0.2:2380] to cluster a10f21f554347d1a`,
// `removed member 8e9e05c52164694d from cluster cdf818194e3a8c32`.
const MEMBER_RE = /^(added|removed|updated) member ([0-9a-f]+)\b.*?(?:to|from|in) cluster ([0-9a-f]+)/;

function textMember(msg: string): Classified {
  const m = MEMBER_RE.exec(msg);
  return m ? ev('etcd.member.changed', { action: m[1]!, member: m[2]!, cluster: m[3]! }) : ev('etcd.other');
}

function textPeer(msg: string): Classified {
  const m = PEER_RE.exec(msg);
  if (!m) return ev('etcd.other');
  return m[2] === 'active' ? ev('etcd.peer.active', { peer: m[1]! }) : ev('etcd.peer.inactive', { peer: m[1]!, error: null });
}

function textAlarmRaised(msg: string): Classified | null {
  const m = ALARM_RAISED_RE.exec(msg);
  return m ? ev('etcd.alarm.raised', { alarm: m[1]!, from: m[2]! }) : null;
}

// `alarm disarmed action:DEACTIVATE memberID:10276657743932975437 alarm:NOSPACE ` (%+v of AlarmRequest,
// memberID in decimal); `from` is given in hex as zap's `from` field is.
function textAlarmDisarmed(msg: string): Classified {
  const id = DISARMED_MEMBER_RE.exec(msg)?.[1];
  return ev('etcd.alarm.disarmed', { alarm: alarmName(msg), from: id ? hexFromUint64Text(id, 'memberID') : null });
}

function textAutoCompaction(phase: 'started' | 'completed' | 'failed'): TextRule {
  return (msg) => {
    const d: Detail = { phase, revision: intAfter(msg, REV_RE, 'revision') };
    if (phase === 'started') d.mode = msg.includes(' revisions)') ? 'revision' : 'periodic';
    if (phase === 'failed') d.error = /\((.*)\)$/.exec(msg)?.[1] ?? null;
    return ev('etcd.compaction.auto', d);
  };
}

const TEXT_RULES: Array<[string, TextRule]> = [
  ['failed to apply request', textApplyFailed],
  ['alarm disarmed', textAlarmDisarmed],
  ['applying raft message exceeded backend quota', () => ev('etcd.quota.exceeded')],
  ['/health error', (m) => ev('etcd.health.false', { reason: healthReason(m.slice(13)), alarm: alarmName(m) })],
  ['store.index: compact ', (m) => ev('etcd.compaction.started', { revision: intAfter(m, REV_RE, 'revision') })],
  ['resume scheduled compaction at ', (m) => ev('etcd.compaction.started', { revision: intAfter(m, REV_RE, 'revision'), resumed: true })],
  ['finished scheduled compaction at ', (m) => {
    const x = FINISHED_COMPACTION_RE.exec(m);
    return ev('etcd.compaction.finished', { revision: x ? checkedInt(x[1]!, 'revision') : null, tookMs: x ? durationMs(x[2]!) : null });
  }],
  ['Starting auto-compaction at revision ', textAutoCompaction('started')],
  ['Finished auto-compaction at revision ', textAutoCompaction('completed')],
  ['Failed auto-compaction at revision ', textAutoCompaction('failed')],
  ['starting to defragment the storage backend', () => ev('etcd.defrag.started', { source: 'rpc' })],
  ['finished defragmenting the storage backend', () => ev('etcd.defrag.finished', { source: 'rpc' })],
  ['failed to defragment the storage backend', (m) => ev('etcd.defrag.failed', { error: /\((.*)\)$/.exec(m)?.[1] ?? null })],
  ['sync duration of ', (m) => {
    const x = SYNC_RE.exec(m);
    return ev('etcd.fdatasync.slow', { tookMs: x ? durationMs(x[1]!) : null, expectedMs: x ? durationMs(x[2]!) : null });
  }],
  ['failed to send out heartbeat on time', (m) => {
    const x = HEARTBEAT_RE.exec(m);
    return ev('etcd.heartbeat.slow', {
      to: x?.[3] ?? null, heartbeatIntervalMs: x ? durationMs(x[1]!) : null, exceededMs: x ? durationMs(x[2]!) : null,
    });
  }],
  ['sending database snapshot to client', (m) => ev('etcd.snapshot.sent', { phase: 'started', totalBytes: intAfter(m, SNAPSHOT_BYTES_RE, 'snapshot bytes') })],
  ['successfully sent database snapshot to client', (m) =>
    ev('etcd.snapshot.sent', { phase: 'finished', totalBytes: intAfter(m, SNAPSHOT_BYTES_RE, 'snapshot bytes') })],
  ['etcd Version: ', (m) => ev('etcd.start', { version: m.slice(14).trim() || null })],
  ['apply entries took too long', (m) => {
    const x = APPLY_ENTRIES_RE.exec(m);
    return ev('etcd.apply.slow', { error: null, tookMs: x ? durationMs(x[1]!) : null, entries: x ? checkedInt(x[2]!, 'entries') : null });
  }],
  ['peer ', textPeer],
  // etcdserver/server.go capnslog (3.0–3.4): `saved snapshot at index 600060`, `compacted raft log at 595060`.
  ['the connection with ', textPeer],
  ['added member ', textMember],
  ['removed member ', textMember],
  ['saved snapshot at index ', (m) => ev('etcd.snapshot.saved', { index: intAfter(m, REV_RE, 'index') })],
  ['compacted raft log at ', (m) => ev('etcd.raftlog.compacted', { index: intAfter(m, REV_RE, 'index') })],
];

/** capnslog message (after `pkg: `), a journald-formatter bare message (pkg null), or a raft std-logger message. */
export function classifyText(msg: string, pkg: string | null): Classified {
  const c0 = msg.charCodeAt(0);
  if (c0 === 0x61 && msg.startsWith('alarm ') && !msg.startsWith('alarm disarmed')) {
    const r = textAlarmRaised(msg);
    if (r) return withPkg(r, pkg);
  }
  if (c0 === 0x62 && msg.startsWith('backend quota ')) {
    const x = QUOTA_MAX_RE.exec(msg);
    if (x) {
      return withPkg(ev('etcd.quota.config', {
        setting: 'exceeds-maximum', quotaBytes: checkedInt(x[1]!, 'quota'), quotaMaximumBytes: checkedInt(x[2]!, 'maximum quota'),
      }), pkg);
    }
  }
  for (const [prefix, rule] of TEXT_RULES) if (msg.startsWith(prefix)) return withPkg(rule(msg), pkg);
  if (msg.endsWith(' to execute') && msg.includes(' took too long (')) {
    const s = textApplySlow(msg);
    if (s) return withPkg(s, pkg);
  }
  return withPkg(classifyLeader(msg) ?? ev('etcd.other'), pkg);
}

function withPkg(c: Classified, pkg: string | null): Classified {
  if (pkg !== null) c.detail.pkg = pkg;
  return c;
}
