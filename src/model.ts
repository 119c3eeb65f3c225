// Domain types shared by ingest, store, analyze and report.
// Dependency direction: cli → ingest | analyze | report → store → model.

/** How a record's time was obtained. Anything but 'explicit' is an assumption the report must state. */
export type TimeBasis =
  | 'explicit' //        the line carries date, time and UTC offset
  | 'assumed-zone' //    the line carries a local time without offset; --tz (or UTC) was applied
  | 'assumed-year' //    journald/syslog prefix without a year; the year was inferred
  | 'assumed-zone-year' // both of the above
  | 'marker' //          etcdctl output: taken from a timestamp line printed just before the sample
  | 'at' //              etcdctl output: taken from --at
  | 'mtime' //          etcdctl output: taken from the file's modification time
  | 'ingest'; //         etcdctl output read from stdin with no timestamp line: the time it was ingested (a cron pipeline)

export interface RecordTime {
  /** UTC epoch milliseconds. */
  ms: number;
  /** The original UTC offset in minutes (+480 for +0800), null when the source had none. */
  offsetMin: number | null;
  basis: TimeBasis;
}

/** What a wrapper around the line (CRI, docker json-file, journald, syslog, a shipper) knew about it. */
export interface OuterContext {
  time: RecordTime | null;
  /** journald _HOSTNAME, the syslog host: the member when nothing else names it. */
  host: string | null;
  /** syslog identifier / journald SYSLOG_IDENTIFIER, or the CRI/docker stream. */
  tag: string | null;
  pid: number | null;
}

/** What the parser knows about the input beyond its lines. */
export interface ParseContext {
  /** IANA zone (or ±hh:mm) for timestamps that carry no offset; null means UTC, recorded as assumed. */
  tz: string | null;
  /** Member name given with --member; parsers may find a better one in the data (journald host). */
  member: string | null;
  /** Epoch ms used to infer the year of journald prefixes (file mtime, or --at, or now). */
  referenceMs: number;
}

export type SourceKind = 'patroni-log' | 'etcd-log' | 'etcdctl' | 'transcript' | 'etcd-snapshot' | 'patroni-config'
  // Issue 15: samples not read from a file's lines: a Prometheus import, a `collect` run, a saved /metrics page.
  | 'prometheus' | 'collect' | 'metrics-page'
  // Issue 16: a member's data directory: WAL segments (member/wal/*.wal) and raft snapshots (member/snap/*.snap).
  | 'etcd-wal' | 'raft-snap';
export const SOURCE_KINDS: readonly SourceKind[] = ['patroni-log', 'etcd-log', 'etcdctl', 'transcript', 'etcd-snapshot', 'patroni-config'];

export type Level = 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'critical' | 'fatal' | 'panic';

/** Event kinds. Parsers classify; analyses select on these names. */
export type EventKind =
  // Patroni
  | 'patroni.ha.leader' //            no action. I am (x), the leader with the lock
  | 'patroni.ha.secondary' //         no action. I am (x), a secondary, and following a leader (y)
  | 'patroni.ha.lock-owner' //        Lock owner: x; I am y
  | 'patroni.ha.other' //             any other HA-loop result line
  | 'patroni.promoted'
  | 'patroni.demoted'
  | 'patroni.leader-race-failed' //   following new leader after trying and failing to obtain lock
  | 'patroni.dcs-error' //            Error communicating with DCS, DCS is not accessible, refresh_lease, waiting on etcd, get_cluster …
  | 'patroni.dcs-switch' //         Selected new etcd server X
  | 'patroni.nospace' //              database space exceeded (detail.write names the failed write: _write_status, touch_member, …)
  | 'patroni.error' //                other ERROR records
  | 'patroni.other'
  | 'patroni.uptime' //               systemctl status: "Active: active (running) since …"
  | 'postgres.log' //                 PostgreSQL lines interleaved in Patroni's stream
  // etcd
  | 'etcd.alarm.raised' //            alarm raised / alarm NOSPACE raised by peer
  | 'etcd.alarm.disarmed'
  | 'etcd.quota.exceeded' //          message exceeded backend quota; raising alarm
  | 'etcd.quota.config' //            enabled backend quota …
  | 'etcd.apply.failed' //            failed to apply request (detail.error)
  | 'etcd.apply.slow' //              apply request took too long / read-only range … took too long
  | 'etcd.compaction.started' //      detail.revision
  | 'etcd.compaction.finished' //     detail.revision, detail.tookMs, sizes when logged
  | 'etcd.compaction.auto' //         auto compaction started/completed/failed (detail.phase)
  | 'etcd.defrag.started' //          detail.dbSizeBytes, detail.dbSizeInUseBytes when logged
  | 'etcd.defrag.finished' //         detail.dbSizeBytes (after), detail.dbSizeDiffBytes
  | 'etcd.defrag.failed'
  | 'etcd.leader.changed' //          elected / changed / lost leader, became leader/follower/candidate
  | 'etcd.fdatasync.slow'
  | 'etcd.heartbeat.slow'
  | 'etcd.health.false'
  | 'etcd.snapshot.sent'
  | 'etcd.start' //                   version / starting etcd lines
  | 'etcd.peer.active' //             rafthttp: peer X became active (detail.peer)
  | 'etcd.peer.inactive' //           rafthttp: peer X became inactive (message send to peer failed)
  | 'etcd.snapshot.saved' //          raft snapshot saved (detail.index): saved snapshot [to disk | at index N]
  | 'etcd.raftlog.compacted' //       raft log compacted (detail.index): compacted Raft logs / compacted raft log at N
  | 'etcd.election' //              raft votes: ignored / cast / rejected / received MsgPreVote, MsgVote (detail.action, peer, term)
  | 'etcd.member.changed' //        membership: added / removed / updated member (detail.action, detail.member)
  | 'etcd.request.slow' //          v3rpc `request stats` over the warning threshold (detail.tookMs, detail.responseType)
  | 'etcd.db.size' //                 k3s/RKE2: Connected to etcd vX - datastore using N of M bytes
  | 'etcd.other'
  // etcdctl maintenance output an operator kept (timed by a marker line, --at or mtime)
  | 'etcdctl.compact' //               compacted revision N (detail.revision)
  | 'etcdctl.defrag' //                Finished defragmenting etcd member[ep] (detail.endpoint)
  | 'etcdctl.defrag.failed' //         Failed to defragment etcd member[ep] (…)
  | 'etcdctl.alarm.cleared' //         an alarm printed by `alarm disarm` (detail.memberId decimal, detail.alarm): cleared, not active
  | 'etcdctl.alarm.none' //            `alarm list` printed nothing before the next prompt: no alarm at that time
  | 'etcdctl.client.error' //          an error etcdctl itself printed (Error: …, the client's retry warning);
  //                                   detail.error, detail.code (gRPC), detail.alarm NOSPACE when the server said so
  // Commands an operator ran, read from a pasted transcript (prompt or bare `etcdctl …` line); timed
  // only by the paste itself (a timestamped prompt, a `date` line, etcdctl's own timed warning).
  | 'operator.compact' //              detail.revision, detail.physical
  | 'operator.defrag' //               detail.endpoints | detail.cluster | detail.dataDir (etcdutl), detail.tool
  | 'operator.alarm.disarm'
  | 'operator.snapshot.save' //        detail.file
  | 'operator.check' //                endpoint status/health, alarm list, member list, snapshot status (detail.command)
  | 'operator.command'; //             any other etcdctl/etcdutl command (detail.command)

export interface LogEvent {
  kind: 'event';
  line: number;
  time: RecordTime | null;
  member: string | null;
  level: Level | null;
  event: EventKind;
  message: string;
  /** The raw line(s); continuation lines (tracebacks) are joined with '\n'. */
  raw: string;
  /** Structured facts the classifier found (numbers as numbers, uint64 ids as strings). */
  detail: Record<string, string | number | boolean | null>;
}

export type RequestOp =
  | 'put' | 'txn' | 'range' | 'delete_range' | 'compaction' | 'lease_grant' | 'lease_revoke' | 'alarm' | 'other';

/** One etcd request named in a log line. A txn yields one row per put it contains (op 'put', inTxn true). */
export interface EtcdRequest {
  kind: 'request';
  line: number;
  time: RecordTime | null;
  member: string | null;
  op: RequestOp;
  key: string | null;
  rangeEnd: string | null;
  valueSize: number | null;
  /** uint64/int64 as decimal text (lease_grant's hex id is converted to decimal). */
  lease: string | null;
  inTxn: boolean;
  outcome: 'failed' | 'slow';
  error: string | null;
  tookMs: number | null;
}

/** One `etcdctl endpoint status` row (any -w format). */
export interface StatusSample {
  kind: 'status';
  line: number;
  time: RecordTime | null;
  /** 'log': a size sample from the member's own log (compaction/defrag lines); endpoint is the member name. */
  format: 'table' | 'json' | 'simple' | 'fields' | 'log';
  endpoint: string;
  /** hex, as etcdctl prints it in tables (JSON decimal ids are converted to hex). */
  memberId: string | null;
  clusterId: string | null;
  version: string | null;
  dbSizeBytes: number | null;
  /** true when dbSizeBytes was parsed back from a humanized size (2.1 GB). */
  dbSizeApprox: boolean;
  dbSizeInUseBytes: number | null;
  /** 3.6+: the member's backend quota (`"dbSizeQuota"`, QUOTA); 0 up to 3.6.5 when left at the default (fixed in 3.6.6: server/etcdserver/api/v3rpc/maintenance.go, 4973fd42f). */
  dbSizeQuotaBytes?: number | null;
  /** 3.6+: the storage version (STORAGE VERSION); '' when the server has none. */
  storageVersion?: string | null;
  revision: number | null;
  raftTerm: number | null;
  raftIndex: number | null;
  raftAppliedIndex: number | null;
  isLeader: boolean | null;
  /** hex leader id when known (JSON), else null. */
  leaderId: string | null;
  isLearner: boolean | null;
  errors: string[];
  /** Alarm names found in errors (NOSPACE, CORRUPT). */
  alarms: string[];
}

export interface HealthSample {
  kind: 'health';
  line: number;
  time: RecordTime | null;
  format: 'table' | 'json' | 'simple' | 'fields';
  endpoint: string;
  healthy: boolean;
  tookMs: number | null;
  error: string | null;
}

export interface SnapshotStatusRecord {
  kind: 'snapshot-status';
  line: number;
  time: RecordTime | null;
  format: 'table' | 'json' | 'simple' | 'fields';
  /** hex, 8 digits, as the table prints it. */
  hash: string;
  revision: number;
  totalKeys: number;
  totalSizeBytes: number;
  totalSizeApprox: boolean;
  /** etcdutl 3.6+: the snapshot's storage version (VERSION column, `"version"`); '' when it has none. */
  version?: string | null;
  /**
   * What TOTAL KEYS counts. 'bucket-entries' (etcdctl/etcdutl up to 3.5): every key of every bbolt bucket,
   * i.e. every revision kept plus meta/members/lease entries. 'live-keys' (etcdutl 3.6+, which prints the
   * VERSION column / `"version"` field): distinct user keys not deleted. Set only for the 3.6 forms;
   * undefined means a form without VERSION, printed by 3.5 or earlier: 'bucket-entries'.
   */
  totalKeysMeaning?: 'bucket-entries' | 'live-keys';
}

export interface AlarmRecord {
  kind: 'alarm';
  line: number;
  time: RecordTime | null;
  /** decimal, as `alarm list` prints it. */
  memberId: string;
  alarm: string;
}

export interface MemberRecord {
  kind: 'member';
  line: number;
  time: RecordTime | null;
  memberId: string; // hex
  status: string | null;
  name: string | null;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean | null;
}

export type ParsedRecord =
  | LogEvent | EtcdRequest | StatusSample | HealthSample | SnapshotStatusRecord | AlarmRecord | MemberRecord;

/** A line the parser could not use. Never thrown: counted, stored, summarised. */
export interface ParseIssue {
  kind: 'issue';
  line: number;
  reason: string;
  excerpt: string;
}

export type ParseOutput = ParsedRecord | ParseIssue;

/**
 * A streaming parser: fed one line at a time (without its newline), in order.
 * It may hold back a record until it knows it is complete (a traceback, a wrapped table row),
 * and must hand everything over in end(). It never throws on bad input.
 */
export interface StreamParser {
  /** `outer`: what a wrapper taken off this line knew (its time, host, tag); null for a bare line. */
  push(line: string, lineNo: number, outer?: OuterContext | null): ParseOutput[];
  end(): ParseOutput[];
  /** True once the input has shown a shell prompt: a pasted session, whose file time says when it was saved,
   *  not when its commands ran (so records without a time of their own must not take the file's mtime). */
  pasted?(): boolean;
  /**
   * What the parser carries from one line to the next, as plain data (ingest/parse-split.ts parses a large
   * file in two byte ranges at once: the second range's parser starts from this). Only a parser that has it
   * can be split.
   */
  carried?(): CarriedState;
}

export type CarriedState = Record<string, string | number | boolean | null>;

/**
 * Issue 15: one member's reading at one time from a live source: etcd's HTTP/JSON gateway and /metrics
 * (`collect`), a Prometheus query_range import, or a saved /metrics page. Stored in status_samples with a
 * natural key, so the same reading imported twice is one row. A member that did not answer is a sample with
 * `errors` and null figures: the outage is recorded, not skipped.
 */
export interface FleetSample {
  format: 'prometheus' | 'gateway' | 'metrics';
  tsMs: number;
  basis: TimeBasis;
  /** The cluster the reading belongs to (a `cluster` label, the job, the --cluster name); null: decide from ids. */
  cluster: string | null;
  /** The member as the source names it: a Prometheus `instance`, a client URL. */
  endpoint: string;
  memberId: string | null;
  clusterId: string | null;
  version: string | null;
  dbSizeBytes: number | null;
  dbSizeInUseBytes: number | null;
  quotaBytes: number | null;
  revision: number | null;
  compactRevision: number | null;
  keysTotal: number | null;
  putsTotal: number | null;
  isLeader: boolean | null;
  errors: string[];
  alarms: string[];
}
