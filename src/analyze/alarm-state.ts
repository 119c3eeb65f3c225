// Who held the NOSPACE alarm when, from every record that shows it, and the moment writes were possible again.
//
// etcd logs an alarm only when the count of alarms of a type goes 0 → 1 (`alarm raised`) and 1 → 0
// (`alarm disarmed`): in the partial-recovery capture (test/fixtures/partial-recovery-3.5.16) the logs show
//   {"msg":"alarm raised","alarm":"NOSPACE","from":"10cfc2c28b88c87d"}      04:15:12.386
//   {"msg":"alarm disarmed","alarm":"NOSPACE","from":"eebcb1e6ed155c9a"}    04:15:26.400
// while `alarm list` showed three members holding it and a disarm at 04:15:22 was followed by etcd3 raising it
// again at once. So the other edges are read from samples (status `errors`, `alarm list`, `alarm disarm`
// output), each a record seen after the change, never the change itself.
import type { AlarmInterval } from './types.js';
import { detailOf, iso, type EventRow, type Loaded, type StatusRow } from './load.js';

/**
 * A `date` line is printed before the call whose output it stamps, so a sample can carry a time up to about a
 * second before what it shows. Records this close to a change, from another file, are not read against it.
 */
const SKEW_MS = 1000;

type Obs =
  | { kind: 'raise'; ms: number; id: string; where: Where }
  | { kind: 'clear'; ms: number; exact: boolean; id: string | null; where: Where }
  | { kind: 'set'; ms: number; ids: Set<string>; where: Where };
interface Where { path: string; line: number }
const at = (w: Where): string => `${w.path}:${w.line}`;

interface Open { iv: AlarmInterval; raisedMs: number; path: string }

export interface AlarmState {
  intervals: AlarmInterval[];
  clearedMs: number | null;
  clearedSource: string | null;
  /** Refused writes (NOSPACE seen by a client or Patroni, or failing at apply): how many, the first (in time
   *  order) and the time of the last. Not a list: a store of 500 k events holds a quarter of a million. */
  refused: { count: number; first: { ms: number; source: string } | null; lastMs: number | null };
  firstAlarmMs: number | null;
  firstAlarmSource: string | null;
  /** Hex member id → name (or endpoint). */
  names: Map<string, string>;
}

const hexOf = (decimal: string): string | null => {
  try {
    return BigInt(decimal).toString(16);
  } catch {
    return null;
  }
};
const MEMBER_ALARM = /memberID:(\d+) alarm:NOSPACE/g;
const isNospace = (s: unknown): boolean => /NOSPACE|no space|space exceeded/i.test(String(s ?? ''));
const usable = (basis: string | null): boolean => basis !== 'mtime';

export function isRefusedWrite(e: EventRow): boolean {
  if (e.kind === 'patroni.nospace') return true;
  if (e.kind === 'etcdctl.client.error') {
    const d = detailOf(e);
    return isNospace(d.alarm ?? d.error);
  }
  return e.kind === 'etcd.apply.failed' && isNospace(detailOf(e).error ?? e.message);
}

/** The kinds observations() reads; the detail of any other event is not parsed (most rows are none of these). */
const OBSERVED = new Set(['etcd.alarm.raised', 'etcd.alarm.disarmed', 'etcdctl.alarm.cleared', 'etcdctl.alarm.none', 'patroni.nospace', 'etcdctl.client.error', 'etcd.apply.failed']);

export function readAlarmState(d: Loaded): AlarmState {
  const names = memberNames(d);
  const refusedRows: EventRow[] = [];
  const obs = withoutEchoes(observations(d, refusedRows).sort((a, b) => a.ms - b.ms || a.where.path.localeCompare(b.where.path) || a.where.line - b.where.line));
  const intervals: AlarmInterval[] = [];
  const open = new Map<string, Open>();
  const closed = new Map<string, { ms: number; path: string; iv: AlarmInterval }>();
  let cleared = false;
  const stale = (prev: { ms: number; path: string } | undefined, o: Obs): boolean =>
    prev !== undefined && prev.path !== o.where.path && o.ms - prev.ms < SKEW_MS;

  const raise = (id: string, o: Obs, exact: boolean): void => {
    const cur = open.get(id);
    if (cur) {
      // A sample stamped a little earlier than etcd's own line for the same raise: keep the line.
      if (exact && !cur.iv.raisedExact && o.ms - cur.raisedMs < SKEW_MS) {
        Object.assign(cur.iv, { raisedAt: iso(o.ms)!, raisedExact: true, raisedSource: at(o.where) });
        cur.raisedMs = o.ms;
      }
      return;
    }
    if (!exact && stale(closed.get(id), o)) return;
    const iv: AlarmInterval = {
      member: names.get(id) ?? id, memberId: id === '?' ? null : id, raisedAt: iso(o.ms)!, raisedExact: exact,
      raisedSource: at(o.where), clearedAt: null, clearedExact: false, clearedSource: null, reRaise: cleared,
    };
    intervals.push(iv);
    open.set(id, { iv, raisedMs: o.ms, path: o.where.path });
  };
  const clear = (id: string, o: Obs, exact: boolean): void => {
    const cur = open.get(id);
    const prev = closed.get(id);
    if (cur && exact && !cur.iv.raisedExact && prev && !prev.iv.clearedExact && o.ms - prev.ms < SKEW_MS && o.ms - cur.raisedMs < SKEW_MS) {
      // A paste's `alarm disarm` then `alarm list` showing the alarm back, both stamped by the `date` line above
      // them, then etcd's own `alarm disarmed` line: that line is the disarm the paste showed, and the spell the
      // paste saw begin again began after it (3.4.23: disarmed 04:21:29.341, raised again 04:21:29.356).
      Object.assign(prev.iv, { clearedAt: iso(o.ms)!, clearedExact: true, clearedSource: at(o.where) });
      prev.ms = o.ms;
      Object.assign(cur.iv, { raisedAt: iso(o.ms)! });
      cur.raisedMs = o.ms;
      return;
    }
    if (!cur) {
      // An exact `alarm disarmed` line just after a paste's `alarm disarm` (stamped by its `date` line): the line.
      if (exact && prev && !prev.iv.clearedExact && o.ms - prev.ms < SKEW_MS) {
        Object.assign(prev.iv, { clearedAt: iso(o.ms)!, clearedExact: true, clearedSource: at(o.where) });
        prev.ms = o.ms;
      }
      return;
    }
    if (!exact && stale({ ms: cur.raisedMs, path: cur.path }, o)) return;
    Object.assign(cur.iv, { clearedAt: iso(o.ms)!, clearedExact: exact, clearedSource: at(o.where) });
    open.delete(id);
    closed.set(id, { ms: o.ms, path: o.where.path, iv: cur.iv });
    cleared = true;
  };

  for (const o of obs) {
    if (o.kind === 'raise') raise(o.id, o, true);
    else if (o.kind === 'clear') {
      if (o.id !== null) clear(o.id, o, o.exact);
      else for (const id of new Set([...open.keys(), ...closed.keys()])) clear(id, o, o.exact);
    } else {
      const unknownOnly = o.ids.size === 1 && o.ids.has('?');
      if (unknownOnly && open.size > 0) continue; // held by someone: whoever holds it still does
      for (const id of o.ids) raise(id, o, false);
      if (!unknownOnly) for (const id of [...open.keys()]) if (!o.ids.has(id)) clear(id, o, false);
    }
  }
  const last = open.size === 0 ? intervals.filter((iv) => iv.clearedAt !== null).sort((a, b) => a.clearedAt!.localeCompare(b.clearedAt!)).at(-1) : undefined;
  const first = intervals[0];
  return {
    intervals,
    clearedMs: last ? Date.parse(last.clearedAt!) : null,
    clearedSource: last?.clearedSource ?? null,
    refused: refusedSummary(refusedRows),
    firstAlarmMs: first ? Date.parse(first.raisedAt) : null,
    firstAlarmSource: first?.raisedSource ?? null,
    names,
  };
}

/** Every member applies the same raise or disarm and logs it: the lines of one apply, a few ms apart, are one change. */
const ECHO_MS = 100;
function withoutEchoes(obs: Obs[]): Obs[] {
  const last = new Map<string, { ms: number; path: string }>();
  return obs.filter((o) => {
    const key = o.kind === 'raise' ? `raise|${o.id}` : o.kind === 'clear' && o.exact && o.id === null ? 'clear-all' : null;
    if (key === null) return true;
    const prev = last.get(key);
    if (prev && prev.path !== o.where.path && o.ms - prev.ms < ECHO_MS) return false;
    last.set(key, { ms: o.ms, path: o.where.path });
    return true;
  });
}

/**
 * Refused writes in the order the observations are (time, then path by localeCompare, then line; the rows come in
 * store order, time then path then line, so the sort is one pass): they change no alarm state, so they are
 * counted apart from the other observations instead of each becoming one.
 */
function refusedSummary(rows: EventRow[]): AlarmState['refused'] {
  rows.sort((a, b) => a.ts_ms! - b.ts_ms! || (a.path === b.path ? 0 : a.path.localeCompare(b.path)) || a.line - b.line);
  const first = rows[0];
  return { count: rows.length, first: first ? { ms: first.ts_ms!, source: at(first) } : null, lastMs: rows.at(-1)?.ts_ms ?? null };
}

/** Every timed record that says something about the alarm, as one kind of observation each; refused writes go to `refused`. */
function observations(d: Loaded, refused: EventRow[]): Obs[] {
  const out: Obs[] = [];
  for (const e of d.events) {
    if (e.ts_ms === null || !OBSERVED.has(e.kind) || !usable(e.time_basis)) continue;
    if (isRefusedWrite(e)) { // none of the kinds below
      refused.push(e);
      continue;
    }
    const where = { path: e.path, line: e.line };
    const det = detailOf(e);
    if (e.kind === 'etcd.alarm.raised' && isNospace(det.alarm ?? e.message)) {
      out.push({ kind: 'raise', ms: e.ts_ms, id: typeof det.from === 'string' && det.from ? det.from : '?', where });
    } else if (e.kind === 'etcd.alarm.disarmed' && (det.alarm === null || det.alarm === undefined || isNospace(det.alarm))) {
      // Logged when the last alarm of the type is deactivated: no member holds it any more.
      out.push({ kind: 'clear', ms: e.ts_ms, exact: true, id: null, where });
    } else if (e.kind === 'etcdctl.alarm.cleared' && isNospace(det.alarm)) {
      const id = typeof det.memberId === 'string' ? hexOf(det.memberId) : null;
      if (id) out.push({ kind: 'clear', ms: e.ts_ms, exact: false, id, where });
    } else if (e.kind === 'etcdctl.alarm.none') {
      out.push({ kind: 'set', ms: e.ts_ms, ids: new Set(), where });
    }
  }
  for (const o of statusSets(d.status)) out.push(o); // a loop, not push(...): a store may hold 100 k+ samples
  for (const o of alarmListSets(d)) out.push(o);
  return out;
}

/** One call's rows (same file, line and time) are one view: a member any endpoint still lists holds the alarm. */
function statusSets(rows: readonly StatusRow[]): Obs[] {
  const groups = new Map<string, { ms: number; where: Where; ids: Set<string> }>();
  for (const s of rows) {
    if (s.format === 'log' || !usable(s.time_basis)) continue; // etcd's own size lines carry no alarms
    const key = `${s.path}\u0000${s.line}\u0000${s.ts_ms}`;
    const g = groups.get(key) ?? { ms: s.ts_ms, where: { path: s.path, line: s.line }, ids: new Set<string>() };
    groups.set(key, g);
    if (!s.alarms.includes('NOSPACE')) continue;
    const ids = [...(errorsOf(s).join(' ').matchAll(MEMBER_ALARM))].map((m) => hexOf(m[1]!)).filter((x): x is string => x !== null);
    if (ids.length === 0) g.ids.add('?');
    for (const id of ids) g.ids.add(id);
  }
  return [...groups.values()].map((g) => {
    if (g.ids.size > 1) g.ids.delete('?');
    return { kind: 'set' as const, ms: g.ms, ids: g.ids, where: g.where };
  });
}

function errorsOf(s: StatusRow): string[] {
  const raw = s.errors;
  if (typeof raw === 'string') {
    try {
      const v = JSON.parse(raw) as unknown;
      if (Array.isArray(v)) return v.map(String);
    } catch {
      return [raw];
    }
  }
  return [];
}

/** `alarm list` output (or a snapshot's alarm bucket, all on line 0): consecutive rows of one time are the whole list. */
function alarmListSets(d: Loaded): Obs[] {
  const out: Obs[] = [];
  let cur: { ms: number; where: Where; ids: Set<string>; lastLine: number } | null = null;
  for (const r of d.alarmRows ?? []) {
    if (r.ts_ms === null || !usable(r.time_basis) || r.alarm !== 'NOSPACE') continue;
    const id = hexOf(r.member_id);
    if (!id) continue;
    if (cur && cur.where.path === r.path && cur.ms === r.ts_ms && (r.line === cur.lastLine || r.line === cur.lastLine + 1)) {
      cur.ids.add(id);
      cur.lastLine = r.line;
      continue;
    }
    cur = { ms: r.ts_ms, where: { path: r.path, line: r.line }, ids: new Set([id]), lastLine: r.line };
    out.push({ kind: 'set', ms: cur.ms, ids: cur.ids, where: cur.where });
  }
  return out;
}

/** Hex member id → the member's name from its log's start-up line, else the endpoint a status sample gave. */
function memberNames(d: Loaded): Map<string, string> {
  const names = new Map<string, string>();
  for (const e of d.events) {
    if (e.kind !== 'etcd.start' || !e.member) continue;
    const id = detailOf(e).member;
    if (typeof id === 'string' && !names.has(id)) names.set(id, e.member);
  }
  for (const s of d.status) if (s.member_id && !names.has(s.member_id) && s.format !== 'log') names.set(s.member_id, s.endpoint);
  return names;
}
