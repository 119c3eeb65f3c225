// etcd log messages across versions (capnslog 3.0–3.4, zap 3.4/3.5/3.6) and k3s/RKE2 journals that carry
// embedded etcd's zap between k3s's own logrus lines. Fixtures: real captures (etcd-3.4/), lines derived from
// them by documented transformations (etcd-3.6-derived/), and real lines people posted (k3s-derived/, and
// the quoted lines below with their URLs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createEtcdLogParser, looksLikeEtcdLogLine } from '../src/sources/etcd-log/parser.js';
import { detectTextKind } from '../src/ingest/detect.js';
import type { EventKind, LogEvent, ParseContext, ParseIssue, ParseOutput, StatusSample } from '../src/model.js';

const FIX = new URL('./fixtures/', import.meta.url);
const UTC: ParseContext = { tz: null, member: null, referenceMs: Date.parse('2022-04-30T00:00:00Z') };

function readLines(rel: string): string[] {
  const lines = readFileSync(new URL(rel, FIX), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function parseLines(lines: string[], ctx: ParseContext = UTC): ParseOutput[] {
  const p = createEtcdLogParser(ctx);
  return [...lines.flatMap((l, i) => p.push(l, i + 1)), ...p.end()];
}

const events = (out: ParseOutput[], kind?: EventKind): LogEvent[] =>
  out.filter((o): o is LogEvent => o.kind === 'event' && (kind === undefined || o.event === kind));
const samples = (out: ParseOutput[]): StatusSample[] => out.filter((o): o is StatusSample => o.kind === 'status');
const issues = (out: ParseOutput[]): ParseIssue[] => out.filter((o): o is ParseIssue => o.kind === 'issue');
const iso = (e: { time: { ms: number } | null }): string | null => (e.time ? new Date(e.time.ms).toISOString() : null);

test('3.6 (derived): the quota line raises NOSPACE once per burst; saved snapshot to disk; defrag size sample', () => {
  const out = parseLines(readLines('etcd-3.6-derived/etcd-zap-3.6.log'));
  assert.equal(issues(out).length, 0);
  const [start] = events(out, 'etcd.start');
  assert.equal(start?.detail.version, '3.6.0');
  const quota = events(out, 'etcd.quota.exceeded');
  assert.equal(quota.length, 4);
  const alarms = events(out, 'etcd.alarm.raised');
  assert.equal(alarms.length, 1, 'four quota lines within 8 ms are one raising');
  assert.equal(alarms[0]!.line, quota[0]!.line);
  assert.equal(iso(alarms[0]!), '2026-11-23T23:28:37.791Z');
  assert.deepEqual(alarms[0]!.detail, { alarm: 'NOSPACE', from: null, impliedBy: 'message exceeded backend quota; raising alarm' });
  assert.equal(alarms[0]!.member, 'etcd1');
  assert.equal(events(out, 'etcd.alarm.disarmed').length, 0);
  const snaps = events(out, 'etcd.snapshot.saved');
  assert.deepEqual(snaps.map((e) => [iso(e), e.detail.index, e.detail.toDisk]), [
    ['2026-11-23T23:27:46.163Z', 2001, true], ['2026-11-23T23:28:35.067Z', 4002, true],
  ]);
  assert.equal(events(out, 'etcd.raftlog.compacted').length, 0, '3.6 logs compacted Raft logs at debug only');
  const [defrag] = events(out, 'etcd.defrag.finished').filter((e) => e.detail.source === 'backend');
  assert.equal(defrag?.detail.dbSizeBytes, 24576);
  assert.equal(defrag?.detail.dbSizeDiffBytes, -1028096);
  const s = samples(out);
  assert.equal(s.length, 1);
  assert.deepEqual([s[0]!.format, s[0]!.endpoint, iso(s[0]!), s[0]!.dbSizeBytes, s[0]!.dbSizeInUseBytes, s[0]!.line],
    ['log', 'etcd1', '2026-11-23T23:28:59.836Z', 24576, 16384, defrag!.line]);
  assert.deepEqual(events(out, 'etcd.peer.active').map((e) => [iso(e), e.detail.peer]), [['2026-11-23T23:26:50.039Z', '8da3cac7b0ff797d']]);
  const [inactive] = events(out, 'etcd.peer.inactive');
  assert.equal(inactive?.detail.peer, '8da3cac7b0ff797d');
  assert.match(String(inactive?.detail.error), /^failed to dial 8da3cac7b0ff797d on stream Message/);
});

test('3.6 (derived) without the start-up line: a 3.6-only message tells the version; with neither, no alarm is implied', () => {
  const lines = readLines('etcd-3.6-derived/etcd-zap-3.6.log');
  const afterStart = lines.slice(3); // from line 4: no `starting an etcd server`, `saved snapshot to disk` comes first
  assert.equal(events(parseLines(afterStart), 'etcd.alarm.raised').length, 1);
  const lastSnapshot = lines.map((l) => l.includes('"saved snapshot to disk"')).lastIndexOf(true);
  const blind = lines.slice(lastSnapshot + 1); // quota lines with nothing that names 3.6 before them
  const out = parseLines(blind);
  assert.equal(events(out, 'etcd.quota.exceeded').length, 4);
  assert.equal(events(out, 'etcd.alarm.raised').length, 0, 'the version is unknown: 3.4/3.5 would log alarm raised itself');
});

test('3.4 zap (real): alarm raised stays the one real line; saved snapshot, compacted Raft logs, peers; no size sample from 3.4 defrag', () => {
  const out = parseLines(readLines('etcd-3.4/etcd-zap.log'));
  assert.equal(events(out, 'etcd.quota.exceeded').length, 4);
  const alarms = events(out, 'etcd.alarm.raised');
  assert.deepEqual(alarms.map((e) => [iso(e), e.detail.alarm, e.detail.from]), [['2026-11-23T23:28:37.799Z', 'NOSPACE', '935e65ab14460fee']]);
  assert.deepEqual(events(out, 'etcd.snapshot.saved').map((e) => [e.detail.index, e.detail.toDisk]), [[2001, undefined], [4002, undefined]]);
  assert.deepEqual(events(out, 'etcd.raftlog.compacted').map((e) => [iso(e), e.detail.index]), [['2026-11-23T23:27:46.165Z', 1]]);
  assert.equal(events(out, 'etcd.peer.active').length, 1);
  assert.equal(events(out, 'etcd.peer.inactive').length, 1);
  assert.equal(samples(out).length, 0);
});

test('3.4 capnslog (real): peer active/inactive, saved snapshot at index, compacted raft log at', () => {
  const tz: ParseContext = { tz: 'Asia/Shanghai', member: null, referenceMs: Date.parse('2026-11-25T00:00:00Z') };
  const out = parseLines(readLines('etcd-3.4/etcd-capnslog.log'), tz);
  assert.deepEqual(events(out, 'etcd.peer.active').map((e) => [iso(e), e.detail.peer, e.member]),
    [['2026-11-23T23:26:50.036Z', '935e65ab14460fee', 'etcd2']]);
  assert.deepEqual(events(out, 'etcd.peer.inactive').map((e) => [iso(e), e.detail.peer]), [['2026-11-23T23:29:18.133Z', '935e65ab14460fee']]);
  assert.deepEqual(events(out, 'etcd.snapshot.saved').map((e) => [iso(e), e.detail.index, e.detail.pkg]), [
    ['2026-11-23T23:27:46.161Z', 2001, 'etcdserver'], ['2026-11-23T23:28:35.066Z', 4002, 'etcdserver'],
  ]);
  assert.deepEqual(events(out, 'etcd.raftlog.compacted').map((e) => [iso(e), e.detail.index]), [['2026-11-23T23:27:46.161Z', 1]]);
});

test('capnslog 3.0–3.2 (real, etcd#7507): apply entries took too long with the entry count', () => {
  // https://github.com/etcd-io/etcd/issues/7507 (etcd 3.1, 2017-03-15), lines as posted.
  const out = parseLines([
    '2017-03-15 13:00:43.015534 W | etcdserver: apply entries took too long [104.2239ms for 1 entries]',
    '2017-03-15 13:00:43.015534 W | etcdserver: avoid queries with large range/delete range!',
    '2017-03-15 13:01:12.926028 I | etcdserver: saved snapshot at index 600060',
    '2017-03-15 13:01:12.927032 I | etcdserver: compacted raft log at 595060',
  ]);
  const [slow] = events(out, 'etcd.apply.slow');
  assert.deepEqual([iso(slow!), slow!.level, slow!.detail.tookMs, slow!.detail.entries], ['2017-03-15T13:00:43.015Z', 'warn', 104.2239, 1]);
  assert.equal(out.filter((o) => o.kind === 'request').length, 0);
  // kubernetes#34709: a batch of 9 entries
  const [batch] = events(parseLines(['2016-10-13 15:37:09.802924 W | etcdserver: apply entries took too long [4.928543692s for 9 entries]']));
  assert.deepEqual([batch!.event, batch!.detail.tookMs, batch!.detail.entries], ['etcd.apply.slow', 4928.543692, 9]);
  assert.deepEqual(events(out, 'etcd.snapshot.saved').map((e) => [iso(e), e.detail.index]), [['2017-03-15T13:01:12.926Z', 600060]]);
  assert.deepEqual(events(out, 'etcd.raftlog.compacted').map((e) => e.detail.index), [595060]);
});

test('3.5.12+/3.6 finished scheduled compaction (real, etcd#17232): sizes become a size sample', () => {
  // https://github.com/etcd-io/etcd/issues/17232: main-branch unit test output (test logger: no ts, no caller).
  const line = '{"level":"info","msg":"finished scheduled compaction","compact-revision":9918,"took":"60.122598ms","hash":1855345291,'
    + '"current-db-size-bytes":675840,"current-db-size":"676 kB","current-db-size-in-use-bytes":49152,"current-db-size-in-use":"49 kB"}';
  const out = parseLines([line], { ...UTC, member: 'etcd-a' });
  const [c] = events(out, 'etcd.compaction.finished');
  assert.deepEqual(c?.detail, { revision: 9918, tookMs: 60.122598, hash: 1855345291, dbSizeBytes: 675840, dbSizeInUseBytes: 49152 });
  const [s] = samples(out);
  assert.deepEqual([s?.endpoint, s?.time, s?.dbSizeBytes, s?.dbSizeInUseBytes, s?.revision], ['etcd-a', null, 675840, 49152, null]);
  // 3.5.0–3.5.11 (our 3.4 capture's form): no sizes, no sample.
  const old = parseLines(['{"level":"info","ts":"2026-11-24T07:28:59.489+0800","caller":"mvcc/kvstore_compaction.go:56","msg":"finished scheduled compaction","compact-revision":3912,"took":"112.138723ms"}']);
  assert.equal(samples(old).length, 0);
  assert.equal(events(old, 'etcd.compaction.finished')[0]?.detail.revision, 3912);
});

test('k3s journal (real, syslog prefix): logrus and zap interleaved; k3s defrag; the member is the host', () => {
  const lines = readLines('k3s-derived/k3s-syslog-defrag.log');
  assert.equal(detectTextKind(lines).kind, 'etcd-log');
  const out = parseLines(lines);
  assert.equal(issues(out).length, 0);
  const all = events(out);
  assert.equal(all.length, 9);
  assert.ok(all.every((e) => e.member === 'del-1'));
  const started = events(out, 'etcd.defrag.started');
  assert.deepEqual(started.map((e) => [e.line, iso(e), e.detail.source]), [
    [4, '2022-04-07T08:25:14.000Z', 'k3s'], [5, '2022-04-07T08:25:14.583Z', 'rpc'], [6, '2022-04-07T08:25:14.585Z', 'backend'],
  ]);
  assert.deepEqual(all.filter((e) => e.level === 'error').map((e) => [e.line, e.message]), [
    [2, 'Failed to connect to proxy'], [3, 'Remotedialer proxy error'],
  ]);
  assert.equal(all[0]!.time?.offsetMin, 480);
  const [s] = samples(out);
  assert.deepEqual([s?.line, s?.endpoint, iso(s!), s?.dbSizeBytes, s?.dbSizeInUseBytes], [7, 'del-1', '2022-04-07T08:25:14.635Z', 1462272, 1454080]);
});

test('k3s stdout (real, rancher/k3k#815): NOSPACE from k3s, datastore size, 2 GB defrag', () => {
  const lines = readLines('k3s-derived/k3s-stdout-nospace.log');
  assert.equal(detectTextKind(lines).kind, 'etcd-log');
  const out = parseLines(lines, { ...UTC, member: 'k3s-server-0' });
  assert.equal(issues(out).length, 0);
  const [size] = events(out, 'etcd.db.size');
  assert.deepEqual([iso(size!), size!.detail.version, size!.detail.dbSizeBytes, size!.detail.dbSizeInUseBytes],
    ['2026-04-27T19:57:45.000Z', 'v3.5.21', 2147483648, 2147475456]);
  const [alarm] = events(out, 'etcd.alarm.raised');
  assert.deepEqual([alarm!.line, alarm!.level, iso(alarm!)], [2, 'warn', '2026-04-27T19:57:45.000Z']);
  assert.deepEqual(alarm!.detail, { alarm: 'NOSPACE', from: BigInt('13118187214589646828').toString(16), source: 'k3s', observed: 'status-errors' });
  assert.equal(alarm!.detail.from, 'b60d29c4beafd7ec');
  assert.deepEqual(events(out, 'etcd.defrag.started').map((e) => e.detail.source), ['k3s', 'rpc', 'backend']);
  assert.deepEqual(samples(out).map((s) => [s.line, iso(s), s.endpoint, s.dbSizeBytes, s.dbSizeInUseBytes]), [
    [1, '2026-04-27T19:57:45.000Z', 'k3s-server-0', 2147483648, 2147475456],
    [7, '2026-04-27T19:58:12.918Z', 'k3s-server-0', 2147487744, 2147475456],
  ]);
  const [fin] = events(out, 'etcd.defrag.finished');
  assert.deepEqual([fin!.detail.dbSizeDiffBytes, fin!.detail.tookMs], [4096, 26992.719903]);
});

test('k3s (real, k3s#9251): logrus nanosecond +01:00 times; lines cut by the pager are issues, not crashes', () => {
  const lines = readLines('k3s-derived/k3s-9251.log');
  // 7 of its 9 lines are cut JSON: detection does not take such a paste for a log (2 of 9 recognised).
  assert.equal(detectTextKind(lines).kind, 'transcript');
  const out = parseLines(lines);
  const logrus = events(out).filter((e) => e.detail.logger === 'k3s');
  assert.deepEqual(logrus.map((e) => [e.line, iso(e), e.time?.offsetMin, e.level]), [
    [4, '2024-01-17T13:53:55.195Z', 60, 'info'], [9, '2024-01-17T13:54:00.637Z', 60, 'error'],
  ]);
  assert.equal(logrus[0]!.message, 'Failed to test data store connection: context deadline>');
  assert.deepEqual(issues(out).map((i) => [i.line, i.reason]), [1, 2, 3, 5, 6, 7, 8].map((n) => [n, 'truncated JSON']));
});

test('logrus detection and classification: UTC and offset times, k3s alarm list lines, bare msg values', () => {
  // Forms from k3s pkg/etcd/etcd.go (clearAlarms, defragment); values are those of the real lines above.
  assert.equal(looksLikeEtcdLogLine('time="2024-05-01T10:00:00Z" level=info msg="Defragmenting etcd database"'), true);
  assert.equal(looksLikeEtcdLogLine('{"level":"info","ts":"2026-04-28T03:57:45.925671+0800","caller":"v3rpc/maintenance.go:92","msg":"starting defragment"}'), true);
  assert.equal(looksLikeEtcdLogLine('time is not a logrus line'), false);
  const out = parseLines([
    'time="2024-05-01T10:00:00Z" level=warning msg="Alarm on etcd member 13118187214589646828: NOSPACE"',
    'time="2024-05-01T12:00:00.5+02:00" level=info msg="Alarms disarmed on etcd server"',
    'time="2024-05-01T10:00:01Z" level=info msg=Starting',
    'time="2024-05-01T10:00:02Z" level=fatal msg="etcdserver: mvcc: database space exceeded"',
  ]);
  assert.deepEqual(events(out).map((e) => [e.event, iso(e), e.level]), [
    ['etcd.alarm.raised', '2024-05-01T10:00:00.000Z', 'warn'],
    ['etcd.alarm.disarmed', '2024-05-01T10:00:00.500Z', 'info'],
    ['etcd.other', '2024-05-01T10:00:01.000Z', 'info'],
    ['etcd.quota.exceeded', '2024-05-01T10:00:02.000Z', 'fatal'],
  ]);
  assert.deepEqual(events(out)[0]!.detail, { alarm: 'NOSPACE', from: 'b60d29c4beafd7ec', source: 'k3s', observed: 'alarm-list' });
  assert.equal(events(out)[2]!.message, 'Starting');
});

test('real posted lines of other versions: 2.x peer loss, membership, 3.5 start-up, slow request stats, logrus on a TTY', () => {
  const lines = [
    // etcd#3639 (etcd 2.x on CoreOS, journald): rafthttp's older wording.
    'Oct 05 00:59:32 core-01 etcd2[1163]: the connection with 420c9b9a89d8b23d became inactive',
    // etcd#9054 (capnslog 3.2): membership.
    '2017-12-20 02:21:18.068065 I | etcdserver/membership: added member a9efae717f838092 [https://ETCD-206-8-2-9160-10-2-31-0.grm-etcd.manage.svc.cluster.grm:11006] to cluster a10f21f554347d1a',
    // etcd#9054 (zap 3.5.5): etcdserver/server.go's start-up line.
    '{"level":"info","ts":"2023-01-04T07:16:25.969+0800","caller":"etcdserver/server.go:845","msg":"starting etcd server","local-member-id":"85c81a44f6d86d35","local-server-version":"3.5.5","cluster-id":"ac30f279f94cbb6a","cluster-version":"3.4"}',
    // k3s#4787: v3rpc's slow request warning.
    '{"level":"warn","ts":"2022-03-17T17:23:36.482-0700","caller":"v3rpc/interceptor.go:197","msg":"request stats","start time":"2022-03-17T17:23:33.580-0700","time spent":"2.901272452s","remote":"127.0.0.1:52828","response type":"/etcdserverpb.KV/Range","request count":0,"request size":26,"response count":1,"response size":172,"request content":"key:\\"k3s/etcd/learnerProgress\\" "}',
    // k3s#6690: k3s run by hand, logrus on a terminal (seconds since start, no time).
    'WARN[0052] Alarm on etcd member 9639983885888023861: NOSPACE ',
  ];
  for (const l of lines) assert.equal(looksLikeEtcdLogLine(l), true, l);
  const out = parseLines(lines);
  assert.deepEqual(events(out).map((e) => [e.event, iso(e)]), [
    ['etcd.peer.inactive', '2021-10-05T00:59:32.000Z'], // no year: the latest October before the reference time
    ['etcd.member.changed', '2017-12-20T02:21:18.068Z'],
    ['etcd.start', '2023-01-03T23:16:25.969Z'],
    ['etcd.request.slow', '2022-03-18T00:23:36.482Z'],
    ['etcd.alarm.raised', null],
  ]);
  const [peer, member, start, slow, alarm] = events(out);
  assert.equal(peer!.detail.peer, '420c9b9a89d8b23d');
  assert.deepEqual([member!.detail.action, member!.detail.member, member!.detail.cluster], ['added', 'a9efae717f838092', 'a10f21f554347d1a']);
  assert.deepEqual([start!.detail.version, start!.detail.member], ['3.5.5', '85c81a44f6d86d35']);
  assert.equal(slow!.detail.tookMs, 2901.272452);
  assert.deepEqual([alarm!.detail.alarm, alarm!.detail.from, alarm!.level], ['NOSPACE', '85c81a44f6d86d35', 'warn']);
});

test('k3s start-up line (k3s#4787) is a start event with the k3s version', () => {
  const out = parseLines(['Mar 17 17:22:21 antikythera k3s[22301]: time="2022-03-17T17:22:21-07:00" level=info msg="Starting k3s v1.23.4+k3s-95f66a04 (95f66a04)"']);
  const [e] = events(out);
  assert.deepEqual([e!.event, iso(e!), e!.detail.k3sVersion, e!.member], ['etcd.start', '2022-03-18T00:22:21.000Z', 'v1.23.4+k3s-95f66a04', 'antikythera']);
});

test('raft vote lines around an election (patroni#3407, zap behind journald) are election events with peer and term', () => {
  const out = parseLines([
    'Jun  5 17:10:04 vdlpjabberdb1 etcd[1469]: {"level":"info","ts":"2025-06-05T17:10:03.583842+0300","logger":"raft","caller":"etcdserver/zap_raft.go:77","msg":"2abf76fc689f1968 [logterm: 358, index: 129721171, vote: 2abf76fc689f1968] ignored MsgPreVote from a2d20e2ccf5be40c [logterm: 358, index: 129721171] at term 358: lease is not expired (remaining ticks: 10)"}',
  ]);
  const [e] = events(out);
  assert.equal(e!.event, 'etcd.election');
  assert.equal(iso(e!), '2025-06-05T14:10:03.583Z');
  assert.deepEqual(e!.detail, { node: '2abf76fc689f1968', action: 'ignored', vote: 'MsgPreVote', peer: 'a2d20e2ccf5be40c', term: 358, reason: 'lease is not expired (remaining ticks: 10)' });
});
