// Reads a big etcd snapshot with the bbolt reader and reports revisions/second and peak RSS.
// Not a timed test: run it by hand after bench/make-big-snapshot.sh.
//
//   node --import tsx bench/bbolt-read.ts [/tmp/bbolt-bench/big.db] [--no-hash] [--no-keys] [--no-trailer] [--repeat=N]
//
// The onRevision callback touches every field a consumer would (key, mod revision, value size), so
// the figure includes building the per-revision object; per-key aggregates are on by default.
import { loadavg } from 'node:os';
import { readEtcdBackend } from '../src/sources/bbolt/index.js';

const args = process.argv.slice(2);
const path = args.find((a) => !a.startsWith('--')) ?? '/tmp/bbolt-bench/big.db';
const computeHash = !args.includes('--no-hash');
const collectKeys = !args.includes('--no-keys');
const verifyTrailer = !args.includes('--no-trailer');

const repeatArg = args.find((a) => a.startsWith('--repeat='));
const repeat = Math.max(1, Number(repeatArg?.slice('--repeat='.length) ?? '1'));

interface Run {
  seconds: number;
  cpuSeconds: number;
  revisions: number;
  summary: ReturnType<typeof readEtcdBackend>;
}

function runOnce(): Run {
  const cpuBefore = process.cpuUsage();
  let revisions = 0;
  let valueBytes = 0;
  const started = process.hrtime.bigint();
  const summary = readEtcdBackend(path, {
    computeHash,
    collectKeys,
    verifyTrailer,
    onRevision: (rev) => {
      revisions++;
      valueBytes += rev.valueSize;
      if (rev.key.length === 0 || rev.modRevision < 0) valueBytes--; // touch key and mod revision
    },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  if (valueBytes < 0) throw new Error('unreachable');
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, revisions, summary };
}

const runs = Array.from({ length: repeat }, runOnce);
const first = runs[0] as Run;
const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const { summary, revisions } = first;
const maxRssMB = process.resourceUsage().maxRSS / 1024;

const result = {
  file: path,
  options: { computeHash, collectKeys, verifyTrailer, repeat },
  fileBytes: summary.file.fileSize,
  revisions,
  distinctKeys: summary.keyBucket.distinctKeys,
  /** First (cold) run in this process: what a CLI invocation sees. */
  seconds: Number(first.seconds.toFixed(3)),
  revisionsPerSecond: Math.round(revisions / first.seconds),
  megabytesPerSecond: Number((summary.file.fileSize / 1e6 / first.seconds).toFixed(1)),
  /** CPU time of this process: the machine is shared, so wall time includes waiting for a core. */
  cpuSeconds: Number(first.cpuSeconds.toFixed(3)),
  revisionsPerCpuSecond: Math.round(revisions / first.cpuSeconds),
  /** Fastest of `repeat` runs (JIT warm). */
  bestSeconds: Number(best.seconds.toFixed(3)),
  bestRevisionsPerSecond: Math.round(revisions / best.seconds),
  allSeconds: runs.map((r) => Number(r.seconds.toFixed(3))),
  peakRssMB: Number(maxRssMB.toFixed(1)),
  loadAverage1m: Number(loadavg()[0]?.toFixed(2)),
  snapshotStatus: summary.snapshotStatus,
  freePages: summary.pages.free,
  trailer: summary.file.trailer.kind === 'sha256' && summary.file.trailer.verified ? summary.file.trailer.matches : summary.file.trailer.kind,
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
