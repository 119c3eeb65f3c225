// The analysis contract: `analyze --json` prints an AnalysisReport. Bump ANALYSIS_SCHEMA_VERSION on
// any change a script could notice. Times are ISO-8601 UTC strings; unknowable values are null.

// 3: `cluster` on every report; a store of several clusters prints MultiClusterReport (issue 12).
export const ANALYSIS_SCHEMA_VERSION = 3;

/** Where a figure comes from, best first: snapshot > status samples > etcd log > Patroni log > default. */
export type EvidenceSource =
  | 'snapshot' | 'snapshot-status' | 'status-samples' | 'etcd-log' | 'patroni-log' | 'transcript' | 'etcdctl-output'
  | 'option' | 'default'
  | 'wal'; // a member's WAL window (issue 16): exact for the window

export interface Evidence {
  source: EvidenceSource;
  /**
   * exact: counted from the data itself; recovered: carved from free pages of a compacted snapshot
   * (best effort: what page reuse overwrote is missing, nothing is invented); sampled: a subset was
   * logged; inferred: derived by a model; assumed; unverified: read from a snapshot whose sha256 trailer
   * does not match, or whose rows contradict each other (corruption): the figures may be wrong.
   */
  completeness: 'exact' | 'recovered' | 'sampled' | 'inferred' | 'approximate' | 'assumed' | 'unverified';
  /** One sentence a reader can check: which records, how many, over what span. */
  detail: string;
}

export interface Incident {
  nospaceAt: string | null;
  /**
   * When no record of NOSPACE has a time (a post's klog or kubelet lines, an `Error:` line of etcdctl without a
   * date): the first record that shows it, file:line. The incident happened; when is not in the data.
   */
  nospaceUntimedSource?: string | null;
  firstDcsErrorAt: string | null;
  /** No member holds the alarm and writes succeed again: see recoveryDecidedBy below. */
  recoveredAt: string | null;
  revisionAtNospace: number | null;
  dbSizeAtNospace: number | null;
  dbSizeAtNospaceApprox: boolean;
  members: { member: string; nospaceAt: string }[];
  evidence: Evidence[];
  /**
   * Who held the NOSPACE alarm when, one row per spell, in time order. The holder is the member the alarm
   * names (etcd's `from` / `memberID:`), not the member whose log printed the line: every member logs the same
   * apply. Built from etcd's `alarm raised` / `alarm disarmed` lines, status samples' alarms, `alarm list` and
   * `alarm disarm` output. etcd logs only the first raise (no alarm → one) and the last disarm (→ none), so
   * the other edges come from samples: such an edge is the first record seen after the change (exact: false).
   */
  alarmIntervals: AlarmInterval[];
  /** Spells that began after a disarm had cleared an alarm (a member still over its quota raising NOSPACE again). */
  reRaises: AlarmInterval[];
  /** The disarm after which no member held the alarm again; null while one still holds it at the end of the data. */
  alarmClearedAt: string | null;
  /** path:line of the record behind alarmClearedAt. */
  alarmClearedSource: string | null;
  /**
   * The first record showing a write applied after that disarm: a status sample with no alarm whose revision
   * passed the revision held under the alarm, an etcdctl put/txn without error, or Patroni's first clean HA
   * loop. null when the data shows none.
   */
  writesSucceededAt: string | null;
  writesSucceededSource: string | null;
  /**
   * `recoveredAt` (above) needs both alarmClearedAt and writesSucceededAt (null otherwise) and is the later of
   * the disarm and the moment writes resumed: a sample or Patroni loop only bounds its write from above, so
   * with no write refused after the disarm they resumed at the disarm, which decides; with writes still refused
   * after it, the first write seen applied after the last refusal decides. A sample's time is its `date` line,
   * printed before the call, so a sample within a second before the disarm may show its result. This says which
   * evidence decided, or why there is no recovery time.
   */
  recoveryDecidedBy: string;
  /** The first refused write or the first alarm, whichever came first. */
  firstSymptomAt: string | null;
  firstSymptomSource: string | null;
  /** The first compact, defrag or disarm by an operator with a time; null when none (or the first has no time). */
  firstOperatorActionAt: string | null;
  firstOperatorActionSource: string | null;
  durations: IncidentDurations;
}

export interface AlarmInterval {
  /** The member's name (from its log's start-up line) or endpoint, else its hex id. */
  member: string;
  /** Hex member id as etcd prints it in logs, null when the record did not name one. */
  memberId: string | null;
  raisedAt: string;
  /** true: etcd's own `alarm raised` line; false: the first record showing the alarm held (an upper bound). */
  raisedExact: boolean;
  raisedSource: string;
  clearedAt: string | null;
  clearedExact: boolean;
  clearedSource: string | null;
  /** Began after a disarm had cleared an alarm. */
  reRaise: boolean;
}

/** One measured span: milliseconds between two cited records, or null with the reason. */
export interface IncidentDuration {
  ms: number | null;
  from: string | null;
  fromSource: string | null;
  to: string | null;
  toSource: string | null;
  /** Why there is no figure (an untimed operator action, no recovery in the data), else null. */
  note: string | null;
}

export interface IncidentDurations {
  /** First alarm → recovery. */
  nospace: IncidentDuration;
  /** First symptom (refused write or alarm) → first timed operator action. */
  toFirstAction: IncidentDuration;
  /** First symptom → recovery. */
  toRecovery: IncidentDuration;
}

export interface ChurnKey {
  key: string;
  group: string;
  revisions: number;
  /** From a compacted snapshot: puts since creation by the live row's version, and the revisions recovered from free pages. */
  version?: number | null;
  recoveredRevisions?: number;
  perHour: number | null;
  share: number;
  evidence: Evidence;
}

export interface ChurnGroup {
  group: string;
  /** How the group was formed: a Patroni key name, or the collapsed last segment. */
  rule: string;
  keys: number;
  revisions: number;
  perHour: number | null;
  share: number;
  evidence: Evidence;
}

export interface Churn {
  keys: ChurnKey[];
  groups: ChurnGroup[];
  /** The group that writes the most, with the evidence that names it. */
  top: string | null;
  evidence: Evidence[];
}

export interface MemberSeries {
  member: string;
  samples: number;
  points: { at: string; dbSizeBytes: number | null; dbSizeInUseBytes: number | null; revision: number | null }[];
  firstSizeBytes: number | null;
  lastSizeBytes: number | null;
}

export interface Growth {
  revisionsPerHour: number | null;
  revisionsPerSecond: number | null;
  bytesPerRevision: number | null;
  bytesPerHour: number | null;
  bytesPerHourLow: number | null;
  bytesPerHourHigh: number | null;
  method: string | null;
  members: MemberSeries[];
  evidence: Evidence[];
}

export interface Projection {
  quotaBytes: number;
  quotaSource: Evidence;
  lastSizeBytes: number | null;
  lastSampleAt: string | null;
  etaAt: string | null;
  etaLow: string | null;
  etaHigh: string | null;
  /** Set when the quota was already reached at the last sample. */
  reached: boolean;
  method: string | null;
  evidence: Evidence[];
  /** reached, bounded (compaction keeps the size in a band: no ETA), growing, no-growth. */
  verdict?: 'reached' | 'bounded' | 'growing' | 'no-growth';
  /** For a bounded verdict: the physical size the DB stays at or under. */
  boundBytes?: number | null;
  /** The forecast replayed from earlier origins in this history (analyze/backtest.ts). */
  backtest?: BacktestResult;
}

export interface BacktestOrigin {
  at: string;
  verdict: string;
  /** Forecast: ETA (ISO) when the truth is the NOSPACE time, else the size (bytes) at the truth time. */
  predicted: string | number | null;
  /** |forecast − truth|: ms for a NOSPACE time, bytes for a size; null when the forecast gave no value. */
  error: number | null;
  /** Multiple of the 95% half-interval (slope domain) the truth needed; null for bounded verdicts. */
  z: number | null;
  covered: boolean;
  /** What the origin was judged against: nospace, end, regime-end:<cause> (growing), largest-after (bounded). */
  judgedAgainst?: string;
  /** Bounded: the largest physical size over the rest of the history ÷ the claimed bound. */
  ratio?: number;
}

export interface BacktestResult {
  /** What was forecast: the time the quota was reached (seen in this history), or the size at the last sample. */
  truth: 'nospace-time' | 'size-at-end';
  truthAt: string;
  origins: number;
  /** Covered by the Theil–Sen 95% interval as fitted, and after widening by k. */
  covered: number;
  coveredAfter: number;
  k: number;
  /** Median absolute error of the growing forecasts: ms (nospace-time) or bytes (size-at-end). */
  medianAbsError: number | null;
  /** Growing forecasts (judged in the slope domain within their own regime); capHit: k reached its cap uncovered. */
  growingOrigins?: number;
  growingCovered?: number;
  growingCoveredAfter?: number;
  capHit?: boolean;
  /** Bounded forecasts: how often the physical size stayed under the claimed bound, and the factor that made 95% hold. */
  boundedOrigins?: number;
  boundHeld?: number;
  boundHeldAfter?: number;
  boundK?: number;
  boundMedianMiss?: number | null;
  /** Origins whose regime ended too soon after them to check their claim. */
  unjudged?: number;
  summary: string;
  details: BacktestOrigin[];
}

export interface TimelineEntry {
  /** ISO-8601 UTC; null for an operator action whose paste carries no time (listed in paste order). */
  at: string | null;
  member: string | null;
  kind: string;
  summary: string;
  /** Source path and line of the first record behind this entry. */
  source: string;
  count: number;
  /** A collapsed run (timeline.ts): the time of its last record, the members in it, and what the count splits into. */
  until?: string | null;
  members?: string[];
  split?: { label: string; count: number }[];
}

export interface Recommendation {
  id: string;
  title: string;
  etcdFlags: string[];
  configYaml: string | null;
  commands: string[];
  rationale: string;
  /** For auto-compaction: the physical DB size the plan should keep under, to verify against. */
  predictedMaxDbBytes?: number;
}

export interface HindsightAlert {
  rule: string;
  expr: string;
  firstFiredAt: string | null;
  warningBeforeNospace: string | null;
  note: string;
}

/** The etcd cluster an analysis covers (analyze/clusters.ts). */
export interface ClusterRef {
  /** The user's `ingest --cluster` name, else the hex cluster id, else the Patroni scope. */
  name: string;
  /** Hex, as etcd prints it (`4cdaeeef86796c29`); null when only a name or a scope is known. */
  clusterId: string | null;
  patroniScope: string | null;
}

/**
 * `--json` of a store holding several clusters, without `--cluster`: one full report per cluster, and the
 * sources no evidence tied to a cluster (left out of every analysis; `ingest --cluster NAME` places them).
 */
export interface MultiClusterReport {
  schemaVersion: number;
  clusters: AnalysisReport[];
  unassigned: string[];
}

export interface AnalysisReport {
  schemaVersion: number;
  /** The cluster analysed; null when the store names none (then it is all one cluster). */
  cluster: ClusterRef | null;
  until: string | null;
  incident: Incident;
  snapshots: SnapshotReading[];
  /** Snapshot/backend files read directly: page accounting, what defrag and compaction would give back. */
  snapshotFiles: SnapshotReport[];
  churn: Churn;
  growth: Growth;
  projection: Projection;
  timeline: TimelineEntry[];
  hindsight: HindsightAlert[];
  recommendations: Recommendation[];
  assumptions: string[];
  /** Writes etcd or Patroni refused, by key and error (analyze/refused-writes.ts). */
  refusedWrites: RefusedWrites;
  /** The on-call verdict built from everything above (analyze/verdict.ts). */
  verdict: Verdict;
}

export interface RefusedWriteRow {
  /** etcd-log: etcd's `failed to apply request` lines; patroni-log: Patroni's refused calls. */
  via: 'etcd-log' | 'patroni-log';
  /** The etcd key (etcd-log), or the key Patroni names relative to its scope (status, members/pg1). */
  key: string | null;
  /** The Patroni call that failed (touch_member, _write_status); null for etcd-log rows. */
  write: string | null;
  /** Who writes this key: Patroni members/leader/status key, Kubernetes lease, other (group). */
  client: string;
  error: string | null;
  count: number;
  members: { member: string | null; count: number }[];
  firstAt: string | null;
  lastAt: string | null;
  /** path:line of the first record behind the row. */
  source: string;
}

export interface RefusedWrites {
  etcdTotal: number;
  patroniTotal: number;
  byError: { via: RefusedWriteRow['via']; error: string | null; count: number }[];
  /** Largest first, at most REFUSED_ROWS_MAX; `moreRows` were left out. */
  rows: RefusedWriteRow[];
  moreRows: number;
  evidence: Evidence[];
}

/** At most 15 lines at 80 columns once rendered: what happened, why, what to do now, how sure. */
export interface Verdict {
  status: 'nospace' | 'recovered' | 'growing' | 'bounded' | 'no-growth' | 'unknown';
  headline: string;
  lines: { kind: 'what' | 'cause' | 'refused' | 'action' | 'sure'; text: string; evidence?: Evidence }[];
  /** The first runbook step as the runbook prints it (already shell-quoted); null when there is none. */
  command: string | null;
}

// Snapshot readings (snapshot-status.ts, snapshot-report.ts, snapshot-recovery.ts fill these).
export interface SnapshotReading {
  at: string | null;
  source: string;
  hash: string;
  revision: number;
  totalKeys: number;
  totalSizeBytes: number;
  totalSizeApprox: boolean;
  /** Bytes per stored entry: a few hundred when history is live, far more when the file is mostly free pages. */
  bytesPerEntry: number;
  historyCompacted: boolean;
  interpretation: string;
}

export interface SnapshotKeyRow {
  key: string;
  revisions: number;
  version: number | null;
  bytesHeld: number;
  valueSizeAvg: number | null;
  lease: string | null;
}

export interface SnapshotReport {
  path: string;
  at: string | null;
  timeBasis: string | null;
  trailer: string;
  pageSize: number;
  highWaterPages: number;
  freePages: number;
  dbSizeBytes: number;
  dbSizeInUseBytes: number;
  freeShare: number;
  hash: string;
  revision: number;
  totalKeys: number;
  keyRevisions: number;
  distinctKeys: number;
  finishedCompactRevision: number | null;
  /** Bytes of revision rows that a compaction to the newest revision would delete (all but each key's latest). */
  compactionFreesBytes: number;
  findings: string[];
  topByRevisions: SnapshotKeyRow[];
  topByBytes: SnapshotKeyRow[];
  buckets: unknown;
  /** Compacted history recovered from the free pages; null when ingested before the store had it. */
  recovery: SnapshotRecovery | null;
  /** How far this file's figures can be trusted: unverified on a sha256 trailer mismatch or corrupt key rows. */
  evidence: Evidence;
  /** Keys whose rows contradict each other in a never-compacted file (bit flips): left out of every figure. */
  corruptKeys: CorruptKeyRow[];
}

/** A key of a never-compacted file whose version (puts since creation) and revision rows disagree. */
export interface CorruptKeyRow {
  key: string;
  revisions: number;
  puts: number;
  tombstones: number;
  version: number | null;
  createRevision: number | null;
  firstModRevision: number;
}

export interface RecoveredKeyRow {
  key: string;
  /** Puts since creation, from the live row (compacted ones included); null for a key not live. */
  version: number | null;
  liveRevisions: number;
  recoveredRevisions: number;
  /** version − live puts − recovered puts of the live chain: writes neither held nor recovered; null when not computable. */
  unaccounted: number | null;
  /** Revision ranges of the recovered rows in which the recovered history has no gap: [from, to, rows]. */
  ranges: [number, number, number][];
  moreRanges: number;
}

export interface SnapshotRecovery {
  evidence: Evidence;
  liveEntries: number;
  freePagesScanned: number;
  leafPages: number;
  pagesCarved: number;
  pagesRejected: number;
  rejectReasons: Record<string, number>;
  liveCopies: number;
  duplicates: number;
  conflicts: number;
  inconsistent: number;
  revisionsRecovered: number;
  compactedRange: { first: number; last: number; lostRevisions: number; recoveredRevisions: number; share: number } | null;
  /** Set when nothing was recovered: the reason. */
  nothingRecoveredBecause: string | null;
  topByRecovered: RecoveredKeyRow[];
  topByVersion: RecoveredKeyRow[];
}
