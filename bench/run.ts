// `npm run bench`: the ingest bench against the sqlite3 CLI and jq pipelines on the same generated file, in
// one run and pair by pair (each round runs all three back to back, so a busy machine slows all three
// alike), then the analyze bench on the large store and on a store of 10 M routine events. Appends a dated
// section to bench/RESULTS-ingest.md and bench/RESULTS-analyze.md (history kept). Not a test.
//
//   npm run bench                                   # 1 GB NOSPACE-heavy log, 3 rounds
//   npm run bench -- --rounds 2 --bytes 200000000   # smaller / fewer
//   npm run bench -- --no-routine                   # skip the 10 M routine events store
//   npm run bench -- --analyze-only --store S.db    # the analyze bench alone, on a store already built
//                                                   # (`ingest --db S.db <the 1 GB log>`), no ingest rounds
//
// The pipelines extract the fields of every zap line our ingest reads (ts, level, caller, msg, took, request,
// response, error) from the same file:
//   sqlite3: `.import` of the file as one text column (ascii mode: no quote processing), then
//            CREATE TABLE … AS SELECT json_extract(line, '$.ts'), … WHERE json_valid(line)
//   jq:      jq -R -r 'fromjson? | [.ts, .level, …] | @tsv' > a TSV file
// sqlite3 and jq come from Debian (`apt-get install -y sqlite3 jq`).
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { buildRoutineStore } from './routine-store.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'etcd-forensics.js');
const FIELDS = ['ts', 'level', 'caller', 'msg', 'took', 'request', 'response', 'error'];

interface Args { bytes: number; rounds: number; file: string; routine: boolean; routineEvents: number; analyzeOnly: boolean; store: string }

function parseArgs(argv: string[]): Args {
  const a: Args = { bytes: 1_000_000_000, rounds: 3, file: '', routine: true, routineEvents: 10_000_000, analyzeOnly: false, store: '' };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--bytes': a.bytes = Number(v); i++; break;
      case '--rounds': a.rounds = Number(v); i++; break;
      case '--file': a.file = v ?? ''; i++; break;
      case '--routine-events': a.routineEvents = Number(v); i++; break;
      case '--no-routine': a.routine = false; break;
      case '--analyze-only': a.analyzeOnly = true; break;
      case '--store': a.store = v ?? ''; i++; break;
      default: throw new Error(`bench/run.ts: unknown argument ${argv[i]}`);
    }
  }
  if (!(a.bytes > 0) || !(a.rounds >= 1)) throw new Error('bench/run.ts: --bytes and --rounds must be positive');
  if (a.analyzeOnly && !a.store) throw new Error('bench/run.ts: --analyze-only needs --store PATH (a store built by `ingest --db PATH <log>`)');
  a.file ||= `/tmp/etcd-bench-nospace-${a.bytes}.log`;
  return a;
}

export interface Measured { seconds: number; rssMiB: number; cpuSeconds: number; code: number }

/** Runs a command under /usr/bin/time -v: wall seconds, peak RSS, user+sys CPU. */
export function timed(cmd: string, args: string[], opts: { stdin?: string; stdoutFile?: string } = {}): Measured {
  const shell = `${opts.stdoutFile ? `exec >${shq(opts.stdoutFile)}; ` : 'exec >/dev/null; '}exec /usr/bin/time -v ${[cmd, ...args].map(shq).join(' ')}`;
  const r = spawnSync('bash', ['-c', shell], { input: opts.stdin, encoding: 'utf8', maxBuffer: 64 << 20 });
  const err = r.stderr ?? '';
  const field = (name: string): string => new RegExp(`${name}: (.*)`).exec(err)?.[1]?.trim() ?? '';
  const wall = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)').split(':').reduce((s, p) => s * 60 + Number(p), 0);
  const out = { seconds: wall, rssMiB: Number(field('Maximum resident set size \\(kbytes\\)')) / 1024,
    cpuSeconds: Number(field('User time \\(seconds\\)')) + Number(field('System time \\(seconds\\)')), code: r.status ?? -1 };
  if (out.code !== 0) process.stderr.write(`${cmd} exited ${out.code}: ${err.split('\n').filter((l) => !/^\t/.test(l)).slice(-5).join('\n')}\n`);
  return out;
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};
const fmt = (n: number, d = 1): string => n.toFixed(d);

function version(cmd: string, arg: string): string {
  const r = spawnSync(cmd, [arg], { encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd} not found: apt-get install -y sqlite3 jq`);
  return (r.stdout || r.stderr).trim().split(/\s+/).slice(0, 1).join(' ');
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? '?';
  return `${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free), `
    + `Node ${process.version}, sqlite3 ${version('sqlite3', '--version')}, ${version('jq', '--version')}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;
}

function ensureLog(a: Args): void {
  if (existsSync(a.file) && statSync(a.file).size >= a.bytes) return;
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'gen-etcd-log.ts'), 'nospace', a.file, String(a.bytes)],
    { stdio: ['ignore', 'inherit', 'inherit'], cwd: ROOT });
  if (r.status !== 0) throw new Error('gen-etcd-log.ts failed');
}

const dbBytes = (db: string): number => ['', '-wal', '-shm'].reduce((s, x) => s + (existsSync(db + x) ? statSync(db + x).size : 0), 0);
const rmDb = (db: string): void => { for (const x of ['', '-wal', '-shm']) rmSync(db + x, { force: true }); };

interface Round { ours: Measured; store: number; sqlite: Measured; jq: Measured }

function ingestRounds(a: Args, dir: string, keepDb: string): Round[] {
  const ext = FIELDS.map((f) => `json_extract(line, '$.${f}') AS ${f}`).join(', ');
  const sqliteScript = `.mode ascii\n.separator "\\037" "\\n"\nCREATE TABLE raw(line TEXT);\n.import ${a.file} raw\n`
    + `CREATE TABLE fields AS SELECT ${ext} FROM raw WHERE json_valid(line);\n`;
  const jqProgram = `fromjson? | [${FIELDS.map((f) => `.${f}`).join(', ')}] | @tsv`;
  const rounds: Round[] = [];
  for (let i = 1; i <= a.rounds; i++) {
    const db = join(dir, 'ours.db');
    rmDb(db);
    const ours = timed(process.execPath, [CLI, 'ingest', '--db', db, a.file]);
    const store = dbBytes(db);
    if (i === a.rounds) spawnSync('cp', [db, keepDb]);
    rmDb(db);
    const sdb = join(dir, 'sqlite.db');
    rmDb(sdb);
    const sqlite = timed('sqlite3', [sdb], { stdin: sqliteScript });
    rmDb(sdb);
    const jq = timed('jq', ['-R', '-r', jqProgram, a.file], { stdoutFile: join(dir, 'jq.tsv') });
    rmSync(join(dir, 'jq.tsv'), { force: true });
    const r = { ours, store, sqlite, jq };
    process.stderr.write(`round ${i}: ours ${fmt(ours.seconds)} s (${fmt(ours.rssMiB, 0)} MiB), sqlite3 ${fmt(sqlite.seconds)} s, jq ${fmt(jq.seconds)} s; `
      + `×${fmt(sqlite.seconds / ours.seconds, 2)} / ×${fmt(jq.seconds / ours.seconds, 2)}\n`);
    rounds.push(r);
  }
  return rounds;
}

function analyzeRuns(db: string, n = 3): Measured[] {
  const out: Measured[] = [];
  for (let i = 0; i < n; i++) out.push(timed(process.execPath, [CLI, 'analyze', '--db', db]));
  return out;
}

/** `analyze` runs as the results file shows them: wall, peak RSS and CPU (user+sys: what a shared machine cannot inflate much). */
const analyzeFigures = (runs: Measured[]): string => runs.map((r) => `${fmt(r.seconds, 2)} s / ${fmt(r.rssMiB, 0)} MiB (cpu ${fmt(r.cpuSeconds, 2)} s)`).join(', ');

/** The analyze bench alone on a store already built (--analyze-only --store), and the routine store unless --no-routine. */
function analyzeOnly(a: Args, command: string, m: string, date: string): void {
  if (!existsSync(a.store)) throw new Error(`bench/run.ts: --store ${a.store}: no such file`);
  const d = new Database(a.store, { readonly: true });
  const sources = (d.prepare('SELECT path FROM sources ORDER BY path').pluck().all() as string[]);
  d.close();
  const an = analyzeRuns(a.store);
  const lines = [
    '', `## ${date}: analyze (bench/run.ts --analyze-only)`, '', `Command: \`${command}\`. Machine: ${m}.`, '',
    `- Store ${a.store} (${dbBytes(a.store)} bytes; ${sources.length} source(s): ${sources.slice(0, 3).join(', ')}${sources.length > 3 ? ', …' : ''}): \`analyze\` `
      + `${analyzeFigures(an)} (needs < 3 s, < 250 MB = 238 MiB).`,
  ];
  if (a.routine) {
    const dir = mkdtempSync(join(tmpdir(), 'etcd-bench-'));
    try {
      const rdb = join(dir, 'routine.db');
      const built = buildRoutineStore(rdb, a.routineEvents);
      const ar = analyzeRuns(rdb);
      lines.push(`- Store of ${built.events} routine events (${built.how}; ${dbBytes(rdb)} bytes, built in ${fmt(built.seconds)} s): \`analyze\` `
        + `${analyzeFigures(ar)} (needs < 3 s).`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  lines.push(`- Load average after the runs: ${loadavg().map((l) => l.toFixed(1)).join(' ')}.`);
  appendFileSync(join(ROOT, 'bench', 'RESULTS-analyze.md'), `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  if (!existsSync(CLI) || !existsSync(join(ROOT, 'dist'))) throw new Error('npm run build first');
  const m = machine();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (a.analyzeOnly) return analyzeOnly(a, command, m, date);
  ensureLog(a);
  const size = statSync(a.file).size;
  const dir = mkdtempSync(join(tmpdir(), 'etcd-bench-'));
  try {
    const keep = join(dir, 'nospace-store.db');
    const rounds = ingestRounds(a, dir, keep);
    const mb = size / 1e6;
    const rows = rounds.map((r, i) => `| ${i + 1} | ${fmt(r.ours.seconds)} s (${fmt(mb / r.ours.seconds)} MB/s, ${fmt(r.ours.rssMiB, 0)} MiB, cpu ${fmt(r.ours.cpuSeconds)} s) `
      + `| ${fmt(r.sqlite.seconds)} s (${fmt(r.sqlite.rssMiB, 0)} MiB, cpu ${fmt(r.sqlite.cpuSeconds)} s) | ${fmt(r.jq.seconds)} s (${fmt(r.jq.rssMiB, 0)} MiB, cpu ${fmt(r.jq.cpuSeconds)} s) `
      + `| **${fmt(r.sqlite.seconds / r.ours.seconds, 2)}×** | **${fmt(r.jq.seconds / r.ours.seconds, 2)}×** | ${fmt((100 * r.store) / size)}% |`);
    const vsSqlite = median(rounds.map((r) => r.sqlite.seconds / r.ours.seconds));
    const vsJq = median(rounds.map((r) => r.jq.seconds / r.ours.seconds));
    const peak = Math.max(...rounds.map((r) => r.ours.rssMiB));
    const store = Math.max(...rounds.map((r) => r.store));
    appendFileSync(join(ROOT, 'bench', 'RESULTS-ingest.md'), [
      '', `## ${date}: ingest vs the sqlite3 CLI and jq pipelines, ${a.rounds} round(s) pair by pair (bench/run.ts)`, '',
      `Command: \`${command}\` (file: ${a.file}, ${size} bytes, \`bench/gen-etcd-log.ts nospace\`). Machine: ${m}.`, '',
      '| round | ours (etcd-forensics ingest) | sqlite3 import + json_extract | jq → TSV | sqlite3 / ours | jq / ours | store / log |',
      '|---|---|---|---|---|---|---|', ...rows, '',
      `Median ratios: ${fmt(vsSqlite, 2)}× the sqlite3 pipeline's wall time (needs ≥ 1.5), ${fmt(vsJq, 2)}× jq's (needs ≥ 3); `
        + `peak RSS ${fmt(peak, 0)} MiB (needs < 200 MB = 190.7 MiB); store ${store} bytes = ${fmt((100 * store) / size)}% of the log (needs ≤ 30%).`, '',
    ].join('\n'));
    const an = analyzeRuns(keep);
    const lines = [
      '', `## ${date}: analyze (bench/run.ts)`, '', `Command: \`${command}\`. Machine: ${m}.`, '',
      `- Store of the ingest bench's last round (${a.file}, ${size} bytes; store ${dbBytes(keep)} bytes): \`analyze\` `
        + `${analyzeFigures(an)} (needs < 3 s, < 250 MB = 238 MiB).`,
    ];
    if (a.routine) {
      const rdb = join(dir, 'routine.db');
      const built = buildRoutineStore(rdb, a.routineEvents);
      const ar = analyzeRuns(rdb);
      lines.push(`- Store of ${built.events} routine events (${built.how}; ${dbBytes(rdb)} bytes, built in ${fmt(built.seconds)} s): \`analyze\` `
        + `${analyzeFigures(ar)} (needs < 3 s).`);
    }
    appendFileSync(join(ROOT, 'bench', 'RESULTS-analyze.md'), `${lines.join('\n')}\n`);
    process.stdout.write(`${readFileSync(join(ROOT, 'bench', 'RESULTS-ingest.md'), 'utf8').split('\n## ').pop()}\n${lines.join('\n')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
