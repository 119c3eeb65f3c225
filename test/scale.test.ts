// No command crashes at any store size (issue 13): a store with at least 500 k notable events, every
// command in every format, exit 0 and bounded output.
// How the store is built (real rows only): the real captures (samples/patroni-nospace: 3 etcd 3.4.23 members
// and 3 Patroni 3.0.2 nodes; the etcd 3.4 zap/capnslog logs and status samples of test/fixtures/etcd-3.4) are
// ingested with `--keep-raw` by the built CLI; then their notable events and request rows are copied by
// direct SQL (INSERT … SELECT), copy k shifted by k × the captures' time span and line span, until the store
// holds ≥ 500 k notable events. Every copied row is a row the real ingest made from a real line. Status
// samples are not copied: this test is about the number of events (hindsight.ts, which was quadratic in the
// samples, now sweeps them once per member).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { BIN, ROOT, runCli, tempDir } from './helpers/cli.js';

const NOTABLE_MIN = 500_000;
const INPUTS = ['samples/patroni-nospace/etcd', 'samples/patroni-nospace/patroni', 'samples/patroni-nospace/samples',
  'test/fixtures/etcd-3.4/etcd-zap.log', 'test/fixtures/etcd-3.4/etcd-capnslog.log', 'test/fixtures/etcd-3.4/status-samples.log'];
const NOTABLE = `kind <> 'etcd.other' AND kind <> 'patroni.other' AND kind <> 'postgres.log'`;

/** Copies the real rows until the store holds `min` notable events; returns how many it holds. */
function multiply(db: string, min: number): number {
  const d = new Database(db);
  try {
    const span = d.prepare(`SELECT max(ts_ms) - min(ts_ms) + 60000 AS span, (SELECT max(line) FROM events) AS lines, count(*) AS n
      FROM events WHERE ${NOTABLE} AND ts_ms IS NOT NULL`).get() as { span: number; lines: number; n: number };
    const copies = Math.ceil(min / span.n);
    const ev = 'source_id, line, ts_ms, utc_offset_min, time_basis, member, level, kind, message, raw, detail, count';
    const rq = 'source_id, line, seq, ts_ms, member, op, key, range_end, value_size, lease, in_txn, outcome, error, took_ms, count';
    const shifted = (cols: string): string => cols.replace(/\bline\b/, `line + @k * ${span.lines}`).replace(/\bts_ms\b/, `ts_ms + @k * ${span.span}`);
    d.exec(`CREATE TEMP TABLE ev AS SELECT ${ev} FROM events WHERE ${NOTABLE} AND ts_ms IS NOT NULL;
      CREATE TEMP TABLE rq AS SELECT ${rq} FROM etcd_requests WHERE ts_ms IS NOT NULL`);
    const ins = [
      d.prepare(`INSERT INTO events (${ev}) SELECT ${shifted(ev)} FROM ev`),
      d.prepare(`INSERT INTO etcd_requests (${rq}) SELECT ${shifted(rq)} FROM rq`),
    ];
    d.transaction(() => {
      for (let k = 1; k < copies; k++) for (const s of ins) s.run({ k });
    })();
    return (d.prepare(`SELECT count(*) AS n FROM events WHERE ${NOTABLE}`).get() as { n: number }).n;
  } finally {
    d.close();
  }
}

const MiB = 1 << 20;

/** The built CLI with stdout into a file (`query SELECT * FROM events` prints hundreds of MB). */
async function runToFile(args: string[], out: string): Promise<{ code: number; bytes: number; stderr: string }> {
  const fd = openSync(out, 'w');
  try {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', fd, 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => { if (stderr.length < 64 * MiB) stderr += c; });
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    return { code, bytes: statSync(out).size, stderr };
  } finally {
    closeSync(fd);
  }
}

test('every command in every format on a store of 500 k notable events: exit 0, bounded output', { timeout: 1_800_000 }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 'scale.db');
    // One cluster: sources tied to no cluster would be left out of the analyses.
    const ing = runCli(['ingest', '--keep-raw', '--cluster', 'scale', '--db', db, ...INPUTS]);
    assert.equal(ing.code, 0, ing.stderr);
    const notable = multiply(db, NOTABLE_MIN);
    assert.ok(notable >= NOTABLE_MIN, `${notable} notable events`);
    // [args, output bound]: `analyze` caps its sections (the on-call screen); the single-analysis commands,
    // JSON and the documents list more (timeline: every leader change, about 7 MB here) but stay far below the
    // store's size (hundreds of MB); `query SELECT *` prints every row, streamed.
    const runs: [string[], number][] = [[['analyze'], 1 * MiB], [['analyze', '--json'], 64 * MiB]];
    for (const cmd of ['timeline', 'churn', 'growth', 'project', 'recommend']) runs.push([[cmd], 32 * MiB], [[cmd, '--json'], 64 * MiB]);
    runs.push([['report', '--format', 'md'], 64 * MiB], [['report', '--format', 'html'], 64 * MiB]);
    runs.push([['query', 'SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY kind'], 1 * MiB]);
    runs.push([['query', '--json', 'SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY kind'], 1 * MiB]);
    // Every row (the statement that overflowed the stack at 131 k rows), no time limit on a busy machine; the table
    // pads each column to its widest value (Patroni tracebacks), so a row may take a few KiB: 16 KiB a row at most.
    const ro = new Database(db, { readonly: true });
    const rows = (ro.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    ro.close();
    runs.push([['query', '--timeout', '0', 'SELECT * FROM events'], rows * 16 * 1024]);
    runs.push([['sources'], 1 * MiB], [['sources', '--json'], 1 * MiB], [['snapshot'], 1 * MiB], [['snapshot', '--json'], 1 * MiB]);
    // Two commands at a time (each reads the store alone; the machine has 2 cores): the run took 9 min one by one.
    const check = async ([args, bound]: [string[], number], slot: number): Promise<void> => {
      const t0 = Date.now();
      const out = join(dir, `out-${slot}`);
      const r = await runToFile([...args.slice(0, 1), '--db', db, ...args.slice(1)], out);
      const what = `${args.join(' ')}: exit ${r.code} after ${Date.now() - t0} ms, ${r.bytes} bytes`;
      process.stderr.write(`# ${what}\n`);
      try {
        assert.equal(r.code, 0, `${what}; stderr: ${r.stderr.slice(0, 500)}`);
        assert.ok(r.bytes > 0 && r.bytes <= bound, `${what}: output over the bound of ${bound} bytes`);
        assert.doesNotMatch(r.stderr, /RangeError|Maximum call stack|heap out of memory|at .*\.js:\d+/, what);
        if (args.includes('--json') && r.bytes < 256 * MiB) JSON.parse(readFileSync(out, 'utf8'));
      } finally {
        rmSync(out, { force: true });
      }
    };
    let next = 0;
    const worker = async (slot: number): Promise<void> => {
      while (next < runs.length) await check(runs[next++]!, slot);
    };
    await Promise.all([worker(0), worker(1)]);
  } finally {
    cleanup();
  }
});
