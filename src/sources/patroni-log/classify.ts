// What a Patroni log record means: HA-loop outcomes, promotion and demotion, DCS errors, and
// `database space exceeded` with the write that failed, named from the traceback's frames.
import type { EventKind, Level, LogEvent } from '../../model.js';
import { integerProblem } from '../../units/integers.js';

export interface Classified {
  event: EventKind;
  detail: LogEvent['detail'];
  /** The node's own name when the message states it (`I am (x)`). */
  self: string | null;
}

const DCS_ERROR_RE =
  /Error communicating with DCS|DCS is not accessible|^refresh_lease\b|waiting on etcd|^get_cluster\b|fail(?:ed|ing) to update leader lock|Request to server .* failed|watchprefix failed|KVCache\.run|Etcd is not responding properly|Failed to (?:keepalive|grant) lease|Our lease disappeared|Failed to get list of machines|Reconnection allowed, looking for another server|^Failed to update \S|^Updating member state failed|^Etcd Cluster ID changed|^Connected to Etcd node with term|^failed to resolve host|^Can not resolve SRV|^Invalid auth token|^Auth token is for old revision|^Failed to load .* coordinator cluster/;
// Results of the HA cycle (`logger.info(self.ha.run_cycle())`) and the leader race's reasoning.
const HA_RESULT_RE =
  /^(?:no action\.|bootstrap|clone from|doing crash recovery|reinitializing|running pg_rewind|Cluster has no leader|Demoting self because watchdog|Error communicating with PostgreSQL|I am the leader, can not|Not promoting self|PostgreSQL is still starting up|Postponing promotion|Promotion cancelled|Running as a leader|Unexpected exception raised|continue |data directory is not accessible|failed to acquire initialize lock|failed to start postgres|initialized a new cluster|lost leader|not allowed to promote|not promoting because|not reachable|not watchdog capable|postgres is not running|primary start has timed out|released leader key|removed leader|running with empty data directory|started as |starting as |stopped PostgreSQL|terminated crash recovery|updated leader lock|waiting for|waiting to become primary|not healthy enough for leader race|following a different leader|trying to bootstrap|Could not take out TTL lock|cannot be a real primary|Copying logical slots|Leader key released|stopped PostgreSQL|.+ (?:already )?in progress$)/;
// Exceptions raised by the DCS layer: etcd3 (`patroni.dcs.etcd3.Unknown`), python-etcd for the v2
// `etcd:` DCS (`etcd.EtcdKeyNotFound`, `etcd.EtcdConnectionFailed`, `etcd.EtcdException`, Patroni's
// `patroni.dcs.etcd.EtcdRaftInternal`), and Python 2's undotted `EtcdKeyNotFound`.
const DCS_EXCEPTION_RE = /^(?:patroni\.dcs\.|etcd\.|Etcd)/;
const DCS_EXCEPTION_IN_TEXT_RE = /(?:^|\n|\]: )(?:patroni\.dcs\.[\w.]+|etcd\.Etcd\w+|Etcd\w+): /;
const DCS_FRAME_RE = /\/patroni\/dcs\/\w+\.py", line \d+/;
const DCS_EXCEPTION_LINE_RE = /^(?:patroni\.dcs\.[\w.]+|etcd\.Etcd\w+|Etcd\w+): /;

export function classifyPatroniRecord(message: string, text: string, level: Level | null): Classified {
  const all = `${message}\n${text}`;
  if (all.includes('database space exceeded')) return { event: 'patroni.nospace', detail: nospaceDetail(message, text), self: null };
  // Patroni ≤ 4.1.0 against etcd ≥ 3.5: the gateway's error body has `code: 8` and `message` but no
  // `error`, and Patroni has no class for ResourceExhausted, so a refused write prints
  // `patroni.dcs.etcd3.Unknown: <Unknown error: 'None', code: 2>` (real: Patroni 4.0.7 + etcd 3.5.16,
  // test/fixtures/patroni-4.0.7/). The text does not say NOSPACE: it is marked opaque.
  if (all.includes("<Unknown error: 'None', code: 2>")) {
    return { event: 'patroni.nospace', detail: { ...nospaceDetail(message, text), opaque: true }, self: null };
  }
  const paused = message.startsWith('PAUSE: ');
  const m = paused ? message.slice(7) : message;
  const extra: LogEvent['detail'] = paused ? { paused: true } : {};
  let r: RegExpExecArray | null;
  if ((r = /^no action\.\s+I am \(([^)]*)\), the (standby )?leader with the lock/.exec(m))) {
    return { event: 'patroni.ha.leader', detail: { ...extra, member: r[1]!, standby: Boolean(r[2]) }, self: r[1]! };
  }
  if ((r = /^no action\.\s+I am \(([^)]*)\), a secondary, and following a (standby )?leader \(([^)]*)\)/.exec(m))) {
    return { event: 'patroni.ha.secondary', detail: { ...extra, member: r[1]!, leader: r[3]!, standby: Boolean(r[2]) }, self: r[1]! };
  }
  if ((r = /^Lock owner: (.*?); I am (.*)$/.exec(m))) {
    return { event: 'patroni.ha.lock-owner', detail: { owner: r[1]!, me: r[2]! }, self: r[2]! };
  }
  if (/^(?:promoted self to (?:a standby )?leader|acquired session lock as a (?:standby )?leader)/.test(m)) {
    return { event: 'patroni.promoted', detail: extra, self: null };
  }
  if ((r = /^(?:demoted self|demoting self|Demoting self|Demoting primary|Lost lock while starting up\. Demoting self)\b(?: because | after | during | \()?(.*?)\)?\.?$/.exec(m))) {
    return { event: 'patroni.demoted', detail: { ...extra, reason: r[1] || null }, self: null };
  }
  if (/after trying and failing to obtain lock/.test(m)) return { event: 'patroni.leader-race-failed', detail: extra, self: null };
  // The DCS client chose an etcd endpoint (at start-up, or after `Reconnection allowed, looking for another
  // server`, which stays a DCS error): `Selected new etcd server http://192.168.56.11:2379`.
  if ((r = /^Selected new etcd server (\S+)/.exec(m))) return { event: 'patroni.dcs-switch', detail: { ...extra, server: r[1]! }, self: null };
  if (DCS_ERROR_RE.test(m)) return { event: 'patroni.dcs-error', detail: { ...extra, ...failedWrite(message, text), ...errorDetail(all) }, self: null };
  if (HA_RESULT_RE.test(m)) return { event: 'patroni.ha.other', detail: extra, self: null };
  // An exception line standing alone (journald split the traceback and the paste kept only its last
  // entry): `EtcdKeyNotFound: Key not found : /db/postgres/leader`.
  if (DCS_EXCEPTION_LINE_RE.test(m)) {
    return { event: 'patroni.dcs-error', detail: { ...extra, ...failedWrite(message, text), ...errorDetail(all) }, self: null };
  }
  if (level === 'error' || level === 'critical' || level === 'fatal') {
    // A traceback cut before its exception line (the seed's write-up) still names the write.
    const detail = { ...failedWrite(message, text), ...errorDetail(all) };
    const exc = detail['exception'];
    const dcs = (typeof exc === 'string' && DCS_EXCEPTION_RE.test(exc)) || /Raft Internal Error|No more machines in the cluster/.test(all);
    return { event: dcs ? 'patroni.dcs-error' : 'patroni.error', detail, self: null };
  }
  // A journald paste that starts inside a traceback (`patroni[2350]: return self._handle_server_response(response)`)
  // has no level: its exception line still says what failed.
  // A record that is a traceback without its head line (journald split it, the paste cut it) whose frames
  // are in Patroni's DCS layer: a DCS error, and its frames name the write.
  if (DCS_EXCEPTION_IN_TEXT_RE.test(text) || (/^(?:Traceback \(most recent call last\):|File ")/.test(message) && DCS_FRAME_RE.test(text))) {
    return { event: 'patroni.dcs-error', detail: { ...extra, ...failedWrite(message, text), ...errorDetail(all) }, self: null };
  }
  return { event: 'patroni.other', detail: extra, self: null };
}

// The write that failed, named by the first frame we know (outermost first), e.g.
//   File "/usr/lib/python3/dist-packages/patroni/dcs/etcd3.py", line 807, in _write_status
const WRITE_FRAMES: Record<string, string> = {
  _write_status: '_write_status', touch_member: 'touch_member', _do_attempt_to_acquire_leader: '_do_attempt_to_acquire_leader',
  attempt_to_acquire_leader: '_do_attempt_to_acquire_leader', refresh_lease: 'refresh_lease', _do_refresh_lease: 'refresh_lease',
  create_lease: 'refresh_lease', set_config_value: 'set_config_value', _write_failsafe: '_write_failsafe',
  _update_leader: '_update_leader', set_history_value: 'set_history_value', initialize: 'initialize',
  take_leader: 'take_leader', _delete_leader: '_delete_leader', set_failover_value: 'set_failover_value',
  set_sync_state_value: 'set_sync_state_value', write_leader_optime: 'write_leader_optime', cancel_initialization: 'cancel_initialization',
  _write_leader_optime: 'write_leader_optime', _do_update_leader: '_update_leader', delete_sync_state: 'delete_sync_state',
  delete_cluster: 'delete_cluster',
};
// The key each write names, under /<namespace>/<scope>/ (`members/` takes the member's name).
const WRITE_KEYS: Record<string, string | null> = {
  _write_status: 'status', touch_member: 'members/', _do_attempt_to_acquire_leader: 'leader', _update_leader: 'leader',
  take_leader: 'leader', _delete_leader: 'leader', refresh_lease: null, set_config_value: 'config', _write_failsafe: 'failsafe',
  set_history_value: 'history', initialize: 'initialize', cancel_initialization: 'initialize', set_failover_value: 'failover',
  set_sync_state_value: 'sync', delete_sync_state: 'sync', write_leader_optime: 'optime/leader', delete_cluster: '',
};
const RPC_FRAMES = new Set(['put', 'txn', 'lease_grant', 'deleterange', 'lease_keepalive', 'range']);
// python-etcd's client calls (etcd/client.py) for the v2 DCS: the outermost one is the operation.
const V2_RPC_FRAMES = new Set(['test_and_set', 'write', 'set', 'delete', 'read', 'get', 'update']);

function nospaceDetail(message: string, text: string): LogEvent['detail'] {
  return { write: null, rpc: null, traceback: false, ...failedWrite(message, text), context: message.trim() || null, ...errorDetail(`${message}\n${text}`) };
}

/** write/rpc/traceback from a traceback's frames; {} when the record has no frames. */
function failedWrite(message: string, text: string): LogEvent['detail'] {
  const frames = [...text.matchAll(/File "([^"]*)", line \d+, in (\S+)/g)].map((f) => ({ file: f[1]!, func: f[2]! }));
  if (frames.length === 0) return {};
  const known = frames.find((f) => WRITE_FRAMES[f.func] !== undefined);
  const fromHead = WRITE_FRAMES[message.trim()] ?? null; // `ERROR: refresh_lease` + traceback
  const write = known ? WRITE_FRAMES[known.func]! : fromHead;
  const rpc = [...frames].reverse().find((f) => RPC_FRAMES.has(f.func))?.func ??
    frames.find((f) => f.file.endsWith('etcd/client.py') && V2_RPC_FRAMES.has(f.func))?.func ?? null;
  const key = write === null ? undefined : WRITE_KEYS[write];
  return { write, rpc, traceback: true, ...(key ? { key } : {}) };
}

// `<Unknown error: 'etcdserver: mvcc: database space exceeded', code: 2>` (Patroni ≤ 4.1.0) and
// `<ResourceExhausted error: '…', code: 8>` (4.1.1+), with the exception type from the last line.
// python-etcd (v2 DCS) says what failed in the exception text: `Key not found : /service/x/leader`,
// `PUT /v2/keys/service/x/members/pg-db1 request failed`, `Compare failed : [pg1 != pg2]`.
function errorDetail(text: string): LogEvent['detail'] {
  const e = /<(\w+) error: '((?:[^'\\]|\\.)*)', code: (\d+)>/.exec(text);
  const t = /^\s*([a-z_][\w]*(?:\.[\w]+)+|Etcd\w+): ?(.*)$/m.exec(text);
  const out: LogEvent['detail'] = {};
  // An error code too large to keep exactly stays its decimal text (never rounded).
  if (e) Object.assign(out, { errorClass: e[1]!, error: e[2]!, code: integerProblem(e[3]!, 'count') === null ? Number(e[3]) : e[3]! });
  if (t) {
    out['exception'] = t[1]!;
    if (!e && t[2]) out['error'] = t[2].slice(0, 300);
  }
  const k = /Key not found : (\/\S+)|(?:PUT|POST|DELETE|GET) \/v2\/keys(\/\S+) request failed/.exec(text);
  if (k) out['keyPath'] = k[1] ?? k[2]!;
  return out;
}
