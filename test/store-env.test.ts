// The store on bad days (issue 14): another command holding it, a file that is not a store, a store
// from a newer version, a full disk, a directory that cannot be written, bad option values. Each one is
// one line naming the path or the option, exit 2, never "internal error" or a stack, and a store that
// is refused is left byte for byte. The stores are made by ingesting the real Patroni incident capture
// (samples/patroni-nospace, see its README); locks are taken by a real SQLite connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BIN, ROOT, runCli, tempDir, type CliRun } from './helpers/cli.js';
import { latestVersion } from '../src/store/open.js';

const SAMPLE = join(ROOT, 'samples', 'patroni-nospace');
const ETCD1 = join(SAMPLE, 'etcd', 'etcd1.log');
const ETCD2 = join(SAMPLE, 'etcd', 'etcd2.log');
const ETCD3 = join(SAMPLE, 'etcd', 'etcd3.log');

function runAsync(args: string[]): Promise<CliRun & { ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 })));
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function makeStore(path: string, inputs: string[] = [ETCD1]): void {
  const r = runCli(['ingest', '--db', path, ...inputs]);
  assert.equal(r.code, 0, r.stderr);
}

function sourceCount(db: string): number {
  const r = runCli(['query', '--db', db, '--json', 'SELECT count(*) AS n FROM sources']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { n: number }[])[0]!.n;
}

/** One line on stderr, naming `what`, exit 2, no internal error and no stack. */
function assertOneLine(r: CliRun, what: string, pattern: RegExp, label: string): void {
  assert.equal(r.code, 2, `${label}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `${label}: one line, got:\n${r.stderr}`);
  assert.ok(lines[0]!.includes(what), `${label}: names ${what}: ${lines[0]}`);
  assert.match(lines[0]!, pattern, label);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, label);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a writer holding the store past 5 s (better-sqlite3\'s default): ingest and sources rm wait and do their work; --wait 1 gives up with one line naming the store', async () => {
  const { dir, cleanup } = tempDir('ef-wait-');
  let holder: Database.Database | null = null;
  try {
    const db = join(dir, 's.db');
    makeStore(db);
    holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE'); // a RESERVED lock: what an ingest's transaction holds
    const impatient = await runAsync(['ingest', '--db', db, '--wait', '1', ETCD2]);
    assertOneLine(impatient, db, /is busy: .*more than 1 s \(--wait 1\)/, 'ingest --wait 1');
    assert.ok(impatient.ms >= 1000, `waited ${impatient.ms} ms`);
    const patient = runAsync(['ingest', '--db', db, ETCD2]);
    await sleep(6000);
    holder.exec('ROLLBACK');
    holder.close();
    holder = null;
    const r = await patient;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /etcd2\.log: etcd-log, \d+ records/);
    assert.equal(sourceCount(db), 2);
    // `sources rm` reads before it writes: it must wait too, not fail at once (a read transaction that has
    // to become a write while another holds the store gets SQLITE_BUSY without SQLite's busy wait).
    holder = new Database(db);
    holder.exec('BEGIN IMMEDIATE');
    const rm = runAsync(['sources', 'rm', '2', '--db', db]);
    await sleep(3000);
    holder.exec('ROLLBACK');
    holder.close();
    holder = null;
    const removed = await rm;
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /forgot source #2: /);
    assert.equal(sourceCount(db), 1);
  } finally {
    holder?.close();
    cleanup();
  }
});

test('read commands wait while a commit holds the store exclusively, up to --wait', async () => {
  const { dir, cleanup } = tempDir('ef-wait-read-');
  let holder: Database.Database | null = null;
  try {
    const db = join(dir, 's.db');
    makeStore(db);
    holder = new Database(db);
    holder.exec('BEGIN EXCLUSIVE'); // what a commit (or a cache spill of a long ingest) holds
    const impatient = await runAsync(['query', '--db', db, '--wait', '1', 'SELECT count(*) FROM sources']);
    assertOneLine(impatient, db, /is busy/, 'query --wait 1');
    const churn = runAsync(['churn', '--db', db]);
    const sources = runAsync(['sources', '--db', db]);
    await sleep(6000);
    holder.exec('ROLLBACK');
    holder.close();
    holder = null;
    for (const [name, r] of [['churn', await churn], ['sources', await sources]] as const) {
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stderr, '', name);
    }
  } finally {
    holder?.close();
    cleanup();
  }
});

test('a small ingest and a query during a long real ingest wait for it; everything is stored', async () => {
  const { dir, cleanup } = tempDir('ef-long-');
  try {
    // 150 MB of real etcd 3.4.23 lines replayed with new times and ids (bench/gen-etcd-log.ts).
    const log = join(dir, 'etcd-mixed.log');
    const gen = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'gen-etcd-log.ts'), 'mixed', log, String(150_000_000)], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const db = join(dir, 's.db');
    makeStore(db);
    const long = spawn(process.execPath, [BIN, 'ingest', '--db', db, log], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let longErr = '';
    long.stderr.setEncoding('utf8').on('data', (s: string) => { longErr += s; });
    const longDone = new Promise<number>((resolve) => long.on('close', (c) => resolve(c ?? -1)));
    // Its transaction has begun when its rollback journal exists.
    for (let i = 0; i < 1200 && !existsSync(`${db}-journal`); i++) await sleep(50);
    assert.ok(existsSync(`${db}-journal`), 'the long ingest began writing');
    assert.equal(long.exitCode, null, 'the long ingest is still running');
    const [small, query] = await Promise.all([runAsync(['ingest', '--db', db, ETCD2]), runAsync(['query', '--db', db, '--json', 'SELECT count(*) AS n FROM sources'])]);
    assert.equal(await longDone, 0, longErr);
    assert.equal(small.code, 0, small.stderr);
    assert.equal(query.code, 0, query.stderr);
    assert.ok([1, 2, 3].includes((JSON.parse(query.stdout) as { n: number }[])[0]!.n), query.stdout);
    const paths = JSON.parse(runCli(['query', '--db', db, '--json', 'SELECT path FROM sources ORDER BY path']).stdout) as { path: string }[];
    assert.deepEqual(paths.map((p) => p.path).sort(), [ETCD1, ETCD2, log].sort());
  } finally {
    cleanup();
  }
});

const READ_COMMANDS: string[][] = [
  ['query', 'SELECT count(*) FROM sources'], ['churn'], ['analyze'], ['snapshot'], ['sources'], ['report'],
];

function assertRefusedEverywhere(db: string, pattern: RegExp, label: string): void {
  const before = sha(db);
  const files = readdirSync(join(db, '..')).sort();
  for (const args of [['ingest', ETCD3], ['sources', 'rm', '1'], ...READ_COMMANDS]) {
    const [cmd, ...rest] = args;
    const r = runCli([cmd!, '--db', db, ...rest]);
    assertOneLine(r, db, pattern, `${label}: ${args.join(' ')}`);
  }
  assert.equal(sha(db), before, `${label}: the file is left byte for byte`);
  assert.deepEqual(readdirSync(join(db, '..')).sort(), files, `${label}: no journal, WAL or -shm left beside it`);
}

test('not SQLite, a truncated store, another program\'s SQLite database: one line naming the file, exit 2, the file untouched', () => {
  const { dir, cleanup } = tempDir('ef-notastore-');
  try {
    mkdirSync(join(dir, 'a'));
    const log = join(dir, 'a', 'etcd1.log');
    copyFileSync(ETCD1, log); // a real etcd log given as --db
    assertRefusedEverywhere(log, /not an etcd-forensics store: not an SQLite database/, 'a log as the store');

    mkdirSync(join(dir, 'b'));
    const cut = join(dir, 'b', 'cut.db');
    makeStore(cut, [ETCD1, ETCD2, ETCD3]);
    const size = readFileSync(cut).length;
    truncateSync(cut, Math.floor(size / 2));
    assertRefusedEverywhere(cut, /is truncated: its header counts \d+ pages of \d+ bytes/, 'a truncated store');

    mkdirSync(join(dir, 'c'));
    const other = join(dir, 'c', 'notes.db');
    const o = new Database(other);
    o.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes (text) VALUES ('not ours')");
    o.close();
    assertRefusedEverywhere(other, /not an etcd-forensics store: an SQLite database with tables of its own/, 'another program\'s database');
  } finally {
    cleanup();
  }
});

test('a store from a newer schema is refused by every command and left byte for byte (rollback journal and WAL mode)', () => {
  const { dir, cleanup } = tempDir('ef-newer-');
  try {
    for (const mode of ['DELETE', 'WAL']) {
      mkdirSync(join(dir, mode));
      const db = join(dir, mode, 's.db');
      makeStore(db);
      const d = new Database(db);
      d.pragma(`journal_mode = ${mode}`);
      d.pragma(`user_version = ${latestVersion() + 1}`);
      d.close();
      assert.equal(readFileSync(db)[18], mode === 'WAL' ? 2 : 1, 'the header says the journal mode');
      assertRefusedEverywhere(db, new RegExp(`has schema ${latestVersion() + 1}, newer than this tool \\(${latestVersion()}\\): left as it is`), `newer, ${mode}`);
    }
  } finally {
    cleanup();
  }
});

/** Runs `mount`; CI runs the tests as root on a fresh VM. Fails loudly (never skips) when it cannot. */
function mustMount(args: string[]): void {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `mount ${args.join(' ')} failed (this test needs root, as in CI): ${r.stderr || r.error?.message}`);
}

function unmount(path: string): void {
  spawnSync('umount', [path]);
}

test('disk full (a real 4 MiB tmpfs): the ingest that fills it stops with one line naming the store, exit 2; the store keeps what it held and takes more later', () => {
  const { dir, cleanup } = tempDir('ef-full-');
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  let mounted = false;
  try {
    const log = join(dir, 'etcd-mixed.log'); // real lines replayed (bench/gen-etcd-log.ts); on the big disk
    const gen = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'gen-etcd-log.ts'), 'mixed', log, String(40_000_000)], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    mustMount(['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
    mounted = true;
    const db = join(mnt, 's.db');
    makeStore(db);
    const full = runCli(['ingest', '--db', db, log]);
    assertOneLine(full, db, /the disk is full: .*SQLITE_FULL/, 'ingest on a full disk');
    assert.doesNotMatch(full.stdout, /etcd-mixed\.log: etcd-log/);
    const integrity = runCli(['query', '--db', db, '--json', 'PRAGMA integrity_check']);
    assert.equal(integrity.code, 0, integrity.stderr);
    assert.deepEqual(JSON.parse(integrity.stdout), [{ integrity_check: 'ok' }]);
    assert.equal(sourceCount(db), 1, 'only the file stored before');
    const more = runCli(['ingest', '--db', db, ETCD2]);
    assert.equal(more.code, 0, more.stderr);
    assert.equal(sourceCount(db), 2);
  } finally {
    if (mounted) unmount(mnt);
    cleanup();
  }
});

test('a store in a directory that cannot be written (a read-only mount as root, else mode 555): read commands read it, ingest says it cannot write there', () => {
  const { dir, cleanup } = tempDir('ef-rodir-');
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  const asRoot = process.getuid?.() === 0;
  let mounted = false;
  try {
    const made = join(dir, 's.db');
    makeStore(made, [ETCD1, ETCD2]);
    if (asRoot) {
      // root writes through any mode bits: a read-only file system is what stops it.
      mustMount(['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', ro]);
      mounted = true;
    }
    const db = join(ro, 's.db');
    copyFileSync(made, db);
    if (asRoot) mustMount(['-o', 'remount,ro', ro]);
    else chmodSync(ro, 0o555);
    const before = sha(db);
    for (const args of READ_COMMANDS) {
      const [cmd, ...rest] = args;
      const r = runCli([cmd!, '--db', db, ...rest]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /error/i, args.join(' '));
    }
    assertOneLine(runCli(['ingest', '--db', db, ETCD3]), db, /cannot write the store .*not writable by this user/, 'ingest');
    assertOneLine(runCli(['sources', 'rm', '1', '--db', db]), db, /cannot write the store/, 'sources rm');
    const fresh = join(ro, 'new.db');
    assertOneLine(runCli(['ingest', '--db', fresh, ETCD3]), fresh, /cannot create the store .*directory .* is not writable/, 'a new store');
    assert.equal(sha(db), before);
    assert.deepEqual(readdirSync(ro), ['s.db']);
  } finally {
    if (mounted) unmount(ro);
    else chmodSync(ro, 0o755);
    cleanup();
  }
});

test('bad option values: one line naming the option and the value, exit 2', () => {
  const { dir, cleanup } = tempDir('ef-options-');
  try {
    const db = join(dir, 's.db');
    makeStore(db);
    const cases: [string[], string][] = [
      [['analyze', '--quota', '99999999999999999999999999'], '--quota 99999999999999999999999999'],
      [['churn', '--quota', 'abc'], '--quota abc'],
      [['project', '--quota', '0'], '--quota 0'],
      [['report', '--quota', '-5GiB'], '--quota -5GiB'],
      [['snapshot', '--top', 'abc'], '--top abc'],
      [['snapshot', '--top', '0'], '--top 0'],
      [['snapshot', '--top', '1e3'], '--top 1e3'],
      [['snapshot', '--top', '99999999999999999999'], '--top 99999999999999999999'],
      [['query', '--wait', 'abc', 'SELECT 1'], '--wait abc'],
      [['churn', '--wait', '-1'], '--wait -1'],
      [['ingest', '--wait', 'Infinity', ETCD2], '--wait Infinity'],
      [['sources', '--wait', '1e9'], '--wait 1e9'],
      [['query', '--timeout', 'soon', 'SELECT 1'], '--timeout soon'],
      [['query', '--timeout', '-3', 'SELECT 1'], '--timeout -3'],
      [['analyze', '--until', 'yesterday'], '--until yesterday'],
      [['timeline', '--until', '2026-13-45T99:99:99Z'], '--until 2026-13-45T99:99:99Z'],
      [['report', '--until', '2026-02-30T00:00:00Z'], '--until 2026-02-30T00:00:00Z'],
      [['ingest', '--at', '2026-11-23T24:00:00+08:00', ETCD2], '--at 2026-11-23T24:00:00+08:00'],
    ];
    for (const [args, named] of cases) {
      const [cmd, ...rest] = args;
      const r = runCli([cmd!, '--db', db, ...rest]);
      assertOneLine(r, named, /expected/, args.join(' '));
    }
    assert.equal(sourceCount(db), 1, 'nothing was ingested by the refused command');
  } finally {
    cleanup();
  }
});

test('a reader that closes the pipe early (`| head`) ends the command quietly: exit 0, no stack', async () => {
  const { dir, cleanup } = tempDir('ef-epipe-');
  try {
    const db = join(dir, 's.db');
    makeStore(db, [ETCD1, ETCD2, ETCD3]);
    for (const args of [['query', 'SELECT e.* FROM events e, events f LIMIT 200000'], ['query', '--json', 'SELECT e.* FROM events e, events f LIMIT 200000'], ['timeline']]) {
      const child = spawn(process.execPath, [BIN, ...args, '--db', db], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
      assert.equal(stderr, '', `${args.join(' ')}: ${stderr}`);
      assert.equal(code, 0, args.join(' '));
    }
  } finally {
    cleanup();
  }
});

test('the README documents --wait, --timeout and the exit codes', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, /--wait SECONDS/);
  assert.match(readme, /--timeout SECONDS/);
  assert.match(readme, /Exit codes/);
});
