// Fleet bench (issue 15): CLUSTERS clusters × 3 members × DAYS days at a STEP_S step of etcd metrics, written as
// OpenMetrics, backfilled into a real Prometheus TSDB with `promtool tsdb create-blocks-from openmetrics`, served by
// Debian's prometheus on 127.0.0.1; then `ingest --prometheus` (wall time, peak RSS from /usr/bin/time -v) and
// `report --fleet` (wall time). Appends a dated section to bench/RESULTS-fleet.md. Not a test.
//
//   node --import tsx bench/fleet-bench.ts                       # 200 clusters × 3 × 30 d at 5 min (~5.2 M readings)
//   CLUSTERS=20 DAYS=30 node --import tsx bench/fleet-bench.ts  # smaller
//   node --import tsx bench/fleet-bench.ts --keep /tmp/fleet200 --compact   # generate once, keep everything
//   node --import tsx bench/fleet-bench.ts --reuse /tmp/fleet200 --blocks compacted|2h [--no-report]
//
// --keep DIR writes into DIR and leaves it: om/ (the OpenMetrics, one file per 2-hour window), tsdb-2h/ (promtool's
// blocks as made), tsdb/ (the TSDB Prometheus serves; with --compact, after Prometheus compacted it), store.db (the
// first import), meta.json (the size and time range, written last: the data set is complete when it exists).
// --reuse DIR skips generation and serves DIR/tsdb (or DIR/tsdb-2h with --blocks 2h); imports go to a temp store.
// --compact starts Prometheus on the backfilled blocks and waits until it has compacted them (2 h blocks are
// merged ×3 at a time up to 10 % of the retention, at most 31 d: what a months-old Prometheus serves) before the
// import; the wait is not part of the import's time. PROMTOOL_JOBS (default 2) promtool processes run at once.
//
// The series are synthetic but shaped like the real captures: two in three clusters compact every hour (in use
// saw-tooths, the compact revision advances, the file stays at its high-water mark); the others never compact
// (compact revision -1, in use = physical, growing with the revision at 150 B/revision). Deterministic (no RNG).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPrometheus } from '../test/helpers/prometheus-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'etcd-forensics.js');
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const opt = (name: string): string | null => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : null;
};
const KEEP = opt('--keep');
const REUSE = opt('--reuse');
const COMPACT = flag('--compact');
const NO_REPORT = flag('--no-report');
const BLOCKS = opt('--blocks') ?? 'compacted';
const PROMTOOL_JOBS = Number(process.env['PROMTOOL_JOBS'] ?? 2);
interface Meta { clusters: number; days: number; stepS: number; endS: number; steps: number; samples: number; bytes: number; genS: number; promtoolS: number; compactS: number | null }
const reused: Meta | null = REUSE ? JSON.parse(readFileSync(join(REUSE, 'meta.json'), 'utf8')) as Meta : null;
const CLUSTERS = reused?.clusters ?? Number(process.env['CLUSTERS'] ?? 200);
const DAYS = reused?.days ?? Number(process.env['DAYS'] ?? 30);
const STEP_S = reused?.stepS ?? Number(process.env['STEP_S'] ?? 300);
const MEMBERS = 3;
const QUOTA = 8 * 1024 ** 3;
const BPR = 150;

interface Point { size: number; inUse: number; rev: number; compact: number }

/** One cluster's series (every member reports the same figures: the backend is replicated). */
function* clusterSeries(c: number, steps: number): Generator<Point> {
  const compacted = c % 3 !== 0;
  const ratePerStep = 300 + ((c * 37) % 900);
  let rev = 1000 + c;
  let compact = compacted ? 0 : -1;
  let high = 0;
  const base = 20_000_000 + c * 100_000;
  for (let k = 0; k < steps; k++) {
    rev += ratePerStep;
    if (compacted && k % 12 === 0 && k > 0) compact = rev - ratePerStep * 12; // hourly, one hour retained
    const live = compacted ? base + BPR * (rev - Math.max(0, compact)) : base + BPR * rev;
    const inUse = Math.round(live);
    high = Math.max(high, Math.ceil((inUse * 1.05) / 4096) * 4096);
    yield { size: high, inUse, rev, compact };
  }
}

/**
 * promtool 2.42 (no --max-block-duration) reads its whole input once per 2-hour block: one 30-day file is read 360
 * times. So the samples are written as one OpenMetrics file per 2-hour window (each read once) and promtool runs
 * on each, into the same TSDB directory. Returns the sample count and the bytes written.
 */
async function backfill(dir: string, tsdb: string, endS: number, steps: number): Promise<{ samples: number; bytes: number; genS: number; promtoolS: number }> {
  const families: [string, (p: Point) => number][] = [
    ['etcd_mvcc_db_total_size_in_bytes', (p) => p.size],
    ['etcd_mvcc_db_total_size_in_use_in_bytes', (p) => p.inUse],
    ['etcd_server_quota_backend_bytes', () => QUOTA],
    ['etcd_debugging_mvcc_current_revision', (p) => p.rev],
    ['etcd_debugging_mvcc_compact_revision', (p) => p.compact],
  ];
  const series = Array.from({ length: CLUSTERS }, (_, c) => [...clusterSeries(c, steps)]);
  const start = endS - (steps - 1) * STEP_S;
  const win = 7200;
  let samples = 0;
  let bytes = 0;
  let genMs = 0;
  const t0 = Date.now();
  const omDir = join(dir, 'om');
  mkdirSync(omDir, { recursive: true });
  const running = new Set<Promise<void>>();
  const failures: string[] = [];
  const runPromtool = (file: string): Promise<void> => new Promise((resolve) => {
    const child = spawn('nice', ['-n', '10', 'promtool', 'tsdb', 'create-blocks-from', 'openmetrics', '-q', file, tsdb], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => { err = (err + c.toString('utf8')).slice(-2000); });
    child.on('exit', (code) => {
      if (code !== 0) failures.push(`promtool ${file}: ${err}`);
      if (!KEEP) rmSync(file, { force: true });
      resolve();
    });
  });
  for (let w0 = Math.floor(start / win) * win; w0 <= endS; w0 += win) {
    const k0 = Math.max(0, Math.ceil((w0 - start) / STEP_S));
    const k1 = Math.min(steps - 1, Math.floor((w0 + win - 1 - start) / STEP_S));
    if (k1 < k0) continue;
    const t = Date.now();
    const file = join(omDir, `window-${w0}.om`);
    const out = createWriteStream(file, { highWaterMark: 1 << 20 });
    const write = (s: string): Promise<void> | void => {
      bytes += s.length;
      if (!out.write(s)) return new Promise((r) => out.once('drain', () => r()));
    };
    for (const [name, value] of families) {
      await write(`# TYPE ${name} gauge\n`);
      for (let c = 0; c < CLUSTERS; c++) {
        const cl = `c${String(c).padStart(3, '0')}`;
        for (let m = 1; m <= MEMBERS; m++) {
          const labels = `{job="etcd",cluster="${cl}",instance="10.${Math.floor(c / 250)}.${c % 250}.${m}:2379"}`;
          let buf = '';
          for (let k = k0; k <= k1; k++) buf += `${name}${labels} ${value(series[c]![k]!)} ${start + k * STEP_S}\n`;
          samples += k1 - k0 + 1;
          await write(buf);
        }
      }
    }
    await write('# EOF\n');
    await new Promise<void>((r) => out.end(() => r()));
    genMs += Date.now() - t;
    if (failures.length > 0) break;
    const p = runPromtool(file).then(() => { running.delete(p); });
    running.add(p);
    while (running.size >= PROMTOOL_JOBS) await Promise.race(running);
  }
  await Promise.all(running);
  if (failures.length > 0) throw new Error(failures[0]);
  // promtool's time is the wall time of generation and backfill together less the generation (they overlap).
  return { samples, bytes, genS: genMs / 1000, promtoolS: (Date.now() - t0 - genMs) / 1000 };
}

const REPORT_TIMEOUT_S = Number(process.env['REPORT_TIMEOUT_S'] ?? 600);

function timed(cmd: string, args: string[], timeoutS = 3600): { s: number; rssKb: number | null; out: string; code: number | null } {
  const t = Date.now();
  // `timeout` (coreutils) stops the command itself; /usr/bin/time still reports the peak RSS of what it waited for.
  const r = spawnSync('/usr/bin/time', ['-v', 'timeout', '-s', 'KILL', String(timeoutS), cmd, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { s: (Date.now() - t) / 1000, rssKb: rss ? Number(rss[1]) : null, out: `${r.stdout}${r.stderr}`, code: r.status };
}

/** Prometheus' own gauges (its /metrics), by name, summed over label sets. */
async function promGauge(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Start Prometheus on the TSDB and wait until it has compacted it: its compaction runs a minute after start and
 * merges block after block in one go; done when at least one compaction ran and the loaded block count has not
 * changed for 90 s (more than one compaction tick). Returns the wait in seconds and the blocks before/after.
 */
async function compactTsdb(tsdb: string): Promise<{ s: number; before: number; after: number }> {
  const before = readdirSync(tsdb).filter((d) => existsSync(join(tsdb, d, 'meta.json'))).length;
  const t = Date.now();
  const prom = await startPrometheus({ storageDir: tsdb, retention: `${DAYS + 400}d` });
  try {
    let last = -1;
    let since = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 5000));
      const blocks = await promGauge(prom.url, 'prometheus_tsdb_blocks_loaded');
      const runs = await promGauge(prom.url, 'prometheus_tsdb_compactions_total');
      if (blocks !== last) {
        last = blocks ?? -1;
        since = Date.now();
        process.stderr.write(`compaction: ${blocks} blocks loaded, ${runs} compactions\n`);
      }
      if ((runs ?? 0) > 0 && Date.now() - since > 90_000) break;
    }
  } finally {
    await prom.stop();
  }
  const after = readdirSync(tsdb).filter((d) => existsSync(join(tsdb, d, 'meta.json'))).length;
  return { s: (Date.now() - t) / 1000, before, after };
}

function blockSummary(tsdb: string): string {
  const spans = new Map<number, number>();
  for (const d of readdirSync(tsdb)) {
    const f = join(tsdb, d, 'meta.json');
    if (!existsSync(f)) continue;
    const m = JSON.parse(readFileSync(f, 'utf8')) as { minTime: number; maxTime: number };
    const h = Math.round((m.maxTime - m.minTime) / 3_600_000);
    spans.set(h, (spans.get(h) ?? 0) + 1);
  }
  return [...spans].sort((a, b) => b[0] - a[0]).map(([h, n]) => `${n} × ${h} h`).join(', ');
}

function copyStore(from: string, to: string): void {
  for (const ext of ['', '-wal', '-shm']) {
    rmSync(to + ext, { force: true });
    if (existsSync(from + ext)) copyFileSync(from + ext, to + ext);
  }
}

async function main(): Promise<void> {
  const data = REUSE ?? KEEP ?? mkdtempSync(join(tmpdir(), 'ef-fleet-bench-'));
  mkdirSync(data, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'ef-fleet-bench-work-'));
  let prom: Awaited<ReturnType<typeof startPrometheus>> | null = null;
  try {
    let meta: Meta;
    if (reused) meta = reused;
    else {
      const steps = Math.floor((DAYS * 86400) / STEP_S);
      const endS = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600;
      const tsdb = join(data, 'tsdb');
      const bf = await backfill(data, tsdb, endS, steps);
      if (KEEP) cpSync(tsdb, join(data, 'tsdb-2h'), { recursive: true });
      let compactS: number | null = null;
      if (COMPACT) {
        const c = await compactTsdb(tsdb);
        compactS = c.s;
        process.stderr.write(`compacted ${c.before} → ${c.after} blocks in ${c.s.toFixed(0)} s\n`);
      }
      meta = { clusters: CLUSTERS, days: DAYS, stepS: STEP_S, endS, steps, ...bf, compactS };
    }
    const tsdb = join(data, REUSE && BLOCKS === '2h' ? 'tsdb-2h' : 'tsdb');
    const blocks = blockSummary(tsdb);
    const { endS, steps } = meta;
    prom = await startPrometheus({ storageDir: tsdb, retention: `${DAYS + 400}d` });
    const db = join(work, 'fleet.db');
    const since = new Date((endS - (steps - 1) * STEP_S) * 1000).toISOString();
    const until = new Date(endS * 1000).toISOString();
    const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const loadBefore = load();
    const imp = timed(process.execPath, [CLI, 'ingest', '--db', db, '--prometheus', prom.url, '--since', since, '--until', until, '--step', `${STEP_S}s`]);
    if (imp.code !== 0) throw new Error(`import failed: ${imp.out.slice(-2000)}`);
    const user = /User time \(seconds\): ([\d.]+)/.exec(imp.out)?.[1] ?? '?';
    const readings = /(\d+) readings, (\d+) new/.exec(imp.out);
    const dbBytes = statSync(db).size;
    if (KEEP) {
      copyStore(db, join(data, 'store.db'));
      writeFileSync(join(data, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    }
    const rep = NO_REPORT ? null : timed(process.execPath, [CLI, 'report', '--fleet', '--format', 'html', '--db', db, '-o', join(work, 'fleet.html')], REPORT_TIMEOUT_S);
    const again = timed(process.execPath, [CLI, 'ingest', '--db', db, '--prometheus', prom.url, '--since', since, '--until', until, '--step', `${STEP_S}s`]);
    const reportRow = rep === null ? '| report --fleet --format html | not run (--no-report) |'
      : rep.code === 0 ? `| report --fleet --format html | ${rep.s.toFixed(1)} s wall, peak RSS ${rep.rssKb !== null ? (rep.rssKb / 1024).toFixed(0) : '?'} MiB |`
        : `| report --fleet --format html | did not finish within ${REPORT_TIMEOUT_S} s (stopped) |`;
    const section = [
      `\n## ${new Date().toISOString()} — ${CLUSTERS} clusters × ${MEMBERS} members × ${DAYS} d at ${STEP_S} s`,
      '',
      `Machine: ${cpus().length} vCPU (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB; Node ${process.version}; prometheus 2.42 (Debian bookworm).`,
      `Command: \`node --import tsx bench/fleet-bench.ts ${argv.join(' ')}\`; load average before the import: ${loadBefore}.`,
      '',
      '| step | figure |',
      '|---|---|',
      `| OpenMetrics written (one file per 2 h window) | ${meta.samples} samples, ${(meta.bytes / 1e9).toFixed(2)} GB, ${meta.genS.toFixed(1)} s${reused ? ' (earlier run, reused)' : ''} |`,
      `| promtool tsdb create-blocks-from openmetrics | ${meta.promtoolS.toFixed(1)} s${reused ? ' (earlier run, reused)' : ''} |`,
      ...(meta.compactS !== null && BLOCKS !== '2h' ? [`| Prometheus compaction before the import (not timed in the import) | ${meta.compactS.toFixed(0)} s${reused ? ' (earlier run)' : ''} |`] : []),
      `| TSDB served | ${blocks} |`,
      `| ingest --prometheus (${readings ? `${readings[1]} readings, ${readings[2]} new` : '?'}) | ${imp.s.toFixed(1)} s wall, ${user} s user CPU, peak RSS ${imp.rssKb !== null ? (imp.rssKb / 1024).toFixed(0) : '?'} MiB |`,
      `| store after import | ${(dbBytes / 1e6).toFixed(0)} MB |`,
      reportRow,
      `| re-import of the same range | ${again.s.toFixed(1)} s, peak RSS ${again.rssKb !== null ? (again.rssKb / 1024).toFixed(0) : '?'} MiB, ${/(\d+) new/.exec(again.out)?.[1] ?? '?'} new |`,
      '',
      `Targets (issue 15, at 200 × 3 × 30 d): import < 60 s, peak RSS < 200 MB, fleet report < 5 s.`,
      '',
    ].join('\n');
    if (process.env['NO_APPEND'] !== '1') appendFileSync(join(ROOT, 'bench', 'RESULTS-fleet.md'), section);
    process.stdout.write(section);
  } finally {
    await prom?.stop();
    rmSync(work, { recursive: true, force: true });
    if (!REUSE && !KEEP) rmSync(data, { recursive: true, force: true });
  }
}

await main();
