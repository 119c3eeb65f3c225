// Refused writes by key and error (src/analyze/refused-writes.ts) against the logs themselves: the counts
// come from the committed etcd logs, every `failed to apply request` line read with a plain JSON parse
// (zap) or one regular expression (etcd 3.4's capnslog text), per key, error and file, and must equal
// what `analyze --json` and `timeline --json` print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, ROOT } from './helpers/cli.js';
import type { RefusedWrites } from '../src/analyze/types.js';

interface Counted {
  total: number;
  /** key \u0000 error → file → lines */
  byKey: Map<string, Map<string, number>>;
}

/** Every `failed to apply request` line of the files, counted per (key, error) and file. */
function countFailedApplies(files: string[]): Counted {
  const byKey = new Map<string, Map<string, number>>();
  let total = 0;
  for (const f of files) {
    for (const line of readFileSync(join(ROOT, f), 'utf8').split('\n')) {
      const j = line.startsWith('{') ? JSON.parse(line) as { msg?: string; request?: string; error?: string } : capnslog(line);
      if (j?.msg !== 'failed to apply request') continue;
      // The request is etcd's protobuf text: the first key named is the written key (a put, or a txn's compare/put on it).
      const key = /key:"((?:[^"\\]|\\.)*)"/.exec(j.request ?? '')?.[1];
      assert.ok(key !== undefined, `${f}: no key in ${j.request}`);
      const k = `${key}\u0000${j.error ?? ''}`;
      const perFile = byKey.get(k) ?? new Map<string, number>();
      perFile.set(f, (perFile.get(f) ?? 0) + 1);
      byKey.set(k, perFile);
      total++;
    }
  }
  return { total, byKey };
}

/**
 * etcd 3.4's capnslog line: `2026-11-23 23:54:58.404564 W | etcdserver: failed to apply request "header:<…>
 * put:<key:\"/service/pg_demo/members/pg3\" …>" with response "size:5" took (59.894µs) to execute, err is etcdserver: no space`.
 */
function capnslog(line: string): { msg: string; request: string; error: string } | null {
  const m = / etcdserver: failed to apply request "((?:[^"\\]|\\.)*)" with response .* err is (.*)$/.exec(line);
  return m ? { msg: 'failed to apply request', request: m[1]!.replace(/\\"/g, '"'), error: m[2]! } : null;
}

function assertSameAsLogs(refused: RefusedWrites, counted: Counted): void {
  const rows = refused.rows.filter((r) => r.via === 'etcd-log');
  assert.equal(refused.etcdTotal, counted.total);
  assert.equal(refused.moreRows, 0);
  assert.equal(rows.length, counted.byKey.size, `keys × errors: ${rows.map((r) => `${r.key} ${r.error}`).join('; ')}`);
  for (const r of rows) {
    const perFile = counted.byKey.get(`${r.key}\u0000${r.error ?? ''}`);
    assert.ok(perFile, `${r.key} (${r.error}) is not in the logs`);
    assert.equal(r.count, [...perFile.values()].reduce((s, n) => s + n, 0), `${r.key} ${r.error}`);
    // One log per member: the split by member is the split by file.
    assert.deepEqual(r.members.map((m) => m.count).sort((a, b) => a - b), [...perFile.values()].sort((a, b) => a - b), `${r.key} by member`);
    assert.equal(r.members.reduce((s, m) => s + m.count, 0), r.count);
    assert.ok(r.firstAt !== null && r.lastAt !== null && r.firstAt <= r.lastAt, `${r.key}: ${r.firstAt} … ${r.lastAt}`);
    assert.match(r.source, /\.log:\d+$/);
  }
}

const CAPTURES: Record<string, { logs: string[]; more: string[] }> = {
  'samples/patroni-nospace (etcd 3.4.23, Patroni 3.0.2)': {
    logs: readdirSync(join(ROOT, 'samples/patroni-nospace/etcd')).filter((f) => f.endsWith('.log')).map((f) => `samples/patroni-nospace/etcd/${f}`),
    more: ['samples/patroni-nospace/patroni'],
  },
  'test/fixtures/etcd-3.5.16 (2 members)': { logs: ['test/fixtures/etcd-3.5.16/etcd1.log', 'test/fixtures/etcd-3.5.16/etcd2.log'], more: [] },
};

for (const [name, { logs, more }] of Object.entries(CAPTURES)) {
  test(`refused writes on ${name} equal the per-key, per-error counts of "failed to apply request" lines`, () => {
    const counted = countFailedApplies(logs);
    assert.ok(counted.total > 100, `only ${counted.total} failed applies in ${logs.join(', ')}`);
    const { dir, cleanup } = tempDir();
    try {
      const db = join(dir, 's.db');
      const ing = runCli(['ingest', '--db', db, ...logs, ...more]);
      assert.equal(ing.code, 0, ing.stderr);
      const analyze = runCli(['analyze', '--db', db, '--json']);
      assert.equal(analyze.code, 0, analyze.stderr);
      assertSameAsLogs((JSON.parse(analyze.stdout) as { refusedWrites: RefusedWrites }).refusedWrites, counted);
      const timeline = runCli(['timeline', '--db', db, '--json']);
      assert.equal(timeline.code, 0, timeline.stderr);
      assertSameAsLogs((JSON.parse(timeline.stdout) as { refusedWrites: RefusedWrites }).refusedWrites, counted);
      // The terminal table names every key that lost writes, with its count.
      const table = runCli(['analyze', '--db', db, '--section', 'refused', '--full']);
      assert.equal(table.code, 0, table.stderr);
      for (const k of counted.byKey.keys()) assert.ok(table.stdout.includes(k.split('\u0000')[0]!), `${k} not in the table`);
    } finally {
      cleanup();
    }
  });
}

test('refused writes: Patroni\'s refused calls are counted per call, key and node from its own logs', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const ing = runCli(['ingest', '--db', db, 'samples/patroni-nospace/patroni']);
    assert.equal(ing.code, 0, ing.stderr);
    const r = (JSON.parse(runCli(['analyze', '--db', db, '--json']).stdout) as { refusedWrites: RefusedWrites }).refusedWrites;
    assert.equal(r.etcdTotal, 0);
    // Count Patroni's refused writes straight from the logs: each refused call leaves one line naming the
    // error etcd returned, the traceback's last line (`patroni.dcs.etcd3.Unknown: <Unknown error: 'etcdserver:
    // mvcc: database space exceeded', code: 2>`) or a one-line `ERROR: <Unknown error: …>`.
    const perNode = new Map<string, number>();
    for (const node of readdirSync(join(ROOT, 'samples/patroni-nospace/patroni'))) {
      const text = readFileSync(join(ROOT, 'samples/patroni-nospace/patroni', node, 'patroni.log'), 'utf8');
      perNode.set(node, text.split('\n').filter((l) => l.includes('database space exceeded')).length);
    }
    const nospace = r.rows.filter((x) => /database space exceeded/.test(x.error ?? ''));
    assert.equal(nospace.reduce((s, x) => s + x.count, 0), [...perNode.values()].reduce((s, n) => s + n, 0));
    for (const [node, n] of perNode) {
      assert.equal(nospace.reduce((s, x) => s + (x.members.find((m) => m.member === node)?.count ?? 0), 0), n, node);
    }
    const calls = new Set(r.rows.map((x) => x.write));
    for (const c of ['touch_member', '_write_status']) assert.ok(calls.has(c), `${c} not among ${[...calls].join(', ')}`);
    for (const x of r.rows) assert.equal(x.members.reduce((s, m) => s + m.count, 0), x.count);
  } finally {
    cleanup();
  }
});
