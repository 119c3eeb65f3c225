// `query` on bad days (issue 14): refused statements, rows streamed in bounded memory, a --timeout that
// really stops a statement, oversized values. The store is the real Patroni incident capture
// (samples/patroni-nospace, see its README) ingested by the built CLI; SQLite itself (better-sqlite3 in
// this process, read-only) is the oracle for what a statement returns.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BIN, ROOT, runCli, tempDir, type CliRun } from './helpers/cli.js';
import { renderBoxTable } from '../src/report/box-table.js';
import { safeText } from '../src/report/terminal-safe.js';

let dir = '';
let cleanup = (): void => {};
let db = '';

before(() => {
  ({ dir, cleanup } = tempDir('ef-query-'));
  db = join(dir, 's.db');
  const r = runCli(['ingest', '--db', db, join(ROOT, 'samples', 'patroni-nospace')]);
  assert.equal(r.code, 0, r.stderr);
});
after(() => cleanup());

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

function assertRefused(r: CliRun, pattern: RegExp, label: string): void {
  assert.equal(r.code, 2, `${label}: exit ${r.code} ${r.stderr}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `${label}: ${r.stderr}`);
  assert.match(lines[0]!, pattern, label);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, label);
  assert.equal(r.stdout, '', `${label}: nothing on stdout`);
}

/** What SQLite itself returns for the statement (read-only connection in this process). */
function oracle(sql: string): Record<string, unknown>[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    d.close();
  }
}

test('load_extension is refused, in any spelling, with one line; exit 2', () => {
  for (const sql of ["SELECT load_extension('/usr/lib/x86_64-linux-gnu/libsqlite3.so.0')", "select LOAD_EXTENSION ('x', 'y')",
    "SELECT 1 WHERE 0 = load_extension('x')", "/* c */ SELECT load_extension(path) FROM sources"]) {
    assertRefused(runCli(['query', '--db', db, sql]), /load_extension is refused/, sql);
  }
});

test('statements that write, attach, vacuum or set a PRAGMA are refused (exit 2, one line) and change nothing', () => {
  const before = sha(db);
  const attached = join(dir, 'attached.db');
  const vacuumed = join(dir, 'vacuumed.db');
  const refusals: [string, RegExp][] = [
    ['DELETE FROM events', /only read-only statements that return rows/],
    ["INSERT INTO issues (source_id, line, reason, excerpt) VALUES (1, 1, 'x', 'x')", /only read-only/],
    ['UPDATE sources SET path = 1', /only read-only/],
    ['DROP TABLE events', /only read-only/],
    ['CREATE TEMP TABLE t AS SELECT 1', /only read-only/],
    [`ATTACH '${attached}' AS x`, /only read-only/],
    [`VACUUM INTO '${vacuumed}'`, /only read-only/],
    ['BEGIN', /only read-only/],
    ['PRAGMA user_version = 99', /PRAGMA is refused/],
    ['PRAGMA journal_mode = WAL', /PRAGMA is refused/],
    ['PRAGMA query_only = 0', /PRAGMA is refused/],
    ['PRAGMA hard_heap_limit = 0', /PRAGMA is refused/],
    ['pragma main.writable_schema = 1', /PRAGMA is refused/],
    ['SELECT 1; DELETE FROM events', /more than one statement/],
  ];
  for (const [sql, pattern] of refusals) assertRefused(runCli(['query', '--db', db, sql]), pattern, sql);
  assert.equal(sha(db), before, 'the store is byte for byte as it was');
  assert.ok(!existsSync(attached) && !existsSync(vacuumed), 'no file created by ATTACH or VACUUM INTO');
});

test('PRAGMAs that read are run', () => {
  const r = runCli(['query', '--db', db, '--json', 'PRAGMA table_info(events)']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), oracle('PRAGMA table_info(events)'));
  const v = runCli(['query', '--db', db, '--json', 'PRAGMA user_version']);
  assert.deepEqual(JSON.parse(v.stdout), oracle('PRAGMA user_version'));
});

test('rows are what SQLite returns, in its order, for statements of every shape (the bounding wrapper changes nothing)', () => {
  const statements = [
    'SELECT id, kind, line FROM events ORDER BY id DESC LIMIT 7 OFFSET 3',
    'SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY n DESC, kind',
    'SELECT a.id, b.id, a.kind FROM events a JOIN events b ON b.id = a.id - 1 ORDER BY a.id LIMIT 5', // duplicate names
    'WITH k AS (SELECT DISTINCT kind FROM events) SELECT kind FROM k ORDER BY kind DESC;',
    "SELECT kind FROM events WHERE id < 4 UNION ALL SELECT 'x' ORDER BY 1 -- a trailing comment",
    'VALUES (1, NULL, 2.5), (3, x\'00ff\', -1)',
    'SELECT path, size_bytes, records FROM sources ORDER BY id',
    'EXPLAIN QUERY PLAN SELECT * FROM events WHERE kind = 1',
    'SELECT json_extract(detail, \'$\') AS d, raw FROM events WHERE detail IS NOT NULL ORDER BY id LIMIT 20',
  ];
  for (const sql of statements) {
    const r = runCli(['query', '--db', db, '--json', sql]);
    assert.equal(r.code, 0, `${sql}: ${r.stderr}`);
    // The JSON text is what JSON.stringify prints for SQLite's own rows (no control characters in these).
    assert.equal(r.stdout, `${JSON.stringify(oracle(sql), null, 2)}\n`, sql);
  }
});

test('a result of up to 1000 rows is the same table as every command draws; a longer one is drawn in blocks with every row', () => {
  const sql = 'SELECT e.id, k.n, e.kind FROM events e, (SELECT 1 AS n UNION ALL SELECT 2) k ORDER BY e.id, k.n LIMIT 1000';
  const rows = (oracle(sql) as { id: number; n: number; kind: string }[]).map((x) => [x.id, x.n, x.kind]);
  assert.equal(rows.length, 1000);
  const r = runCli(['query', '--db', db, sql]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${renderBoxTable(['id', 'n', 'kind'], rows)}\n1000 rows\n`);

  // 2600 rows whose `raw` grows longer row after row: later blocks widen the column and repeat the header.
  const long = 'SELECT e.id, k.n, e.raw FROM events e, (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) k ORDER BY length(e.raw), e.id, k.n LIMIT 2600';
  const expected = oracle(long) as { id: number; n: number; raw: string }[];
  const t = runCli(['query', '--db', db, long]);
  assert.equal(t.code, 0, t.stderr);
  const lines = t.stdout.split('\n');
  assert.equal(lines.at(-1), '');
  assert.equal(lines.at(-2), '2600 rows');
  assert.match(lines.at(-3)!, /^└─+┴─+┴─+┘$/);
  assert.match(lines[0]!, /^┌─+┬─+┬─+┐$/);
  const body = lines.filter((l) => /^│ \d+ +│ [123] +│/.test(l));
  assert.equal(body.length, 2600, 'every row once');
  body.forEach((l, i) => {
    const cells = l.split('│').slice(1, -1).map((c) => c.trim());
    assert.deepEqual(cells, [String(expected[i]!.id), String(expected[i]!.n), safeText(expected[i]!.raw).trim()], `row ${i + 1}`);
  });
  const headers = lines.filter((l) => /^│ id +│ n +│ raw +│$/.test(l));
  assert.ok(headers.length >= 2, `the header is repeated where the raw column widens (${headers.length})`);
  // Within a block every line has the width of the rules around it.
  let width = 0;
  for (const l of lines.slice(0, -2)) {
    if (/^[┌├└]/.test(l)) width = l.length;
    else assert.equal(l.length, width, l.slice(0, 60));
  }
});

/** Peak RSS in KiB of the command and every process it started (RUSAGE_CHILDREN, via python3). */
function peakRssKiB(args: string[]): { kib: number; code: number; tail: string } {
  const script = [
    'import resource, subprocess, sys',
    'p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)',
    'sys.stdout.write("%d %d %s" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode, p.stdout[-200:].decode("utf8", "replace").replace("\\n", "|") + p.stderr.decode()))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script, process.execPath, BIN, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const [kib, code, ...rest] = r.stdout.split(' ');
  return { kib: Number(kib), code: Number(code), tail: rest.join(' ') };
}

test('SELECT * over 100k+ rows streams: peak RSS under 200 MiB for the table and for --json (the rows were all held: 3.3 GB for 293k)', () => {
  // Every stored event 120 times over (a cross join with a counter): about 100k rows of real lines.
  const sql = 'SELECT e.*, k.x FROM events e, (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 120) SELECT x FROM c) k';
  const n = (oracle(`SELECT count(*) AS n FROM (${sql})`)[0] as { n: number }).n;
  assert.ok(n >= 100_000, `${n} rows`);
  for (const json of [false, true]) {
    const m = peakRssKiB(['query', '--db', db, ...(json ? ['--json'] : []), '--timeout', '600', sql]);
    assert.equal(m.code, 0, m.tail);
    if (!json) assert.ok(m.tail.includes(`${n} rows|`), m.tail);
    else assert.ok(m.tail.endsWith('}|]|'), m.tail);
    assert.ok(m.kib < 200 * 1024, `${json ? 'json' : 'table'}: peak RSS ${Math.round(m.kib / 1024)} MiB for ${n} rows`);
  }
});

const UNBOUNDED = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)';

function processesMentioning(marker: string): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) n++;
    } catch { /* gone */ }
  }
  return n;
}

test('--timeout stops an unbounded recursive CTE mid-statement with one line, exit 2, and leaves no process behind', () => {
  for (const sql of [`${UNBOUNDED} SELECT count(*) FROM c`, `${UNBOUNDED} SELECT x FROM c`, `${UNBOUNDED} SELECT x FROM c ORDER BY x DESC`]) {
    for (const json of [false, true]) {
      // spawnSync's own timeout is only a guard: the command must end by itself long before it.
      const r = spawnSync(process.execPath, [BIN, 'query', '--db', db, '--timeout', '1', ...(json ? ['--json'] : []), sql],
        { cwd: ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 30 });
      assert.equal(r.signal, null, `${sql}: ended by itself`);
      assert.equal(r.status, 2, `${sql}: ${r.stderr}`);
      assert.equal(r.stderr, 'etcd-forensics: query: stopped after 1 s of running (--timeout 1); what was printed before is incomplete\n', sql);
    }
  }
  assert.equal(processesMentioning(db), 0, 'no query process left running');
});

test('a parent killed with SIGKILL (nothing to forward) does not leave its statement running: the child ends by itself', async () => {
  const parent = spawn(process.execPath, [BIN, 'query', '--db', db, '--timeout', '3600', `${UNBOUNDED} SELECT count(*) FROM c`],
    { cwd: ROOT, stdio: 'ignore' });
  try {
    // The child is the parent's only child process; wait until it exists and runs.
    let child = 0;
    for (let i = 0; i < 300 && child === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const kids = spawnSync('pgrep', ['-P', String(parent.pid)], { encoding: 'utf8' }).stdout.trim();
      child = kids ? Number(kids.split('\n')[0]) : 0;
    }
    assert.ok(child > 0, 'the statement runs in a child process');
    parent.kill('SIGKILL');
    // The guarantee: the child notices within a poll and ends; give a loaded machine a minute.
    let alive = true;
    for (let i = 0; i < 600 && alive; i++) {
      await new Promise((r) => setTimeout(r, 100));
      // Gone, or a zombie waiting for whoever adopted it to reap it (state Z in /proc/PID/stat): it runs nothing.
      let stat = '';
      try { stat = readFileSync(`/proc/${child}/stat`, 'utf8'); } catch { /* reaped */ }
      alive = stat !== '' && !/^\d+ \(.*\) Z /s.test(stat);
    }
    if (alive) console.log(spawnSync("ps", ["-o", "pid,ppid,nlwp,stat,cmd", "-p", String(child)], { encoding: "utf8" }).stdout, readFileSync(`/proc/${child}/stat`, "utf8").slice(0, 80));
    assert.equal(alive, false, `child ${child} still running after its parent was killed`);
  } finally {
    parent.kill('SIGKILL');
  }
  assert.equal(processesMentioning(db), 0, 'no query process left running');
});

test('--timeout counts running time, not the time a slow reader takes: a paused reader gets every row', async () => {
  const sql = 'SELECT e.raw, k.x FROM events e, (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 20) SELECT x FROM c) k';
  const n = (oracle(`SELECT count(*) AS n FROM (${sql})`)[0] as { n: number }).n;
  // --timeout 12 with a 20 s pause: a clock that counted the wait would stop it; the running itself takes about
  // 1 s on a quiet machine and has room on a loaded one (it once took over 5 s at load 18 on 2 cores).
  const child = spawn(process.execPath, [BIN, 'query', '--db', db, '--timeout', '12', sql], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const chunks: Buffer[] = [];
  child.stdout.pause(); // nothing is read for 20 s: the pipe fills and the query waits on it
  const code = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  await new Promise((r) => setTimeout(r, 20_000));
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stdout.resume();
  assert.equal(await code, 0, stderr);
  const text = Buffer.concat(chunks).toString('utf8');
  assert.ok(text.endsWith(`\n${n} rows\n`), text.slice(-200));
});

test('oversized values: refused with their row, column and size (exit 2), never a crash; values under the bound are printed whole', () => {
  const big = runCli(['query', '--db', db, "SELECT kind, printf('%.*c', 100000000, 'x') AS filler FROM events ORDER BY id LIMIT 3"]);
  assert.equal(big.code, 2, big.stderr);
  assert.match(big.stderr, /^etcd-forensics: query: row 1, column filler: a value of 100000000 bytes, over the 16777216 bytes a value may have here/);
  assert.equal(big.stderr.split('\n').filter(Boolean).length, 1);
  const blob = runCli(['query', '--db', db, '--json', 'SELECT 1 AS a, randomblob(50000000) AS b']);
  assert.equal(blob.code, 2);
  assert.match(blob.stderr, /row 1, column b: a value of 50000000 bytes/);
  for (const sql of ['SELECT zeroblob(3000000000)', "SELECT printf('%.*c', 3000000000, 'x')", 'SELECT randomblob(2000000000)']) {
    const r = runCli(['query', '--db', db, sql]);
    assertRefused(r, /query: string or blob too big/, sql);
  }
  const ok = runCli(['query', '--db', db, '--json', "SELECT printf('%.*c', 1000000, 'y') AS v"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { v: string }[])[0]!.v, 'y'.repeat(1_000_000));
});
