// When NOSPACE struck, when Patroni first failed to write, when the alarm was disarmed, and the
// revision and DB size at that moment — each with the record it comes from.
import type { AlarmInterval, Evidence, Incident, IncidentDuration } from './types.js';
import { detailOf, iso, type Loaded, type EventRow, type SnapshotStatusRow } from './load.js';
import { withIntegrity } from './snapshot-integrity.js';
import { isRefusedWrite, readAlarmState, type AlarmState } from './alarm-state.js';

const isNospaceFailure = (e: EventRow): boolean =>
  e.kind === 'etcd.apply.failed' && /no space|space exceeded/i.test(String(detailOf(e).error ?? e.message));
const isNospaceAlarm = (e: EventRow): boolean =>
  e.kind === 'etcd.alarm.raised' && /NOSPACE/i.test(String(detailOf(e).alarm ?? e.message));
const isClientNospace = (e: EventRow): boolean => e.kind === 'etcdctl.client.error' && /NOSPACE/.test(String(detailOf(e).alarm ?? ''));
const where = (e: { path: string; line: number }): string => `${e.path}:${e.line}`;

export function findIncident(d: Loaded): Incident {
  const evidence: Evidence[] = [];
  const timed = d.events.filter((e) => e.ts_ms !== null);
  const alarms = timed.filter(isNospaceAlarm);
  const candidates: { ms: number; what: string; ev: EventRow | null; source: Evidence['source']; exact: boolean }[] = [];
  if (alarms[0]) candidates.push({ ms: alarms[0].ts_ms!, what: 'etcd log: alarm raised (NOSPACE)', ev: alarms[0], source: 'etcd-log', exact: true });
  const failed = timed.find(isNospaceFailure);
  if (failed) candidates.push({ ms: failed.ts_ms!, what: 'etcd log: first write failed with no space', ev: failed, source: 'etcd-log', exact: false });
  const patroniNospace = timed.find((e) => e.kind === 'patroni.nospace');
  if (patroniNospace) candidates.push({ ms: patroniNospace.ts_ms!, what: 'Patroni log: first `database space exceeded`', ev: patroniNospace, source: 'patroni-log', exact: false });
  // A client told `database space exceeded` (etcdctl's `Error:` line or its retry warning, k3s's embedded client):
  // the quota was refusing writes then, whatever the server logs say.
  const client = timed.find(isClientNospace);
  if (client) candidates.push({ ms: client.ts_ms!, what: 'a client was refused with `database space exceeded`', ev: client, source: 'etcdctl-output', exact: false });
  // The server's quota check (`message exceeded backend quota; raising alarm`, logged as it raises the alarm) or a
  // client program's log of the refusal (k3s, cilium: logrus `… database space exceeded`).
  const quota = timed.find((e) => e.kind === 'etcd.quota.exceeded');
  if (quota) {
    const byClient = detailOf(quota).source !== undefined;
    candidates.push({ ms: quota.ts_ms!, what: byClient ? 'a client program logged `database space exceeded`' : 'etcd log: message exceeded backend quota; raising alarm', ev: quota, source: 'etcd-log', exact: false });
  }
  const sampled = d.status.find((s) => s.alarms.includes('NOSPACE') && (s.time_basis === 'marker' || s.time_basis === 'explicit'));
  if (sampled) candidates.push({ ms: sampled.ts_ms, what: 'status sample: first sample showing alarm NOSPACE', ev: null, source: 'status-samples', exact: false });
  // The alarm line is the moment itself; any other evidence bounds it from above, so take the earliest.
  candidates.sort((a, b) => a.ms - b.ms);
  const first = alarms[0] ? candidates.find((c) => c.ev === alarms[0]) ?? candidates[0] : candidates[0];
  const nospaceMs = first?.ms ?? null;
  if (first) {
    evidence.push({
      source: first.source, completeness: first.exact ? 'exact' : 'approximate',
      detail: `${first.what}${first.ev ? ` at ${where(first.ev)}` : ''}${first.exact ? '' : ' (an upper bound: the alarm itself was not in the data)'}`,
    });
  }
  const members = new Map<string, number>();
  for (const a of alarms) {
    const m = a.member ?? a.path;
    if (!members.has(m)) members.set(m, a.ts_ms!);
  }
  const dcs = timed.find((e) => e.kind === 'patroni.nospace' || e.kind === 'patroni.dcs-error');
  if (dcs) evidence.push({ source: 'patroni-log', completeness: 'exact', detail: `first Patroni DCS error at ${where(dcs)}` });
  const state = alarmStateOf(d);
  const recovery = recoveryOf(d, state);
  if (state.clearedSource) {
    const exact = state.intervals.some((iv) => iv.clearedSource === state.clearedSource && iv.clearedExact);
    evidence.push({ source: exact ? 'etcd-log' : 'etcdctl-output', completeness: exact ? 'exact' : 'approximate', detail: `alarm disarmed at ${state.clearedSource}` });
  }
  const reRaises = state.intervals.filter((iv) => iv.reRaise);
  for (const r of reRaises) {
    evidence.push({ source: 'etcdctl-output', completeness: r.raisedExact ? 'exact' : 'approximate', detail: `NOSPACE held again by ${r.member} after a disarm, seen at ${r.raisedSource}` });
  }
  if (recovery.writesSource) evidence.push({ source: recovery.writesEvidence, completeness: 'exact', detail: `a write applied after the disarm: ${recovery.writesSource}` });

  const symptom = firstSymptom(state);
  const action = firstOperatorAction(d, symptom?.ms ?? null);
  const recoveredMs = recovery.ms;
  const { revision, size, approx } = sizeAtNospace(d, nospaceMs, evidence);
  const firstAlarm = state.firstAlarmMs !== null ? { ms: state.firstAlarmMs, source: state.firstAlarmSource! } : nospaceMs !== null && first?.ev ? { ms: nospaceMs, source: where(first.ev) } : null;
  const recovered = recoveredMs !== null ? { ms: recoveredMs, source: recovery.source! } : null;
  const noRecovery = recovery.decidedBy;
  // NOSPACE shown only by records without a time: say where, never invent when.
  const untimed = nospaceMs === null
    ? d.events.find((e) => e.ts_ms === null && (isNospaceAlarm(e) || isRefusedWrite(e) || e.kind === 'etcd.quota.exceeded'))
    : undefined;
  // A status call without a time that lists the alarm (`ERRORS … alarm:NOSPACE`, `-w json` errors) shows it too.
  const untimedSample = nospaceMs === null && !untimed
    ? d.untimedStatus.find((x) => x.alarms.includes('NOSPACE') || /NOSPACE/.test(x.errors ?? ''))
    : undefined;
  const untimedWhere = untimed ? where(untimed) : untimedSample ? `${untimedSample.path}:${untimedSample.line}` : null;
  if (untimedWhere) evidence.push({ source: untimed ? 'transcript' : 'etcdctl-output', completeness: 'approximate', detail: `NOSPACE shown at ${untimedWhere}, a record without a time: when it struck is not in the data` });
  return {
    nospaceAt: iso(nospaceMs),
    nospaceUntimedSource: untimedWhere,
    firstDcsErrorAt: iso(dcs?.ts_ms ?? null),
    recoveredAt: iso(recoveredMs),
    revisionAtNospace: revision,
    dbSizeAtNospace: size,
    dbSizeAtNospaceApprox: approx,
    members: [...members].map(([member, ms]) => ({ member, nospaceAt: iso(ms)! })),
    evidence,
    alarmIntervals: state.intervals,
    reRaises,
    alarmClearedAt: iso(state.clearedMs),
    alarmClearedSource: state.clearedSource,
    writesSucceededAt: iso(recovery.writesMs),
    writesSucceededSource: recovery.writesSource,
    recoveryDecidedBy: recovery.decidedBy,
    firstSymptomAt: iso(symptom?.ms ?? null),
    firstSymptomSource: symptom?.source ?? null,
    firstOperatorActionAt: iso(action.ms),
    firstOperatorActionSource: action.source,
    durations: {
      nospace: span(firstAlarm, recovered, firstAlarm ? noRecovery : 'no NOSPACE alarm in the data'),
      toFirstAction: span(symptom, action.ms !== null ? { ms: action.ms, source: action.source! } : null, action.note),
      toRecovery: span(symptom, recovered, symptom ? noRecovery : 'no refused write or alarm in the data'),
    },
  };
}

type Point = { ms: number; source: string } | null;
function span(from: Point, to: Point, note: string): IncidentDuration {
  const ok = from !== null && to !== null;
  return {
    ms: ok ? to.ms - from.ms : null, from: iso(from?.ms ?? null), fromSource: from?.source ?? null,
    to: iso(to?.ms ?? null), toSource: to?.source ?? null, note: ok ? null : note,
  };
}

function firstSymptom(state: AlarmState): Point {
  const refused = state.refused.first;
  if (state.firstAlarmMs !== null && (!refused || state.firstAlarmMs <= refused.ms)) return { ms: state.firstAlarmMs, source: state.firstAlarmSource! };
  return refused ?? null;
}

const ACTIONS = new Set(['operator.compact', 'operator.defrag', 'operator.alarm.disarm', 'etcdctl.compact', 'etcdctl.defrag', 'etcdctl.alarm.cleared']);
/**
 * The first compact, defrag or disarm after the first symptom. A paste without times (the seed) gives
 * none: an untimed action with no timed action above it in its file may have come first, so no figure.
 */
function firstOperatorAction(d: Loaded, sinceMs: number | null): { ms: number | null; source: string | null; note: string } {
  const acts = d.events.filter((e) => ACTIONS.has(e.kind) && e.time_basis !== 'mtime');
  const timed = acts.filter((e) => e.ts_ms !== null && (sinceMs === null || e.ts_ms >= sinceMs));
  const untimedFirst = acts.find((e) => e.ts_ms === null && !acts.some((o) => o.ts_ms !== null && o.path === e.path && o.line < e.line));
  if (untimedFirst) return { ms: null, source: null, note: `the first operator action (${untimedFirst.message.slice(0, 60)} at ${where(untimedFirst)}) has no time in the paste` };
  const f = timed[0];
  if (!f) return { ms: null, source: null, note: acts.length === 0 ? 'no compact, defrag or disarm in the data' : 'no operator action after the first symptom' };
  return { ms: f.ts_ms, source: where(f), note: '' };
}

/** The alarm state and recovery of one Loaded, worked out once: findIncident and the timeline both read them
 *  (twice over 57 k events cost analyze 0.15 s on a 1 GB NOSPACE log's store). */
const alarmStates = new WeakMap<Loaded, AlarmState>();
const recoveries = new WeakMap<Loaded, Recovery>();
function alarmStateOf(d: Loaded): AlarmState {
  let s = alarmStates.get(d);
  if (s === undefined) alarmStates.set(d, (s = readAlarmState(d)));
  return s;
}
function recoveryOf(d: Loaded, state: AlarmState): Recovery {
  let r = recoveries.get(d);
  if (r === undefined) recoveries.set(d, (r = findRecovery(d, state)));
  return r;
}

interface Recovery {
  ms: number | null;
  source: string | null;
  writesMs: number | null;
  writesSource: string | null;
  writesEvidence: Evidence['source'];
  decidedBy: string;
}

/** Sample times are `date` lines printed before the call: a sample within this of the disarm may show its result. */
const SAMPLE_SKEW_MS = 1000;

/**
 * Recovered when no member holds the alarm and a write is seen applied after that: the later of the two,
 * where a write's moment is the earliest it can be placed. A status sample or a clean Patroni loop only says
 * a write was applied by its time; nothing after the disarm says writes still failed, so they resumed at the
 * disarm. Refused writes after the final disarm (not followed by a new alarm) move the moment to the first
 * write seen applied after the last of them.
 */
function findRecovery(d: Loaded, state: AlarmState): Recovery {
  const none = (decidedBy: string): Recovery => ({ ms: null, source: null, writesMs: null, writesSource: null, writesEvidence: 'status-samples', decidedBy });
  if (state.intervals.length === 0 && state.clearedMs === null) {
    const untimed = d.events.find((e) => e.kind === 'operator.alarm.disarm' && e.ts_ms === null);
    if (untimed) return none(`no time: the alarm disarm at ${where(untimed)} has no time in the paste, and no timed record shows the alarm held or cleared`);
    return none(state.refused.count > 0 ? 'no timed record shows the alarm held or cleared (only refused writes)' : 'no NOSPACE alarm in the data');
  }
  if (state.clearedMs === null) {
    const held = state.intervals.filter((iv) => iv.clearedAt === null).map((iv) => iv.member);
    return none(held.length > 0 ? `not recovered: ${held.join(', ')} still held the alarm at the end of the data` : 'not recovered: no timed disarm in the data');
  }
  const cleared = state.clearedMs;
  // The refused writes are in time order: the last one is the latest.
  const last = state.refused.lastMs;
  const lastRefused = last !== null && last > cleared + SAMPLE_SKEW_MS ? last : null;
  const floor = lastRefused ?? cleared - SAMPLE_SKEW_MS;
  const w = firstWrite(d, cleared, floor);
  if (!w) return none(`alarm cleared at ${iso(cleared)} (${state.clearedSource}), but no record shows a write applied after it${lastRefused !== null ? ` (writes were still refused at ${iso(lastRefused)})` : ''}`);
  // With no write refused after the disarm, the writes seen applied after it confirm that they resumed at the
  // disarm (a sample only bounds its write from above); writes still refused after it leave the first write
  // seen after the last refusal as the moment.
  const byWrite = lastRefused !== null && w.ms > cleared;
  return {
    ms: byWrite ? w.ms : cleared, source: byWrite ? w.source : state.clearedSource,
    writesMs: w.ms, writesSource: w.source, writesEvidence: w.evidence,
    decidedBy: byWrite
      ? `the first write seen applied (${w.what}, ${w.source}), after the alarm was cleared at ${iso(cleared)} (${state.clearedSource})`
      : `the final disarm (${state.clearedSource}); writes confirmed by ${w.what} (${w.source})`,
  };
}

function firstWrite(d: Loaded, clearedMs: number, floorMs: number): { ms: number; source: string; what: string; evidence: Evidence['source'] } | null {
  const found: { ms: number; source: string; what: string; evidence: Evidence['source'] }[] = [];
  // A status sample with no alarm whose revision passed the revision held under the alarm.
  const under = d.status.filter((s) => s.format !== 'log' && s.alarms.includes('NOSPACE') && s.revision !== null && s.ts_ms <= clearedMs + SAMPLE_SKEW_MS);
  const held = under.length > 0 ? Math.max(...under.map((s) => s.revision!)) : null;
  const clean = d.status.filter((s) => s.format !== 'log' && s.time_basis !== 'mtime' && s.ts_ms >= floorMs && !s.alarms.includes('NOSPACE') && s.revision !== null);
  const base = held ?? clean[0]?.revision ?? null;
  const s = base === null ? undefined : clean.find((x) => x.revision! > base);
  if (s) found.push({ ms: s.ts_ms, source: `${s.path}:${s.line}`, what: `status of ${s.endpoint}: no alarm, revision ${s.revision} past ${base}`, evidence: 'status-samples' });
  for (const e of d.events) {
    if (e.ts_ms === null || e.kind !== 'operator.command' || e.time_basis === 'mtime' || e.ts_ms < floorMs) continue;
    const det = detailOf(e);
    if ((det.command === 'put' || det.command === 'txn') && det.error === null && det.confirmed === true) {
      found.push({ ms: e.ts_ms, source: where(e), what: `etcdctl ${String(det.command)} without error`, evidence: 'transcript' });
      break;
    }
  }
  const loop = firstCleanPatroniLoop(d, Math.max(clearedMs, floorMs));
  if (loop) found.push({ ms: loop.ts_ms!, source: where(loop), what: 'the first clean Patroni HA loop', evidence: 'patroni-log' });
  return found.sort((a, b) => a.ms - b.ms)[0] ?? null;
}

/** Patroni's first HA loop line after `sinceMs` whose loop (since that member's previous HA line) refused no write. */
export function firstCleanPatroniLoop(d: Loaded, sinceMs: number): EventRow | null {
  return firstCleanPatroniLoops(d, sinceMs)[0] ?? null;
}

/** The same, one line per Patroni member, in time order. */
export function firstCleanPatroniLoops(d: Loaded, sinceMs: number): EventRow[] {
  // Repeated lines are stored as per-minute groups (first line + count + last line): a group that began
  // before `sinceMs` may hold lines after it. Such a group counts from its last line (an HA group then
  // stands for "a clean loop logged by this line", cited as such; a failure group for "refused after").
  const isFailure = (e: EventRow): boolean => e.kind === 'patroni.nospace' || e.kind === 'patroni.dcs-error';
  const isLoop = (e: EventRow): boolean => e.kind === 'patroni.ha.leader' || e.kind === 'patroni.ha.secondary';
  const items: { t: number; e: EventRow }[] = [];
  for (const e of d.events) {
    if (e.ts_ms === null || !(isFailure(e) || isLoop(e))) continue;
    const lastMs = Math.max(e.ts_ms, e.last_ts_ms ?? e.ts_ms);
    if (lastMs < sinceMs) continue;
    if (e.ts_ms >= sinceMs) items.push({ t: e.ts_ms, e });
    else if (isLoop(e)) items.push({ t: lastMs, e: { ...e, ts_ms: lastMs, line: e.last_line ?? e.line } });
    else items.push({ t: sinceMs, e });
  }
  items.sort((a, b) => a.t - b.t);
  const failedSince = new Set<string>();
  const done = new Set<string>();
  const out: EventRow[] = [];
  for (const { e } of items) {
    const m = e.member ?? e.path;
    if (isFailure(e)) failedSince.add(m);
    else if (!done.has(m)) {
      // A loop that logged a refused write before its HA line is not clean.
      if (failedSince.delete(m)) continue;
      done.add(m);
      out.push(e);
    }
  }
  return out;
}

/** For the timeline: the re-raises and the recovery moment with the record and reason behind it. */
export function readRecovery(d: Loaded): { reRaises: AlarmInterval[]; ms: number | null; source: string | null; decidedBy: string; names: Map<string, string> } {
  const state = alarmStateOf(d);
  const r = recoveryOf(d, state);
  return { reRaises: state.intervals.filter((iv) => iv.reRaise), ms: r.ms, source: r.source, decidedBy: r.decidedBy, names: state.names };
}

function sizeAtNospace(d: Loaded, nospaceMs: number | null, evidence: Evidence[]) {
  let revision: number | null = null;
  let size: number | null = null;
  let approx = false;
  if (nospaceMs !== null) {
    // The first sample at or after the alarm (the revision barely moves under NOSPACE), else the last before.
    const after = d.status.filter((s) => s.ts_ms >= nospaceMs && s.time_basis !== 'mtime');
    const before = d.status.filter((s) => s.ts_ms < nospaceMs);
    const pick = (rows: typeof d.status, f: (s: (typeof d.status)[number]) => boolean) => rows.find(f);
    const rev = pick(after, (s) => s.revision !== null) ?? [...before].reverse().find((s) => s.revision !== null);
    if (rev) {
      revision = rev.revision;
      evidence.push({ source: 'status-samples', completeness: 'exact', detail: `revision ${rev.revision} from the status sample at ${iso(rev.ts_ms)} (${rev.path}:${rev.line})` });
    }
    const sz = pick(after, (s) => s.db_size_bytes !== null && !s.db_size_approx) ?? pick(after, (s) => s.db_size_bytes !== null)
      ?? [...before].reverse().find((s) => s.db_size_bytes !== null);
    if (sz) {
      size = sz.db_size_bytes;
      approx = sz.db_size_approx === 1;
      evidence.push({ source: 'status-samples', completeness: approx ? 'approximate' : 'exact', detail: `DB size ${size} bytes${approx ? ' (humanized by etcdctl)' : ''} from ${sz.path}:${sz.line}` });
    }
  }
  const snap = d.snapshots[0];
  if (revision === null && snap) {
    revision = snap.revision;
    evidence.push(trusted({ source: 'snapshot-status', completeness: 'exact', detail: `revision ${snap.revision} from snapshot status at ${snap.path}:${snap.line}` }, snap));
  }
  if (size === null && snap) {
    size = snap.total_size_bytes;
    approx = snap.total_size_approx === 1;
    evidence.push(trusted({ source: 'snapshot-status', completeness: approx ? 'approximate' : 'exact', detail: `size ${size} bytes from snapshot status at ${snap.path}:${snap.line}` }, snap));
  }
  if (size === null) {
    const any = d.status.find((s) => s.alarms.includes('NOSPACE') && s.db_size_bytes !== null);
    if (any) {
      size = any.db_size_bytes;
      approx = any.db_size_approx === 1;
      evidence.push({ source: 'etcdctl-output', completeness: 'approximate', detail: `DB size of a member showing NOSPACE at ${any.path}:${any.line}` });
    }
  }
  return { revision, size, approx };
}

/** A corrupted snapshot file's figures (sha256 trailer mismatch, self-contradicting keys) are unverified. */
function trusted(e: Evidence, snap: SnapshotStatusRow): Evidence {
  return snap.integrity ? withIntegrity(e, snap.integrity) : e;
}
