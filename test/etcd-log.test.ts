import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { createEtcdLogParser, looksLikeEtcdLogLine, parseEtcdLogLine } from '../src/sources/etcd-log/parser.js';
import type { EtcdRequest, LogEvent, ParseContext, ParseIssue, ParseOutput } from '../src/model.js';
import { localTime } from '../src/units/time.js';

const FIX = new URL('./fixtures/', import.meta.url);
const SHANGHAI: ParseContext = { tz: 'Asia/Shanghai', member: null, referenceMs: Date.parse('2026-11-25T00:00:00Z') };

function readLines(rel: string): string[] {
  const lines = readFileSync(new URL(rel, FIX), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function parseFile(rel: string, ctx: ParseContext): ParseOutput[] {
  const p = createEtcdLogParser(ctx);
  const out = readLines(rel).flatMap((l, i) => p.push(l, i + 1));
  return [...out, ...p.end()];
}

const events = (o: ParseOutput[]): LogEvent[] => o.filter((x): x is LogEvent => x.kind === 'event');
const requests = (o: ParseOutput[]): EtcdRequest[] => o.filter((x): x is EtcdRequest => x.kind === 'request');
const issues = (o: ParseOutput[]): ParseIssue[] => o.filter((x): x is ParseIssue => x.kind === 'issue');
const ofKind = (o: ParseOutput[], k: LogEvent['event']): LogEvent[] => events(o).filter((e) => e.event === k);
const one = (line: string, ctx: ParseContext = SHANGHAI): ParseOutput[] => parseEtcdLogLine(line, 1, ctx);

function countBy<T>(xs: T[], f: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[f(x)] = (out[f(x)] ?? 0) + 1;
  return out;
}

// The rejected puts in the real 3.4.23 capture: Patroni-shaped member keys (with their lease) and status,
// logged by etcd1 (zap) 53 times each and by etcd2 (capnslog) 52 times each.
const failedPuts = (n: number): Record<string, number> => ({
  '/service/pg_demo/members/node1 181 1148033122010294790': n,
  '/service/pg_demo/members/node2 182 8754331417662256138': n,
  '/service/pg_demo/members/node3 182 1148033122010294792': n,
  '/service/pg_demo/status 19 null': n,
});
const putKey = (r: EtcdRequest): string => `${r.key} ${r.valueSize} ${r.lease}`;
const failedOnly = (o: ParseOutput[]): EtcdRequest[] => requests(o).filter((r) => r.outcome === 'failed');
const leaderTrail = (o: ParseOutput[]): string[] =>
  ofKind(o, 'etcd.leader.changed').map((e) => `${e.detail.change}@${e.detail.term}`);

test('real etcd 3.4.23 zap log: every line is an event, no issues', () => {
  const lines = readLines('etcd-3.4/etcd-zap.log');
  const out = parseFile('etcd-3.4/etcd-zap.log', { ...SHANGHAI, member: 'etcd1' });
  assert.deepEqual(issues(out), []);
  assert.equal(events(out).length, lines.length);
  assert.ok(events(out).every((e) => e.member === 'etcd1' && e.raw === lines[e.line - 1]));
});

test('real zap: quota exceeded, alarm raised, failed and slow applies, compaction, defrag, disarm', () => {
  const out = parseFile('etcd-3.4/etcd-zap.log', { ...SHANGHAI, member: 'etcd1' });
  const exceeded = ofKind(out, 'etcd.quota.exceeded');
  assert.equal(exceeded.length, 4);
  assert.deepEqual(exceeded[0]!.detail, { quotaBytes: 1048576, error: 'etcdserver: no space' });
  assert.equal(exceeded[0]!.time?.ms, Date.parse('2026-11-24T07:28:37.791+08:00'));

  const alarms = ofKind(out, 'etcd.alarm.raised');
  assert.equal(alarms.length, 1);
  const alarm = alarms[0]!;
  assert.deepEqual(alarm.time, { ms: Date.parse('2026-11-24T07:28:37.799+08:00'), offsetMin: 480, basis: 'explicit' });
  assert.deepEqual([alarm.line, alarm.level, alarm.member], [102, 'warn', 'etcd1']);
  assert.deepEqual(alarm.detail, { alarm: 'NOSPACE', from: '935e65ab14460fee' });

  assert.equal(ofKind(out, 'etcd.quota.config')[0]!.detail.quotaBytes, 1048576);

  const failed = ofKind(out, 'etcd.apply.failed');
  assert.equal(failed.length, 212);
  assert.ok(failed.every((e) => e.detail.error === 'etcdserver: no space' && e.detail.op === 'put'));
  const reqs = failedOnly(out);
  assert.equal(reqs.length, 212);
  assert.deepEqual(countBy(reqs, putKey), failedPuts(53));
  assert.ok(reqs.every((r) => r.op === 'put' && !r.inTxn && r.error === 'etcdserver: no space'));
  assert.equal(reqs.at(-1)!.time?.ms, Date.parse('2026-11-24T07:29:05.277+08:00'));
  assert.equal(reqs.at(-1)!.tookMs, 0.000301); // "took":"301ns"

  const slow = requests(out).filter((r) => r.outcome === 'slow');
  assert.deepEqual(slow.map((r) => [r.op, r.key, r.valueSize, r.lease, r.tookMs]), [
    ['put', '/service/pg_demo/members/node1', 181, '1148033122010294790', 143.858294],
    ['range', 'health', null, null, 269.624151],
  ]);
  assert.deepEqual(ofKind(out, 'etcd.apply.slow').map((e) => e.detail.prefix), ['', 'read-only range ']);

  assert.deepEqual(ofKind(out, 'etcd.compaction.started').map((e) => e.detail.revision), [3912]);
  const fin = ofKind(out, 'etcd.compaction.finished');
  assert.deepEqual([fin[0]!.detail.revision, fin[0]!.detail.tookMs], [3912, 112.138723]);

  const started = ofKind(out, 'etcd.defrag.started').find((e) => e.detail.source === 'backend')!;
  assert.equal(started.message, 'defragmenting');
  assert.deepEqual([started.detail.dbSizeBytes, started.detail.dbSizeInUseBytes], [1052672, 274432]);
  const done = ofKind(out, 'etcd.defrag.finished').find((e) => e.detail.source === 'backend')!;
  assert.equal(done.message, 'defragmented');
  assert.deepEqual(
    [done.detail.dbSizeBytes, done.detail.dbSizeDiffBytes, done.detail.dbSizeInUseBytes, done.detail.tookMs],
    [24576, -1028096, 16384, 122.664196],
  );
  assert.equal(ofKind(out, 'etcd.defrag.started').length, 2); // RPC `starting defragment` + backend `defragmenting`

  assert.deepEqual(ofKind(out, 'etcd.alarm.disarmed')[0]!.detail, { alarm: 'NOSPACE', from: '8da3cac7b0ff797d' });
  assert.deepEqual(ofKind(out, 'etcd.start')[0]!.detail, { version: '3.4.23' });
  // 3.4 logs `"took":"now"` (humanized) on `successfully sent database snapshot to client`: no duration.
  assert.deepEqual(ofKind(out, 'etcd.snapshot.sent').map((e) => [e.detail.phase, e.detail.totalBytes, e.detail.tookMs ?? null]), [
    ['started', 1048576, null], ['finished', 1048576, null], ['started', 143360, null], ['finished', 143360, null],
  ]);
});

test('real zap: leader changes with terms', () => {
  const out = parseFile('etcd-3.4/etcd-zap.log', SHANGHAI);
  assert.deepEqual(leaderTrail(out), [
    'became-follower@0', 'became-follower@1', 'became-follower@2', 'elected@2',
    'became-candidate@3', 'lost@3', 'became-leader@3', 'elected@3',
  ]);
  const elected = ofKind(out, 'etcd.leader.changed').filter((e) => e.detail.change === 'elected');
  assert.deepEqual(elected.map((e) => e.detail.leader), ['8da3cac7b0ff797d', '935e65ab14460fee']);
  assert.equal(elected[1]!.time?.ms, Date.parse('2026-11-24T07:29:18.023+08:00'));
});

test('real zap: the grpc-go lines etcd writes to stderr are events, not issues', () => {
  const out = parseFile('etcd-3.4/etcd-zap.log', SHANGHAI);
  const grpc = events(out).filter((e) => e.detail.logger === 'grpc');
  assert.ok(grpc.length >= 1);
  assert.deepEqual([grpc[0]!.event, grpc[0]!.level], ['etcd.other', 'warn']);
  assert.deepEqual(grpc[0]!.time, { ms: Date.parse('2026-11-24T07:28:58+08:00'), offsetMin: null, basis: 'assumed-zone' });
});

test('real etcd 3.4.23 capnslog log: alarm, failed applies, compaction, defrag, disarm, heartbeat, raft', () => {
  const lines = readLines('etcd-3.4/etcd-capnslog.log');
  const out = parseFile('etcd-3.4/etcd-capnslog.log', { ...SHANGHAI, member: 'etcd2' });
  assert.deepEqual(issues(out), []);
  assert.equal(events(out).length, lines.length);

  const alarm = ofKind(out, 'etcd.alarm.raised');
  assert.equal(alarm.length, 1);
  assert.deepEqual(alarm[0]!.time, { ms: Date.parse('2026-11-24T07:28:37.797+08:00'), offsetMin: null, basis: 'assumed-zone' });
  assert.deepEqual(alarm[0]!.detail, { alarm: 'NOSPACE', from: '935e65ab14460fee', pkg: 'etcdserver' });
  assert.deepEqual([alarm[0]!.member, alarm[0]!.level], ['etcd2', 'warn']);

  const reqs = failedOnly(out);
  assert.equal(ofKind(out, 'etcd.apply.failed').length, 208);
  assert.deepEqual(countBy(reqs, putKey), failedPuts(52));
  assert.deepEqual([reqs.at(-1)!.tookMs, reqs.at(-1)!.error], [0.000541, 'etcdserver: no space']); // took (541ns)
  assert.equal(reqs.at(-1)!.time?.ms, Date.parse('2026-11-24T07:29:05.277+08:00'));

  const slow = requests(out).filter((r) => r.outcome === 'slow');
  assert.deepEqual(slow.map((r) => [r.op, r.key, r.tookMs]), [['range', 'health', 252.435666]]);

  assert.deepEqual(ofKind(out, 'etcd.compaction.started').map((e) => e.detail.revision), [3912]);
  const fin = ofKind(out, 'etcd.compaction.finished')[0]!;
  assert.deepEqual([fin.detail.revision, fin.detail.tookMs], [3912, 75.793442]);
  const defrag = [...ofKind(out, 'etcd.defrag.started'), ...ofKind(out, 'etcd.defrag.finished')];
  assert.deepEqual(defrag.map((e) => [e.line, e.level]), [[82, 'notice'], [83, 'notice']]);
  assert.deepEqual(ofKind(out, 'etcd.alarm.disarmed')[0]!.detail, { alarm: 'NOSPACE', from: '8da3cac7b0ff797d', pkg: 'etcdserver' });
  assert.deepEqual(ofKind(out, 'etcd.start')[0]!.detail, { version: '3.4.23', pkg: 'etcdmain' });
  const hb = ofKind(out, 'etcd.heartbeat.slow');
  assert.equal(hb.length, 6);
  assert.deepEqual(hb[0]!.detail, { to: '935e65ab14460fee', heartbeatIntervalMs: 100, exceededMs: 27.990113, pkg: 'etcdserver' });

  assert.deepEqual(leaderTrail(out), [
    'became-follower@0', 'became-follower@1', 'new-election@1', 'became-candidate@2', 'became-leader@2', 'elected@2',
    'became-follower@3', 'lost@3', 'elected@3',
  ]);
  const last = ofKind(out, 'etcd.leader.changed').at(-1)!;
  // raft std-logger: second precision, local time.
  assert.deepEqual(last.time, { ms: Date.parse('2026-11-24T07:29:18+08:00'), offsetMin: null, basis: 'assumed-zone' });
  assert.equal(last.detail.leader, '935e65ab14460fee');

  const deprecated = events(out)[0]!;
  assert.deepEqual([deprecated.event, deprecated.level, deprecated.time], ['etcd.other', 'warn', null]);
});

test('capnslog without --tz is read as UTC and marked assumed', () => {
  const out = parseFile('etcd-3.4/etcd-capnslog.log', { tz: null, member: null, referenceMs: 0 });
  assert.deepEqual(ofKind(out, 'etcd.alarm.raised')[0]!.time, { ms: Date.UTC(2026, 10, 24, 7, 28, 37, 797), offsetMin: null, basis: 'assumed-zone' });
});

test('derived etcd 3.5 zap (3.5.8 trimmed µs, 3.5.15 6-digit, logger raft, finished defragmenting directory)', () => {
  const base = parseFile('etcd-3.4/etcd-zap.log', SHANGHAI);
  for (const f of ['etcd-zap-3.5.8-trimmed-micro.log', 'etcd-zap-3.5.15-micro.log']) {
    const out = parseFile(`etcd-3.5-derived/${f}`, SHANGHAI);
    assert.deepEqual(issues(out), [], f);
    assert.deepEqual(events(out).map((e) => [e.event, e.time]), events(base).map((e) => [e.event, e.time]), f);
    const done = ofKind(out, 'etcd.defrag.finished').find((e) => e.detail.source === 'backend')!;
    assert.equal(done.message, 'finished defragmenting directory');
    assert.deepEqual([done.detail.dbSizeBytes, done.detail.dbSizeDiffBytes, done.detail.dbSizeInUseBytes], [24576, -1028096, 16384]);
    assert.deepEqual(leaderTrail(out), leaderTrail(base));
    assert.deepEqual(countBy(failedOnly(out), putKey), failedPuts(53));
  }
  const trimmed = readLines('etcd-3.5-derived/etcd-zap-3.5.8-trimmed-micro.log');
  assert.ok(trimmed.some((l) => /"ts":"[^"]*\.\d{1,2}\+0800"/.test(l)), 'fixture has a trimmed fraction');
  assert.ok(trimmed.some((l) => l.includes('"logger":"raft"')));
});

test('journald-derived 3.4 zap: inner ts wins, member from the host', () => {
  const out = parseFile('etcd-3.4-journald/etcd-zap.journald.log', SHANGHAI);
  assert.deepEqual(issues(out), []);
  assert.ok(events(out).every((e) => e.member === 'etcd1'));
  const alarm = ofKind(out, 'etcd.alarm.raised');
  assert.equal(alarm.length, 1);
  assert.deepEqual(alarm[0]!.time, { ms: Date.parse('2026-11-24T07:28:37.799+08:00'), offsetMin: 480, basis: 'explicit' });
  assert.deepEqual(countBy(failedOnly(out), putKey), failedPuts(53));
});

test('journald-derived 3.4 capnslog: bare messages timed by the prefix (year and zone assumed)', () => {
  const out = parseFile('etcd-3.4-journald/etcd-capnslog.journald.log', SHANGHAI);
  assert.deepEqual(issues(out), []);
  assert.ok(events(out).every((e) => e.member === 'etcd2'));
  const alarm = ofKind(out, 'etcd.alarm.raised');
  assert.equal(alarm.length, 1);
  assert.deepEqual(alarm[0]!.time, { ms: Date.parse('2026-11-24T07:28:37+08:00'), offsetMin: null, basis: 'assumed-zone-year' });
  assert.deepEqual([alarm[0]!.level, alarm[0]!.detail], [null, { alarm: 'NOSPACE', from: '935e65ab14460fee' }]);
  assert.deepEqual(countBy(failedOnly(out), putKey), failedPuts(52));
  assert.deepEqual(ofKind(out, 'etcd.compaction.finished')[0]!.detail, { revision: 3912, tookMs: 75.793442 });
  assert.deepEqual(ofKind(out, 'etcd.alarm.disarmed')[0]!.detail, { alarm: 'NOSPACE', from: '8da3cac7b0ff797d' });
  // raft lines keep their own prefix and time.
  assert.equal(ofKind(out, 'etcd.leader.changed')[0]!.time?.basis, 'assumed-zone');
  // --member overrides the journald host.
  const named = parseFile('etcd-3.4-journald/etcd-capnslog.journald.log', { ...SHANGHAI, member: 'm2' });
  assert.ok(events(named).every((e) => e.member === 'm2'));
});

test('seed transcript line (real etcd 3.5.1)', () => {
  const line = readLines('seed/etcd-no-space-incident.txt').find((l) => l.includes('failed to apply request'))!;
  const out = one(line.slice(line.indexOf('{')), { tz: null, member: 'postgres-2', referenceMs: 0 });
  const [ev, req] = out as [LogEvent, EtcdRequest];
  assert.equal(out.length, 2);
  assert.equal(ev.event, 'etcd.apply.failed');
  assert.deepEqual(ev.time, { ms: Date.parse('2023-09-26T07:42:23.663Z'), offsetMin: 480, basis: 'explicit' });
  assert.equal(ev.detail.error, 'etcdserver: no space');
  assert.equal(req.key, '/pgcluster/pg_cluster/members/postgres-2');
  assert.equal(req.valueSize, 218);
  assert.equal(req.lease, '7386330616106706594');
  assert.equal(req.error, 'etcdserver: no space');
  assert.equal(req.tookMs, 0.003163);
  assert.equal(req.member, 'postgres-2');
});

const zap = (ts: string | number): string =>
  `{"level":"info","ts":${typeof ts === 'number' ? ts : JSON.stringify(ts)},"caller":"mvcc/index.go:189","msg":"compact tree index","revision":3908}`;

test('every zap ts variant (reference §3.1)', () => {
  const t = (ts: string | number) => (one(zap(ts))[0] as LogEvent).time;
  assert.deepEqual(t('2023-09-26T15:42:23.663+0800'), { ms: Date.parse('2023-09-26T07:42:23.663Z'), offsetMin: 480, basis: 'explicit' });
  assert.deepEqual(t('2024-04-22T17:18:03.213763+0800'), { ms: Date.parse('2024-04-22T09:18:03.213Z'), offsetMin: 480, basis: 'explicit' });
  assert.deepEqual(t('2024-04-22T17:18:03.21381+0800'), { ms: Date.parse('2024-04-22T09:18:03.213Z'), offsetMin: 480, basis: 'explicit' });
  assert.deepEqual(t('2024-04-22T17:18:03.2+0800'), { ms: Date.parse('2024-04-22T09:18:03.200Z'), offsetMin: 480, basis: 'explicit' });
  assert.deepEqual(t('2024-04-22T17:18:03+0800'), { ms: Date.parse('2024-04-22T09:18:03Z'), offsetMin: 480, basis: 'explicit' });
  assert.deepEqual(t('2024-06-10T09:01:02.123456Z'), { ms: Date.parse('2024-06-10T09:01:02.123Z'), offsetMin: 0, basis: 'explicit' });
  assert.deepEqual(t('2022-03-17T17:22:25.524-0700'), { ms: Date.parse('2022-03-18T00:22:25.524Z'), offsetMin: -420, basis: 'explicit' });
  assert.deepEqual(t(1648749825.1234567), { ms: 1648749825123, offsetMin: 0, basis: 'explicit' });
  assert.deepEqual(t(1648749825.123), { ms: 1648749825123, offsetMin: 0, basis: 'explicit' });
  assert.equal(t('yesterday'), null);
});

test('txn with a put in the success branch (k3s-io/k3s#4787 literal line)', () => {
  const line = String.raw`{"level":"warn","ts":"2022-03-17T17:22:25.524-0700","caller":"etcdserver/util.go:123","msg":"failed to apply request","took":"13.615µs","request":"header:<ID:16997569631317705995 username:\"etcd-client\" auth_revision:1 > txn:<compare:<target:MOD key:\"/bootstrap/ef5238a9efa0\" mod_revision:0 > success:<request_put:<key:\"/bootstrap/ef5238a9efa0\" value_size:12665 >> failure:<>>","response":"","error":"etcdserver: no space"}`;
  const out = one(`Mar 17 17:22:25 host k3s[22301]: ${line}`, { tz: null, member: null, referenceMs: Date.parse('2022-04-01T00:00:00Z') });
  const ev = out[0] as LogEvent;
  assert.equal(ev.event, 'etcd.apply.failed');
  assert.equal(ev.detail.op, 'txn');
  assert.equal(ev.member, 'host'); // no --member: the journald host
  assert.deepEqual(ev.time, { ms: Date.parse('2022-03-18T00:22:25.524Z'), offsetMin: -420, basis: 'explicit' }); // inner ts wins
  assert.deepEqual(requests(out).map((r) => [r.op, r.key, r.valueSize, r.lease, r.inTxn, r.outcome, r.tookMs]), [
    ['put', '/bootstrap/ef5238a9efa0', 12665, null, true, 'failed', 0.013615],
  ]);
});

test('a txn without puts gives one txn row (constructed from the txn stringer format)', () => {
  const out = one(String.raw`{"level":"warn","ts":"2023-09-26T15:42:23.663+0800","msg":"failed to apply request","took":"5µs","request":"header:<ID:3 > txn:<compare:<target:MOD key:\"/service/pg/leader\" mod_revision:5 > success:<request_delete_range:<key:\"/service/pg/leader\" >> failure:<>>","response":"","error":"etcdserver: no space"}`);
  assert.deepEqual(requests(out).map((r) => [r.op, r.key, r.inTxn, r.tookMs]), [['txn', '/service/pg/leader', false, 0.005]]);
});

test('slow read-only range, zap (etcd-io/etcd#17855 literal) and capnslog (etcd-io/etcd#10174 literal)', () => {
  const z = one(String.raw`{"level":"warn","ts":"2024-04-22T17:18:03.213763+0800","caller":"etcdserver/util.go:170","msg":"apply request took too long","took":"3.000607371s","expected-duration":"100ms","prefix":"read-only range ","request":"key:\"/cs/leader\" range_end:\"/cs/leades\" sort_order:ASCEND sort_target:MOD ","response":"","error":"context deadline exceeded"}`);
  assert.equal((z[0] as LogEvent).event, 'etcd.apply.slow');
  assert.deepEqual(requests(z).map((r) => [r.op, r.key, r.rangeEnd, r.outcome, r.tookMs, r.error]), [
    ['range', '/cs/leader', '/cs/leades', 'slow', 3000.607371, 'context deadline exceeded'],
  ]);
  const c = one(String.raw`2018-10-11 08:36:19.724999 W | etcdserver: read-only range request "key:\"/registry/secrets/kube-system/x\" " with result "range_response_count:1 size:2579" took too long (1.602181876s) to execute`, { tz: null, member: null, referenceMs: 0 });
  const ev = c[0] as LogEvent;
  assert.deepEqual([ev.event, ev.level, ev.detail.prefix, ev.detail.error], ['etcd.apply.slow', 'warn', 'read-only range ', null]);
  assert.deepEqual(ev.time, { ms: Date.UTC(2018, 9, 11, 8, 36, 19, 724), offsetMin: null, basis: 'assumed-zone' });
  assert.deepEqual(requests(c).map((r) => [r.op, r.key, r.tookMs]), [['range', '/registry/secrets/kube-system/x', 1602.181876]]);
});

// Constructed from capnslog format strings (reference §4); no real sample of these wordings was captured.
test('capnslog 3.3.21 wording, journald-formatter bare message, journald-wrapped raft line', () => {
  const ctx: ParseContext = { tz: 'UTC', member: null, referenceMs: Date.parse('2020-06-01T00:00:00Z') };
  const old = one('2020-05-26 06:59:12.000100 W | etcdserver: failed to apply request,took 1.5ms,request header:<ID:1 > put:<key:"/a,resp b" value_size:3 >,resp ,err is etcdserver: no space', ctx);
  assert.deepEqual(requests(old).map((r) => [r.key, r.valueSize, r.error, r.tookMs]), [['/a,resp b', 3, 'etcdserver: no space', 1.5]]);

  const j = one(String.raw`May 26 06:59:12 node-a etcd[95994]: failed to apply request "header:<ID:1 > put:<key:\"test\" value_size:4 >" with response "" took (2.1ms) to execute, err is etcdserver: no space`, ctx);
  const ev = j[0] as LogEvent;
  assert.deepEqual([ev.event, ev.level, ev.member], ['etcd.apply.failed', null, 'node-a']);
  assert.deepEqual(ev.time, { ms: Date.UTC(2020, 4, 26, 6, 59, 12), offsetMin: null, basis: 'assumed-zone-year' });
  assert.deepEqual(requests(j).map((r) => [r.key, r.valueSize, r.tookMs]), [['test', 4, 2.1]]);

  const r = one('Nov 20 16:17:53 node-b etcd[123]: raft2020/11/20 16:17:53 INFO: 8e9e05c52164694d changed leader from 1 to 8e9e05c52164694d at term 7', { ...ctx, member: 'etcd-b' });
  const rev = r[0] as LogEvent;
  assert.deepEqual(rev.detail, { change: 'changed', term: 7, node: '8e9e05c52164694d', leader: '8e9e05c52164694d', previousLeader: '1', pkg: 'raft' });
  assert.equal(rev.member, 'etcd-b');
  assert.equal(rev.time?.basis, 'assumed-zone');

  const sp = one('raft 2024/02/17 09:53:19 WARN: 8e9e05c52164694d lost leader 1a at term 3', ctx)[0] as LogEvent;
  assert.deepEqual([sp.event, sp.level, sp.detail.change, sp.detail.previousLeader], ['etcd.leader.changed', 'warn', 'lost', '1a']);

  const zj = one('Nov 20 16:17:53 node-b etcd[123]: {"level":"info","msg":"compact tree index","revision":5}', ctx)[0] as LogEvent;
  assert.equal(zj.time?.basis, 'assumed-zone-year'); // no inner ts: the journald prefix
});

test('capnslog level letters', () => {
  const lvl = (L: string) => (one(`2023-01-02 03:04:05.678901 ${L} | etcdserver: hello`)[0] as LogEvent).level;
  assert.deepEqual(['C', 'E', 'W', 'N', 'I', 'D', 'T'].map(lvl), ['critical', 'error', 'warn', 'notice', 'info', 'debug', 'debug']);
});

test('classification of catalogued messages (reference §3.2 / §4 constructed examples)', () => {
  const k = (line: string) => {
    const e = one(line)[0] as LogEvent;
    return [e.event, e.detail] as const;
  };
  const ts = '"ts":"2023-09-26T15:42:23.663+0800"';
  assert.deepEqual(k(`{"level":"warn",${ts},"caller":"etcdserver/server.go:2395","msg":"message exceeded backend quota; raising alarm","quota-size-bytes":2147483648,"quota-size":"2.1 GB","error":"etcdserver: no space"}`),
    ['etcd.quota.exceeded', { quotaBytes: 2147483648, error: 'etcdserver: no space' }]);
  assert.deepEqual(k('2023-09-26 15:42:23.663000 E | etcdserver: applying raft message exceeded backend quota'), ['etcd.quota.exceeded', { pkg: 'etcdserver' }]);
  assert.deepEqual(k(`{"level":"warn",${ts},"msg":"serving /health false due to an alarm","alarm":"memberID:10276657743932975437 alarm:NOSPACE "}`),
    ['etcd.health.false', { reason: 'an alarm', alarm: 'NOSPACE' }]);
  assert.equal(k('2023-09-26 15:42:23.663000 W | etcdserver/api/etcdhttp: /health error due to memberID:10276657743932975437 alarm:NOSPACE ')[1].alarm, 'NOSPACE');
  assert.deepEqual(k(`{"level":"info",${ts},"msg":"finished scheduled compaction","compact-revision":9911,"took":"66.589971ms","hash":754823375}`),
    ['etcd.compaction.finished', { revision: 9911, tookMs: 66.589971, hash: 754823375, dbSizeBytes: null, dbSizeInUseBytes: null }]);
  assert.deepEqual(k(`{"level":"info",${ts},"msg":"completed auto periodic compaction","revision":120,"compact-period":"1h0m0s","took":"1h0m0.5s"}`),
    ['etcd.compaction.auto', { phase: 'completed', mode: 'periodic', revision: 120, tookMs: 3600500, error: null }]);
  assert.deepEqual(k('2023-09-26 15:42:23.663000 N | compactor: Starting auto-compaction at revision 6662600 (retention: 1h0m0s)'),
    ['etcd.compaction.auto', { phase: 'started', revision: 6662600, mode: 'periodic', pkg: 'compactor' }]);
  assert.deepEqual(k('2023-09-26 15:42:23.663000 N | compactor: Failed auto-compaction at revision 5 (mvcc: required revision has been compacted)')[1],
    { phase: 'failed', revision: 5, error: 'mvcc: required revision has been compacted', pkg: 'compactor' });
  assert.deepEqual(k(`{"level":"warn",${ts},"msg":"failed to defragment","error":"context canceled"}`), ['etcd.defrag.failed', { error: 'context canceled' }]);
  assert.deepEqual(k('2023-09-26 15:42:23.663000 W | wal: sync duration of 1.5s, expected less than 1s'),
    ['etcd.fdatasync.slow', { tookMs: 1500, expectedMs: 1000, pkg: 'wal' }]);
  assert.deepEqual(k(`{"level":"warn",${ts},"msg":"slow fdatasync","took":"1.1s","expected-duration":"1s"}`), ['etcd.fdatasync.slow', { tookMs: 1100, expectedMs: 1000 }]);
  assert.deepEqual(k('2023-09-26 15:42:23.663000 W | etcdserver: failed to send out heartbeat on time (exceeded the 100ms timeout for 20ms, to 8e9e05c52164694d)')[1],
    { to: '8e9e05c52164694d', heartbeatIntervalMs: 100, exceededMs: 20, pkg: 'etcdserver' });
  assert.deepEqual(k('2023-09-26 15:42:23.663000 I | etcdserver/api/v3rpc: sending database snapshot to client 2.1 GB [2147483648 bytes]')[1],
    { phase: 'started', totalBytes: 2147483648, pkg: 'etcdserver/api/v3rpc' });
  assert.deepEqual(k('2023-09-26 15:42:23.663000 W | etcdserver: backend quota 9589934592 exceeds maximum recommended quota 8589934592'),
    ['etcd.quota.config', { setting: 'exceeds-maximum', quotaBytes: 9589934592, quotaMaximumBytes: 8589934592, pkg: 'etcdserver' }]);
  assert.deepEqual(k('2023-09-26 15:42:23.663000 E | etcdserver/api/v3rpc: failed to defragment the storage backend (timeout)')[0], 'etcd.defrag.failed');
});

test('a revision beyond 2^53-1 in a zap number field is a skipped line naming the field (issue 14; was kept as text)', () => {
  const i = one('{"level":"info","ts":"2023-09-26T15:42:23.663+0800","msg":"compact tree index","revision":18446744073709551615}')[0] as ParseIssue;
  assert.equal(i.kind, 'issue');
  assert.match(i.reason, /^number out of range: revision 18446744073709551615 is beyond 2\^53-1/);
});

test('issues: short and specific reasons, never a throw', () => {
  const reason = (l: string) => (one(l)[0] as ParseIssue).reason;
  assert.equal(reason('{"level":"warn","ts":"2023-09-26T15:42:23.663+0800","msg":"failed to apply req'), 'truncated JSON');
  assert.equal(reason('{"level":"warn",,}'), 'invalid JSON');
  assert.equal(reason('{"a":1}'), 'JSON without level and msg');
  assert.equal(reason('hello world'), 'not an etcd log line');
  assert.equal(reason('Nov 20 16:17:53 postgres-3 patroni[11292]: 2023-11-20 16:17:53,123 INFO: no action'), 'journald line from patroni');
  assert.deepEqual(one(''), []);
  const long = `x${'y'.repeat(500)}`;
  assert.ok((one(long)[0] as ParseIssue).excerpt.length <= 201);
});

test('looksLikeEtcdLogLine', () => {
  const yes = [
    '{"level":"warn","ts":"2023-09-26T15:42:23.663+0800","caller":"etcdserver/apply.go:639","msg":"alarm raised","alarm":"NOSPACE"}',
    '2026-11-24 07:25:12.946227 W | etcdserver: alarm NOSPACE raised by peer b219ba5663b08961',
    'raft2026/11/24 07:23:33 INFO: raft.node: 3b5a7c07cc43cd92 elected leader b219ba5663b08961 at term 2',
    'raft 2024/02/17 09:53:19 INFO: 1 became leader at term 2',
    'Mar 17 17:22:25 host k3s[22301]: {"level":"warn","ts":"2022-03-17T17:22:25.524-0700","msg":"x"}',
    'Nov 20 16:17:53 host etcd[123]: 2026-11-24 07:25:12.946227 W | etcdserver: x',
    'May 26 06:59:12 host etcd[95994]: failed to apply request "x"',
    '11月 20 16:17:52 postgres-3 etcd[1234]: {"level":"warn","ts":"2023-11-20T16:17:52.663+0800","caller":"etcdserver/util.go:123","msg":"x"}',
  ];
  const no = [
    '2023-09-24 04:30:23 +0800 ERROR: Error communicating with DCS',
    '2023-11-20 16:17:53,123 INFO: no action. I am (postgres-3), a secondary',
    'Nov 20 16:17:53 postgres-3 patroni[11292]: 2023-11-20 16:17:53,123 INFO: no action',
    '11月 20 16:17:52 postgres-3 patroni[11292]: 2023-11-20 16:17:52,123 INFO: no action',
    '{"a":1}',
    '{"level":"info","msg":"x"}',
    '+-----------+',
    '',
  ];
  for (const l of yes) assert.equal(looksLikeEtcdLogLine(l), true, l);
  for (const l of no) assert.equal(looksLikeEtcdLogLine(l), false, l);
});

function checkOutputs(line: string, out: ParseOutput[]): void {
  if (line.trim() === '') return;
  assert.ok(out.length >= 1);
  assert.ok(out[0]!.kind === 'event' || out[0]!.kind === 'issue');
  for (const o of out) assert.ok(['event', 'request', 'issue'].includes(o.kind));
  if (out[0]!.kind === 'issue') assert.equal(out.length, 1);
}

test('property: arbitrary strings never throw and yield an event or an issue', () => {
  const prefixes = fc.constantFrom('', '{', '2023-09-26 15:42:23.663000 W | etcdserver: ', 'raft2023/09/26 15:42:23 INFO: ',
    'Nov 20 16:17:53 h etcd[1]: ', 'WARNING: 2026/11/24 07:25:50 ', '[WARNING] ', 'failed to apply request "', 'alarm ');
  fc.assert(fc.property(prefixes, fc.string({ unit: 'binary' }), (p, s) => {
    const line = p + s;
    checkOutputs(line, parseEtcdLogLine(line, 1, SHANGHAI));
    looksLikeEtcdLogLine(line);
  }), { numRuns: 3000 });
});

test('property: arbitrary JSON objects never throw and yield an event or an issue', () => {
  const msgs = fc.constantFrom('failed to apply request', 'apply request took too long', 'alarm raised', 'defragmented',
    'finished scheduled compaction', 'compact tree index', 'serving /health false', '1 became leader at term 2', 'x');
  const known = fc.record({
    level: fc.oneof(fc.constantFrom('warn', 'info', 'dpanic'), fc.string()),
    ts: fc.oneof(fc.string(), fc.double(), fc.constant('2023-09-26T15:42:23.663+0800'), fc.integer()),
    msg: msgs,
    request: fc.oneof(fc.string(), fc.constant('header:<ID:1 > txn:<success:<request_put:<key:"a" >>>'), fc.integer()),
    took: fc.oneof(fc.string(), fc.integer()),
    revision: fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
  }, { requiredKeys: ['level', 'msg'] });
  fc.assert(fc.property(fc.oneof(fc.object(), known, fc.jsonValue()), fc.boolean(), (o, wrap) => {
    const json = JSON.stringify(o) ?? 'null';
    const line = wrap ? `Nov 20 16:17:53 h etcd[1]: ${json}` : json;
    checkOutputs(line, parseEtcdLogLine(line, 1, SHANGHAI));
  }), { numRuns: 3000 });
});

test('property: capnslog local times equal localTime() per line, across DST changes (hour cache)', () => {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const zones = fc.constantFrom('America/New_York', 'Europe/Berlin', 'Asia/Shanghai', '+05:30', null);
  const day = fc.constantFrom([2024, 3, 10], [2024, 11, 3], [2024, 3, 31], [2024, 10, 27], [2023, 9, 26]);
  fc.assert(fc.property(zones, day, fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }),
    fc.integer({ min: 0, max: 999999 }), (tz, [y, mo, d], h, mi, s, us) => {
      const line = `${y}-${pad(mo!)}-${pad(d!)} ${pad(h)}:${pad(mi)}:${pad(s)}.${pad(us, 6)} I | etcdserver: x`;
      const got = (parseEtcdLogLine(line, 1, { tz, member: null, referenceMs: 0 })[0] as LogEvent).time;
      assert.deepEqual(got, localTime(y!, mo!, d!, h, mi, s, Math.floor(us / 1000), tz, 'assumed-zone'));
    }), { numRuns: 2000 });
});
