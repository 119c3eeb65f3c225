// Patroni logs in other Python logging formats, Patroni 4 / etcd v2 DCS messages, collapsed tracebacks.
// Fixtures: test/fixtures/patroni-derived/{formats,collapsed}/ are the REAL pg1 log of the 3.0.2
// capture re-formatted by Python's logging.Formatter (scripts/capture/derive-patroni-formats.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPatroniLogParser, looksLikePatroniLogLine } from '../src/sources/patroni-log/parser.js';
import { parsePythonHead } from '../src/sources/patroni-log/python-head.js';
import type { LogEvent, ParseContext, ParseIssue, ParseOutput } from '../src/model.js';

const FIX = new URL('./fixtures/', import.meta.url);
const UTC: ParseContext = { tz: null, member: null, referenceMs: Date.parse('2026-11-25T00:00:00Z') };

function readLines(rel: string): string[] {
  const lines = readFileSync(new URL(rel, FIX), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
function parseLines(lines: readonly string[], ctx: ParseContext = UTC): ParseOutput[] {
  const p = createPatroniLogParser(ctx);
  return [...lines.flatMap((l, i) => p.push(l, i + 1)), ...p.end()];
}
const parseFile = (rel: string, ctx: ParseContext = UTC): ParseOutput[] => parseLines(readLines(rel), ctx);
const events = (o: ParseOutput[]): LogEvent[] => o.filter((x): x is LogEvent => x.kind === 'event');
const issues = (o: ParseOutput[]): ParseIssue[] => o.filter((x): x is ParseIssue => x.kind === 'issue');
const at = (o: ParseOutput[], line: number): LogEvent => {
  const e = events(o).find((x) => x.line === line);
  assert.ok(e, `no event at line ${line}`);
  return e;
};
const lineCounts = (o: ParseOutput[]): number[] => events(o).map((e) => e.raw.split('\n').length);
const shape = (e: LogEvent): unknown[] =>
  [e.event, e.level, e.member, e.message, e.detail['write'] ?? null, e.detail['rpc'] ?? null, e.detail['key'] ?? null];

const PLAIN = 'patroni-3.0.2/pg1/patroni.log';
const plain = events(parseFile(PLAIN));

test('the plain pg1 log: 347 records; the first NOSPACE traceback names the status key', () => {
  assert.equal(plain.length, 347);
  const first = plain.find((e) => e.event === 'patroni.nospace')!;
  assert.deepEqual([first.line, first.detail['write'], first.detail['key']], [137, '_write_status', 'status']);
  const member = plain.find((e) => e.detail['write'] === 'touch_member')!;
  assert.equal(member.detail['key'], 'members/pg1');
});

for (const [file, layout] of [
  ['brackets.log', '[T][L] '], // '[%(asctime)s][%(levelname)s] %(message)s' (patroni/patroni#3420)
  ['dash-name.log', 'T - F - L - '],
  ['pipes-thread-pid.log', 'T | F | F | L | '],
] as const) {
  test(`derived ${file}: same records, kinds, UTC times to the ms, levels, members, writes and traceback lengths as the default format`, () => {
    const out = parseFile(`patroni-derived/formats/${file}`);
    assert.deepEqual(issues(out), []);
    const ev = events(out);
    assert.deepEqual(ev.map(shape), plain.map(shape));
    assert.deepEqual(ev.map((e) => e.time), plain.map((e) => e.time));
    assert.deepEqual(lineCounts(out), plain.map((e) => e.raw.split('\n').length));
    assert.equal(parsePythonHead(readLines(`patroni-derived/formats/${file}`)[0]!)?.layout, layout);
  });
}

test('derived dash-name / pipes: logger name and pid are kept as detail', () => {
  const dash = events(parseFile('patroni-derived/formats/dash-name.log'));
  const nospace = dash.find((e) => e.event === 'patroni.nospace')!;
  assert.equal(nospace.detail['logger'], 'patroni.dcs.etcd');
  assert.equal(dash.find((e) => e.event === 'patroni.ha.leader')?.detail['logger'], 'patroni.__main__');
  const pipes = events(parseFile('patroni-derived/formats/pipes-thread-pid.log'));
  assert.deepEqual([pipes[0]!.detail['logger'], pipes[0]!.detail['pid']], ['MainThread', 5152]);
});

test('derived %Z dateformat in Asia/Shanghai: `CST` read as +0800 (assumed), same instants', () => {
  const out = parseFile('patroni-derived/formats/zone-abbrev-shanghai.log');
  assert.deepEqual(issues(out), []);
  const ev = events(out);
  assert.deepEqual(ev.map(shape), plain.map(shape));
  const first = ev.find((e) => e.event === 'patroni.nospace')!;
  assert.ok(first.raw.startsWith('2026-11-24 07:54:59 CST ERROR: \n'));
  // A dateformat drops the milliseconds.
  assert.deepEqual(first.time, { ms: Date.UTC(2026, 10, 23, 23, 54, 59), offsetMin: 480, basis: 'assumed-zone' });
  assert.deepEqual(ev.map((e) => e.time!.ms), plain.map((e) => Math.floor(e.time!.ms / 1000) * 1000));
});

test('derived ISO `T` + %z in America/New_York: explicit -0500, same instants (to the second)', () => {
  const out = parseFile('patroni-derived/formats/iso-offset-newyork.log');
  assert.deepEqual(issues(out), []);
  const ev = events(out);
  assert.deepEqual(ev.map(shape), plain.map(shape));
  assert.deepEqual(ev[0]!.time, { ms: Date.UTC(2026, 10, 23, 23, 52, 58), offsetMin: -300, basis: 'explicit' });
  assert.deepEqual(ev.map((e) => e.time!.ms), plain.map((e) => Math.floor(e.time!.ms / 1000) * 1000));
});

test('derived basicConfig form `LEVEL:name:message`: records without time, same kinds', () => {
  const out = parseFile('patroni-derived/formats/basicconfig.log');
  assert.deepEqual(issues(out), []);
  const ev = events(out);
  assert.deepEqual(ev.map(shape), plain.map(shape));
  assert.ok(ev.every((e) => e.time === null));
  assert.deepEqual(lineCounts(out), plain.map((e) => e.raw.split('\n').length));
});

test('derived JSON with the default format keys (asctime, levelname, message, exc_info)', () => {
  const out = parseFile('patroni-derived/formats/json-default-keys.jsonl');
  assert.deepEqual(issues(out), []);
  const ev = events(out);
  // A multi-line message (`pg_controldata:\n…`) stays whole in JSON's `message`; the plain head line has its first line.
  const first = (e: LogEvent): unknown[] => [...shape(e).slice(0, 3), e.message.split('\n')[0], ...shape(e).slice(4)];
  assert.deepEqual(ev.map(first), plain.map(first));
  assert.deepEqual(ev.map((e) => e.time), plain.map((e) => e.time));
  const tb = ev.find((e) => e.event === 'patroni.nospace')!;
  assert.deepEqual([tb.line, tb.raw.split('\n').length, tb.detail['write'], tb.detail['exception']], [137, 1, '_write_status', 'patroni.dcs.etcd3.Unknown']);
  assert.equal(looksLikePatroniLogLine(readLines('patroni-derived/formats/json-default-keys.jsonl')[136]!), true);
});

test('collapsed tracebacks (no indentation, no `Traceback` header) still join their record', () => {
  const out = parseFile('patroni-derived/collapsed/brackets-collapsed.log');
  assert.deepEqual(issues(out), []);
  const ev = events(out);
  assert.deepEqual(ev.map(shape), plain.map(shape));
  // One line less per traceback: the header is gone.
  assert.deepEqual(lineCounts(out), plain.map((e) => e.raw.split('\n').length - (e.raw.includes('\nTraceback (most recent call last):') ? (e.raw.match(/\nTraceback \(most recent call last\):/g) ?? []).length : 0)));
  const first = ev.find((e) => e.event === 'patroni.nospace')!;
  assert.equal(first.raw.split('\n').length, 27);
  assert.ok(first.raw.includes('\nraise err(code, error, status_code)\npatroni.dcs.etcd3.Unknown: <Unknown error:'));
  assert.equal(first.detail['exception'], 'patroni.dcs.etcd3.Unknown');
});

test('collapsed tracebacks inside journald: the source line after a bare File line continues the record', () => {
  const full = parseFile('patroni-derived/journald/pg1.journal.txt');
  const out = parseFile('patroni-derived/collapsed/pg1.journal-collapsed.txt');
  assert.deepEqual(issues(out), []);
  const strip = (e: LogEvent): unknown[] => [e.event, e.time?.ms, e.member, e.detail['write'] ?? null, e.detail['rpc'] ?? null];
  assert.deepEqual(events(out).map(strip), events(full).map(strip));
  const shutdown = events(out).find((e) => e.raw.includes('SystemExit'))!;
  assert.equal(shutdown.raw.split('\n').length, 58); // 60 less two `Traceback` headers
  assert.equal(shutdown.detail['write'], 'touch_member');
});

// ---------------------------------------------------------------------------------------------
// Patroni 4 and etcd v2 DCS templates. No Patroni 4 or `etcd:` (v2) DCS runs here: the messages are
// Patroni's own templates (v4.1.4: patroni/ha.py 1852-1859, 2342-2367; patroni/dcs/etcd.py 555-560,
// 829; etcd3.py 835-843, 966-986) and python-etcd's exception texts, in the capture's names.

const ev1 = (lines: string[]): LogEvent => {
  const out = parseLines(lines);
  assert.deepEqual(issues(out), []);
  assert.equal(events(out).length, 1, lines[0]);
  return events(out)[0]!;
};
const kindOf = (msg: string, level = 'INFO'): string => ev1([`[2026-11-23 23:54:59,071][${level}] ${msg}`]).event;

test('Patroni 4 HA and DCS templates keep the Patroni 3 event kinds', () => {
  assert.equal(kindOf('no action. I am (pg1), the leader with the lock'), 'patroni.ha.leader');
  assert.equal(kindOf('Error communicating with DCS', 'ERROR'), 'patroni.dcs-error');
  assert.equal(kindOf('DCS is not accessible'), 'patroni.dcs-error');
  assert.equal(kindOf('demoting self because DCS is not accessible and I was a leader'), 'patroni.demoted');
  assert.equal(kindOf('demoted self because DCS is not accessible and I was a leader'), 'patroni.demoted');
  assert.equal(kindOf('continue to run as a leader because failsafe mode is enabled and all members are accessible'), 'patroni.ha.other');
  assert.equal(kindOf('failed to update leader lock', 'ERROR'), 'patroni.dcs-error');
  // As in Patroni 3: the results of a failed leader-lock update are DCS errors.
  assert.equal(kindOf('continue to run as primary after failing to update leader lock in DCS'), 'patroni.dcs-error');
  assert.equal(kindOf('not promoting because failed to update leader lock in DCS'), 'patroni.dcs-error');
  assert.equal(kindOf('Our lease disappeared from Etcd, can not "touch_member"', 'ERROR'), 'patroni.dcs-error');
  assert.equal(kindOf('Our lease disappeared from Etcd. Will try to get a new one and retry attempt', 'ERROR'), 'patroni.dcs-error');
  assert.equal(kindOf('Updating member state failed, skipping synchronous standby disable', 'WARNING'), 'patroni.dcs-error');
  assert.equal(kindOf('Failed to update /service/pg_demo/status', 'ERROR'), 'patroni.dcs-error');
  assert.equal(kindOf('Connected to Etcd node with term 2318. Old known term 2319. Switching to another node.', 'WARNING'), 'patroni.dcs-error');
  assert.equal(kindOf('Lost lock while starting up. Demoting self.'), 'patroni.demoted');
  assert.equal(kindOf('Demoting primary during restart'), 'patroni.demoted');
  assert.equal(kindOf('Leader key released'), 'patroni.ha.other');
  assert.equal(kindOf('Could not take out TTL lock'), 'patroni.ha.other');
});

test('etcd v2 DCS: EtcdKeyNotFound on the leader key after a failed test_and_set → dcs-error with key and operation', () => {
  const e = ev1([
    '2026-11-23 23:54:59,071 ERROR: ',
    'Traceback (most recent call last):',
    '  File "/usr/lib/python3/dist-packages/patroni/dcs/etcd.py", line 339, in wrapper',
    '    retval = func(self, *args, **kwargs) is not None',
    '  File "/usr/lib/python3/dist-packages/patroni/dcs/etcd.py", line 538, in _update_leader',
    '    return self.retry(self._client.test_and_set, self.leader_path, self._name, self._name, self._ttl)',
    '  File "/usr/lib/python3/dist-packages/etcd/client.py", line 703, in test_and_set',
    '    return self.write(key, value, prevValue=prev_value, ttl=ttl)',
    '  File "/usr/lib/python3/dist-packages/etcd/client.py", line 500, in write',
    '    response = self.api_execute(path, method, params=params)',
    '  File "/usr/lib/python3/dist-packages/etcd/__init__.py", line 306, in handle',
    '    raise exc(msg, payload)',
    'etcd.EtcdKeyNotFound: Key not found : /service/pg_demo/leader',
  ]);
  assert.equal(e.event, 'patroni.dcs-error');
  assert.equal(e.raw.split('\n').length, 13);
  assert.deepEqual([e.detail['write'], e.detail['rpc'], e.detail['key']], ['_update_leader', 'test_and_set', 'leader']);
  assert.deepEqual([e.detail['exception'], e.detail['error'], e.detail['keyPath']],
    ['etcd.EtcdKeyNotFound', 'Key not found : /service/pg_demo/leader', '/service/pg_demo/leader']);
  assert.equal(e.time?.ms, Date.UTC(2026, 10, 23, 23, 54, 59, 71));
});

test('etcd v2 DCS: EtcdException for a member PUT, EtcdConnectionFailed, Raft Internal Error → dcs-error', () => {
  const put = ev1([
    '2026-11-23 23:54:59,071 ERROR: ',
    'Traceback (most recent call last):',
    '  File "/usr/lib/python3/dist-packages/patroni/dcs/etcd.py", line 422, in wrapper',
    '  File "/usr/lib/python3/dist-packages/patroni/dcs/etcd.py", line 588, in touch_member',
    '  File "/usr/lib/python3/dist-packages/etcd/client.py", line 721, in set',
    '  File "/usr/lib/python3/dist-packages/etcd/client.py", line 500, in write',
    '  File "/usr/lib/python3/dist-packages/patroni/dcs/etcd.py", line 230, in _do_http_request',
    "    raise etcd.EtcdException('{0} {1} request failed'.format(method, path))",
    'etcd.EtcdException: PUT /v2/keys/service/pg_demo/members/pg1 request failed',
  ]);
  assert.deepEqual([put.event, put.detail['write'], put.detail['rpc'], put.detail['key'], put.detail['keyPath']],
    ['patroni.dcs-error', 'touch_member', 'set', 'members/', '/service/pg_demo/members/pg1']); // no member known yet
  const failed = ev1(['2026-11-23 23:54:59,071 ERROR: ', 'etcd.EtcdConnectionFailed: No more machines in the cluster']);
  assert.deepEqual([failed.event, failed.detail['exception']], ['patroni.dcs-error', 'etcd.EtcdConnectionFailed']);
  const raft = ev1(['2026-11-23 23:54:59,071 ERROR: ', 'patroni.dcs.etcd.EtcdRaftInternal: Raft Internal Error']);
  assert.deepEqual([raft.event, raft.detail['exception']], ['patroni.dcs-error', 'patroni.dcs.etcd.EtcdRaftInternal']);
  // A non-DCS exception stays a plain error.
  assert.equal(ev1(['2026-11-23 23:54:59,071 ERROR: Unexpected exception', 'KeyError: x']).event, 'patroni.error');
});

test('NOSPACE as Patroni 4.0 (Unknown, code 2) and 4.1.1+ (ResourceExhausted, code 8) print it, any format', () => {
  const old = ev1([`2026-11-23 23:54:59,071 - patroni.dcs.etcd - ERROR - <Unknown error: 'etcdserver: mvcc: database space exceeded', code: 2>`]);
  assert.deepEqual([old.event, old.detail['errorClass'], old.detail['code'], old.detail['logger']], ['patroni.nospace', 'Unknown', 2, 'patroni.dcs.etcd']);
  const tb = ev1([
    '[2026-11-23 23:54:59,071][ERROR] ',
    'File "/usr/lib/python3/dist-packages/patroni/dcs/etcd.py", line 560, in handle_etcd_exceptions',
    'retval = func(self, *args, **kwargs)',
    'File "/usr/lib/python3/dist-packages/patroni/dcs/etcd3.py", line 1024, in _write_status',
    'return self._client.put(self.status_path, value)',
    'File "/usr/lib/python3/dist-packages/patroni/dcs/etcd3.py", line 490, in put',
    'return self.call_rpc(\'/kv/put\', fields, retry)',
    'raise _raise_for_data(ret or data, response.status)',
    "patroni.dcs.etcd3.Etcd3ClientError: <ResourceExhausted error: 'etcdserver: mvcc: database space exceeded', code: 8>",
  ]);
  assert.deepEqual([tb.event, tb.detail['write'], tb.detail['rpc'], tb.detail['key'], tb.detail['code']],
    ['patroni.nospace', '_write_status', 'put', 'status', 8]);
  assert.equal(tb.raw.split('\n').length, 9);
});

test('PostgreSQL lines: %m/%t prefixes with extra fields, CST, two spaces after the severity; Python INFO: with one space is Patroni', () => {
  const real = readLines('patroni-3.0.2/pg2/stderr.log')[1]!; // 2026-11-23 23:53:07.011 UTC [5483] LOG:  starting PostgreSQL 15.18 …
  const body = real.slice(real.indexOf('LOG:  '));
  const forms = [
    real,
    real.replace(' UTC ', ' CST '),
    real.replace('[5483] ', '[5483] postgres@postgres '), //              '%m [%p] %q%u@%d '
    `2026-11-23 23:53:07 UTC [5483]: [1-1] user=,db= ${body}`, //      '%t [%p]: [%l-1] user=%u,db=%d '
  ];
  const out = parseLines(forms);
  assert.deepEqual(issues(out), []);
  const ev = events(out);
  assert.deepEqual(ev.map((e) => e.event), ['postgres.log', 'postgres.log', 'postgres.log', 'postgres.log']);
  assert.ok(ev.every((e) => e.message.startsWith('starting PostgreSQL 15.18') && e.detail['pid'] === 5483));
  assert.deepEqual(ev.map((e) => e.time), [
    { ms: Date.UTC(2026, 10, 23, 23, 53, 7, 11), offsetMin: 0, basis: 'explicit' },
    { ms: Date.UTC(2026, 10, 23, 15, 53, 7, 11), offsetMin: 480, basis: 'assumed-zone' },
    { ms: Date.UTC(2026, 10, 23, 23, 53, 7, 11), offsetMin: 0, basis: 'explicit' },
    { ms: Date.UTC(2026, 10, 23, 23, 53, 7), offsetMin: 0, basis: 'explicit' },
  ]);
  for (const l of forms) assert.equal(looksLikePatroniLogLine(l), false, l);
  const py = ev1(['2026-11-23 23:54:59.071 UTC [5152] INFO: no action. I am (pg1), the leader with the lock']);
  assert.deepEqual([py.event, py.detail['pid'], py.time?.ms], ['patroni.ha.leader', 5152, Date.UTC(2026, 10, 23, 23, 54, 59, 71)]);
});

test('the head tokenizer refuses other programs and continuation lines', () => {
  for (const l of [
    '2026-11-23T23:54:58.444Z\tWARN\tetcdserver/apply.go:636\talarm raised', // zap console
    '2026-11-23 23:54:58.457648 W | etcdserver: alarm NOSPACE raised by peer 546232be2082b95a', // capnslog
    'Traceback (most recent call last):',
    'patroni.dcs.etcd3.Unknown: <Unknown error: \'etcdserver: mvcc: database space exceeded\', code: 2>',
    'ERROR: something', 'INFO something', '', '[', '2026-11-23',
  ]) assert.equal(parsePythonHead(l), null, l);
});

// ---------------------------------------------------------------------------------------------
// REAL Patroni 4.0.7 (Debian trixie) against etcd 3.5.16 (test/fixtures/patroni-4.0.7/*/README.md):
// every refused write reads `patroni.dcs.etcd3.Unknown: <Unknown error: 'None', code: 2>`; the
// words "database space exceeded" appear nowhere in Patroni's log.

const REAL4 = ['default', 'custom', 'json'].flatMap((form) => ['pg1', 'pg2', 'pg3'].map((pg) => `patroni-4.0.7/${form}/${pg}/patroni.log`));

test('real 4.0.7 (default, custom `[%(asctime)s][%(levelname)s]`, JSON): no issues, every line in a record, opaque NOSPACE', () => {
  for (const f of REAL4) {
    const lines = readLines(f);
    const out = parseLines(lines);
    assert.deepEqual(issues(out), [], f);
    const ev = events(out);
    // Each line is in one record; a record drops only its trailing blank lines (`pg_controldata:\n…\n`).
    const covered = ev.reduce((n, e) => n + e.raw.split('\n').length, 0);
    assert.equal(covered, lines.length - (f.includes('/default/pg1/') ? 1 : 0), f);
    assert.ok(ev.every((e) => e.time !== null), f);
    const opaque = ev.filter((e) => e.raw.includes("<Unknown error: 'None', code: 2>"));
    assert.ok(opaque.length > 20, f);
    for (const e of opaque) assert.deepEqual([e.event, e.detail['opaque'], e.detail['errorClass'], e.detail['code']], ['patroni.nospace', true, 'Unknown', 2], f);
    assert.ok(ev.some((e) => e.event === 'patroni.ha.leader' || e.event === 'patroni.ha.secondary'), f);
  }
});

test('real 4.0.7 custom form pg1: the first refused write is the leader\'s own member put, then /status, then the one-line form', () => {
  const out = parseFile('patroni-4.0.7/custom/pg1/patroni.log');
  const ns = events(out).filter((e) => e.event === 'patroni.nospace');
  const first = ns[0]!;
  assert.equal(first.line, 173);
  assert.deepEqual(first.time, { ms: Date.UTC(2026, 10, 30, 1, 26, 26, 889), offsetMin: null, basis: 'assumed-zone' });
  assert.deepEqual([first.level, first.member, first.message], ['error', 'pg1', '']);
  assert.equal(first.raw.split('\n').length, 32); // head + traceback with Python 3.11 carets, lines 173-204
  assert.deepEqual([first.detail['write'], first.detail['rpc'], first.detail['key'], first.detail['exception']],
    ['touch_member', 'put', 'members/pg1', 'patroni.dcs.etcd3.Unknown']);
  assert.deepEqual([ns[1]!.detail['write'], ns[1]!.detail['key']], ['_write_status', 'status']);
  // Next cycle: the traceback for the first refused write, then the one-line form for the next one.
  const oneLine = ns[2]!;
  assert.deepEqual([oneLine.line, oneLine.message, oneLine.detail['traceback'], oneLine.detail['write']],
    [239, "<Unknown error: 'None', code: 2>", false, null]);
  assert.equal(at(out, 205).event, 'patroni.ha.leader');
});

test('real 4.0.7 JSON (Patroni\'s default keys asctime/levelname/message, traceback in exc_info): replicas\' member puts', () => {
  const ev = events(parseFile('patroni-4.0.7/json/pg2/patroni.log'));
  const ns = ev.filter((e) => e.event === 'patroni.nospace' && e.detail['traceback'] === true);
  assert.ok(ns.length > 0);
  assert.ok(ns.every((e) => e.detail['write'] === 'touch_member' && e.detail['rpc'] === 'put' && e.detail['key'] === 'members/pg2'));
  assert.ok(ns.every((e) => e.raw.split('\n').length === 1 && e.member === 'pg2'));
  assert.deepEqual(ns[0]!.time, { ms: Date.UTC(2026, 10, 30, 1, 26, 37, 421), offsetMin: null, basis: 'assumed-zone' });
});
