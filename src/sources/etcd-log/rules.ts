// What an etcd log message means, shared by the zap and the text classifiers (etcd-log-zap.ts,
// etcd-log-text.ts): the Classified result, value helpers, and raft leadership lines, which read the
// same in zap `msg`, capnslog and raft's std-logger.
import type { EventKind, LogEvent } from '../../model.js';
import { parseGoDurationMs } from '../../units/time.js';
import { countFromText, signedFromText } from '../../units/integers.js';

export type Detail = LogEvent['detail'];
export type DetailValue = Detail[string];

export interface Classified {
  event: EventKind;
  detail: Detail;
  request?: { text: string; outcome: 'failed' | 'slow'; error: string | null; tookMs: number | null };
  /** Backend sizes the member logged about itself (3.5.12+ compaction, 3.5+ defrag, k3s): a size sample. */
  sample?: { dbSizeBytes: number | null; dbSizeInUseBytes: number | null };
}

export type ZapFields = Record<string, unknown>;
type ZapRule = (f: ZapFields, body: string, msg: string) => Classified;
type TextRule = (msg: string) => Classified;

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

export function dur(v: unknown): number | null {
  return typeof v === 'string' ? durationMs(v) : null;
}

/** Go duration text → ms, rounded to the nanosecond (`1.602181876s` → 1602.181876, not …75999). */
export function durationMs(text: string): number | null {
  const v = parseGoDurationMs(text);
  return v === null ? null : Math.round(v * 1e6) / 1e6;
}

/**
 * An integer zap field (a revision, index, size or hash; `signed` for a size difference). JSON.parse has
 * already rounded a value beyond 2^53 and kept 1.8e22 as a float: such a value is re-read from the raw
 * text and throws NumberRangeError naming the field (the line becomes a skipped-line issue).
 */
export function num(f: ZapFields, key: string, body: string, signed = false): DetailValue {
  const v = f[key];
  if (typeof v === 'number' && Number.isSafeInteger(v) && (signed || v >= 0)) return v;
  if (typeof v === 'string') return /^[-+\d.eE]+$/.test(v) ? checkedInt(v, key, signed) : null;
  if (typeof v !== 'number') return null;
  const at = body.indexOf(`"${key}":`);
  const raw = at === -1 ? String(v) : /^\s*([-+\d.eE]+)/.exec(body.slice(at + key.length + 3))?.[1] ?? String(v);
  return checkedInt(raw, key, signed);
}

/** Decimal text of a count (or signed value) → number; throws NumberRangeError naming the field. */
export function checkedInt(text: string, field: string, signed = false): number {
  return signed ? signedFromText(text, field) : countFromText(text, field);
}

export function ev(event: EventKind, detail: Detail = {}): Classified {
  return { event, detail };
}

export function healthReason(rest: string): string | null {
  const r = rest.replace(/^[;:,]?\s*/, '').replace(/^due to\s*/, '');
  return r === '' ? null : r;
}

const ALARM_NAME_RE = /alarm:(\w+)/;

export function alarmName(text: string | null): string | null {
  return text === null ? null : (ALARM_NAME_RE.exec(text)?.[1] ?? null);
}

// raft leadership as etcd's raft logs it (`raft/raft.go`, `raft/node.go`), in zap `msg`, capnslog and std-logger:
// `8e9e05c52164694d became leader at term 2`, `raft.node: 8e9e05c52164694d elected leader 8e9e05c52164694d at term 2`.
const LEADER_RE =
  /^(?:raft\.node: )?([0-9a-f]+) (?:elected leader ([0-9a-f]+)|changed leader from ([0-9a-f]+) to ([0-9a-f]+)|lost leader ([0-9a-f]+)|became (leader|follower|candidate|pre-candidate)|is starting a new election) at term (\d+)/;

export function classifyLeader(msg: string): Classified | null {
  if (!msg.includes(' at term ')) return null;
  const m = LEADER_RE.exec(msg);
  if (!m) return classifyVote(msg);
  const [, node, elected, from, to, lost, became, term] = m;
  const d: Detail = { change: '', term: checkedInt(term!, 'term'), node: node! };
  if (elected) Object.assign(d, { change: 'elected', leader: elected });
  else if (to) Object.assign(d, { change: 'changed', leader: to, previousLeader: from! });
  else if (lost) Object.assign(d, { change: 'lost', previousLeader: lost });
  else if (became) Object.assign(d, { change: `became-${became}`, ...(became === 'leader' ? { leader: node! } : {}) });
  else d.change = 'new-election';
  return ev('etcd.leader.changed', d);
}

// raft's vote lines around an election (a member that cannot reach the leader keeps asking; patroni#3407):
//   2abf76fc689f1968 [logterm: 358, index: 129721171, vote: 2abf76fc689f1968] ignored MsgPreVote from a2d20e2ccf5be40c [logterm: 358, index: 129721171] at term 358: lease is not expired (remaining ticks: 10)
//   8e9e05c52164694d [logterm: 2, index: 5, vote: 0] cast MsgVote for 91bc3c398fb3c146 [logterm: 2, index: 5] at term 3
//   8e9e05c52164694d received MsgPreVoteResp from 91bc3c398fb3c146 at term 2
const VOTE_RE = /^([0-9a-f]+) (?:\[[^\]]*\] )?(ignored|cast|rejected|received) (Msg(?:Pre)?Vote(?:Resp)?) (?:for|from) ([0-9a-f]+)(?: \[[^\]]*\])? at term (\d+)(?:: (.*))?/;

function classifyVote(msg: string): Classified | null {
  const v = VOTE_RE.exec(msg);
  if (!v) return null;
  const [, node, action, vote, peer, term, reason] = v;
  return ev('etcd.election', { node: node!, action: action!, vote: vote!, peer: peer!, term: checkedInt(term!, 'term'), reason: reason ?? null });
}
