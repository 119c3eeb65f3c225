// The recovery runbook for ONE cluster: the exact commands, in order, every value from the data
// shell-quoted, written so that `bash -euo pipefail` runs them top to bottom with etcdctl 3.4 or 3.5
// (test/runbook-e2e.test.ts runs them against a real 3-member cluster in NOSPACE).
import type { Incident, Recommendation } from './types.js';
import type { EventRow, Loaded, StatusRow } from './load.js';
import { detailOf, num } from './load.js';
import { humanizeBytes } from '../units/sizes.js';

/**
 * A value placed into a shell command: left bare when it holds only characters no shell acts on
 * (every plausible endpoint: `http://10.8.0.17:2379`), else POSIX single quotes with `'` as `'\''`.
 */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// An etcd client endpoint as etcd and etcdctl write them: a URL (http, https, unix, unixs) or host:port,
// host a DNS name, an IPv4 address or a bracketed IPv6 address.
const ENDPOINT = /^(?:(?:https?|unixs?):\/\/)?(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?\/?$/;

export function isPlausibleEndpoint(value: string): boolean {
  return ENDPOINT.test(value);
}

/** etcdctl's default --command-timeout is 5 s; a defrag of a large member takes longer. Never less than this. */
const MIN_DEFRAG_TIMEOUT_S = 30;
/** Defrag throughput assumed without a measurement in the data: a slow cloud volume rewriting every page with fsyncs. */
const DEFAULT_DEFRAG_BYTES_PER_S = 10 * 1024 * 1024;
/** A measured throughput is never taken above this (one fast defrag of a small file says little about a big one). */
const MAX_DEFRAG_BYTES_PER_S = 100 * 1024 * 1024;
/**
 * Physical compaction deletes old revisions in batches of 1000 with a 10 ms pause after each (mvcc/kvstore_compaction.go,
 * 3.4 and 3.5), plus a commit per batch: 40 µs a revision is slow-disk pace. Revisions assumed when none is known: 10 million.
 */
const COMPACT_S_PER_REVISION = 40e-6;
const UNKNOWN_REVISIONS = 10_000_000;
/** Size assumed for a member whose size the data never gives: etcd's suggested maximum quota. */
const UNKNOWN_SIZE_BYTES = 8 * 1024 ** 3;
/** The scratch key the write check puts and deletes: clearly ours, outside Patroni's /service/ namespace. */
export const WRITE_CHECK_KEY = '/etcd-forensics/runbook-write-check';

type Sample = Omit<StatusRow, 'ts_ms' | 'time_basis'> & { cluster_id?: string | null };

interface Member {
  id: string | null;
  endpoint: string;
  /** Order of the member's newest sample that said whether it led (higher is newer); -1 when none did. */
  ledAt: number;
  /** Order of its newest sample that said it led; -1 when none did. */
  leaderSeenAt: number;
  dbBytes: number | null;
  leader: boolean;
}

interface Members {
  members: Member[];
  refused: Set<string>;
  leaderFrom: string;
  clusterIds: string[];
}

/**
 * One endpoint per member (its newest), its latest DB size, and the leader: the member whose newest sample
 * said it led, the newest such; else the newest etcd log line naming a leader whose id a sample carries.
 * Size samples read from etcd's own log (format 'log') name the member, not an endpoint, and are not used.
 */
function findMembers(d: Loaded): Members {
  const samples: Sample[] = d.status.length > 0 ? d.status : d.untimedStatus;
  const byKey = new Map<string, Member>();
  const refused = new Set<string>();
  const clusterIds = new Set<string>();
  samples.forEach((s, i) => {
    if (s.format === 'log') return;
    if (typeof s.cluster_id === 'string' && s.cluster_id !== '') clusterIds.add(s.cluster_id);
    if (!isPlausibleEndpoint(s.endpoint)) {
      refused.add(s.endpoint);
      return;
    }
    const key = s.member_id ?? s.endpoint;
    const m = byKey.get(key) ?? { id: s.member_id, endpoint: s.endpoint, ledAt: -1, leaderSeenAt: -1, dbBytes: null, leader: false };
    m.endpoint = s.endpoint;
    if (s.db_size_bytes !== null) m.dbBytes = s.db_size_bytes;
    if (s.is_leader !== null) m.ledAt = i;
    if (s.is_leader === 1) m.leaderSeenAt = i;
    byKey.set(key, m);
  });
  const members = [...byKey.values()];
  let leader = members.filter((m) => m.leaderSeenAt >= 0 && m.leaderSeenAt === m.ledAt).sort((a, b) => b.leaderSeenAt - a.leaderSeenAt)[0];
  let leaderFrom = leader ? 'the newest endpoint status that marks it leader' : '';
  if (!leader) {
    const fromLog = newestLeaderInLog(d.events, members);
    if (fromLog) [leader, leaderFrom] = [fromLog.member, `the etcd log (${fromLog.where})`];
  }
  if (leader) leader.leader = true;
  members.sort((a, b) => Number(a.leader) - Number(b.leader) || a.endpoint.localeCompare(b.endpoint));
  return { members, refused, leaderFrom, clusterIds: [...clusterIds].sort() };
}

/** raft's `elected leader X` / `changed leader from A to X` / `X became leader`, newest first, matched to a member id. */
function newestLeaderInLog(events: readonly EventRow[], members: Member[]): { member: Member; where: string } | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.kind !== 'etcd.leader.changed') continue;
    const leader = detailOf(e)['leader'];
    if (typeof leader !== 'string') continue;
    const member = members.find((m) => m.id !== null && m.id.toLowerCase() === leader.toLowerCase());
    return member ? { member, where: `${e.path}:${e.line}` } : null;
  }
  return null;
}

interface DefragRate {
  bytesPerS: number;
  basis: string;
}

/**
 * The slowest defrag this data shows (size before ÷ took, from etcd's `defragmented` (3.4) and `finished
 * defragmenting directory` (3.5) lines: current-db-size-bytes minus current-db-size-bytes-diff is the size
 * before), capped; else a conservative default.
 */
function defragRate(events: readonly EventRow[]): DefragRate {
  let slowest: { rate: number; where: string } | null = null;
  for (const e of events) {
    if (e.kind !== 'etcd.defrag.finished') continue;
    const d = detailOf(e);
    const after = num(d['dbSizeBytes']);
    const diff = num(d['dbSizeDiffBytes']);
    const took = num(d['tookMs']);
    if (after === null || diff === null || took === null || took <= 0) continue;
    const rate = ((after - diff) / took) * 1000;
    if (rate > 0 && (slowest === null || rate < slowest.rate)) slowest = { rate, where: `${e.path}:${e.line}` };
  }
  if (slowest === null) {
    return { bytesPerS: DEFAULT_DEFRAG_BYTES_PER_S, basis: `an assumed ${DEFAULT_DEFRAG_BYTES_PER_S / 1024 / 1024} MiB/s (no etcd defrag line with its duration in the data)` };
  }
  const where = `the slowest defrag in etcd's own log (${slowest.where})`;
  return slowest.rate > MAX_DEFRAG_BYTES_PER_S
    ? { bytesPerS: MAX_DEFRAG_BYTES_PER_S, basis: `${MAX_DEFRAG_BYTES_PER_S / 1024 / 1024} MiB/s (${where} ran at ${humanizeBytes(slowest.rate)}/s; capped)` }
    : { bytesPerS: slowest.rate, basis: `${humanizeBytes(slowest.rate)}/s, ${where}` };
}

/** At least 30 s, plus twice the time the member's size takes at the rate. */
export function defragTimeoutSeconds(dbBytes: number, bytesPerS: number): number {
  return MIN_DEFRAG_TIMEOUT_S + Math.ceil((2 * dbBytes) / bytesPerS);
}

/** At least 30 s, plus every revision up to `revision` at slow-disk compaction pace (none compacted before is assumed). */
export function compactTimeoutSeconds(revision: number): number {
  return MIN_DEFRAG_TIMEOUT_S + Math.ceil(revision * COMPACT_S_PER_REVISION);
}

// No command carries a trailing `# comment`: a terminal view that wraps a long command with ` \` continuations
// would carry the comment's words onto the next line, where bash runs them. What a comment would say is in the rationale.
export function runbook(d: Loaded, incident: Incident): Recommendation {
  const found = findMembers(d);
  if (found.clusterIds.length > 1) return refuseMixed(found.clusterIds);
  const { members, refused } = found;
  const lastRev = [...d.status].reverse().find((s) => s.revision !== null)?.revision
    ?? [...d.untimedStatus].reverse().find((s) => s.revision !== null)?.revision ?? incident.revisionAtNospace;
  // Without a known endpoint the commands stop at once (${X:?}) instead of running with a placeholder.
  const all = members.length ? shellQuote(members.map((m) => m.endpoint).join(',')) : '"${ENDPOINTS:?set ENDPOINTS to every member, comma-separated}"';
  const one = members[0] ? shellQuote(members[0].endpoint) : '"${ENDPOINT:?set ENDPOINT to one member}"';
  const rate = defragRate(d.events);
  const known = members.map((m) => m.dbBytes).filter((b): b is number => b !== null);
  const fallbackBytes = known.length ? Math.max(...known) : incident.dbSizeAtNospace ?? UNKNOWN_SIZE_BYTES;
  const plan = members.map((m) => ({ m, bytes: m.dbBytes ?? fallbackBytes, timeout: defragTimeoutSeconds(m.dbBytes ?? fallbackBytes, rate.bytesPerS) }));
  const commands = [
    `etcdctl --endpoints=${one} snapshot save "backup-before-recovery-$(date -u +%Y%m%dT%H%M%SZ).db"`,
    `REV=$(etcdctl --endpoints=${one} endpoint status -w json | sed -n 's/.*"header":{[^}]*"revision":\\([0-9]*\\).*/\\1/p')`,
    `etcdctl --endpoints=${one} --command-timeout=${compactTimeoutSeconds(lastRev ?? UNKNOWN_REVISIONS)}s compact --physical "$REV"`,
    `etcdctl --endpoints=${all} endpoint status -w table`,
    ...(plan.length
      ? plan.map((p) => `etcdctl --endpoints=${shellQuote(p.m.endpoint)} --command-timeout=${p.timeout}s defrag`)
      : [`etcdctl --endpoints=${one} --command-timeout=${defragTimeoutSeconds(fallbackBytes, rate.bytesPerS)}s defrag`]),
    `etcdctl --endpoints=${all} alarm disarm`,
    ...(members.length ? members.map((m) => shellQuote(m.endpoint)) : [one]).map((ep) => `etcdctl --endpoints=${ep} put ${WRITE_CHECK_KEY} ok`),
    `etcdctl --endpoints=${one} del ${WRITE_CHECK_KEY}`,
    `etcdctl --endpoints=${all} alarm list`,
    `etcdctl --endpoints=${all} endpoint status -w table`,
  ];
  const order = plan.map((p) => `${shellQuote(p.m.endpoint)} (${p.m.dbBytes !== null ? '' : 'size unknown, assumed '}${humanizeBytes(p.bytes)}, ${p.timeout} s${p.m.leader ? ', the leader' : ''})`);
  return {
    id: 'runbook',
    title: 'Recovery runbook for this cluster',
    etcdFlags: [],
    configYaml: null,
    commands,
    rationale: rationaleOf(order, found.leaderFrom, rate, lastRev, refused),
  };
}

function rationaleOf(order: string[], leaderFrom: string, rate: DefragRate, lastRev: number | null, refused: Set<string>): string {
  const left = [...refused].sort().slice(0, 5).map(shellQuote).join(', ');
  return [
    'Run top to bottom (bash -euo pipefail stops at the first failure). A snapshot first, then the current revision, both from one',
    'member (etcdctl 3.4 refuses `snapshot save` with several endpoints; `snapshot save` takes no timeout, etcd#10298), and',
    '`compact --physical`, which returns once the backend has dropped the old revisions. Compaction frees pages inside the file but',
    'the quota checks the file size, so every member is then defragmented, one at a time (a defrag blocks that member), followers',
    `first and the leader last${leaderFrom ? ` (leader from ${leaderFrom})` : ' (no leader known in the data)'}; the status table`,
    'before the defrags shows IS LEADER now: if it moved, defragment that member last.',
    order.length ? `Order: ${order.join(', ')}.` : 'No member endpoint is known from the data: set ENDPOINT / ENDPOINTS first, and defragment each member.',
    `Each defrag's --command-timeout (etcdctl's default is 5 s) is ${MIN_DEFRAG_TIMEOUT_S} s plus twice the time the member's latest DB size`,
    `takes at ${rate.basis}; the compaction's is ${MIN_DEFRAG_TIMEOUT_S} s plus 40 µs for every revision up to the last one seen`,
    `(${lastRev !== null ? lastRev : `unknown, ${UNKNOWN_REVISIONS} assumed`}): etcd deletes them 1000 at a time with a 10 ms pause between batches.`,
    `The alarm never clears itself: disarm, then put a scratch key (${WRITE_CHECK_KEY}) through each member, because each member`,
    'checks the quota for the writes it takes and one still at the quota raises the alarm again; then delete it.',
    '`alarm list` should print nothing, and the status table should show DB SIZE down and ERRORS empty.',
    lastRev !== null ? `The revision ${lastRev} is the newest one in the data; the runbook reads it again before compacting.` : '',
    refused.size > 0
      ? `Left out of the commands: ${refused.size} endpoint value${refused.size === 1 ? '' : 's'} from the data that ${refused.size === 1 ? 'is' : 'are'} not a URL or host:port (${left}${refused.size > 5 ? ', …' : ''}).`
      : '',
  ].filter((x) => x !== '').join(' ');
}

/** Samples of several clusters: a command spanning them would defragment and disarm the wrong cluster. */
function refuseMixed(clusterIds: string[]): Recommendation {
  return {
    id: 'runbook',
    title: 'No recovery runbook: the data given mixes clusters',
    etcdFlags: [],
    configYaml: null,
    commands: [],
    rationale:
      `The endpoint status samples name ${clusterIds.length} cluster ids (${clusterIds.slice(0, 5).map(shellQuote).join(', ')}); ` +
      'a runbook acts on one cluster, and endpoints of another in the same commands would compact, defragment or disarm the wrong one. ' +
      'Select one cluster (--cluster) and ask again.',
  };
}
