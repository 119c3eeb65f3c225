// zap (JSON) etcd log lines by their exact `msg` (one Map lookup per line); only the rule that matched
// reads further fields. Rules quote the messages of etcd 3.4/3.5 (server/etcdserver, mvcc, embed).
import {
  alarmName, classifyLeader, dur, ev, healthReason, num, str, type Classified, type Detail, type ZapFields,
} from './rules.js';

type ZapRule = (f: ZapFields, body: string, msg: string) => Classified;

function zapApplyFailed(f: ZapFields): Classified {
  const error = str(f.error);
  const tookMs = dur(f.took);
  const c = ev('etcd.apply.failed', { error, tookMs, response: str(f.response) });
  if (typeof f.request === 'string') c.request = { text: f.request, outcome: 'failed', error, tookMs };
  return c;
}

function zapApplySlow(f: ZapFields): Classified {
  const error = str(f.error);
  const tookMs = dur(f.took);
  const c = ev('etcd.apply.slow', { error, tookMs, expectedMs: dur(f['expected-duration']), prefix: str(f.prefix) });
  if (typeof f.request === 'string') c.request = { text: f.request, outcome: 'slow', error, tookMs };
  return c;
}

function zapQuotaConfig(f: ZapFields, body: string, msg: string): Classified {
  const setting = msg === 'enabled backend quota with default value' ? 'default'
    : msg === 'quota exceeds the maximum value' ? 'exceeds-maximum'
      : msg === 'disabled backend quota' ? 'disabled' : 'enabled';
  return ev('etcd.quota.config', {
    setting, quotaName: str(f['quota-name']), quotaBytes: num(f, 'quota-size-bytes', body),
    quotaMaximumBytes: num(f, 'quota-maximum-size-bytes', body),
  });
}

function zapAutoCompaction(f: ZapFields, body: string, msg: string): Classified {
  const phase = msg.startsWith('starting') ? 'started' : msg.startsWith('completed') ? 'completed' : 'failed';
  return ev('etcd.compaction.auto', {
    phase, mode: msg.includes('periodic') ? 'periodic' : 'revision', revision: num(f, 'revision', body),
    tookMs: dur(f.took), error: str(f.error),
  });
}

/** Backend sizes as `defragmenting`, `defragmented` / `finished defragmenting directory` and 3.4.31+/3.5.12+ compaction log them. */
function sizes(f: ZapFields, body: string): Detail {
  const d: Detail = {
    dbSizeBytes: num(f, 'current-db-size-bytes', body), dbSizeInUseBytes: num(f, 'current-db-size-in-use-bytes', body),
  };
  if (f['current-db-size-bytes-diff'] !== undefined) d.dbSizeDiffBytes = num(f, 'current-db-size-bytes-diff', body, true);
  if (f['current-db-size-in-use-bytes-diff'] !== undefined) {
    d.dbSizeInUseDiffBytes = num(f, 'current-db-size-in-use-bytes-diff', body, true);
  }
  return d;
}

function zapDefragBackend(f: ZapFields, body: string, msg: string): Classified {
  const finished = msg !== 'defragmenting';
  const c = ev(finished ? 'etcd.defrag.finished' : 'etcd.defrag.started', {
    source: 'backend', path: str(f.path), ...sizes(f, body), ...(finished ? { tookMs: dur(f.took) } : {}),
  });
  // 3.5/3.6 `finished defragmenting directory` (backend.go): the size after defrag is a size sample.
  // 3.4's `defragmented` and the `defragmenting` start line carry the same fields but stay events only.
  if (msg === 'finished defragmenting directory') c.sample = sampleOf(c.detail);
  return c;
}

function sampleOf(d: Detail): Classified['sample'] {
  const size = d.dbSizeBytes;
  const inUse = d.dbSizeInUseBytes;
  return { dbSizeBytes: typeof size === 'number' ? size : null, dbSizeInUseBytes: typeof inUse === 'number' ? inUse : null };
}

// 3.5.12+ and 3.6 (mvcc/kvstore_compaction.go) add current-db-size(-in-use)(-bytes): a free size sample.
// {"level":"info",…,"msg":"finished scheduled compaction","compact-revision":9918,"took":"60.122598ms","hash":1855345291,
//  "current-db-size-bytes":675840,"current-db-size":"676 kB","current-db-size-in-use-bytes":49152,"current-db-size-in-use":"49 kB"}
function zapCompactionFinished(f: ZapFields, b: string): Classified {
  const c = ev('etcd.compaction.finished', {
    revision: num(f, 'compact-revision', b), tookMs: dur(f.took), hash: num(f, 'hash', b), ...sizes(f, b),
  });
  if (f['current-db-size-bytes'] !== undefined) c.sample = sampleOf(c.detail);
  return c;
}

// rafthttp/peer_status.go (3.4–3.6): {"msg":"peer became active","peer-id":"8e9e05c52164694d"};
// the inactive line carries the send error in `error`.
function zapPeer(f: ZapFields, _b: string, msg: string): Classified {
  return msg === 'peer became active'
    ? ev('etcd.peer.active', { peer: str(f['peer-id']) })
    : ev('etcd.peer.inactive', { peer: str(f['peer-id']), error: str(f.error) });
}

function zapAlarm(f: ZapFields, _b: string, msg: string): Classified {
  return ev(msg === 'alarm raised' ? 'etcd.alarm.raised' : 'etcd.alarm.disarmed', { alarm: str(f.alarm), from: str(f.from) });
}

const ZAP_RULES = new Map<string, ZapRule>([
  ['failed to apply request', zapApplyFailed],
  // The etcd client's retry warning (clientv3 retry_interceptor.go): logged by etcdctl 3.5 and by programs that
  // embed the client next to the server (k3s, `"logger":"etcd-client"`). What a client saw, not the server's state:
  // `rpc error: code = ResourceExhausted desc = etcdserver: mvcc: database space exceeded` is a refused write.
  ['retrying of unary invoker failed', (f) => {
    const error = str(f.error);
    const code = error === null ? null : (/\bcode = (\w+)/.exec(error)?.[1] ?? null);
    const alarm = error !== null && /database space exceeded|\bno space\b/.test(error) ? 'NOSPACE' : null;
    return ev('etcdctl.client.error', { error, code, alarm, target: str(f.target) });
  }],
  ['apply request took too long', zapApplySlow],
  ['alarm raised', zapAlarm],
  ['alarm disarmed', zapAlarm],
  ['message exceeded backend quota; raising alarm', (f, b) =>
    ev('etcd.quota.exceeded', { quotaBytes: num(f, 'quota-size-bytes', b), error: str(f.error) })],
  ['enabled backend quota with default value', zapQuotaConfig],
  ['enabled backend quota', zapQuotaConfig],
  ['quota exceeds the maximum value', zapQuotaConfig],
  ['disabled backend quota', zapQuotaConfig],
  ['compact tree index', (f, b) => ev('etcd.compaction.started', { revision: num(f, 'revision', b) })],
  ['resume scheduled compaction', (f, b) =>
    ev('etcd.compaction.started', { revision: num(f, 'scheduled-compact-revision', b), resumed: true })],
  ['finished scheduled compaction', zapCompactionFinished],
  ['starting auto periodic compaction', zapAutoCompaction],
  ['completed auto periodic compaction', zapAutoCompaction],
  ['failed auto periodic compaction', zapAutoCompaction],
  ['starting auto revision compaction', zapAutoCompaction],
  ['completed auto revision compaction', zapAutoCompaction],
  ['failed auto revision compaction', zapAutoCompaction],
  ['starting defragment', () => ev('etcd.defrag.started', { source: 'rpc' })],
  ['finished defragment', () => ev('etcd.defrag.finished', { source: 'rpc' })],
  ['failed to defragment', (f) => ev('etcd.defrag.failed', { error: str(f.error) })],
  ['defragmenting', zapDefragBackend],
  ['defragmented', zapDefragBackend], //                       3.4
  ['finished defragmenting directory', zapDefragBackend], //   3.5
  ['slow fdatasync', (f) => ev('etcd.fdatasync.slow', { tookMs: dur(f.took), expectedMs: dur(f['expected-duration']) })],
  ['leader failed to send out heartbeat on time; took too long, leader is overloaded likely from slow disk', (f) =>
    ev('etcd.heartbeat.slow', {
      to: str(f.to), heartbeatIntervalMs: dur(f['heartbeat-interval']),
      expectedMs: dur(f['expected-duration']), exceededMs: dur(f['exceeded-duration']),
    })],
  ['sending database snapshot to client', (f, b) =>
    ev('etcd.snapshot.sent', { phase: 'started', totalBytes: num(f, 'total-bytes', b) })],
  ['successfully sent database snapshot to client', (f, b) =>
    ev('etcd.snapshot.sent', { phase: 'finished', totalBytes: num(f, 'total-bytes', b), tookMs: dur(f.took) })],
  ['starting an etcd server', (f) => ev('etcd.start', { version: str(f['etcd-version']) })],
  // etcdserver/server.go (3.5): {"msg":"starting etcd server","local-member-id":"…","local-server-version":"3.5.5",…}
  ['starting etcd server', (f) => ev('etcd.start', { version: str(f['local-server-version']), member: str(f['local-member-id']) })],
  // membership/cluster.go: {"msg":"added member","cluster-id":"…","local-member-id":"…","added-peer-id":"…","added-peer-peer-urls":[…]}
  ['added member', (f) => ev('etcd.member.changed', { action: 'added', member: str(f['added-peer-id']), cluster: str(f['cluster-id']) })],
  ['removed member', (f) => ev('etcd.member.changed', { action: 'removed', member: str(f['removed-remote-peer-id']), cluster: str(f['cluster-id']) })],
  // v3rpc/interceptor.go logs a unary request over the warning threshold as `request stats` (level warn):
  // {"msg":"request stats","start time":"…","time spent":"2.901272452s","response type":"/etcdserverpb.KV/Range",…,"request content":"key:\"…\" "}
  ['request stats', (f) => ev('etcd.request.slow', {
    tookMs: dur(f['time spent']), responseType: str(f['response type']), request: str(f['request content']),
  })],
  ['peer became active', zapPeer],
  ['peer became inactive (message send to peer failed)', zapPeer],
  // etcdserver/server.go: 3.4/3.5 `saved snapshot`, 3.6 `saved snapshot to disk` (release-3.6 server.go:2261),
  // both with snapshot-index; `compacted Raft logs` with compact-index (3.6 logs it at debug level only).
  ['saved snapshot', (f, b) => ev('etcd.snapshot.saved', { index: num(f, 'snapshot-index', b) })],
  ['saved snapshot to disk', (f, b) => ev('etcd.snapshot.saved', { index: num(f, 'snapshot-index', b), toDisk: true })],
  ['compacted Raft logs', (f, b) => ev('etcd.raftlog.compacted', { index: num(f, 'compact-index', b) })],
]);

export function classifyZap(f: ZapFields, body: string): Classified {
  const msg = f.msg as string;
  const rule = ZAP_RULES.get(msg);
  if (rule) return rule(f, body, msg);
  if (msg.startsWith('serving /health false')) {
    return ev('etcd.health.false', { reason: healthReason(msg.slice(21)), alarm: alarmName(str(f.alarm)) });
  }
  return classifyLeader(msg) ?? ev('etcd.other');
}
