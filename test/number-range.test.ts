// Numbers out of range for their field are a skipped line naming the field: never a silent NULL, a dropped
// member, a rounded revision or a float (issue 14). Every input here is a REAL captured line from
// test/fixtures (etcd 3.4.23 / 3.5.16 capture, files named in each case) modified ONLY in the one number
// under test; the unmodified line is parsed too and must give a record, so the test shows the number alone
// makes the difference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ParseIssue, ParseOutput } from '../src/model.js';
import { createParser } from '../src/ingest/parsers.js';
import { runCli, tempDir, FIXTURES } from './helpers/cli.js';

const CTX = { tz: null, member: null, referenceMs: Date.UTC(2026, 10, 24) };
const E34 = join(FIXTURES, 'etcd-3.4');
const E35 = join(FIXTURES, 'etcd-3.5.16');

function parse(kind: 'etcdctl' | 'etcd-log' | 'patroni-log', lines: readonly string[]): ParseOutput[] {
  const p = createParser(kind, CTX);
  const out: ParseOutput[] = [];
  lines.forEach((l, i) => out.push(...p.push(l, i + 1)));
  out.push(...p.end());
  return out;
}

const issuesOf = (o: ParseOutput[]) => o.filter((x): x is ParseIssue => x.kind === 'issue');
const recordsOf = (o: ParseOutput[]) => o.filter((x) => x.kind !== 'issue');

/** The file's lines; `from → to` replaces one number (asserted to be there exactly once). */
function realLines(file: string, from?: string, to?: string): string[] {
  const text = readFileSync(file, 'utf8');
  if (from === undefined || to === undefined) return text.split('\n');
  assert.equal(text.split(from).length - 1, 1, `${file}: ${from} occurs once`);
  return text.replace(from, to).split('\n');
}

/** Asserts the original gives records and no issue, and the modified text gives an issue naming `field`. */
function assertReported(kind: 'etcdctl' | 'etcd-log' | 'patroni-log', file: string, from: string, to: string, field: RegExp): ParseIssue {
  const before = parse(kind, realLines(file));
  assert.equal(issuesOf(before).length, 0, `${file} unmodified: ${JSON.stringify(issuesOf(before)[0])}`);
  assert.ok(recordsOf(before).length > 0);
  const after = parse(kind, realLines(file, from, to));
  const issues = issuesOf(after).filter((i) => i.reason.startsWith('number out of range'));
  assert.equal(issues.length, 1, `${file} with ${to}: ${JSON.stringify(issuesOf(after))}`);
  assert.match(issues[0]!.reason, field);
  // Nothing that was read carries the bad value, rounded or as a float.
  const tokens = (s: string): string[] => s.match(/-?\d[\d.eE+]*/g) ?? [];
  const bad = tokens(to).filter((t) => !tokens(from).includes(t));
  assert.equal(bad.length, 1, `one number changed: ${bad.join(', ')}`);
  const stored = JSON.stringify(recordsOf(after));
  for (const v of [bad[0]!, String(Number(bad[0]))]) assert.ok(!stored.includes(v), `${v} not stored`);
  return issues[0]!;
}

test('etcdctl -w json: member_id above 2^64 and negative, revision 2^53+1, dbSize 1.8e22 (endpoint-status.json.txt, 3.4.23)', () => {
  const f = join(E34, 'endpoint-status.json.txt');
  const doc = readFileSync(f, 'utf8');
  const firstMember = '"member_id":10206224139568511357';
  assert.ok(doc.includes(firstMember));
  // The status array is one document: the whole document is skipped (one issue) rather than read half.
  for (const [to, field] of [
    ['"member_id":18446744073709551616', /member_id 18446744073709551616 is beyond 2\^64-1/],
    ['"member_id":-10206224139568511357', /member_id -10206224139568511357 is negative/],
  ] as const) assertReported('etcdctl', f, firstMember, to, field);
  assertReported('etcdctl', f, '"dbSize":1048576,"leader":10206224139568511357,"raftIndex":4843,"raftTerm":2,"raftAppliedIndex":4843,"errors":["memberID:10619036756840157166 alarm:NOSPACE ","memberID:10206224139568511357 alarm:NOSPACE "],"dbSizeInUse":1036288}},{"Endpoint":"http://127.0.0.1:40479"',
    '"dbSize":1.8e22,"leader":10206224139568511357,"raftIndex":4843,"raftTerm":2,"raftAppliedIndex":4843,"errors":["memberID:10619036756840157166 alarm:NOSPACE ","memberID:10206224139568511357 alarm:NOSPACE "],"dbSizeInUse":1036288}},{"Endpoint":"http://127.0.0.1:40479"',
    /dbSize 1\.8e22 is not an integer/);
  assertReported('etcdctl', f, '"member_id":10206224139568511357,"revision":3912',
    '"member_id":10206224139568511357,"revision":9007199254740993', /revision 9007199254740993 is beyond 2\^53-1/);
});

test('etcdctl -w json: a member above 2^64 in member list is reported, not dropped (member-list.json.txt, 3.4.23)', () => {
  assertReported('etcdctl', join(E34, 'member-list.json.txt'), '{"ID":10206224139568511357', '{"ID":18446744073709551617', /ID 18446744073709551617 is beyond 2\^64-1/);
  assertReported('etcdctl', join(E34, 'alarm-list.json.txt'), '{"memberID":10619036756840157166', '{"memberID":-1', /memberID -1 is negative/);
  assertReported('etcdctl', join(E34, 'snapshot-status-nospace.json.txt'), '"revision":3912', '"revision":9007199254740993', /revision 9007199254740993 is beyond 2\^53-1/);
});

test('etcdctl -w fields, table and simple: the column or field is named (3.4.23 captures)', () => {
  const fields = join(E34, 'endpoint-status.fields.txt');
  const i = assertReported('etcdctl', fields, '"MemberID" : 10206224139568511357\n"Revision" : 3912\n"RaftTerm" : 2\n"Version" : "3.4.23"\n"DBSize" : 1048576\n"Leader" : 10206224139568511357\n"IsLearner" : false\n"RaftIndex" : 4855',
    '"MemberID" : 10206224139568511357\n"Revision" : 3912\n"RaftTerm" : 2\n"Version" : "3.4.23"\n"DBSize" : 1048576\n"Leader" : 10206224139568511357\n"IsLearner" : false\n"RaftIndex" : 9007199254740993',
    /RaftIndex 9007199254740993 is beyond 2\^53-1/);
  assert.equal(i.line, 9, 'the issue is on the RaftIndex line');
  assertReported('etcdctl', join(E34, 'member-list.fields.txt'), '"ID" : 10619036756840157166', '"ID" : 99999999999999999999', /ID 99999999999999999999 is beyond 2\^64-1/);
  assertReported('etcdctl', join(E34, 'endpoint-status.table.txt'), '|         2 |       4843 |               4843 |  memberID:10206224139568511357 |',
    '|         2 | 9007199254740993 |               4843 |  memberID:10206224139568511357 |', /RAFT INDEX 9007199254740993 is beyond 2\^53-1/);
  assertReported('etcdctl', join(E34, 'alarm-list.simple.txt'), 'memberID:10619036756840157166', 'memberID:18446744073709551616', /memberID 18446744073709551616 is beyond 2\^64-1/);
  assertReported('etcdctl', join(E34, 'recovery-02-compact.txt'), 'compacted revision 3912', 'compacted revision 9007199254740993', /revision 9007199254740993 is beyond/);
});

test('etcd log: zap and capnslog revisions, sizes, request leases, member ids and raft terms (3.4.23 / 3.5.16 logs)', () => {
  const zap = join(E34, 'etcd-zap.log');
  assertReported('etcd-log', zap, '"msg":"finished scheduled compaction","compact-revision":3912', '"msg":"finished scheduled compaction","compact-revision":9007199254740993', /compact-revision 9007199254740993 is beyond 2\^53-1/);
  assertReported('etcd-log', zap, '"msg":"finished scheduled compaction","compact-revision":3912', '"msg":"finished scheduled compaction","compact-revision":1.8e22', /compact-revision 1\.8e22 is not an integer/);
  const put = 'value_size:182 lease:8754331417662256138 >","response":"size:5"';
  assertReported('etcd-log', zap, put, put.replace('lease:8754331417662256138', 'lease:18446744073709551616'), /lease 18446744073709551616 is beyond 2\^64-1/);
  assertReported('etcd-log', zap, put, put.replace('value_size:182', 'value_size:9007199254740993'), /value_size 9007199254740993 is beyond 2\^53-1/);
  const capn = join(E34, 'etcd-capnslog.log');
  assertReported('etcd-log', capn, 'finished scheduled compaction at 3912', 'finished scheduled compaction at 9007199254740993', /revision 9007199254740993/);
  assertReported('etcd-log', capn, 'store.index: compact 3912', 'store.index: compact 1.8e22', /revision 1\.8e22 is not an integer/);
  assertReported('etcd-log', capn, 'alarm disarmed action:DEACTIVATE memberID:10206224139568511357', 'alarm disarmed action:DEACTIVATE memberID:18446744073709551616', /memberID 18446744073709551616 is beyond 2\^64-1/);
  assertReported('etcd-log', capn, '8da3cac7b0ff797d became leader at term 2', '8da3cac7b0ff797d became leader at term 9007199254740993', /term 9007199254740993/);
  // etcd 3.5.16's defrag line: the size sample it gives must not take a float, nor the signed diff lose its sign check.
  const e35 = join(E35, 'etcd2.log');
  const defrag = '"current-db-size-bytes-diff":-233472,"current-db-size-bytes":24576,';
  assertReported('etcd-log', e35, defrag, defrag.replace('24576', '18000000000000000000000'), /current-db-size-bytes 18000000000000000000000 is beyond 2\^53-1/);
  assertReported('etcd-log', e35, defrag, defrag.replace('24576', '1.8e22'), /current-db-size-bytes 1\.8e22 is not an integer/);
  assertReported('etcd-log', e35, defrag, defrag.replace('-233472', '-233472.5'), /current-db-size-bytes-diff -233472\.5 is not an integer/);
});

test('a pasted transcript: `etcdctl compact N` with N beyond 2^53-1 is a skipped line, not a compaction at a rounded revision (patroni-4.1.5 recovery transcript)', () => {
  const f = join(FIXTURES, 'patroni-4.1.5', 'json', 'recovery-transcript.txt');
  const p = (lines: string[]) => {
    const parser = createParser('transcript', CTX);
    const out: ParseOutput[] = [];
    lines.forEach((l, i) => out.push(...parser.push(l, i + 1)));
    return [...out, ...parser.end()];
  };
  const compactOf = (o: ParseOutput[]) => o.filter((x) => x.kind === 'event' && x.event === 'operator.compact');
  assert.equal(compactOf(p(realLines(f))).length, 1);
  const after = p(realLines(f, '$ etcdctl compact 412', '$ etcdctl compact 9007199254740993'));
  assert.equal(compactOf(after).length, 0);
  const i = issuesOf(after).find((x) => x.line === 16);
  assert.match(i?.reason ?? '', /^number out of range: compact revision 9007199254740993 is beyond 2\^53-1/);
});

test('Patroni log: a PostgreSQL pid beyond 2^53-1 is a skipped line, not a rounded pid (patroni-3.0.2 pg1/stderr.log)', () => {
  const f = join(FIXTURES, 'patroni-3.0.2', 'pg1', 'stderr.log');
  const line = '2026-11-23 23:53:00.663 UTC [5225] LOG:  starting PostgreSQL 15.18';
  // The file opens with initdb's output (skipped lines of its own): compare the skipped lines before and after.
  const before = parse('patroni-log', realLines(f));
  const after = parse('patroni-log', realLines(f, line, line.replace('[5225]', '[90071992547409930]')));
  const added = issuesOf(after).filter((x) => !issuesOf(before).some((y) => y.line === x.line && y.reason === x.reason));
  assert.equal(added.length, 1, JSON.stringify(added));
  assert.equal(added[0]!.line, 28);
  assert.match(added[0]!.reason, /^number out of range: pid 90071992547409930 is beyond 2\^53-1/);
  assert.equal(recordsOf(after).length, recordsOf(before).length - 1);
  assert.ok(!JSON.stringify(recordsOf(after)).includes('90071992547409930') && !JSON.stringify(recordsOf(after)).includes('90071992547409920'));
});

test('ingest: the out-of-range document is one skipped line in the summary; no status row holds NULL or a rounded revision for it', () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = join(dir, 'status.json.txt');
    writeFileSync(f, readFileSync(join(E34, 'endpoint-status.json.txt'), 'utf8').replace('"member_id":10206224139568511357,"revision":3912', '"member_id":10206224139568511357,"revision":9007199254740993'));
    const r = runCli(['ingest', '--db', join(dir, 's.db'), '--at', '2026-11-24T07:30:00+08:00', f]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /status\.json\.txt:1: skipped.*revision 9007199254740993 is beyond 2\^53-1/);
    const d = new Database(join(dir, 's.db'), { readonly: true });
    try {
      assert.equal((d.prepare('SELECT count(*) AS n FROM status_samples').get() as { n: number }).n, 0);
      assert.equal((d.prepare('SELECT count(*) AS n FROM issues').get() as { n: number }).n, 1);
    } finally {
      d.close();
    }
    assert.equal(runCli(['ingest', '--db', join(dir, 's2.db'), '--strict', '--at', '2026-11-24T07:30:00+08:00', f]).code, 2);
  } finally {
    cleanup();
  }
});

test('a date that does not exist (31 February, month 13, hour 25, offset +25:00) is a skipped line naming ts, never rolled into another day (etcd-zap.log line 95, 3.4.23)', () => {
  const zap = join(E34, 'etcd-zap.log');
  const line = realLines(zap)[94]!;
  assert.match(line, /"ts":"2026-11-24T07:28:37\.791\+0800"/);
  const good = parse('etcd-log', [line]);
  assert.equal(issuesOf(good).length, 0);
  assert.equal((recordsOf(good)[0] as { time: { ms: number } }).time.ms, Date.parse('2026-11-23T23:28:37.791Z'));
  for (const bad of ['2026-02-31T07:28:37.791+0800', '2026-13-24T07:28:37.791+0800', '2026-11-24T25:28:37.791+0800', '2026-11-24T07:61:37.791+0800', '2026-11-24T07:28:37.791+2500']) {
    const out = parse('etcd-log', [line.replace('2026-11-24T07:28:37.791+0800', bad)]);
    assert.equal(recordsOf(out).length, 0, bad);
    assert.equal(issuesOf(out).length, 1, bad);
    assert.match(issuesOf(out)[0]!.reason, /^field ts: .* is not a calendar time$/, bad);
  }
  // 29 February exists in 2024, not in 2026.
  assert.equal(issuesOf(parse('etcd-log', [line.replace('2026-11-24', '2024-02-29')])).length, 0);
  assert.equal(issuesOf(parse('etcd-log', [line.replace('2026-11-24', '2026-02-29')])).length, 1);
});
