// End-to-end through the built CLI: a whole incident folder (with what is plainly not an input, symlink
// loops and things that cannot be read), one content plain and gzipped, a sampling log that grew, and
// `sources rm` followed by a re-read with the right --tz.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { runCli, tempDir, FIXTURES } from './helpers/cli.js';

const E34 = join(FIXTURES, 'etcd-3.4');
const TABLES = ['sources', 'events', 'etcd_requests', 'status_samples', 'health_samples', 'snapshot_status', 'alarms', 'members', 'issues'] as const;

function counts(db: string, exceptSources = false): Record<string, number> {
  const d = new Database(db, { readonly: true });
  const out: Record<string, number> = {};
  for (const t of TABLES) {
    if (exceptSources && t === 'sources') continue;
    out[t] = (d.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
  }
  d.close();
  return out;
}

function rows<T>(db: string, sql: string, ...params: unknown[]): T[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all(...params) as T[];
  } finally {
    d.close();
  }
}

test('an incident folder: inputs read, everything else listed once as not read, exit 0, same rows as the inputs alone', () => {
  const { dir, cleanup } = tempDir();
  const locked = join(dir, 'incident', 'locked');
  try {
    const inc = join(dir, 'incident');
    mkdirSync(join(inc, 'etcd2'), { recursive: true });
    const inputs = [join(inc, 'etcd-zap.log'), join(inc, 'etcd2', 'etcd-capnslog.log'), join(inc, 'status-samples.log')];
    copyFileSync(join(E34, 'etcd-zap.log'), inputs[0]!);
    copyFileSync(join(E34, 'etcd-capnslog.log'), inputs[1]!);
    copyFileSync(join(E34, 'status-samples.log'), inputs[2]!);
    writeFileSync(join(inc, 'README.md'), '# Incident 2026-11-24\n\nThe primary was restarted at noon; nothing else was changed.\n');
    // Patroni's own config is an input (settings in force); other YAML is set aside.
    writeFileSync(join(inc, 'patroni.yml'), readFileSync(join(FIXTURES, 'patroni-3.0.2', 'pg1', 'patroni.yml')));
    inputs.push(join(inc, 'patroni.yml'));
    writeFileSync(join(inc, 'values.yaml'), 'replicaCount: 3\nimage:\n  tag: v1\n');
    writeFileSync(join(inc, 'empty.log'), '');
    symlinkSync('.', join(inc, 'loop-a'));
    symlinkSync('..', join(inc, 'etcd2', 'loop-b'));
    symlinkSync('gone.log', join(inc, 'dangling.log'));
    execFileSync('mkfifo', [join(inc, 'pipe')]);
    // An unreadable directory. As root, mode 000 does not stop readdir: then the directory is read
    // (and its file with it), and the FIFO and dangling link above are what cannot be read.
    mkdirSync(locked);
    copyFileSync(join(E34, 'alarm-list.simple.txt'), join(locked, 'alarm-list.simple.txt'));
    chmodSync(locked, 0o000);
    const root = process.getuid?.() === 0;
    if (root) inputs.push(join(locked, 'alarm-list.simple.txt'));

    const db = join(dir, 'folder.db');
    const r = runCli(['ingest', '--db', db, inc]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'nothing on stderr: set aside is not an error');
    const notRead = r.stdout.split('\n').filter((l) => l.startsWith('not read: '));
    const expected: [string, RegExp][] = [
      ['README.md', /no log line or etcdctl output recognised/],
      ['dangling.log', /a symbolic link that leads nowhere: ENOENT/],
      ['empty.log', /empty file/],
      ['etcd2/loop-b', /a link to a directory already walked/],
      ['loop-a', /a link to a directory already walked/],
      ['values.yaml', /a configuration file/],
      ['pipe', /not a regular file \(a FIFO\)/],
    ];
    if (!root) expected.push(['locked', /cannot list the directory: EACCES/]);
    for (const [name, why] of expected) {
      const hits = notRead.filter((l) => l.startsWith(`not read: ${join(inc, name)} (`));
      assert.equal(hits.length, 1, `${name} listed once:\n${r.stdout}`);
      assert.match(hits[0]!, why);
    }
    assert.equal(notRead.length, expected.length, notRead.join('\n'));
    for (const p of inputs) assert.match(r.stdout, new RegExp(`^${p.replace(/[.]/g, '\\.')}: [a-z-]+, [1-9]\\d* records`, 'm'));

    // The same rows as reading the inputs alone.
    const alone = join(dir, 'alone.db');
    assert.equal(runCli(['ingest', '--db', alone, ...inputs]).code, 0);
    assert.deepEqual(counts(db), counts(alone));
    assert.equal(counts(db).sources, inputs.length);

    // A file named on the command line that is not an input is still an error (exit 2).
    const named = runCli(['ingest', '--db', db, join(inc, 'README.md')]);
    assert.equal(named.code, 2);
    assert.match(named.stderr, /README\.md:1: cannot tell what this input holds/);
  } finally {
    chmodSync(locked, 0o755);
    cleanup();
  }
});

test('one content, one source: a log plain and gzipped, in either order, is stored once', () => {
  const { dir, cleanup } = tempDir();
  try {
    const plain = join(dir, 'etcd-zap.log');
    copyFileSync(join(E34, 'etcd-zap.log'), plain);
    const gz = join(dir, 'etcd-zap.log.1.gz');
    writeFileSync(gz, gzipSync(readFileSync(plain)));
    for (const order of [[plain, gz], [gz, plain]]) {
      const db = join(dir, `${order[0] === gz ? 'gz' : 'plain'}-first.db`);
      const first = runCli(['ingest', '--db', db, order[0]!]);
      assert.equal(first.code, 0, first.stderr);
      const before = counts(db);
      const second = runCli(['ingest', '--db', db, order[1]!]);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, new RegExp(`${order[1]!.replace(/[.]/g, '\\.')}: already ingested \\(same content as ${order[0]!.replace(/[.]/g, '\\.')}\\)`));
      assert.deepEqual(counts(db), before);
      assert.equal(before.sources, 1);
      const [src] = rows<{ sha256: string; content_bytes: number }>(db, 'SELECT sha256, content_bytes FROM sources');
      assert.equal(src!.content_bytes, readFileSync(plain).length);
    }
  } finally {
    cleanup();
  }
});

test('a log that grew: only the new lines are added, numbered on from the stored ones, as a source that continues it', () => {
  const { dir, cleanup } = tempDir();
  try {
    const full = readFileSync(join(E34, 'etcd-zap.log'), 'utf8');
    const lines = full.split('\n');
    const cut = 200;
    const log = join(dir, 'etcd.log');
    writeFileSync(log, `${lines.slice(0, cut).join('\n')}\n`);
    // --keep-raw: a row per line, so head + tail can be compared row by row with the whole file. The
    // per-minute groups of a default ingest close at the head's end (the minute at the cut becomes two rows);
    // their line counts are compared below.
    const db = join(dir, 'grown.db');
    const grouped = join(dir, 'grown-grouped.db');
    assert.equal(runCli(['ingest', '--db', db, '--keep-raw', log]).code, 0);
    assert.equal(runCli(['ingest', '--db', grouped, log]).code, 0);
    writeFileSync(log, full); // the same file, grown
    const tailLines = full.endsWith('\n') ? lines.length - 1 - cut : lines.length - cut;
    assert.equal(runCli(['ingest', '--db', grouped, log]).code, 0);
    const r = runCli(['ingest', '--db', db, '--keep-raw', log]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`etcd\\.log: etcd-log, appended ${tailLines} lines \\(continues source #1, from line ${cut + 1}\\)`));
    const srcs = rows<{ id: number; continues: number | null; first_line: number }>(db, 'SELECT id, continues, first_line FROM sources ORDER BY id');
    assert.deepEqual(srcs, [{ id: 1, continues: null, first_line: 1 }, { id: 2, continues: 1, first_line: cut + 1 }]);
    const tail = rows<{ n: number; lo: number }>(db, 'SELECT count(*) n, min(line) lo FROM events WHERE source_id = 2')[0]!;
    assert.ok(tail.n > 0 && tail.lo > cut, `tail rows start after line ${cut}: ${JSON.stringify(tail)}`);
    // Head + tail hold exactly the rows of the whole file read at once, each citing the same line.
    const whole = join(dir, 'whole.db');
    assert.equal(runCli(['ingest', '--db', whole, '--keep-raw', log]).code, 0);
    const ev = 'SELECT line, ts_ms, kind, member, message FROM events ORDER BY line, ts_ms, kind, message';
    assert.deepEqual(rows(db, ev), rows(whole, ev));
    const rq = 'SELECT line, seq, ts_ms, op, key, outcome FROM etcd_requests ORDER BY line, seq';
    assert.deepEqual(rows(db, rq), rows(whole, rq));
    // Grouped head + tail: the same lines per kind, member and minute as the whole file line by line.
    const perMinute = (t: string): string => `SELECT ${t === 'events' ? 'kind' : 'op'} k, member, ts_ms / 60000 AS m, sum(count) n
      FROM ${t} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`;
    for (const t of ['events', 'etcd_requests']) assert.deepEqual(rows(grouped, perMinute(t)), rows(whole, perMinute(t)), t);
    assert.ok(rows<{ n: number }>(grouped, 'SELECT max(count) n FROM events')[0]!.n > 1, 'the grouped store folds lines');
    // Read a third time: nothing new.
    const again = runCli(['ingest', '--db', db, log]);
    assert.match(again.stdout, /already ingested/);
    assert.equal(counts(db).sources, 2);
    // Forgetting the head forgets the tail that continues it.
    const rm = runCli(['sources', '--db', db, 'rm', '1']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, /forgot source #2: .*continued a source removed/);
    for (const [t, n] of Object.entries(counts(db))) assert.equal(n, 0, t);
  } finally {
    cleanup();
  }
});

test('sources rm forgets every row of a source; read again with --tz, its times move by exactly the offset', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const zap = join(E34, 'etcd-zap.log');
    const capn = join(E34, 'etcd-capnslog.log');
    assert.equal(runCli(['ingest', '--db', db, zap, capn]).code, 0);
    const id = rows<{ id: number }>(db, 'SELECT id FROM sources WHERE path = ?', capn)[0]!.id;
    const before = rows<{ line: number; ts_ms: number }>(db, 'SELECT line, ts_ms FROM events WHERE source_id = ? ORDER BY line', id);
    assert.ok(before.length > 100);
    const list = runCli(['sources', '--db', db]);
    assert.match(list.stdout, new RegExp(`│ ${id} +│ ${capn.replace(/[.]/g, '\\.')}`));
    const rm = runCli(['sources', '--db', db, 'rm', capn]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, new RegExp(`forgot source #${id}: `));
    // No row anywhere still names the source.
    const d = new Database(db, { readonly: true });
    const tables = (d.prepare(`SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
      WHERE m.type = 'table' AND c.name = 'source_id'`).all() as { name: string }[]).map((t) => t.name);
    for (const t of tables) assert.equal((d.prepare(`SELECT count(*) n FROM ${t} WHERE source_id = ?`).get(id) as { n: number }).n, 0, t);
    d.close();
    assert.equal(runCli(['sources', '--db', db, 'rm', '999']).code, 2);

    const again = runCli(['ingest', '--db', db, '--tz', 'Asia/Shanghai', capn]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /time sanity/);
    const id2 = rows<{ id: number }>(db, 'SELECT id FROM sources WHERE path = ?', capn)[0]!.id;
    const after = rows<{ line: number; ts_ms: number }>(db, 'SELECT line, ts_ms FROM events WHERE source_id = ? ORDER BY line', id2);
    assert.deepEqual(after.map((e) => e.line), before.map((e) => e.line));
    const timed = after.filter((e) => e.ts_ms !== null).length;
    assert.ok(timed > 100, `${timed} timed events`);
    for (let i = 0; i < after.length; i++) {
      const b = before[i]!.ts_ms;
      assert.equal(after[i]!.ts_ms, b === null ? null : b - 8 * 3_600_000, `line ${after[i]!.line}`);
    }
    // And shown in a zone: the capnslog alarm line is 15:28:37.797 local, 07:28:37.797Z.
    const shown = runCli(['sources', '--db', db, '--tz', 'Asia/Shanghai']);
    assert.match(shown.stdout, /^times in Asia\/Shanghai$/m);
    assert.match(shown.stdout, /first \(Asia\/Shanghai\)/);
    assert.match(shown.stdout, /2026-11-24T07:26:49\.000\+08:00/);
    // The analyses too: the same instants on the zone's wall clock, the zone stated once at the top.
    const utc = runCli(['timeline', '--db', db, '--full']); // --full: whole timestamps (a narrow screen shows the day once)
    const local = runCli(['timeline', '--db', db, '--tz', 'Asia/Shanghai', '--full']);
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /^times in Asia\/Shanghai\nTIMELINE \(Asia\/Shanghai\)/);
    const utcTimes = utc.stdout.match(/\d{4}-\d\d-\d\dT[\d:.]+Z/g)!;
    const localTimes = local.stdout.match(/\d{4}-\d\d-\d\dT[\d:.]+\+08:00/g)!;
    assert.ok(utcTimes.length > 10);
    assert.deepEqual(localTimes.map((t) => Date.parse(t)), utcTimes.map((t) => Date.parse(t)));
    assert.doesNotMatch(local.stdout, /\d\d:\d\d:\d\d(\.\d+)?Z/);
  } finally {
    cleanup();
  }
});
