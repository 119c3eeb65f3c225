// A large plain etcd log is parsed in two byte ranges on two cores (src/ingest/parse-split.ts). Splitting must
// store what one pass stores: the same rows for every real log we have, the same line numbers, the same
// source identity (re-ingest and the gzipped copy are duplicates), and the same verdicts; and a file whose
// second range could not start from the right state is parsed whole. ETCD_FORENSICS_PARSE_SPLIT=always
// splits small files; ETCD_FORENSICS_DEBUG_SPLIT=1 prints where the seam fell and whether it was kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FIXTURES, ROOT, runCli, tempDir } from './helpers/cli.js';
import { dumpStore } from './helpers/store-dump.js';

const INPUTS = [FIXTURES, join(ROOT, 'samples', 'patroni-nospace')];
const SOURCE_COLS = 'path, sha256, kind, member, size_bytes, content_bytes, records, issues, first_ts_ms, last_ts_ms, time_bases';
const SPLIT_RE = /^split at byte (\d+) \(line (\d+)\): (.*)$/gm;


function ingest(db: string, inputs: string[], split: 'always' | 'never', extra: string[] = [], env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  return runCli(['ingest', '--db', db, ...extra, ...inputs], { env: { ETCD_FORENSICS_PARSE_SPLIT: split, ETCD_FORENSICS_DEBUG_SPLIT: '1', ...env } });
}

function splits(stderr: string): { byte: number; line: number; outcome: string }[] {
  return [...stderr.matchAll(SPLIT_RE)].map((m) => ({ byte: Number(m[1]), line: Number(m[2]), outcome: m[3]! }));
}

test('every fixture and sample: a split parse stores the rows one pass stores', () => {
  const { dir, cleanup } = tempDir();
  try {
    const split = ingest(join(dir, 's.db'), INPUTS, 'always');
    const whole = ingest(join(dir, 'w.db'), INPUTS, 'never');
    // Some fixtures are real error output (a panicking `alarm list -w fields`): exit 2, the rest stored.
    assert.ok(split.code === 0 || split.code === 2, split.stderr);
    assert.equal(split.code, whole.code);
    const seams = splits(split.stderr);
    assert.deepEqual(splits(whole.stderr), [], 'never: no split');
    // Most fixtures are shorter than the detection sample (400 lines) and are read whole either way; the
    // longer real logs may be split (a seam needs a clean minute boundary past the sample).
    const kept = seams.filter((s) => s.outcome === 'kept');
    const s = dumpStore(join(dir, 's.db'), SOURCE_COLS);
    const w = dumpStore(join(dir, 'w.db'), SOURCE_COLS);
    assert.deepEqual(Object.keys(s).sort(), Object.keys(w).sort());
    for (const t of Object.keys(w)) assert.deepEqual(s[t], w[t], `table ${t}`);
    const etcdLogs = w.sources!.filter((r) => (r as unknown[])[2] === 'etcd-log').length;
    assert.ok(kept.length <= etcdLogs, `${kept.length} splits, ${etcdLogs} etcd logs`);
  } finally {
    cleanup();
  }
});


/**
 * A NOSPACE-heavy etcd log of real 3.4.23 lines (bench/gen-etcd-log.ts replays test/fixtures/etcd-3.4/etcd-zap.log
 * with new times, keys and ids), as the ingest bench uses at 1 GB.
 */
function genLog(dir: string, variant: 'nospace' | 'mixed', bytes: number): string {
  const log = join(dir, `${variant}.log`);
  const g = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'gen-etcd-log.ts'), variant, log, String(bytes)], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(g.status, 0, g.stderr);
  return log;
}

function rows(db: string, sql: string): unknown[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).raw().all();
  } finally {
    d.close();
  }
}

// What each line said, per minute: a line is counted once, at its own number, whichever row holds it. A group
// that a line far out of order kept open across the seam can be two rows in a split parse (same counts).
const EVENT_FACTS = `SELECT kind, member, level, message, ts_ms / 60000 AS minute, detail ->> '$.op', detail ->> '$.key', detail ->> '$.error',
  sum(count), min(line), max(coalesce(last_line, line)) FROM events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`;
const REQUEST_FACTS = `SELECT op, key, range_end, member, outcome, error, in_txn, ts_ms / 60000 AS minute,
  sum(count), min(line), max(coalesce(last_line, line)) FROM etcd_requests GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`;
// Rows of kinds that are never grouped (start-up, alarms, compactions, …): the same rows.
const SINGLE_EVENTS = `SELECT line, ts_ms, kind, member, message, raw, detail, count FROM events
  WHERE kind NOT IN ('etcd.other', 'etcd.heartbeat.slow', 'etcd.apply.failed', 'etcd.apply.slow', 'etcd.request.slow') ORDER BY line`;
const SOURCE = 'SELECT sha256, kind, member, size_bytes, content_bytes, records, issues, first_ts_ms, last_ts_ms, time_bases FROM sources';

for (const variant of ['nospace', 'mixed'] as const) {
  test(`a ${variant} log of real lines: split on two cores, the same facts, line numbers, source and analysis as one pass`, () => {
    const { dir, cleanup } = tempDir();
    try {
      const log = genLog(dir, variant, 12_000_000);
      const s = join(dir, 's.db');
      const w = join(dir, 'w.db');
      const r = ingest(s, [log], 'always');
      assert.equal(r.code, 0, r.stderr);
      const [seam] = splits(r.stderr);
      assert.equal(seam?.outcome, 'kept', r.stderr);
      assert.ok(seam.byte > 4_000_000 && seam.byte < 8_000_000, `seam at byte ${seam.byte}`);
      // The seam is a line start, numbered as the file numbers it.
      const text = readFileSync(log);
      assert.equal(text[seam.byte - 1], 0x0a);
      assert.equal(text.subarray(0, seam.byte).toString('utf8').split('\n').length, seam.line);
      assert.equal(ingest(w, [log], 'never').code, 0);
      assert.deepEqual(rows(s, SOURCE), rows(w, SOURCE));
      assert.deepEqual(rows(s, EVENT_FACTS), rows(w, EVENT_FACTS));
      assert.deepEqual(rows(s, REQUEST_FACTS), rows(w, REQUEST_FACTS));
      assert.deepEqual(rows(s, SINGLE_EVENTS), rows(w, SINGLE_EVENTS));
      // Lines on both sides of the seam were stored, at their own numbers.
      const after = rows(s, `SELECT count(*) FROM events WHERE line >= ${seam.line}`)[0] as number[];
      assert.ok(after[0]! > 100, `rows after the seam: ${after[0]}`);
      for (const cmd of ['analyze', 'churn']) {
        const a = runCli([cmd, '--db', s, '--json']);
        const b = runCli([cmd, '--db', w, '--json']);
        assert.equal(a.code, 0, a.stderr);
        assert.equal(a.stdout, b.stdout, `${cmd} --json`);
      }
    } finally {
      cleanup();
    }
  });
}

test('the second range\'s lines keep their numbers: a bad line after the seam is named by its line in the file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const lines = readFileSync(genLog(dir, 'nospace', 8_000_000), 'utf8').split('\n').filter((l) => l !== '');
    // A real line cut in half (what a log rotated mid-write leaves) at 90% of the file, past the seam.
    const at = Math.floor(lines.length * 0.9);
    const cut = [...lines.slice(0, at), lines[at]!.slice(0, 40), ...lines.slice(at + 1)];
    const log = join(dir, 'cut.log');
    writeFileSync(log, `${cut.join('\n')}\n`);
    const r = ingest(join(dir, 'a.db'), [log], 'always');
    assert.equal(r.code, 0, r.stderr);
    const [seam] = splits(r.stderr);
    assert.ok(seam && seam.outcome === 'kept' && seam.line < at + 1, r.stderr);
    assert.deepEqual(rows(join(dir, 'a.db'), 'SELECT line, excerpt FROM issues'), [[at + 1, lines[at]!.slice(0, 40)]]);
    const strict = ingest(join(dir, 'b.db'), [log], 'always', ['--strict']);
    assert.equal(strict.code, 2);
    assert.ok(strict.stderr.includes(`cut.log:${at + 1}: `), strict.stderr);
  } finally {
    cleanup();
  }
});

test('a split file is the same source as one read whole: re-ingest and its gzipped copy add nothing', () => {
  const { dir, cleanup } = tempDir();
  try {
    const log = genLog(dir, 'nospace', 6_000_000);
    const gz = join(dir, 'copy.log.gz');
    writeFileSync(gz, gzipSync(readFileSync(log)));
    const db = join(dir, 's.db');
    const first = ingest(db, [log], 'always');
    assert.equal(first.code, 0, first.stderr);
    assert.equal(splits(first.stderr)[0]?.outcome, 'kept', first.stderr);
    const before = rows(db, 'SELECT (SELECT count(*) FROM sources), (SELECT count(*) FROM events), (SELECT count(*) FROM etcd_requests)');
    const again = ingest(db, [log, gz], 'always');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(((again.stdout + again.stderr).match(/already ingested \(same content as [^)]*nospace\.log\); nothing added/g) ?? []).length, 2, again.stdout);
    assert.deepEqual(rows(db, 'SELECT (SELECT count(*) FROM sources), (SELECT count(*) FROM events), (SELECT count(*) FROM etcd_requests)'), before);
    const whole = join(dir, 'w.db');
    assert.equal(ingest(whole, [log], 'never').code, 0);
    assert.deepEqual(rows(db, SOURCE), rows(whole, SOURCE));
  } finally {
    cleanup();
  }
});

test('a member name first seen after the detection sample: the split is thrown away and the file read whole', () => {
  const { dir, cleanup } = tempDir();
  try {
    // The generated log with 500 of its own later lines (failed applies, no name) copied in front: the
    // start-up line naming the member is then past the 400 lines detection reads.
    // (12 MB: about 3 minutes of lines, so that a minute starts past the middle.)
    const lines = readFileSync(genLog(dir, 'nospace', 12_000_000), 'utf8').split('\n').filter((l) => l !== '');
    const log = join(dir, 'late-name.log');
    writeFileSync(log, `${[...lines.slice(1000, 1500), ...lines].join('\n')}\n`);
    const r = ingest(join(dir, 's.db'), [log], 'always');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /split at byte \d+ \(line \d+\): the member name was learnt after the first lines/);
    assert.equal(ingest(join(dir, 'w.db'), [log], 'never').code, 0);
    const s = dumpStore(join(dir, 's.db'), SOURCE_COLS);
    const w = dumpStore(join(dir, 'w.db'), SOURCE_COLS);
    for (const t of Object.keys(w)) assert.deepEqual(s[t], w[t], `table ${t}`);
    assert.deepEqual(rows(join(dir, 's.db'), `SELECT DISTINCT member FROM events WHERE line > ${lines.length / 2}`), [['etcd1']]);
  } finally {
    cleanup();
  }
});

test('a grown log read again with its tail split: lines go on from the stored head', () => {
  const { dir, cleanup } = tempDir();
  try {
    const text = readFileSync(genLog(dir, 'nospace', 9_000_000), 'utf8');
    const lines = text.split('\n').filter((l) => l !== '');
    const log = join(dir, 'etcd1.log');
    writeFileSync(log, `${lines.slice(0, Math.floor(lines.length / 3)).join('\n')}\n`);
    const db = join(dir, 's.db');
    assert.equal(ingest(db, [log], 'never').code, 0);
    writeFileSync(log, text);
    const r = ingest(db, [log], 'always');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(splits(r.stderr)[0]?.outcome, 'kept', r.stderr);
    assert.ok(splits(r.stderr)[0]!.line > lines.length / 3, r.stderr);
    const whole = join(dir, 'w.db');
    assert.equal(ingest(whole, [log], 'never').code, 0);
    const count = 'SELECT sum(count), max(coalesce(last_line, line)), min(line) FROM events';
    assert.deepEqual(rows(db, count), rows(whole, count));
    assert.deepEqual(rows(db, REQUEST_FACTS), rows(whole, REQUEST_FACTS));
    assert.equal((rows(whole, count)[0] as number[])[1], lines.length);
  } finally {
    cleanup();
  }
});

test('a split worker that runs out of its bounded heap: the file is parsed whole by one unbounded worker, the same rows', () => {
  const { dir, cleanup } = tempDir();
  try {
    const log = genLog(dir, 'nospace', 12_000_000);
    // 2 MB: the workers run out at once (the bound is 64 MB; a log with tens of thousands of distinct lines a
    // minute could need more).
    const r = ingest(join(dir, 's.db'), [log], 'always', [], { ETCD_FORENSICS_SPLIT_HEAP_MB: '2' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /split: a parse worker needed more than its 2 MB heap/);
    assert.equal(ingest(join(dir, 'w.db'), [log], 'never').code, 0);
    const s = dumpStore(join(dir, 's.db'), SOURCE_COLS);
    const w = dumpStore(join(dir, 'w.db'), SOURCE_COLS);
    for (const t of Object.keys(w)) assert.deepEqual(s[t], w[t], `table ${t}`);
    assert.ok(s.events!.length > 100);
  } finally {
    cleanup();
  }
});
