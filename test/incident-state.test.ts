// Issue 12, "the incident's real state": real 3-member etcd runs (scripts/capture/partial-recovery.sh, 3.5.16 and
// 3.4.23) where compact + defrag of two members + disarm let etcd3, still over its quota, raise NOSPACE again at
// once. 3.5.16 logged neither that disarm nor the re-raise (only the first raise and the last disarm); 3.4.23
// logged both, 15 ms apart. Every expected value below is read from the fixture's own lines, not written down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { runCli, tempDir, FIXTURES, ROOT } from './helpers/cli.js';
import type { AnalysisReport, IncidentDuration } from '../src/analyze/types.js';

function analyze(files: string[]): AnalysisReport {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 'i.db');
    const ing = runCli(['ingest', '--db', db, ...files]);
    assert.equal(ing.code, 0, ing.stderr);
    const r = runCli(['analyze', '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as AnalysisReport;
  } finally {
    cleanup();
  }
}

for (const version of ['3.5.16', '3.4.23']) describeFixture(version);

function describeFixture(version: string): void {
const DIR = join(FIXTURES, `partial-recovery-${version}`);
// writer-summary.log is context for a reader (its summary line counts errors; it is not a record of one).
const INPUTS = ['etcd1.log', 'etcd2.log', 'etcd3.log', 'status-samples.log', 'transcript.txt'].map((f) => join(DIR, f));
const lines = (name: string): string[] => readFileSync(join(DIR, name), 'utf8').split('\n');
interface ZapLine { ts: string; msg: string; from?: string; 'local-member-id'?: string; alarm?: string }
const zap = (name: string): { line: number; z: ZapLine }[] =>
  lines(name).flatMap((l, i) => (l.startsWith('{') ? [{ line: i + 1, z: JSON.parse(l) as ZapLine }] : []));
const LOGS = ['etcd1.log', 'etcd2.log', 'etcd3.log'];
const logLines = (msg: string) => LOGS.flatMap((f) => zap(f).filter((x) => x.z.msg === msg).map((x) => ({ file: f, ...x })))
  .sort((a, b) => Date.parse(a.z.ts) - Date.parse(b.z.ts));
const second = (iso: string): string => new Date(Date.parse(iso)).toISOString().slice(0, 19);
const ms = (ts: string): number => Math.floor(Date.parse(ts));

/** The time a cited `path:line` stands for: a zap line's own ts, else the `date` line printed above it. */
function timeOfCited(cited: string): number {
  const i = cited.lastIndexOf(':');
  const path = cited.slice(0, i);
  const file = readFileSync(isAbsolute(path) ? path : join(ROOT, path), 'utf8').split('\n');
  for (let n = Number(cited.slice(i + 1)) - 1; n >= 0; n--) {
    const l = file[n]!;
    if (n === Number(cited.slice(i + 1)) - 1 && l.startsWith('{"level"')) return ms((JSON.parse(l) as ZapLine).ts);
    if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/.test(l)) return Date.parse(l);
    const m = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) UTC (\d{4})$/.exec(l);
    if (m) return Date.parse(`${m[1]} ${m[2]} ${m[4]} ${m[3]} UTC`);
  }
  throw new Error(`no time for ${cited}`);
}

/** `date -u` times of the transcript's `alarm disarm` commands, in order. */
function pastedDisarms(): { at: number; line: number }[] {
  const t = lines('transcript.txt');
  const out: { at: number; line: number }[] = [];
  let date = NaN;
  t.forEach((l, i) => {
    if (/^[A-Z][a-z]{2} [A-Z][a-z]{2} +\d/.test(l)) date = timeOfCited(`${join(DIR, 'transcript.txt')}:${i + 1}`);
    if (/ alarm disarm$/.test(l)) out.push({ at: date, line: i + 1 });
  });
  return out;
}

const report = analyze(INPUTS);
const inc = report.incident;

test(`partial recovery ${version}: recovered at the final disarm, to the second, from the etcd log line`, () => {
  const disarms = logLines('alarm disarmed');
  assert.ok(disarms.length >= 1);
  const final = disarms.at(-1)!;
  assert.equal(second(inc.recoveredAt!), final.z.ts.slice(0, 19));
  assert.equal(Date.parse(inc.alarmClearedAt!), ms(disarms.filter((d) => Math.abs(ms(d.z.ts) - ms(final.z.ts)) < 1000)[0]!.z.ts));
  assert.match(inc.alarmClearedSource!, /etcd\d\.log:\d+$/);
  assert.equal(timeOfCited(inc.alarmClearedSource!), Date.parse(inc.alarmClearedAt!));
  assert.match(inc.recoveryDecidedBy, /final disarm/);
  // Writes were seen applied after it, and that record is cited.
  assert.ok(inc.writesSucceededAt !== null && inc.writesSucceededSource !== null);
  const recovered = report.timeline.filter((e) => e.kind === 'incident.recovered');
  assert.equal(recovered.length, 1);
  assert.equal(recovered[0]!.at, inc.recoveredAt);
});

test(`partial recovery ${version}: the disarm before etcd3 was defragmented is not the recovery`, () => {
  const pasted = pastedDisarms();
  assert.equal(pasted.length, 2, 'the session disarms twice');
  const first = pasted[0]!;
  // The paste itself shows the write after the first disarm refused.
  const after = lines('transcript.txt').slice(first.line, pasted[1]!.line).join('\n');
  assert.match(after, /database space exceeded/);
  assert.ok(Date.parse(inc.recoveredAt!) - first.at >= 2000, `recovered ${inc.recoveredAt} vs first disarm ${new Date(first.at).toISOString()}`);
  // The spells cleared by that disarm end within the second its `date` line names (3.4.23: at etcd's own line).
  const clearedThere = inc.alarmIntervals.filter((iv) => iv.clearedAt !== null && Date.parse(iv.clearedAt) - first.at >= 0 && Date.parse(iv.clearedAt) - first.at < 1000);
  assert.ok(clearedThere.length >= 2, JSON.stringify(inc.alarmIntervals));
});

test(`partial recovery ${version}: the re-raise is in the timeline with its member (etcd3, named from its own log)`, () => {
  const etcd3Id = zap('etcd3.log').find((x) => x.z['local-member-id'])!.z['local-member-id']!;
  // What `alarm list` printed after the first disarm: the member id, in decimal.
  const t = lines('transcript.txt');
  const disarm = pastedDisarms()[0]!.line;
  const listAt = t.findIndex((l, i) => i > disarm && / alarm list$/.test(l));
  const listed = /^memberID:(\d+) alarm:NOSPACE/.exec(t[listAt + 1]!)!;
  assert.equal(BigInt(listed[1]!).toString(16), etcd3Id);

  assert.equal(inc.reRaises.length, 1, JSON.stringify(inc.reRaises));
  const r = inc.reRaises[0]!;
  assert.equal(r.memberId, etcd3Id);
  assert.equal(r.member, 'etcd3');
  const entries = report.timeline.filter((e) => e.kind === 'incident.alarm.reraised');
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.member, 'etcd3');
  const at = Date.parse(entries[0]!.at!);
  assert.ok(at >= pastedDisarms()[0]!.at && at < Date.parse(inc.recoveredAt!), entries[0]!.at!);
  // In the timeline it comes after the first disarm and before the recovery.
  const kinds = report.timeline.map((e) => e.kind);
  assert.ok(kinds.indexOf('etcdctl.alarm.cleared') < kinds.indexOf('incident.alarm.reraised'));
  assert.ok(kinds.indexOf('incident.alarm.reraised') < kinds.indexOf('incident.recovered'));
});

test(`partial recovery ${version}: per-member alarm spells match the etcd log lines`, () => {
  const raised = logLines('alarm raised');
  const disarmed = logLines('alarm disarmed');
  // Every raise and disarm etcd logged (one line per member for one apply) is an edge of a spell, to the
  // millisecond, for the member the line names; 3.5.16 logs only the first raise and the last disarm.
  const once = <T extends { z: ZapLine }>(xs: T[]): T[] => xs.filter((x, i) => i === 0 || ms(x.z.ts) - ms(xs[i - 1]!.z.ts) >= 1000);
  for (const r of once(raised)) {
    assert.ok(inc.alarmIntervals.some((iv) => iv.raisedExact && iv.memberId === r.z.from && Date.parse(iv.raisedAt) === ms(r.z.ts)), `raise ${r.z.ts} ${r.z.from}`);
  }
  for (const x of once(disarmed)) {
    assert.ok(inc.alarmIntervals.some((iv) => iv.clearedExact && Date.parse(iv.clearedAt!) === ms(x.z.ts)), `disarm ${x.z.ts}`);
  }
  assert.equal(inc.alarmIntervals.filter((iv) => iv.raisedExact).length, once(raised).length);
  const first = inc.alarmIntervals[0]!;
  assert.equal(first.memberId, raised[0]!.z.from);
  // The final disarm names the member whose spell it ends.
  assert.ok(inc.alarmIntervals.some((iv) => iv.memberId === disarmed.at(-1)!.z.from && iv.clearedExact && Date.parse(iv.clearedAt!) === Date.parse(inc.alarmClearedAt!)));
  // Every member the first `alarm list` names held the alarm in a spell that began before the operator acted.
  const t = lines('transcript.txt');
  const list = t.findIndex((l) => / alarm list$/.test(l));
  const ids = t.slice(list + 1).filter((_, i, a) => a.slice(0, i + 1).every((l) => /^memberID:/.test(l))).map((l) => BigInt(/memberID:(\d+)/.exec(l)![1]!).toString(16));
  assert.ok(ids.length >= 1);
  for (const id of ids) assert.ok(inc.alarmIntervals.some((iv) => iv.memberId === id && !iv.reRaise), id);
  // No spell is left open: the data ends recovered.
  assert.ok(inc.alarmIntervals.every((iv) => iv.clearedAt !== null));
  // Each edge cites a record whose time is the edge's time.
  for (const iv of inc.alarmIntervals) {
    assert.equal(timeOfCited(iv.raisedSource), Date.parse(iv.raisedAt), iv.raisedSource);
    assert.equal(timeOfCited(iv.clearedSource!), Date.parse(iv.clearedAt!), iv.clearedSource!);
  }
});

test(`partial recovery ${version}: each duration is the difference of the two lines it cites`, () => {
  const check = (name: string, d: IncidentDuration): void => {
    assert.ok(d.ms !== null, `${name}: ${d.note}`);
    assert.equal(timeOfCited(d.fromSource!), Date.parse(d.from!), `${name} from ${d.fromSource}`);
    assert.equal(timeOfCited(d.toSource!), Date.parse(d.to!), `${name} to ${d.toSource}`);
    assert.equal(d.ms, Date.parse(d.to!) - Date.parse(d.from!), name);
  };
  check('nospace', inc.durations.nospace);
  check('toFirstAction', inc.durations.toFirstAction);
  check('toRecovery', inc.durations.toRecovery);
  // NOSPACE lasts from etcd's first `alarm raised` line to its final `alarm disarmed` line.
  const disarms = logLines('alarm disarmed');
  const finalDisarm = disarms.find((x) => ms(disarms.at(-1)!.z.ts) - ms(x.z.ts) < 1000)!;
  assert.equal(inc.durations.nospace.ms, ms(finalDisarm.z.ts) - ms(logLines('alarm raised')[0]!.z.ts));
  // The first operator action is the compact, timed by the `date -u` above it.
  assert.match(lines('transcript.txt')[Number(inc.firstOperatorActionSource!.split(':').at(-1)) - 1]!, / compact \d+$/);
});

}

test('seed: no recovery time is invented and no Patroni line at the first NOSPACE is called a recovery', () => {
  const r = analyze([join(FIXTURES, 'seed', 'etcd-no-space-incident.txt')]);
  const i = r.incident;
  assert.equal(i.recoveredAt, null);
  assert.match(i.recoveryDecidedBy, /no time/);
  assert.ok(!r.timeline.some((e) => e.kind === 'patroni.recovered' || e.kind === 'incident.recovered'), JSON.stringify(r.timeline.filter((e) => /recovered/.test(e.kind))));
  assert.ok(!r.timeline.some((e) => /recovery/.test(e.summary) && e.at === i.nospaceAt));
  assert.equal(i.durations.toFirstAction.ms, null);
  assert.match(i.durations.toFirstAction.note!, /no time in the paste/);
  assert.equal(i.durations.toRecovery.ms, null);
});
