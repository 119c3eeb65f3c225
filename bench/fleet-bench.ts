// Fleet bench (issue 15): CLUSTERS clusters × 3 members × DAYS days at a STEP_S step of etcd metrics, written as
// OpenMetrics, backfilled into a real Prometheus TSDB with `promtool tsdb create-blocks-from openmetrics`, served by
// Debian's prometheus on 127.0.0.1; then `ingest --prometheus` (wall time, peak RSS from /usr/bin/time -v) and
// `report --fleet` (wall time). Appends a dated section to bench/RESULTS-fleet.md. Not a test.
//
//   node --import tsx bench/fleet-bench.ts                       # 200 clusters × 3 × 30 d at 5 min (~5.2 M readings)
//   CLUSTERS=20 DAYS=30 node --import tsx bench/fleet-bench.ts  # smaller
//
// The series are synthetic but shaped like the real captures: two in three clusters compact every hour (in use
// saw-tooths, the compact revision advances, the file stays at its high-water mark); the others never compact
// (compact revision -1, in use = physical, growing with the revision at 150 B/revision). Deterministic (no RNG).
import { spawnSync } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPrometheus } from '../test/helpers/prometheus-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'etcd-forensics.js');
const CLUSTERS = Number(process.env['CLUSTERS'] ?? 200);
const DAYS = Number(process.env['DAYS'] ?? 30);
const STEP_S = Number(process.env['STEP_S'] ?? 300);
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
  let promMs = 0;
  for (let w0 = Math.floor(start / win) * win; w0 <= endS; w0 += win) {
    const k0 = Math.max(0, Math.ceil((w0 - start) / STEP_S));
    const k1 = Math.min(steps - 1, Math.floor((w0 + win - 1 - start) / STEP_S));
    if (k1 < k0) continue;
    let t = Date.now();
    const file = join(dir, 'window.om');
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
    t = Date.now();
    const bf = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '-q', file, tsdb], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (bf.status !== 0) throw new Error(`promtool: ${bf.stderr.slice(-2000)}`);
    promMs += Date.now() - t;
  }
  return { samples, bytes, genS: genMs / 1000, promtoolS: promMs / 1000 };
}

const REPORT_TIMEOUT_S = Number(process.env['REPORT_TIMEOUT_S'] ?? 600);

function timed(cmd: string, args: string[], timeoutS = 3600): { s: number; rssKb: number | null; out: string; code: number | null } {
  const t = Date.now();
  // `timeout` (coreutils) stops the command itself; /usr/bin/time still reports the peak RSS of what it waited for.
  const r = spawnSync('/usr/bin/time', ['-v', 'timeout', '-s', 'KILL', String(timeoutS), cmd, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { s: (Date.now() - t) / 1000, rssKb: rss ? Number(rss[1]) : null, out: `${r.stdout}${r.stderr}`, code: r.status };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ef-fleet-bench-'));
  const steps = Math.floor((DAYS * 86400) / STEP_S);
  const endS = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600;
  const tsdb = join(dir, 'tsdb');
  let prom: Awaited<ReturnType<typeof startPrometheus>> | null = null;
  try {
    const bf = await backfill(dir, tsdb, endS, steps);
    prom = await startPrometheus({ storageDir: tsdb, retention: `${DAYS + 400}d` });
    const db = join(dir, 'fleet.db');
    const since = new Date((endS - (steps - 1) * STEP_S) * 1000).toISOString();
    const until = new Date(endS * 1000).toISOString();
    const imp = timed(process.execPath, [CLI, 'ingest', '--db', db, '--prometheus', prom.url, '--since', since, '--until', until, '--step', `${STEP_S}s`]);
    if (imp.code !== 0) throw new Error(`import failed: ${imp.out.slice(-2000)}`);
    const readings = /(\d+) readings, (\d+) new/.exec(imp.out);
    const rep = timed(process.execPath, [CLI, 'report', '--fleet', '--format', 'html', '--db', db, '-o', join(dir, 'fleet.html')], REPORT_TIMEOUT_S);
    const repDone = rep.code === 0;
    const again = timed(process.execPath, [CLI, 'ingest', '--db', db, '--prometheus', prom.url, '--since', since, '--until', until, '--step', `${STEP_S}s`]);
    const dbBytes = statSync(db).size;
    const section = [
      `\n## ${new Date().toISOString()} — ${CLUSTERS} clusters × ${MEMBERS} members × ${DAYS} d at ${STEP_S} s`,
      '',
      `Machine: ${cpus().length} vCPU (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB; Node ${process.version}; prometheus 2.42 (Debian bookworm).`,
      '',
      '| step | figure |',
      '|---|---|',
      `| OpenMetrics written (one file per 2 h window) | ${bf.samples} samples, ${(bf.bytes / 1e9).toFixed(2)} GB, ${bf.genS.toFixed(1)} s |`,
      `| promtool tsdb create-blocks-from openmetrics | ${bf.promtoolS.toFixed(1)} s |`,
      `| ingest --prometheus (${readings ? `${readings[1]} readings, ${readings[2]} new` : '?'}) | ${imp.s.toFixed(1)} s wall, peak RSS ${imp.rssKb !== null ? (imp.rssKb / 1024).toFixed(0) : '?'} MiB |`,
      `| store after import | ${(dbBytes / 1e6).toFixed(0)} MB |`,
      repDone ? `| report --fleet --format html | ${rep.s.toFixed(1)} s wall, peak RSS ${rep.rssKb !== null ? (rep.rssKb / 1024).toFixed(0) : '?'} MiB |`
        : `| report --fleet --format html | did not finish within ${REPORT_TIMEOUT_S} s (stopped) |`,
      `| re-import of the same range | ${again.s.toFixed(1)} s, ${/(\d+) new/.exec(again.out)?.[1] ?? '?'} new |`,
      '',
      `Targets (issue 15, at 200 × 3 × 30 d): import < 60 s, peak RSS < 200 MB, fleet report < 5 s.`,
      '',
    ].join('\n');
    appendFileSync(join(ROOT, 'bench', 'RESULTS-fleet.md'), section);
    process.stdout.write(section);
  } finally {
    await prom?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
