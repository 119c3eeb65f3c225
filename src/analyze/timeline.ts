// One ordered list across all sources. Repeated failures are counted per minute and member, not
// listed one by one, and then runs of them collapse: consecutive entries of one bursty kind with only
// other bursty entries between them become one row with the count, the span (at … until), the members
// and what the count splits into (errors, Patroni calls). A notable entry (alarm, compaction, defrag,
// operator action, recovery) ends every open run. The first clean Patroni HA loop after the alarm is
// disarmed closes the incident.
import type { TimelineEntry } from './types.js';
import { detailOf, iso, type EventRow, type Loaded } from './load.js';
import { humanizeBytes } from '../units/sizes.js';
import { firstCleanPatroniLoops, readRecovery } from './incident.js';

const BURSTY = new Set(['etcd.apply.failed', 'patroni.nospace', 'patroni.dcs-error', 'etcd.apply.slow', 'patroni.leader-race-failed', 'etcdctl.client.error']);
const SHOWN = new Set([
  'etcd.alarm.raised', 'etcd.alarm.disarmed', 'etcd.quota.exceeded', 'etcd.compaction.started', 'etcd.compaction.finished',
  'etcd.compaction.auto', 'etcd.defrag.started', 'etcd.defrag.finished', 'etcd.defrag.failed', 'etcd.leader.changed',
  'etcd.fdatasync.slow', 'etcdctl.compact', 'etcdctl.defrag', 'etcdctl.defrag.failed', 'patroni.promoted', 'patroni.demoted', 'patroni.uptime', ...BURSTY,
]);

export function buildTimeline(d: Loaded, nospaceMs: number | null, disarmMs: number | null): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const runOf = new Map<TimelineEntry, Burst>();
  // Per burst, the first write named: a failing Patroni loop logs the traceback that names it, then
  // one-line errors that do not.
  const bursts = new Map<string, Burst>();
  for (const e of d.events) {
    if (e.ts_ms === null || !SHOWN.has(e.kind)) continue;
    // Raft chatter (became follower/candidate, elections) stays in the store; leadership itself is shown.
    if (e.kind === 'etcd.leader.changed' && !/elected leader|became leader|lost leader|changed leader/.test(e.message)) continue;
    if (BURSTY.has(e.kind)) {
      const minute = Math.floor(e.ts_ms / 60_000);
      const key = `${e.kind}|${e.member ?? e.path}|${minute}`;
      const n = rowCount(e);
      const b = bursts.get(key);
      if (b) {
        b.entry.count += n;
        b.lastMs = Math.max(b.lastMs, lastTs(e));
        addSplit(b.split, splitLabel(e), n);
        continue;
      }
      const entry: TimelineEntry = { at: iso(e.ts_ms)!, member: e.member, kind: e.kind, summary: '', source: `${e.path}:${e.line}`, count: n };
      const burst: Burst = { entry, lastMs: lastTs(e), split: new Map(), members: new Set(e.member !== null ? [e.member] : e.kind === 'etcdctl.client.error' ? [] : [e.path]) };
      addSplit(burst.split, splitLabel(e), n);
      bursts.set(key, burst);
      runOf.set(entry, burst);
      out.push(entry);
      continue;
    }
    out.push({ at: iso(e.ts_ms)!, member: e.member, kind: e.kind, summary: summarize(e), source: `${e.path}:${e.line}`, count: 1 });
  }
  // Recovery (helper "incident" edits this block): each re-raise of NOSPACE after a disarm, the recovery
  // moment (no member holds the alarm and writes succeed; `disarmMs` is incident.recoveredAt) and each
  // Patroni member's first clean HA loop after it. Without a recovery time (the seed's disarm has none) no
  // Patroni line is called a recovery: its `no action` line right after a refused write is not one.
  const recovery = readRecovery(d);
  for (const c of pastedDisarms(d, recovery.names)) out.push(c);
  for (const r of recovery.reRaises) {
    const how = r.raisedExact ? 'etcd log' : 'first record showing it';
    out.push({ at: r.raisedAt, member: r.member, kind: 'incident.alarm.reraised', summary: `NOSPACE raised again by ${r.member} after a disarm (${how})`, source: r.raisedSource, count: 1 });
  }
  if (disarmMs !== null) {
    out.push({ at: iso(disarmMs)!, member: null, kind: 'incident.recovered', summary: `recovered: no member holds the alarm and writes succeed; decided by ${recovery.decidedBy}`, source: recovery.source ?? '', count: 1 });
    for (const e of firstCleanPatroniLoops(d, disarmMs)) {
      out.push({ at: iso(e.ts_ms)!, member: e.member, kind: 'patroni.recovered', summary: `first clean Patroni HA loop after recovery: ${e.message}`, source: `${e.path}:${e.line}`, count: 1 });
    }
  }
  // ISO times of one format order as their code units do (what localeCompare gave, at a fifth of the cost on 26 k entries).
  const timed = out.sort((a, b) => (a.at! < b.at! ? -1 : a.at! > b.at! ? 1 : a.source.localeCompare(b.source)));
  return collapseRuns(withUntimedActions(timed, d.events), runOf);
}

interface Burst {
  entry: TimelineEntry;
  lastMs: number;
  split: Map<string, number>;
  members: Set<string>;
}

/** Records behind an event row: 1, or the count a store of per-minute groups keeps for the row. */
function rowCount(e: EventRow): number {
  const c: unknown = (e as EventRow & { count?: unknown }).count;
  return typeof c === 'number' && c > 0 ? c : 1;
}

/** The time of the last record behind the row (a per-minute group's last line), else its own. */
function lastTs(e: EventRow): number {
  const t: unknown = (e as EventRow & { last_ts_ms?: unknown }).last_ts_ms;
  return typeof t === 'number' ? t : e.ts_ms ?? 0;
}

function addSplit(split: Map<string, number>, label: string, n: number): void {
  split.set(label, (split.get(label) ?? 0) + n);
}

/** What a bursty record's count splits into: etcd's error, the Patroni call that failed, the slow operation. */
function splitLabel(e: EventRow): string {
  const d = detailOf(e);
  const s = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
  switch (e.kind) {
    case 'etcd.apply.failed':
      return (s(d.error) ?? 'no error given').replace(/^etcdserver: /, '').replace(/^mvcc: /, '').replace(/^requested /, '');
    case 'patroni.nospace':
      return s(d.write) ?? 'call not named';
    case 'patroni.dcs-error':
      return s(d.write) ?? s(d.errorClass) ?? (e.message.split(/[:(]/)[0] ?? '').trim().slice(0, 40);
    case 'etcd.apply.slow':
      return s(d.op) ?? 'op not named';
    case 'etcdctl.client.error':
      // `rpc error: code = ResourceExhausted desc = etcdserver: mvcc: database space exceeded` → the server's words.
      return (s(d.error) ?? e.message).replace(/^rpc error: code = \w+ desc = /, '').replace(/^etcdserver: /, '').replace(/^mvcc: /, '').slice(0, 60);
    default:
      return '';
  }
}

/**
 * Consecutive bursts of one kind (only other bursts between them) become one row: count summed, span
 * from the first to the last record, members listed, the split summed. A notable entry closes every run.
 */
function collapseRuns(entries: TimelineEntry[], runOf: Map<TimelineEntry, Burst>): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const open = new Map<string, Burst>();
  const runs: [TimelineEntry, Burst][] = [];
  for (const t of entries) {
    const b = runOf.get(t);
    if (!b) {
      open.clear();
      out.push(t);
      continue;
    }
    const run = open.get(t.kind);
    if (run) {
      run.entry.count += b.entry.count;
      run.lastMs = Math.max(run.lastMs, b.lastMs);
      for (const m of b.members) run.members.add(m);
      for (const [label, n] of b.split) addSplit(run.split, label, n);
      continue;
    }
    const copy: Burst = { entry: { ...t }, lastMs: b.lastMs, split: new Map(b.split), members: new Set(b.members) };
    open.set(t.kind, copy);
    out.push(copy.entry);
    runs.push([copy.entry, copy]);
  }
  for (const [t, b] of runs) {
    const members = [...b.members].sort();
    const split = [...b.split].filter(([label]) => label !== '').sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
      .map(([label, count]) => ({ label, count }));
    if (members.length > 1) t.member = null;
    t.members = members;
    t.until = iso(b.lastMs);
    t.split = split;
    t.summary = burstSummary(t.kind, t.count, members, split);
  }
  return out;
}

/** One entry per timed `alarm disarm` output: which members' alarms it cleared (etcd logs only the last disarm). */
function pastedDisarms(d: Loaded, names: ReadonlyMap<string, string>): TimelineEntry[] {
  const byCall = new Map<string, TimelineEntry>();
  for (const e of d.events) {
    if (e.kind !== 'etcdctl.alarm.cleared' || e.ts_ms === null || e.time_basis === 'mtime') continue;
    const det = detailOf(e);
    let id: string = String(det.memberId ?? '?');
    try {
      id = BigInt(id).toString(16);
    } catch { /* keep as printed */ }
    const who = names.get(id) ?? id;
    const key = `${e.path}|${e.ts_ms}`;
    const c = byCall.get(key);
    if (c) {
      c.count++;
      c.summary = `${c.summary.replace(/ \(operator\)$/, '')}, ${who} (operator)`;
      continue;
    }
    const entry: TimelineEntry = { at: iso(e.ts_ms)!, member: null, kind: 'etcdctl.alarm.cleared', summary: `alarm disarm cleared ${String(det.alarm ?? 'NOSPACE')} of ${who} (operator)`, source: `${e.path}:${e.line}`, count: 1 };
    byCall.set(key, entry);
  }
  return [...byCall.values()];
}

const OPERATOR_ACTIONS = new Set(['operator.compact', 'operator.defrag', 'operator.alarm.disarm', 'operator.snapshot.save']);
/** An action's own output, when timed, already stands in the timeline for it: `compacted revision N` a line below. */
const CONFIRMED_BY: Record<string, string> = { 'operator.compact': 'etcdctl.compact', 'operator.defrag': 'etcdctl.defrag' };
const CONFIRM_WITHIN_LINES = 5;

/**
 * Operator actions read from a paste that gives them no time (the seed's `etcdctl defrag`, `alarm disarm`)
 * are still part of the story: each is listed without a time, right after the last timed entry of the same
 * file above it (else first), so the order the operator worked in is kept and no time is invented.
 */
function withUntimedActions(timed: TimelineEntry[], events: readonly EventRow[]): TimelineEntry[] {
  const untimed = events.filter((e) => e.ts_ms === null && OPERATOR_ACTIONS.has(e.kind)
    && !events.some((o) => o.kind === CONFIRMED_BY[e.kind] && o.path === e.path && o.ts_ms !== null && o.line > e.line && o.line <= e.line + CONFIRM_WITHIN_LINES));
  if (untimed.length === 0) return timed;
  const lineOf = (t: TimelineEntry): { path: string; line: number } => {
    const i = t.source.lastIndexOf(':');
    return { path: t.source.slice(0, i), line: Number(t.source.slice(i + 1)) };
  };
  const after = new Map<number, TimelineEntry[]>(); // index in `timed` (-1: before everything) → actions
  for (const e of [...untimed].sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line)) {
    let anchor = -1;
    timed.forEach((t, i) => {
      const s = lineOf(t);
      if (s.path === e.path && s.line < e.line) anchor = i;
    });
    const list = after.get(anchor) ?? [];
    list.push({ at: null, member: e.member, kind: e.kind, summary: `${e.message} (operator; the paste gives no time)`, source: `${e.path}:${e.line}`, count: 1 });
    after.set(anchor, list);
  }
  const out: TimelineEntry[] = [...(after.get(-1) ?? [])];
  timed.forEach((t, i) => out.push(t, ...(after.get(i) ?? [])));
  return out;
}

const SPLIT_SHOWN = 4;

/** "303 × writes failed at apply on etcd1, etcd2, etcd3: 300 no space, 3 lease not found". */
function burstSummary(kind: string, n: number, members: string[], split: { label: string; count: number }[]): string {
  const what = kind === 'etcd.apply.failed' ? 'writes failed at apply'
    : kind === 'patroni.nospace' ? 'Patroni writes failed: database space exceeded'
    : kind === 'patroni.dcs-error' ? 'Patroni DCS errors'
    : kind === 'patroni.leader-race-failed' ? 'Patroni leader race failed'
    : kind === 'etcdctl.client.error' ? 'requests refused as a client saw them'
    : 'slow applies';
  const on = members.length === 0 ? '' : members.length <= 4 ? ` on ${members.join(', ')}` : ` on ${members.length} members`;
  const shown = split.slice(0, SPLIT_SHOWN).map((x) => `${x.count.toLocaleString('en-US')} ${x.label}`);
  const rest = split.slice(SPLIT_SHOWN).reduce((s, x) => s + x.count, 0);
  if (rest > 0) shown.push(`${rest.toLocaleString('en-US')} other`);
  return `${n.toLocaleString('en-US')} × ${what}${on}${shown.length ? `: ${shown.join(', ')}` : ''}`;
}

/** Kinds whose summary reads the detail; the others (12 k leader and quota lines on a 1 GB NOSPACE log) are not parsed. */
const SUMMARY_READS_DETAIL = new Set(['etcd.alarm.raised', 'etcd.alarm.disarmed', 'etcdctl.compact', 'etcdctl.defrag', 'etcd.compaction.started', 'etcd.compaction.finished',
  'etcd.defrag.started', 'etcd.defrag.finished']);

function summarize(e: EventRow): string {
  if (!SUMMARY_READS_DETAIL.has(e.kind)) return summarizeOther(e);
  const d = detailOf(e);
  const size = (k: string): string => (typeof d[k] === 'number' ? humanizeBytes(d[k] as number) : '?');
  switch (e.kind) {
    case 'etcd.alarm.raised':
      return `alarm ${String(d.alarm ?? 'NOSPACE')} raised${d.from ? ` by ${String(d.from)}` : ''}`;
    case 'etcd.alarm.disarmed':
      return 'alarm disarmed';
    case 'etcdctl.compact':
      return `etcdctl compact ${String(d.revision ?? '?')} (operator)`;
    case 'etcdctl.defrag':
      return `etcdctl defrag of ${String(d.endpoint ?? '?')} finished (operator)`;
    case 'etcd.compaction.started':
      return `compaction to revision ${String(d.revision ?? '?')} started`;
    case 'etcd.compaction.finished':
      return `compaction to revision ${String(d.revision ?? '?')} finished${typeof d.tookMs === 'number' ? ` in ${d.tookMs} ms` : ''}`;
    case 'etcd.defrag.started':
      return `defragmentation started${typeof d.dbSizeBytes === 'number' ? ` (DB ${size('dbSizeBytes')})` : ''}`;
    case 'etcd.defrag.finished': {
      const diff = typeof d.dbSizeDiffBytes === 'number' && typeof d.dbSizeBytes === 'number'
        ? ` (${humanizeBytes((d.dbSizeBytes as number) - (d.dbSizeDiffBytes as number))} → ${size('dbSizeBytes')})` : '';
      return `defragmentation finished${diff}`;
    }
    default:
      return summarizeOther(e);
  }
}

const summarizeOther = (e: EventRow): string => (e.message.length > 120 ? `${e.message.slice(0, 120)}…` : e.message);
