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
