import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  createPatroniLogParser, looksLikePatroniLogLine, parseSystemctlActiveLine,
} from '../src/sources/patroni-log/parser.js';
import type { LogEvent, ParseContext, ParseIssue, ParseOutput } from '../src/model.js';

const FIX = new URL('./fixtures/', import.meta.url);
const UTC: ParseContext = { tz: null, member: null, referenceMs: Date.parse('2026-11-25T00:00:00Z') };
// The seed incident happened in September 2023 (its write-up is dated a few days later).
const SEED: ParseContext = { tz: null, member: null, referenceMs: Date.parse('2023-09-26T12:00:00Z') };

function readLines(rel: string): string[] {
  const lines = readFileSync(new URL(rel, FIX), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function parseLines(lines: readonly string[], ctx: ParseContext = UTC, firstLineNo = 1): ParseOutput[] {
  const p = createPatroniLogParser(ctx);
  const out = lines.flatMap((l, i) => p.push(l, i + firstLineNo));
  return [...out, ...p.end()];
}
const parseFile = (rel: string, ctx: ParseContext = UTC): ParseOutput[] => parseLines(readLines(rel), ctx);

const events = (o: ParseOutput[]): LogEvent[] => o.filter((x): x is LogEvent => x.kind === 'event');
const issues = (o: ParseOutput[]): ParseIssue[] => o.filter((x): x is ParseIssue => x.kind === 'issue');
const ofKind = (o: ParseOutput[], k: LogEvent['event']): LogEvent[] => events(o).filter((e) => e.event === k);
const at = (o: ParseOutput[], line: number): LogEvent => {
  const e = events(o).find((x) => x.line === line);
  assert.ok(e, `no event at line ${line}`);
  return e;
};

function countBy<T>(xs: readonly T[], f: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[f(x)] = (out[f(x)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
const kinds = (o: ParseOutput[]): Record<string, number> => countBy(o, (x) => (x.kind === 'event' ? x.event : x.kind));
const writes = (o: ParseOutput[]): Record<string, number> =>
  countBy(ofKind(o, 'patroni.nospace'), (e) => `${String(e.detail['write'])}/${String(e.detail['rpc'])}`);

// ---------------------------------------------------------------------------------------------
// The seed write-up: pigsty's `+0800` form, and a traceback whose indentation the write-up removed
// and whose exception line it cut off (after `raise err(code, error, status_code)`).

const SEED_FILE = 'seed/etcd-no-space-incident.txt';
const seedPatroni = (): ParseOutput[] => parseLines(readLines(SEED_FILE).slice(35, 58), SEED, 36);

test('seed: the +0800 lines are explicit times, with levels, kinds and the member', () => {
  const out = seedPatroni();
  assert.deepEqual(issues(out), []);
  assert.equal(events(out).length, 4);

  const oneLine = at(out, 36);
  assert.equal(oneLine.event, 'patroni.nospace');
  assert.equal(oneLine.level, 'error');
  assert.deepEqual(oneLine.time, { ms: Date.UTC(2023, 8, 23, 20, 30, 23), offsetMin: 480, basis: 'explicit' });
  assert.equal(oneLine.detail['write'], null); // the one-line form names no write
  assert.equal(oneLine.detail['rpc'], null);
  assert.equal(oneLine.detail['errorClass'], 'Unknown');
  assert.equal(oneLine.detail['code'], 2);
  assert.equal(oneLine.detail['error'], 'etcdserver: mvcc: database space exceeded');

  const leader = at(out, 37);
  assert.equal(leader.event, 'patroni.ha.leader');
  assert.equal(leader.level, 'info');
  assert.equal(leader.detail['member'], 'postgres-3');
  assert.equal(leader.member, 'postgres-3');

  const owner = at(out, 38);
  assert.equal(owner.event, 'patroni.ha.lock-owner');
  assert.deepEqual([owner.detail['owner'], owner.detail['me']], ['postgres-3', 'postgres-3']);
  assert.equal(owner.time?.ms, Date.UTC(2023, 8, 23, 20, 30, 33));
});

test('seed: the _write_status traceback is joined to its ERROR line (20 lines) and names the write', () => {
  const tb = at(seedPatroni(), 39);
  assert.equal(tb.raw.split('\n').length, 20);
  assert.ok(tb.raw.startsWith('2023-09-24 04:30:33 +0800 ERROR:\nTraceback (most recent call last):\n'));
  assert.ok(tb.raw.endsWith('raise err(code, error, status_code)'));
  assert.equal(tb.level, 'error');
  assert.equal(tb.message, '');
  assert.equal(tb.detail['write'], '_write_status');
  assert.equal(tb.detail['rpc'], 'put');
  assert.equal(tb.detail['traceback'], true);
  // The write-up cut the exception line, so this record itself does not say "database space exceeded".
  assert.equal(tb.event, 'patroni.error');
});

test('seed: journald lines (Chinese month), host as member, PostgreSQL CST line with its HINT joined', () => {
  const out = parseLines(readLines(SEED_FILE).slice(18, 26), SEED, 19);
  assert.deepEqual(issues(out), []);
  assert.deepEqual(events(out).map((e) => [e.line, e.event]), [
    [19, 'patroni.other'], [20, 'postgres.log'], [22, 'patroni.other'], [23, 'patroni.other'],
    [24, 'patroni.other'], [25, 'patroni.other'], [26, 'patroni.other'],
  ]);
  assert.ok(events(out).every((e) => e.member === 'postgres-3'));
  const pg = at(out, 20);
  assert.equal(pg.raw.split('\n').length, 2); // LOG + HINT of backend 11316
  // `CST` read as +0800, assumed; the inner time (with milliseconds) wins over the journal's.
  assert.deepEqual(pg.time, { ms: Date.UTC(2022, 10, 20, 8, 17, 52, 851), offsetMin: 480, basis: 'assumed-zone' });
  // No inner time: the journal prefix, year inferred from the reference time, zone assumed (UTC).
  assert.deepEqual(at(out, 25).time, { ms: Date.UTC(2022, 11, 26, 14, 59, 33), offsetMin: null, basis: 'assumed-zone-year' });
  assert.equal(at(out, 19).detail['tag'], 'systemd');
});

test('seed: systemctl status Active line → patroni.uptime with since (CST = +0800, assumed)', () => {
  const line = readLines(SEED_FILE)[7]!;
  assert.ok(line.startsWith('Active: active (running) since 日 2022-11-20 16:17:52 CST'));
  const ev = parseSystemctlActiveLine(line, SEED);
  assert.ok(ev);
  assert.equal(ev.event, 'patroni.uptime');
  assert.equal(ev.detail['since'], Date.UTC(2022, 10, 20, 8, 17, 52));
  assert.equal(ev.detail['zoneAssumed'], true);
  assert.equal(ev.detail['ago'], '10 months 5 days ago');
  assert.deepEqual(ev.time, { ms: Date.UTC(2022, 10, 20, 8, 17, 52), offsetMin: 480, basis: 'assumed-zone' });
  // The (line, lineNo, ctx) form the transcript parser uses.
  assert.equal(parseSystemctlActiveLine(line, 8, SEED)?.line, 8);
  // --tz wins over the abbreviation table.
  assert.equal(parseSystemctlActiveLine(line, { ...SEED, tz: 'America/Chicago' })?.detail['since'], Date.UTC(2022, 10, 20, 22, 17, 52));
  assert.equal(parseSystemctlActiveLine('Active: inactive (dead)', SEED), null);
  assert.equal(parseSystemctlActiveLine('  Active: active (running) since Mon 2026-11-23 23:52:57 UTC; 3min ago', SEED)?.time?.basis, 'explicit');
});

// ---------------------------------------------------------------------------------------------
// The real 3.0.2 capture (test/fixtures/patroni-3.0.2/README.md tells the story).

test('real pg1 (default format, leader → stopped → restarted under NOSPACE → replica): counts per kind and write', () => {
  const out = parseFile('patroni-3.0.2/pg1/patroni.log');
  assert.deepEqual(issues(out), []);
  assert.deepEqual(kinds(out), {
    'patroni.dcs-error': 4, 'patroni.ha.leader': 156, 'patroni.ha.lock-owner': 51, 'patroni.ha.other': 12,
    'patroni.ha.secondary': 19, 'patroni.nospace': 85, 'patroni.other': 18, 'patroni.dcs-switch': 2,
  });
  assert.deepEqual(writes(out), {
    '_write_status/put': 40, 'null/null': 40, 'refresh_lease/lease_grant': 4, 'touch_member/put': 1,
  });
  // Lines before the first `I am (pg1)` have no member; afterwards the learned name is used.
  assert.deepEqual(countBy(events(out), (e) => String(e.member)), { null: 2, pg1: 345 });
  // Every line is accounted for: joined raw lines add up to the file (1669 lines) less the one
  // trailing blank line of the `pg_controldata:` message, which a record does not keep.
  assert.equal(events(out).reduce((n, e) => n + e.raw.split('\n').length, 0), 1668);
});

test('real pg1: the first NOSPACE traceback (times are local = UTC, assumed; carets kept)', () => {
  const out = parseFile('patroni-3.0.2/pg1/patroni.log');
  const first = ofKind(out, 'patroni.nospace')[0]!;
  assert.equal(first.line, 137);
  assert.deepEqual(first.time, { ms: Date.UTC(2026, 10, 23, 23, 54, 59, 71), offsetMin: null, basis: 'assumed-zone' });
  assert.equal(first.raw.split('\n').length, 28); // head + 27 lines (Python 3.11 caret lines included)
  assert.ok(first.raw.includes('             ^^^^^^^^^^^^^^^^^^^^^^^^^^^'));
  assert.deepEqual([first.detail['write'], first.detail['rpc'], first.detail['exception']],
    ['_write_status', 'put', 'patroni.dcs.etcd3.Unknown']);
  // In its first NOSPACE cycle pg1 logged the traceback only; from the next cycle on a one-line record follows it.
  assert.equal(at(out, 165).event, 'patroni.ha.leader');
  const oneLine = at(out, 195);
  assert.equal(oneLine.event, 'patroni.nospace');
  assert.equal(oneLine.message, "<Unknown error: 'etcdserver: mvcc: database space exceeded', code: 2>");
  assert.equal(oneLine.detail['write'], null);
  // With --tz the same line moves: the default format carries no zone.
  const shanghai = parseFile('patroni-3.0.2/pg1/patroni.log', { ...UTC, tz: 'Asia/Shanghai' });
  assert.equal(at(shanghai, 137).time?.ms, Date.UTC(2026, 10, 23, 15, 54, 59, 71));
});

test('real pg1: SIGTERM under NOSPACE (chained SystemExit traceback) and the refresh_lease loop after restart', () => {
  const out = parseFile('patroni-3.0.2/pg1/patroni.log');
  const shutdown = at(out, 1378);
  assert.equal(shutdown.event, 'patroni.nospace');
  assert.equal(shutdown.raw.split('\n').length, 60);
  assert.ok(shutdown.raw.includes('\nSystemExit\n\nDuring handling of the above exception, another exception occurred:\n\n'));
  assert.equal(shutdown.detail['write'], 'touch_member');
  const lease = at(out, 1439);
  assert.equal(lease.message, 'refresh_lease');
  assert.equal(lease.event, 'patroni.nospace');
  assert.deepEqual([lease.detail['write'], lease.detail['rpc'], lease.detail['context']], ['refresh_lease', 'lease_grant', 'refresh_lease']);
  assert.equal(lease.raw.split('\n').length, 34);
  const waiting = at(out, 1473);
  assert.deepEqual([waiting.event, waiting.level, waiting.message], ['patroni.dcs-error', 'info', 'waiting on etcd']);
  const controldata = at(out, 1582);
  assert.equal(controldata.message, 'pg_controldata:');
  assert.equal(controldata.raw.split('\n').length, 51); // the indented key: value lines, trailing blank dropped
  const back = events(out).find((e) => e.event === 'patroni.ha.secondary' && e.line > 1582);
  assert.deepEqual([back?.detail['member'], back?.detail['leader']], ['pg1', 'pg3']);
});

test('real pg2 (pigsty %z in Asia/Shanghai): explicit +0800 times, touch_member and leader-race tracebacks', () => {
  const out = parseFile('patroni-3.0.2/pg2/patroni.log');
  assert.deepEqual(issues(out), []);
  assert.deepEqual(kinds(out), {
    'patroni.dcs-error': 3, 'patroni.ha.lock-owner': 55, 'patroni.ha.other': 8, 'patroni.ha.secondary': 209,
    'patroni.leader-race-failed': 43, 'patroni.nospace': 128, 'patroni.other': 100, 'patroni.dcs-switch': 2,
  });
  assert.deepEqual(writes(out), { '_do_attempt_to_acquire_leader/txn': 43, 'touch_member/put': 85 });
  for (const e of events(out)) assert.deepEqual([e.time?.offsetMin, e.time?.basis], [480, 'explicit']);
  const first = ofKind(out, 'patroni.nospace')[0]!;
  assert.ok(first.raw.startsWith('2026-11-24 07:54:59 +0800 ERROR: \n'));
  assert.equal(first.time?.ms, Date.UTC(2026, 10, 23, 23, 54, 59)); // no milliseconds with a dateformat
  assert.equal(first.detail['write'], 'touch_member');
  const race = ofKind(out, 'patroni.leader-race-failed')[0]!;
  assert.equal(race.message, 'following new leader after trying and failing to obtain lock');
  assert.equal(race.time?.ms, Date.UTC(2026, 10, 23, 23, 55, 41));
  const dcs = ofKind(out, 'patroni.dcs-error').map((e) => e.message.slice(0, 30));
  assert.deepEqual(dcs, ['Request to server http://127.0', 'Reconnection allowed, looking ', 'watchprefix failed: ProtocolEr']);
});

test('real pg3: first refused write is touch_member at 23:54:58.443, promotion after the disarm', () => {
  const out = parseFile('patroni-3.0.2/pg3/patroni.log');
  assert.deepEqual(issues(out), []);
  assert.deepEqual(kinds(out), {
    'patroni.ha.leader': 25, 'patroni.ha.lock-owner': 54, 'patroni.ha.other': 10, 'patroni.ha.secondary': 182,
    'patroni.leader-race-failed': 43, 'patroni.nospace': 129, 'patroni.other': 101, 'patroni.dcs-switch': 1, 'patroni.promoted': 1,
  });
  assert.deepEqual(writes(out), { '_do_attempt_to_acquire_leader/txn': 43, 'touch_member/put': 86 });
  const first = ofKind(out, 'patroni.nospace')[0]!;
  assert.equal(first.time?.ms, Date.UTC(2026, 10, 23, 23, 54, 58, 443));
  assert.equal(first.detail['write'], 'touch_member');
  const promoted = ofKind(out, 'patroni.promoted')[0]!;
  assert.equal(promoted.message, 'promoted self to leader by acquiring session lock');
  assert.equal(promoted.time?.ms, Date.UTC(2026, 10, 23, 23, 56, 24, 289));
  assert.equal(promoted.member, 'pg3');
  const led = ofKind(out, 'patroni.ha.leader')[0]!;
  assert.ok(led.line > promoted.line);
  assert.equal(led.detail['member'], 'pg3');
});

test('real stderr: PostgreSQL lines → postgres.log (UTC explicit), DETAIL joined, other programs are issues', () => {
  const out = parseFile('patroni-3.0.2/pg2/stderr.log');
  assert.deepEqual(kinds(out), { issue: 5, 'postgres.log': 47 });
  const start = at(out, 2);
  assert.equal(start.message, 'starting PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit');
  assert.deepEqual(start.time, { ms: Date.UTC(2026, 10, 23, 23, 53, 7, 11), offsetMin: 0, basis: 'explicit' });
  assert.deepEqual([start.level, start.detail['pid'], start.detail['pgLevel']], ['info', 5483, 'LOG']);
  const withDetail = events(out).find((e) => e.raw.includes('DETAIL:  End of WAL reached'));
  assert.equal(withDetail?.raw.split('\n').length, 2);
  assert.equal(issues(out)[0]?.excerpt, 'localhost:56299 - no response');
});

// ---------------------------------------------------------------------------------------------
// Derived forms (test/fixtures/patroni-derived/README.md): same records, other envelopes.

test('derived JSON (python-json-logger, Patroni ≥ 3.3): same events as the plain log, tracebacks from exc_info', () => {
  const plain = events(parseFile('patroni-3.0.2/pg1/patroni.log'));
  const out = parseFile('patroni-derived/json/pg1.jsonl');
  assert.deepEqual(issues(out), []);
  const json = events(out);
  assert.equal(json.length, plain.length);
  const shape = (e: LogEvent): unknown[] => [e.event, e.time, e.level, e.member, e.detail['write'] ?? null, e.detail['rpc'] ?? null];
  assert.deepEqual(json.map(shape), plain.map(shape));
  const tb = json.find((e) => e.detail['write'] === '_write_status')!;
  assert.equal(tb.detail['module'], 'etcd');
  assert.equal(tb.raw.split('\n').length, 1);
  assert.equal(json.find((e) => e.event === 'patroni.ha.leader')?.detail['module'], '__main__');
});

test('derived journald: traceback lines as separate entries are continuations; PostgreSQL interleaved; host = member', () => {
  const plain = events(parseFile('patroni-3.0.2/pg1/patroni.log'));
  const out = parseFile('patroni-derived/journald/pg1.journal.txt');
  assert.deepEqual(issues(out), []);
  assert.deepEqual(kinds(out), {
    'patroni.dcs-error': 4, 'patroni.ha.leader': 156, 'patroni.ha.lock-owner': 51, 'patroni.ha.other': 12,
    'patroni.ha.secondary': 19, 'patroni.nospace': 85, 'patroni.other': 23, 'patroni.dcs-switch': 2, 'postgres.log': 41,
  });
  assert.deepEqual(writes(out), writes(parseFile('patroni-3.0.2/pg1/patroni.log')));
  assert.ok(events(out).every((e) => e.member === 'pg1'));
  // Inner times win: the same instants as the plain file, milliseconds included.
  const withInner = events(out).filter((e) => e.event !== 'postgres.log' && e.time?.basis === 'assumed-zone');
  assert.deepEqual(withInner.map((e) => e.time?.ms), plain.map((e) => e.time?.ms));
  const shutdown = events(out).find((e) => e.raw.includes('SystemExit'))!;
  assert.equal(shutdown.raw.split('\n').length, 60);
  assert.equal(shutdown.detail['write'], 'touch_member');
  // pg_isready's output is a record of its own, timed by the journal.
  const ready = events(out).find((e) => e.message === 'localhost:43899 - accepting connections')!;
  assert.equal(ready.time?.basis, 'assumed-zone-year');
});

// ---------------------------------------------------------------------------------------------
// Forms not producible here, written from the reference (patroni.md §1.5): Patroni 4.1.1+.

test('4.1.1+ ResourceExhausted one-line and traceback forms are NOSPACE too', () => {
  const out = parseLines([
    "2026-11-23 22:40:05,352 ERROR: <ResourceExhausted error: 'etcdserver: mvcc: database space exceeded', code: 8>",
    '2026-11-23 22:40:06,100 ERROR: ',
    'Traceback (most recent call last):',
    '  File "/usr/lib/python3/dist-packages/patroni/dcs/etcd3.py", line 1010, in _write_failsafe',
    '    return self._client.put(self.failsafe_path, value)',
    '  File "/usr/lib/python3/dist-packages/patroni/dcs/etcd3.py", line 326, in put',
    '    return self.call_rpc(\'/kv/put\', fields, retry)',
    "patroni.dcs.etcd3.Etcd3ClientError: <ResourceExhausted error: 'etcdserver: mvcc: database space exceeded', code: 8>",
    '2026-11-23 22:40:06,200 INFO: PAUSE: no action. I am (node1), the leader with the lock',
  ]);
  const [one, tb, pause] = events(out);
  assert.deepEqual([one?.event, one?.detail['errorClass'], one?.detail['code']], ['patroni.nospace', 'ResourceExhausted', 8]);
  assert.deepEqual([tb?.event, tb?.detail['write'], tb?.detail['exception']], ['patroni.nospace', '_write_failsafe', 'patroni.dcs.etcd3.Etcd3ClientError']);
  assert.deepEqual([pause?.event, pause?.detail['paused'], pause?.detail['member']], ['patroni.ha.leader', true, 'node1']);
});

test('classification of the other HA and DCS templates', () => {
  const k = (msg: string, level = 'INFO'): string => events(parseLines([`2026-11-23 22:40:05,352 ${level}: ${msg}`]))[0]!.event;
  assert.equal(k('no action. I am (node2), a secondary, and following a leader (node1)'), 'patroni.ha.secondary');
  assert.equal(k('demoted self because failed to update leader lock in DCS'), 'patroni.demoted');
  assert.equal(k('demoting self because DCS is not accessible and I was a leader'), 'patroni.demoted');
  assert.equal(k('Error communicating with DCS', 'ERROR'), 'patroni.dcs-error');
  assert.equal(k('failed to update leader lock', 'ERROR'), 'patroni.dcs-error');
  assert.equal(k('get_cluster', 'ERROR'), 'patroni.dcs-error');
  assert.equal(k('promoted self to leader because I had the session lock'), 'patroni.promoted');
  assert.equal(k('Could not take out TTL lock'), 'patroni.ha.other');
  assert.equal(k('Unexpected exception', 'ERROR'), 'patroni.error');
  assert.equal(k('Got response from pg3 http://127.0.0.1:1/patroni: {}'), 'patroni.other');
});

test('continuation without a head line is an issue; member from --member; CRLF tolerated', () => {
  const out = parseLines(['    retval = func(self, *args, **kwargs)', '2026-11-23 22:40:05,352 INFO: Lock owner: a; I am b\r'], { ...UTC, member: 'given' });
  assert.equal(issues(out).length, 1);
  const e = events(out)[0]!;
  assert.equal(e.member, 'given');
  assert.equal(e.detail['me'], 'b');
  assert.equal(e.raw.endsWith('\r'), false);
});

test('a traceback pasted without its record (frames only, as in etcd#13716) is an untimed error record naming the write', () => {
  // Frames from the real pg1 log's _write_status traceback, indentation collapsed as a write-up does.
  const frames = readLines('patroni-3.0.2/pg1/patroni.log').filter((l) => /^\s+File "/.test(l)).slice(0, 3).map((l) => l.trim());
  assert.equal(frames.length, 3);
  const out = parseLines(['Logs: >>>', ...frames]);
  assert.deepEqual(issues(out).map((i) => i.line), [1]);
  const [e] = events(out);
  assert.equal(events(out).length, 1);
  assert.equal(e!.line, 2);
  assert.equal(e!.time, null);
  assert.equal(e!.level, 'error');
  assert.equal(e!.raw.split('\n').length, 3);
  assert.equal(e!.detail['write'], '_write_status');
});

test('a DCS exception line standing alone in journald (etcd v2 DCS) is a DCS error with its key', () => {
  // patroni#1521 (real journald entry): the traceback split into entries and only the last one pasted.
  const out = parseLines(['May 03 02:31:13 rep-portal-database2 patroni[2350]: EtcdKeyNotFound: Key not found : /db/postgres/leader']);
  const [e] = events(out);
  assert.equal(e!.event, 'patroni.dcs-error');
  assert.equal(e!.detail['exception'], 'EtcdKeyNotFound');
  assert.equal(e!.detail['keyPath'], '/db/postgres/leader');
  assert.equal(e!.member, 'rep-portal-database2');
  // The same entry after the frames journald split off before it, the paste starting mid-traceback.
  const cut = parseLines([
    'May 03 02:31:13 rep-portal-database2 patroni[2350]: return self._handle_server_response(response)',
    'May 03 02:31:13 rep-portal-database2 patroni[2350]: File "/usr/lib/python2.7/site-packages/etcd/client.py", line 987, in _handle_server_response',
    'May 03 02:31:13 rep-portal-database2 patroni[2350]: raise exc(msg, payload)',
    'May 03 02:31:13 rep-portal-database2 patroni[2350]: EtcdKeyNotFound: Key not found : /db/postgres/leader',
  ]);
  assert.deepEqual(events(cut).map((x) => [x.line, x.event, x.detail['keyPath']]), [[1, 'patroni.dcs-error', '/db/postgres/leader']]);
});

test('looksLikePatroniLogLine: Patroni forms yes; etcd, PostgreSQL and prose no', () => {
  const yes = [
    '2026-11-23 23:54:59,071 ERROR: ',
    '2023-09-24 04:30:23 +0800 INFO: no action. I am (postgres-3), the leader with the lock',
    'Nov 23 23:54:59 pg1 patroni[5152]: 2026-11-23 23:54:59,071 ERROR: ',
    'Dec 09 11:22:46 pgsql1 patroni@15-main[22108]: 2021-12-09 11:22:42,881 INFO: Lock owner: pgsql1; I am pgsql1',
    readLines('patroni-derived/json/pg1.jsonl')[0]!,
  ];
  const no = [
    '{"level":"warn","ts":"2026-11-23T23:54:58.444Z","caller":"etcdserver/apply.go:636","msg":"alarm raised","alarm":"NOSPACE"}',
    '2026-11-23 23:54:58.457648 W | etcdserver: alarm NOSPACE raised by peer 546232be2082b95a',
    '2026-11-23 23:53:07.011 UTC [5483] LOG:  starting PostgreSQL 15.18',
    '11月 20 16:17:52 postgres-3 systemd[1]: Started patroni.',
    '于是检查 patroni 日志记录,发现大量报错,',
    '',
  ];
  for (const l of yes) assert.equal(looksLikePatroniLogLine(l), true, l);
  for (const l of no) assert.equal(looksLikePatroniLogLine(l), false, l);
});

// ---------------------------------------------------------------------------------------------
// Properties

test('property: arbitrary input never throws, and end() hands everything over', () => {
  const real = [
    ...readLines('patroni-3.0.2/pg1/patroni.log').slice(130, 200),
    ...readLines('patroni-derived/journald/pg1.journal.txt').slice(1390, 1440),
    ...readLines('patroni-derived/json/pg1.jsonl').slice(40, 50),
    ...readLines('patroni-3.0.2/pg2/stderr.log').slice(0, 20),
    ...readLines(SEED_FILE).slice(18, 60),
  ];
  const line = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom(...real),
    fc.constantFrom(...real).chain((l) => fc.nat(l.length).map((n) => l.slice(0, n))));
  fc.assert(fc.property(fc.array(line, { maxLength: 60 }), fc.option(fc.string(), { nil: null }), (lines, tz) => {
    const ctx = { ...UTC, tz: tz === null ? null : 'Asia/Shanghai' };
    const out = parseLines(lines, ctx);
    for (const o of out) assert.ok(o.kind === 'event' || o.kind === 'issue');
    // Every non-blank input line is either in some record's raw text or reported as an issue.
    const covered = events(out).reduce((n, e) => n + e.raw.split('\n').length, 0) + issues(out).length;
    assert.ok(covered <= lines.length);
  }), { numRuns: 300 });
  fc.assert(fc.property(fc.string(), (s) => {
    looksLikePatroniLogLine(s);
    parseSystemctlActiveLine(s, UTC);
  }), { numRuns: 500 });
});

test('property: parsing is deterministic (ingest twice = ingest once)', () => {
  const lines = readLines('patroni-3.0.2/pg3/patroni.log');
  assert.deepEqual(parseLines(lines), parseLines(lines));
});

test('a post: a record quoted as inline code, and a journald traceback cut before its exception (patroni#659)', () => {
  const out = parseLines([
    'Just 1 cluster of 17 is failed:',
    '`2018-04-19 14:06:48,189 INFO: PAUSE: demoted self because failed to update leader lock in DCS`',
    'апр 19 14:06:45 04.db patroni[29681]: Traceback (most recent call last):',
    'апр 19 14:06:45 04.db patroni[29681]: File "/usr/lib/python2.7/site-packages/patroni/dcs/etcd.py", line 338, in wrapper',
    'апр 19 14:06:45 04.db patroni[29681]: retval = func(self, *args, **kwargs) is not None',
    'апр 19 14:06:45 04.db patroni[29681]: File "/usr/lib/python2.7/site-packages/patroni/dcs/etcd.py", line 529, in _update_leader',
  ], { ...UTC, referenceMs: Date.parse('2018-05-01T00:00:00Z') });
  assert.deepEqual(events(out).map((e) => [e.line, e.event, e.time ? new Date(e.time.ms).toISOString() : null]), [
    [2, 'patroni.demoted', '2018-04-19T14:06:48.189Z'],
    [3, 'patroni.dcs-error', '2018-04-19T14:06:45.000Z'],
  ]);
  assert.equal(events(out)[1]!.detail['write'], '_update_leader');
});

test('a syslog tag kept without its time (patroni#2249): untimed records with level and DCS classification', () => {
  const out = parseLines([
    "patroni[6864]: ERROR: Failed to get list of machines from localhost:2379/v2: EtcdException('Bad response : 404 page not found\\n',)",
    'patroni[6864]: INFO: waiting on etcd',
  ]);
  assert.equal(issues(out).length, 0);
  assert.deepEqual(events(out).map((e) => [e.line, e.event, e.level, e.time]), [
    [1, 'patroni.dcs-error', 'error', null], [2, 'patroni.dcs-error', 'info', null],
  ]);
});
