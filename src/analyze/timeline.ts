// One ordered list across all sources. Repeated failures are counted per minute and member, not
// listed one by one; the first clean Patroni HA loop after the alarm is disarmed closes the incident.
import type { TimelineEntry } from './types.js';
import { detailOf, iso, type EventRow, type Loaded } from './load.js';
import { humanizeBytes } from '../units/sizes.js';

const BURSTY = new Set(['etcd.apply.failed', 'patroni.nospace', 'patroni.dcs-error', 'etcd.apply.slow', 'patroni.leader-race-failed']);
const SHOWN = new Set([
  'etcd.alarm.raised', 'etcd.alarm.disarmed', 'etcd.quota.exceeded', 'etcd.compaction.started', 'etcd.compaction.finished',
  'etcd.compaction.auto', 'etcd.defrag.started', 'etcd.defrag.finished', 'etcd.defrag.failed', 'etcd.leader.changed',
  'etcd.fdatasync.slow', 'etcdctl.compact', 'etcdctl.defrag', 'etcdctl.defrag.failed', 'patroni.promoted', 'patroni.demoted', 'patroni.uptime', ...BURSTY,
]);

export function buildTimeline(d: Loaded, nospaceMs: number | null, disarmMs: number | null): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  // Per burst, the first write named: a failing Patroni loop logs the traceback that names it, then
  // one-line errors that do not.
  const bursts = new Map<string, { entry: TimelineEntry; write: string | null }>();
  for (const e of d.events) {
    if (e.ts_ms === null || !SHOWN.has(e.kind)) continue;
    // Raft chatter (became follower/candidate, elections) stays in the store; leadership itself is shown.
    if (e.kind === 'etcd.leader.changed' && !/elected leader|became leader|lost leader|changed leader/.test(e.message)) continue;
    if (BURSTY.has(e.kind)) {
      const minute = Math.floor(e.ts_ms / 60_000);
      const key = `${e.kind}|${e.member ?? e.path}|${minute}`;
      const write = e.kind === 'patroni.nospace' ? writeOf(e) : null;
      const b = bursts.get(key);
      if (b) {
        b.entry.count += e.count;
        b.write ??= write;
        b.entry.summary = burstSummary(e.kind, b.entry.count, b.write);
        continue;
      }
      const entry: TimelineEntry = { at: iso(e.ts_ms)!, member: e.member, kind: e.kind, summary: burstSummary(e.kind, e.count, write), source: `${e.path}:${e.line}`, count: e.count };
      bursts.set(key, { entry, write });
      out.push(entry);
      continue;
    }
    out.push({ at: iso(e.ts_ms)!, member: e.member, kind: e.kind, summary: summarize(e), source: `${e.path}:${e.line}`, count: 1 });
  }
  const after = disarmMs ?? nospaceMs;
  if (after !== null) {
    const seen = new Set<string>();
    for (const e of d.events) {
      if (e.ts_ms === null || e.ts_ms < after || (e.kind !== 'patroni.ha.leader' && e.kind !== 'patroni.ha.secondary')) continue;
      const m = e.member ?? e.path;
      if (seen.has(m)) continue;
      seen.add(m);
      out.push({ at: iso(e.ts_ms)!, member: e.member, kind: 'patroni.recovered', summary: `first clean Patroni HA loop after recovery: ${e.message}`, source: `${e.path}:${e.line}`, count: 1 });
    }
  }
  const timed = out.sort((a, b) => a.at!.localeCompare(b.at!) || a.source.localeCompare(b.source));
  return withUntimedActions(timed, d.events);
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

function writeOf(e: EventRow): string | null {
  const w = detailOf(e).write;
  return typeof w === 'string' ? w : null;
}

function burstSummary(kind: string, n: number, write: string | null): string {
  const what = kind === 'etcd.apply.failed' ? 'writes failed at apply'
    : kind === 'patroni.nospace' ? 'Patroni writes failed: database space exceeded'
    : kind === 'patroni.dcs-error' ? 'Patroni DCS errors'
    : kind === 'patroni.leader-race-failed' ? 'Patroni leader race failed'
    : 'slow applies';
  return `${n} × ${what} in this minute${write ? ` (failed write: ${write})` : ''}`;
}

function summarize(e: EventRow): string {
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
      return e.message.length > 120 ? `${e.message.slice(0, 120)}…` : e.message;
  }
}
