// Issue 14: raw bytes that are not UTF-8 in a log line. The line reader used to decode them to U+FFFD, so a
// key holding 0xff and one holding 0xfe were one key, printed the same. Now each such byte is the visible
// text `\xff` (as keys read from a snapshot and Go-escaped bytes in etcd's request text already were), and
// a JSON line holding one still parses (units/json-visible.ts).
//
// Input: a real line of test/fixtures/etcd-3.4/etcd-zap.log (etcd 3.4.23's zap log, captured as its README
// says): the first "failed to apply request" line for a put of /service/pg_demo/members/node2, written twice
// with the key's last byte ('2') replaced by the raw byte 0xff in one copy and 0xfe in the other. No other
// byte changes. (etcd itself Go-escapes such bytes; a hostile or damaged log holds them raw.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, runCli, tempDir } from './helpers/cli.js';
import { LineSplitter } from '../src/ingest/lines.js';
import { parseJsonVisible } from '../src/units/json-visible.js';

const KEY = '/service/pg_demo/members/node2';

function derivedLines(): Buffer {
  const log = readFileSync(join(FIXTURES, 'etcd-3.4', 'etcd-zap.log'));
  const line = log.toString('latin1').split('\n').find((l) => l.includes('"msg":"failed to apply request"') && l.includes(`put:<key:\\"${KEY}\\"`));
  assert.ok(line, 'the fixture holds a refused put of the key');
  const raw = Buffer.from(line, 'latin1');
  const at = raw.indexOf(KEY) + KEY.length - 1;
  const withByte = (b: number) => { const c = Buffer.from(raw); c[at] = b; return c; };
  return Buffer.concat([withByte(0xff), Buffer.from('\n'), withByte(0xfe), Buffer.from('\n')]);
}

test('raw 0xff and 0xfe in a zap line key: two keys, shown as \\xff and \\xfe by churn, timeline and analyze --json, never U+FFFD', () => {
  const { dir, cleanup } = tempDir('ef-raw-bytes-');
  try {
    const file = join(dir, 'etcd-zap-raw-bytes.log');
    writeFileSync(file, derivedLines());
    const db = join(dir, 's.db');
    const ing = runCli(['ingest', '--db', db, file]);
    assert.equal(ing.code, 0, ing.stderr);
    assert.match(ing.stdout + ing.stderr, /etcd-log, \d+ records/);
    assert.doesNotMatch(ing.stdout + ing.stderr, /skipped/, 'both lines parse');
    const a = '/service/pg_demo/members/node\\xff';
    const b = '/service/pg_demo/members/node\\xfe';
    for (const args of [['churn'], ['timeline', '--full']]) {
      const r = runCli([...args, '--db', db]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(a) && r.stdout.includes(b), `${args[0]} shows both keys:\n${r.stdout}`);
      assert.ok(!r.stdout.includes('\ufffd'), `${args[0]}: no U+FFFD`);
    }
    const json = runCli(['analyze', '--db', db, '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(!json.stdout.includes('\ufffd'), 'analyze --json: no U+FFFD');
    const keys = new Set<string>();
    JSON.parse(json.stdout, (k, v: unknown) => { if (typeof v === 'string' && v.startsWith('/service/pg_demo/members/node')) keys.add(v); return v; });
    assert.ok(keys.has(a) && keys.has(b), `analyze --json holds both keys as text: ${[...keys].join(', ')}`);
  } finally {
    cleanup();
  }
});

test('line reader: an invalid byte becomes \\xNN, a real U+FFFD (EF BF BD) and other valid UTF-8 stay as they are', () => {
  const s = new LineSplitter();
  const batch = s.push(Buffer.concat([
    Buffer.from('a'), Buffer.from([0xff]), Buffer.from('b\n'),
    Buffer.from('real \ufffd and µs\n', 'utf8'),
    Buffer.from([0xc3]), Buffer.from('(\r\n'), // a truncated 2-byte sequence, then CRLF
  ]));
  assert.deepEqual(batch?.lines, ['a\\xffb', 'real \ufffd and µs', '\\xc3(']);
});

test('parseJsonVisible: a \\x the reader wrote parses as that text; valid JSON, escaped backslashes and other bad escapes are JSON.parse', () => {
  assert.deepEqual(parseJsonVisible('{"k":"a\\xffb"}'), { k: 'a\\xffb' });
  assert.deepEqual(parseJsonVisible('{"k":"a\\\\xffb"}'), { k: 'a\\xffb' }, 'the program wrote the text \\xff, JSON-escaped');
  assert.deepEqual(parseJsonVisible('{"k":"\\u00ff"}'), { k: '\u00ff' });
  assert.throws(() => parseJsonVisible('{"k":"\\q"}'), SyntaxError);
  assert.throws(() => parseJsonVisible('{"k":"\\xff"'), SyntaxError, 'still not JSON: refused as before');
});

test('a Patroni configuration with raw 0xff 0xfe in its scope (fuzz seed 16 case 296): the scope is shown as \\xff\\xfe, never U+FFFD', () => {
  // test/fixtures/patroni-4.1.5/json/pg2/patroni.yml (real, written by the capture script) with the bytes
  // "_d" of `scope: pg_demo` replaced by 0xff 0xfe.
  const { dir, cleanup } = tempDir('ef-raw-bytes-');
  try {
    const yml = readFileSync(join(FIXTURES, 'patroni-4.1.5', 'json', 'pg2', 'patroni.yml'));
    const at = yml.indexOf('scope: pg_demo') + 'scope: pg'.length;
    assert.ok(at > 8);
    const damaged = Buffer.from(yml);
    damaged[at] = 0xff; damaged[at + 1] = 0xfe;
    const file = join(dir, 'patroni.yml');
    writeFileSync(file, damaged);
    const db = join(dir, 's.db');
    const ing = runCli(['ingest', '--db', db, file]);
    assert.equal(ing.code, 0, ing.stderr);
    const json = runCli(['analyze', '--db', db, '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(!json.stdout.includes('\ufffd') && !ing.stderr.includes('\ufffd'), 'no U+FFFD');
    const scopes: unknown[] = [];
    JSON.parse(json.stdout, (k, v: unknown) => { if (k === 'patroniScope') scopes.push(v); return v; });
    assert.ok(scopes.length > 0 && scopes.every((v) => v === 'pg\\xff\\xfeemo'), `patroniScope: ${JSON.stringify(scopes)}`);
  } finally {
    cleanup();
  }
});

test('etcdutl defrag output with a raw 0xff in its path field (etcd-3.5.16/etcdutl-defrag-etcd2.txt): both lines still read, the path shown as \\xff', async () => {
  const { createParser } = await import('../src/ingest/parsers.js');
  const { LineSplitter: Splitter } = await import('../src/ingest/lines.js');
  const raw = readFileSync(join(FIXTURES, 'etcd-3.5.16', 'etcdutl-defrag-etcd2.txt'));
  const at = raw.indexOf('/member/snap/db');
  assert.ok(at > 0);
  const changed = Buffer.from(raw);
  for (let i = raw.indexOf('/member/snap/db'); i !== -1; i = raw.indexOf('/member/snap/db', i + 1)) changed[i + 8] = 0xff; // the 's' of snap
  const sp = new Splitter();
  const lines = [...(sp.push(changed)?.lines ?? []), ...(sp.end()?.lines ?? [])];
  const read = (ls: string[]) => {
    const p = createParser('etcdctl', { tz: null, member: null, referenceMs: Date.UTC(2026, 10, 30) });
    return [...ls.flatMap((l, i) => p.push(l, i + 1)), ...p.end()];
  };
  const before = read(raw.toString('utf8').split('\n'));
  const after = read(lines);
  assert.equal(after.filter((o) => o.kind === 'issue').length, before.filter((o) => o.kind === 'issue').length, JSON.stringify(after.filter((o) => o.kind === 'issue')));
  assert.equal(after.length, before.length);
  const text = JSON.stringify(after);
  assert.ok(text.includes('\\\\xffnap/db'), 'the byte shows as the text \\xff');
  // Every record is what the unchanged file gives, but for the path's byte: sizes, times and kinds included.
  assert.equal(text.replaceAll('\\\\xffnap/db', 'snap/db'), JSON.stringify(before));
  assert.ok(!text.includes('\ufffd'));
});
