// Reads a big etcd snapshot with the bbolt reader and reports revisions/second and peak RSS.
// Not a timed test: run it by hand after bench/make-big-snapshot.sh.
//
//   node --import tsx bench/bbolt-read.ts [/tmp/bbolt-bench/big.db] [--no-hash] [--no-keys] [--no-trailer]
//
// The onRevision callback touches every field a consumer would (key, mod revision, value size), so
// the figure includes building the per-revision object; per-key aggregates are on by default.
import { loadavg } from 'node:os';
import { readEtcdBackend } from '../src/ingest/bbolt/index.js';

const args = process.argv.slice(2);
const path = args.find((a) => !a.startsWith('--')) ?? '/tmp/bbolt-bench/big.db';
const computeHash = !args.includes('--no-hash');
const collectKeys = !args.includes('--no-keys');
const verifyTrailer = !args.includes('--no-trailer');

const cpuBefore = process.cpuUsage();
let revisions = 0;
let valueBytes = 0;
let maxKeyLength = 0;
const started = process.hrtime.bigint();
const summary = readEtcdBackend(path, {
  computeHash,
  collectKeys,
  verifyTrailer,
  onRevision: (rev) => {
    revisions++;
    valueBytes += rev.valueSize;
    if (rev.key.length > maxKeyLength) maxKeyLength = rev.key.length;
  },
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const maxRssMB = process.resourceUsage().maxRSS / 1024;

const result = {
  file: path,
  options: { computeHash, collectKeys, verifyTrailer },
  fileBytes: summary.file.fileSize,
  revisions,
  distinctKeys: summary.keyBucket.distinctKeys,
  valueBytes,
  seconds: Number(seconds.toFixed(3)),
  revisionsPerSecond: Math.round(revisions / seconds),
  /** CPU time of this process: the machine is shared, so wall time includes other work. */
  cpuSeconds: Number(cpuSeconds.toFixed(3)),
  revisionsPerCpuSecond: Math.round(revisions / cpuSeconds),
  loadAverage1m: Number(loadavg()[0]?.toFixed(2)),
  megabytesPerSecond: Number((summary.file.fileSize / 1e6 / seconds).toFixed(1)),
  peakRssMB: Number(maxRssMB.toFixed(1)),
  snapshotStatus: summary.snapshotStatus,
  freePages: summary.pages.free,
  trailer: summary.file.trailer.kind === 'sha256' && summary.file.trailer.verified ? summary.file.trailer.matches : summary.file.trailer.kind,
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
