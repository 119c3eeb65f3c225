// Per-minute groups of repeated lines (issue 13): what repeats is stored as counts. A NOSPACE etcd logs
// up to a hundred `failed to apply request` lines a second per member, all alike but for the time, the
// request id and `took`:
//   {"level":"warn","ts":"2026-11-24T07:28:37.791+0800","caller":"etcdserver/util.go:166","msg":"failed to apply request",
//    "took":"668.176µs","request":"header:<ID:8754331417662256138 > put:<key:\"/service/pg_demo/members/node2\" … >",
//    "response":"size:5","error":"etcdserver: no space"}
// Lines of a routine or bursty kind that say the same thing (same member, kind, message, op, key, outcome,
// error) in the same minute of one source become one row: the group's first line (raw text kept, so evidence
// still cites file:line), `count` lines in all, the last at last_line / last_ts_ms. Everything else is a row
// per record, as before. Pure: no database (the encoder runs in the parse worker).
import type { EtcdRequest, EventKind, LogEvent } from '../model.js';

/** Event kinds folded per minute: the routine lines and the bursty ones. */
export const AGGREGATED_EVENT_KINDS: ReadonlySet<EventKind> = new Set<EventKind>([
  'etcd.other', 'patroni.other', 'postgres.log',
  'patroni.ha.leader', 'patroni.ha.secondary', 'patroni.ha.lock-owner', 'patroni.ha.other',
  'etcd.heartbeat.slow', 'etcd.apply.failed', 'etcd.apply.slow', 'etcd.request.slow',
  'patroni.nospace', 'patroni.dcs-error', 'patroni.leader-race-failed',
]);

/**
 * Lines after a start-up line are kept one by one: capnslog prints etcd's flags on the lines after
 * `etcd Version:` (`etcdmain: … quota-backend-bytes …` as etcd.other), and settings.ts reads the 40 rows
 * that follow the start row in rowid order.
 */
export const STARTUP_LINES_KEPT = 40;

/** Open groups held at most; past this (a log whose every line differs) the oldest minutes are written out. */
const MAX_OPEN_GROUPS = 20_000;

/** What makes two lines of a kind "the same" besides the time: the facts the analyses group and count by. */
const DETAIL_FACETS = ['op', 'key', 'error', 'outcome', 'write', 'rpc', 'errorClass', 'prefix', 'responseType'] as const;

export interface Group<P> {
  minute: number;
  /** The first line's row parameters; count, last_line and last_ts_ms are set when the group is written. */
  params: P[];
  count: number;
  lastLine: number;
  lastMs: number;
}

/** Groups remembered with their first record, compared field by field before a key is built. */
const RECENT = 16;

/**
 * Open groups of one table, keyed by minute + what the line says. The lines of a burst go to a handful of
 * groups: a record is first compared with the first records of the last RECENT groups it met (no string
 * built); only a miss builds the key and looks it up (on a NOSPACE log the key building and hashing took
 * about 15% of the ingest's CPU).
 */
export class MinuteGroups<P, R> {
  private readonly open = new Map<string, Group<P>>();
  private recent: { g: Group<P>; r: R }[] = [];
  private next = 0;
  private maxMinute = -Infinity;
  /** The latest minute when groups were last closed: closing again before a later minute closes nothing. */
  private closedAt = -Infinity;

  constructor(private readonly same: (a: R, b: R) => boolean) {}

  /** Adds the line to a recent group that says the same thing in the same minute, if there is one. */
  joinRecent(minute: number, r: R, line: number, ms: number): boolean {
    for (const x of this.recent) {
      if (x.g.minute === minute && this.same(x.r, r)) {
        bump(x.g, line, ms);
        return true;
      }
    }
    return false;
  }

  /** Adds a line to its group; returns false when it starts a new group (the caller then calls start()). */
  add(key: string, line: number, ms: number, r: R): boolean {
    const g = this.open.get(key);
    if (!g) return false;
    bump(g, line, ms);
    this.remember(g, r);
    return true;
  }

  start(key: string, minute: number, line: number, ms: number, params: P[], r: R): void {
    const g = { minute, params, count: 1, lastLine: line, lastMs: ms };
    this.open.set(key, g);
    this.remember(g, r);
    if (minute > this.maxMinute) this.maxMinute = minute;
  }

  private remember(g: Group<P>, r: R): void {
    if (this.recent.length < RECENT) this.recent.push({ g, r });
    else this.recent[this.next++ % RECENT] = { g, r };
  }

  /**
   * Whether closing() would write something out: a later minute was seen, or too many groups are open.
   * The encoder asks this per record, so which lines share a row depends on the lines alone, never on
   * where the reader's batches happened to end (a gzip or stdin read gave other batches than the file's,
   * and a line 8 h ahead (capnslog's zone-less grpc WARNING among zap lines) then split groups per batch).
   */
  due(): boolean {
    return this.maxMinute > this.closedAt || this.open.size > MAX_OPEN_GROUPS;
  }

  /**
   * The groups that can close: those of minutes before the one before the latest seen (a minute of slack for
   * lines a little out of order), or, when too many are open, the older half. With `all`, every group.
   */
  closing(all: boolean): Group<P>[] {
    this.closedAt = this.maxMinute;
    if (this.open.size === 0) return [];
    let before = all ? Infinity : this.maxMinute - 1;
    if (!all && this.open.size > MAX_OPEN_GROUPS) before = this.medianMinute() + 1;
    const out: Group<P>[] = [];
    this.recent = [];
    for (const [k, g] of this.open) {
      if (g.minute < before) {
        out.push(g);
        this.open.delete(k);
      }
    }
    return out;
  }

  get latestMinute(): number {
    return this.maxMinute;
  }

  private medianMinute(): number {
    const ms = [...this.open.values()].map((g) => g.minute).sort((a, b) => a - b);
    return ms[ms.length >> 1]!;
  }
}

function bump<P>(g: Group<P>, line: number, ms: number): void {
  g.count++;
  if (line > g.lastLine) g.lastLine = line;
  if (ms > g.lastMs) g.lastMs = ms;
}

export const minuteOf = (ms: number): number => Math.floor(ms / 60_000);

/** Whether two event lines say the same thing (what eventGroupKey keys on, minute aside). */
export function sameEvent(a: LogEvent, b: LogEvent): boolean {
  if (a.event !== b.event || a.message !== b.message || a.member !== b.member || a.level !== b.level) return false;
  for (const f of DETAIL_FACETS) if (a.detail[f] !== b.detail[f]) return false;
  return true;
}

/** Whether two requests say the same thing (what requestGroupKey keys on, minute aside). */
export function sameRequest(a: EtcdRequest, b: EtcdRequest): boolean {
  return a.key === b.key && a.op === b.op && a.error === b.error && a.member === b.member && a.outcome === b.outcome
    && a.rangeEnd === b.rangeEnd && a.inTxn === b.inTxn;
}

/** null and '' are different facts: null gets a byte no log text holds. */
const nz = (v: string | null): string => (v === null ? '\u0001' : v);

/** The grouping key of an event line (its minute is part of it). */
export function eventGroupKey(e: LogEvent, minute: number): string {
  let k = `${minute}\u0000${nz(e.member)}\u0000${nz(e.level)}\u0000${e.event}\u0000${e.message}`;
  const d = e.detail;
  for (const f of DETAIL_FACETS) {
    const v = d[f];
    if (v !== undefined) k += `\u0000${f}=${String(v)}`;
  }
  return k;
}

/** The grouping key of a request named in a log line. */
export function requestGroupKey(r: EtcdRequest, minute: number): string {
  return `${minute}\u0000${nz(r.member)}\u0000${r.op}\u0000${nz(r.key)}\u0000${nz(r.rangeEnd)}\u0000${r.inTxn ? 1 : 0}`
    + `\u0000${r.outcome}\u0000${nz(r.error)}`;
}
