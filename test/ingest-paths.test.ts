// The two ways a text input reaches the store (parsed on the main thread, or in the parse worker for a
// large file) must store the same rows; ingest must leave the store in WAL mode; and the analyses'
// events query must use the partial index that migration 5 made cheap to maintain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../src/store/migrations.js';
import { FIXTURES, ROOT, runCli, tempDir } from './helpers/cli.js';
import { dumpStore } from './helpers/store-dump.js';
import { notableEventsSql } from '../src/analyze/load.js';

const INPUTS = [join(FIXTURES), join(ROOT, 'samples', 'patroni-nospace')];


test('the parse worker and the main thread store the same rows for every fixture and sample', () => {
  const { dir, cleanup } = tempDir();
  try {
    const stores: Record<string, Record<string, unknown[]>> = {};
    for (const mode of ['always', 'never']) {
      const db = join(dir, `${mode}.db`);
      const r = runCli(['ingest', '--db', db, ...INPUTS], { env: { ETCD_FORENSICS_PARSE_WORKER: mode } });
      // Some fixtures are real error output (a panicking `alarm list -w fields`): exit 2, the rest stored.
      assert.ok(r.code === 0 || r.code === 2, r.stderr);
      stores[mode] = dumpStore(db);
    }
    const [w, m] = [stores.always!, stores.never!];
    assert.deepEqual(Object.keys(w).sort(), Object.keys(m).sort());
    for (const t of Object.keys(m)) assert.deepEqual(w[t], m[t], `table ${t}`);
    // Not vacuous: every text kind and record table is represented.
    const kinds = new Set(m.sources!.map((s) => (s as unknown[])[2]));
    for (const k of ['etcd-log', 'patroni-log', 'etcdctl', 'transcript', 'etcd-snapshot']) assert.ok(kinds.has(k), k);
    assert.ok(m.events!.length > 3000, `events ${m.events!.length}`);
    for (const t of ['etcd_requests', 'status_samples', 'health_samples', 'snapshot_status', 'alarms', 'members', 'issues']) {
      assert.ok(m[t]!.length > 0, `${t} has rows`);
    }
  } finally {
    cleanup();
  }
});

test('ingest leaves the store in rollback-journal mode (readable from a directory the reader cannot write), and runs beside an open reader', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const zap = join(FIXTURES, 'etcd-3.4', 'etcd-zap.log');
    assert.equal(runCli(['ingest', '--db', db, join(FIXTURES, 'etcd-3.4', 'etcd-capnslog.log')]).code, 0);
    const d = new Database(db, { readonly: true });
    try {
      assert.equal(d.pragma('journal_mode', { simple: true }), 'delete');
      assert.ok(!existsSync(`${db}-journal`) && !existsSync(`${db}-wal`));
      // A reader between statements holds no lock: the ingest commits, and the reader then sees its rows.
      const before = (d.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
      const r = runCli(['ingest', '--db', db, zap]);
      assert.equal(r.code, 0, r.stderr);
      const after = (d.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
      assert.ok(after > before, `${after} > ${before}`);
      assert.equal(d.pragma('journal_mode', { simple: true }), 'delete');
    } finally {
      d.close();
    }
  } finally {
    cleanup();
  }
});

test("the analyses' events query uses the partial index events_notable_ts", () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    assert.equal(runCli(['ingest', '--db', db, join(FIXTURES, 'etcd-3.4', 'etcd-zap.log')]).code, 0);
    const d = new Database(db, { readonly: true });
    try {
      assert.equal(d.pragma('user_version', { simple: true }), Math.max(...MIGRATIONS.map((m) => m.version)));
      const idx = d.prepare(`SELECT sql FROM sqlite_master WHERE name = 'events_notable_ts'`).get() as { sql: string };
      assert.doesNotMatch(idx.sql, /NOT IN/);
      for (const cut of ['1=1', '(e.ts_ms IS NULL OR e.ts_ms <= 1795476409328)']) {
        const plan = (d.prepare(`EXPLAIN QUERY PLAN ${notableEventsSql(cut)}`).all() as { detail: string }[])
          .map((p) => p.detail).join('\n');
        assert.match(plan, /USING INDEX events_notable_ts/, plan);
      }
    } finally {
      d.close();
    }
  } finally {
    cleanup();
  }
});

test('bad inputs give the same one-line messages and exit code on both paths, and store nothing of the bad file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const zap = readFileSync(join(FIXTURES, 'etcd-3.4', 'etcd-zap.log'));
    const garbage = join(dir, 'garbage.bin');
    writeFileSync(garbage, Buffer.concat([randomBytes(4000), Buffer.from([0]), randomBytes(4000)]));
    const prose = join(dir, 'notes.txt');
    writeFileSync(prose, 'We restarted the primary at noon.\nNothing else happened.\n');
    // A rotated log whose gzip stream is damaged after its first part: the read fails mid-file.
    const broken = join(dir, 'etcd.log.1.gz');
    const gz = gzipSync(Buffer.concat(Array.from({ length: 40 }, () => zap)));
    writeFileSync(broken, Buffer.concat([gz.subarray(0, gz.length >> 1), randomBytes(2000)]));
    const strictCut = join(dir, 'cut.log');
    writeFileSync(strictCut, `${zap.toString('utf8').trimEnd()}\n{"level":"warn","ts":"2026-11-24T07:29:18.0\n`);
    const good = join(FIXTURES, 'etcd-3.4', 'etcd-capnslog.log');
    const runs = ['always', 'never'].map((mode) => {
      const db = join(dir, `${mode}.db`);
      const r = runCli(['ingest', '--db', db, garbage, prose, broken, good], { env: { ETCD_FORENSICS_PARSE_WORKER: mode } });
      const strict = runCli(['ingest', '--db', db, '--strict', strictCut], { env: { ETCD_FORENSICS_PARSE_WORKER: mode } });
      const d = new Database(db, { readonly: true });
      const paths = (d.prepare('SELECT path FROM sources ORDER BY path').all() as { path: string }[]).map((p) => p.path);
      d.close();
      return { code: r.code, stderr: r.stderr.split(dir).join('<dir>'), strict, paths };
    });
    const [w, m] = runs as [typeof runs[0], typeof runs[0]];
    for (const r of runs) {
      assert.equal(r.code, 2);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.match(r.stderr, /garbage\.bin:\d+: binary data/);
      assert.match(r.stderr, /notes\.txt:1: cannot tell what this input holds/);
      assert.match(r.stderr, /etcd\.log\.1\.gz: read failed after line [1-9]\d* \(\d+ bytes read\): /);
      assert.deepEqual(r.paths, [good], 'only the good file is stored');
      assert.equal(r.strict.code, 2);
      assert.match(r.strict.stderr, /cut\.log:\d+: .*--strict: nothing stored/);
    }
    assert.equal(w.stderr, m.stderr);
  } finally {
    cleanup();
  }
});
