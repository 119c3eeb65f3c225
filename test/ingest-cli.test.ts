// End-to-end: the built CLI ingesting real captured files; idempotence, atomicity, bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync, statSync, existsSync, createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { runCli, spawnCli, tempDir, FIXTURES } from './helpers/cli.js';

const E34 = join(FIXTURES, 'etcd-3.4');
const SEED = join(FIXTURES, 'seed', 'etcd-no-space-incident.txt');

const TABLES = ['sources', 'events', 'etcd_requests', 'status_samples', 'health_samples', 'snapshot_status', 'alarms', 'members', 'issues'] as const;

function counts(db: string): Record<(typeof TABLES)[number], number> {
  const d = new Database(db, { readonly: true });
  const out = {} as Record<(typeof TABLES)[number], number>;
  for (const t of TABLES) {
    out[t] = (d.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
  }
  d.close();
  return out;
}

test('detects each real capture file by content and stores its records with times', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const files = {
      'etcd-zap.log': 'etcd-log', 'etcd-capnslog.log': 'etcd-log', 'endpoint-status.table.txt': 'etcdctl',
      'endpoint-status.json.txt': 'etcdctl', 'status-samples.log': 'etcdctl', 'alarm-list.simple.txt': 'etcdctl',
      'snapshot-status-nospace.table.txt': 'etcdctl', 'member-list.json.txt': 'etcdctl',
    };
    const r = runCli(['ingest', '--db', db, ...Object.keys(files).map((f) => join(E34, f))]);
    assert.equal(r.code, 0, r.stderr);
    for (const [f, kind] of Object.entries(files)) {
      assert.match(r.stdout, new RegExp(`${f.replace(/\./g, '\\.')}: ${kind}, [1-9]\\d* records`), `${f} as ${kind}`);
    }
    const q = runCli(['query', '--db', db, '--json', "SELECT kind, time_bases FROM sources WHERE path LIKE '%etcd-zap.log'"]);
    const src = JSON.parse(q.stdout)[0];
    assert.equal(src.kind, 'etcd-log');
    assert.ok(src.time_bases.split(',').includes('explicit'));
    // The sampled status file takes its times from the `date` marker lines.
    const s = JSON.parse(runCli(['query', '--db', db, '--json',
      "SELECT count(*) n, min(time_basis) b FROM status_samples s JOIN sources src ON src.id=s.source_id WHERE src.path LIKE '%status-samples.log'"]).stdout);
    assert.ok(s[0].n > 10);
    assert.equal(s[0].b, 'marker');
  } finally {
    cleanup();
  }
});

test('re-ingesting the same files adds no rows; a directory is walked recursively', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const inputs = [join(E34, 'etcd-zap.log'), join(E34, 'status-samples.log'), SEED];
    assert.equal(runCli(['ingest', '--db', db, ...inputs]).code, 0);
    const before = counts(db);
    assert.ok(before.events > 100 && before.status_samples > 10);
    const again = runCli(['ingest', '--db', db, ...inputs]);
    assert.equal(again.code, 0);
    assert.equal(again.stdout.match(/already ingested/g)?.length, 3);
    assert.deepEqual(counts(db), before);
    // A copy under another name is the same content: nothing added either.
    const copy = join(dir, 'sub', 'renamed.log');
    mkdirSync(join(dir, 'sub'));
    copyFileSync(join(E34, 'etcd-zap.log'), copy);
    const r = runCli(['ingest', '--db', db, join(dir, 'sub')]);
    assert.match(r.stdout, /renamed\.log: already ingested/);
    assert.deepEqual(counts(db), before);
  } finally {
    cleanup();
  }
});

test('bad inputs: one clear line each naming file and line, others still ingested, exit 2, no stack trace', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const garbage = join(dir, 'garbage.bin');
    writeFileSync(garbage, Buffer.concat([randomBytes(5000), Buffer.from([0]), randomBytes(5000)]));
    const truncated = join(dir, 'truncated.log');
    const zap = readFileSync(join(E34, 'etcd-zap.log'), 'utf8').split('\n').filter(Boolean);
    const cutLine = zap.length; // the last line, cut in the middle of its JSON
    writeFileSync(truncated, `${zap.slice(0, -1).join('\n')}\n${zap[zap.length - 1]!.slice(0, 40)}\n`);
    const prose = join(dir, 'notes.txt');
    writeFileSync(prose, 'We restarted the primary at noon.\nNothing else happened.\n');
    const missing = join(dir, 'does-not-exist.log');
    const good = join(E34, 'etcd-capnslog.log');
    const r = runCli(['ingest', '--db', db, garbage, truncated, prose, missing, good]);
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.match(r.stderr, new RegExp(`garbage\\.bin:\\d+: binary data`));
    assert.match(r.stderr, new RegExp(`truncated\\.log:${cutLine}: skipped: `));
    assert.match(r.stderr, /notes\.txt:1: cannot tell what this input holds/);
    assert.match(r.stderr, /does-not-exist\.log: cannot read \(ENOENT\)/);
    assert.match(r.stdout, /etcd-capnslog\.log: etcd-log, [1-9]\d* records/);
    // The truncated file kept its good lines; the unknown and binary files stored nothing.
    const c = counts(db);
    assert.equal(c.sources, 2);
    const issues = JSON.parse(runCli(['query', '--db', db, '--json', 'SELECT line FROM issues']).stdout);
    assert.deepEqual(issues, [{ line: cutLine }]);
    // --strict: the file with a skipped line stores nothing.
    const db2 = join(dir, 's2.db');
    const strict = runCli(['ingest', '--db', db2, '--strict', truncated]);
    assert.equal(strict.code, 2);
    assert.match(strict.stderr, /--strict: nothing stored/);
    assert.equal(counts(db2).sources, 0);
  } finally {
    cleanup();
  }
});

test('gzip (by magic, any name) and stdin give the same records as the plain file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const plainDb = join(dir, 'a.db');
    runCli(['ingest', '--db', plainDb, join(E34, 'etcd-zap.log')]);
    const gz = join(dir, 'rotated.1');
    writeFileSync(gz, gzipSync(readFileSync(join(E34, 'etcd-zap.log'))));
    const gzDb = join(dir, 'b.db');
    assert.equal(runCli(['ingest', '--db', gzDb, gz]).code, 0);
    const stdinDb = join(dir, 'c.db');
    assert.equal(runCli(['ingest', '--db', stdinDb, '-'], { input: readFileSync(join(E34, 'etcd-zap.log')) }).code, 0);
    const a = counts(plainDb);
    assert.deepEqual(counts(gzDb), a);
    assert.deepEqual(counts(stdinDb), a);
    // stdin twice: the second adds nothing.
    const again = runCli(['ingest', '--db', stdinDb, '-'], { input: readFileSync(join(E34, 'etcd-zap.log')) });
    assert.match(again.stdout, /already ingested/);
    assert.deepEqual(counts(stdinDb), a);
  } finally {
    cleanup();
  }
});

test('etcdctl output without a timestamp line takes --at and records it', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const r = runCli(['ingest', '--db', db, '--at', '2026-11-24T07:25:31+08:00', '-'], { input: readFileSync(join(E34, 'endpoint-status.json.txt')) });
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(runCli(['query', '--db', db, '--json', 'SELECT ts_ms, time_basis, member_id, db_size_approx FROM status_samples']).stdout);
    assert.ok(rows.length >= 2);
    for (const row of rows) {
      assert.equal(row.ts_ms, Date.parse('2026-11-24T07:25:31+08:00'));
      assert.equal(row.time_basis, 'at');
      assert.equal(row.db_size_approx, 0);
      assert.match(row.member_id, /^[0-9a-f]{1,16}$/);
    }
  } finally {
    cleanup();
  }
});

test('a process killed mid-file leaves none of that file and nothing else lost', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    assert.equal(runCli(['ingest', '--db', db, join(E34, 'etcd-capnslog.log')]).code, 0);
    const before = counts(db);
    // A large log made of the real zap lines repeated (content varied so nothing is deduplicated).
    const big = join(dir, 'big.log');
    const lines = readFileSync(join(E34, 'etcd-zap.log'), 'utf8').split('\n').filter((l) => l.startsWith('{'));
    const out = createWriteStream(big);
    for (let i = 0; i < 1500; i++) out.write(`${lines.join('\n')}\n`);
    await new Promise<void>((res) => out.end(res));
    const sizeBefore = statSync(db).size;
    const child = spawnCli(['ingest', '--db', db, big]);
    // Kill once the transaction has visibly started writing, well before the end: ingest writes
    // through a rollback journal, so the database file grows while the journal exists.
    const journal = `${db}-journal`;
    const started = Date.now();
    let midTransaction = false;
    while (Date.now() - started < 30_000) {
      await new Promise((r) => setTimeout(r, 50));
      if (existsSync(journal) && statSync(db).size > sizeBefore + 2 * 1024 * 1024) {
        midTransaction = true;
        break;
      }
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(midTransaction, 'the ingest was killed with its transaction open (journal present, pages written)');
    assert.ok(existsSync(journal), 'a hot journal is left for the next opener to roll back');
    // A read-only command is the first to open it: it rolls the journal back and reads the store as before.
    const listed = runCli(['sources', '--db', db, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(JSON.parse(listed.stdout).sources.length, before.sources);
    assert.ok(!existsSync(journal));
    assert.deepEqual(counts(db), before);
    // And the file can be ingested whole afterwards.
    const r = runCli(['ingest', '--db', db, big]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(counts(db).sources, before.sources + 1);
  } finally {
    cleanup();
  }
});

test('query is read-only and prints tables or JSON', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    runCli(['ingest', '--db', db, join(E34, 'alarm-list.simple.txt')]);
    const del = runCli(['query', '--db', db, 'DELETE FROM alarms']);
    assert.equal(del.code, 2);
    assert.match(del.stderr, /read-only/);
    const rows = JSON.parse(runCli(['query', '--db', db, '--json', 'SELECT member_id, alarm FROM alarms']).stdout);
    assert.ok(rows.length >= 1);
    // uint64 member ids above 2^53 are kept exactly as etcdctl printed them.
    const printed = readFileSync(join(E34, 'alarm-list.simple.txt'), 'utf8').match(/memberID:(\d+)/)![1];
    assert.equal(rows[0].member_id, printed);
    assert.equal(rows[0].alarm, 'NOSPACE');
    const table = runCli(['query', '--db', db, 'SELECT alarm FROM alarms']);
    assert.match(table.stdout, /│ NOSPACE │|\| NOSPACE \|/);
  } finally {
    cleanup();
  }
});

test('a damaged snapshot: one line naming the page or byte offset, exit 2, nothing stored', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const real = readFileSync(join(E34, 'snapshot-nospace.db'));
    // Keep the meta pages (so it is recognised as bbolt) and cut the file in the middle of its tree.
    const cut = join(dir, 'cut.db');
    writeFileSync(cut, real.subarray(0, 40 * 4096 + 100));
    const r = runCli(['ingest', '--db', db, cut, join(E34, 'alarm-list.simple.txt')]);
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const lines = r.stderr.split('\n').filter((l) => l.includes('cut.db'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /cut\.db: not a readable etcd backend: .*(page \d+|byte \d+)/);
    const c = counts(db);
    assert.equal(c.sources, 1, 'only the good input');
    assert.equal(c.snapshot_status, 0);
  } finally {
    cleanup();
  }
});
