// The incident's state as rows of facts, for the Markdown and HTML reports (each escapes the cells itself).
import type { AlarmInterval, Incident, IncidentDuration } from '../analyze/types.js';

/** `85.562 s (etcd3.log:135 → endpoint-status.json.txt:170)`, or why there is no figure. */
export function durationText(d: IncidentDuration): string {
  if (d.ms === null) return `no figure: ${d.note ?? 'unknown'}`;
  const s = d.ms / 1000;
  const human = s >= 3600 ? `${(s / 3600).toFixed(2)} h` : s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(3)} s`;
  return `${human} (${d.fromSource ?? d.from} → ${d.toSource ?? d.to})`;
}

/** The facts after `NOSPACE at`: final disarm, recovery and what decided it, re-raises, the three durations. */
export function recoveryFacts(i: Incident): [string, string | null][] {
  return [
    ['alarm disarmed (final)', i.alarmClearedAt === null ? null : `${i.alarmClearedAt} (${i.alarmClearedSource ?? '-'})`],
    ['recovered (no alarm held, writes succeed)', i.recoveredAt],
    ['recovery decided by', i.recoveryDecidedBy],
    ...i.reRaises.map((r): [string, string] => [`NOSPACE raised again by ${r.member}`, `${r.raisedExact ? '' : 'seen '}${r.raisedAt} (${r.raisedSource})`]),
    ['NOSPACE duration', durationText(i.durations.nospace)],
    ['first symptom → first operator action', durationText(i.durations.toFirstAction)],
    ['first symptom → recovery', durationText(i.durations.toRecovery)],
  ];
}

export const ALARM_INTERVAL_HEADER = ['alarm held by', 'raised', 'cleared', 're-raise'];

/** One row per spell a member held the alarm; `seen` marks an edge read from a sample, not etcd's own line. */
export function alarmIntervalRows(i: Incident): string[][] {
  const edge = (atIso: string | null, exact: boolean, source: string | null): string =>
    atIso === null ? 'still held' : `${exact ? '' : 'seen '}${atIso} (${source ?? '-'})`;
  return i.alarmIntervals.map((iv: AlarmInterval) => [
    iv.memberId && iv.memberId !== iv.member ? `${iv.member} (${iv.memberId})` : iv.member,
    edge(iv.raisedAt, iv.raisedExact, iv.raisedSource), edge(iv.clearedAt, iv.clearedExact, iv.clearedSource), iv.reRaise ? 'yes' : 'no',
  ]);
}
