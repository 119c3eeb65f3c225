// Decodes a real 64 MB WAL segment (a 3.4.23 member filled by `bash scripts/capture/data-dirs.sh bench DIR`:
// 4 writers, 1-4 KB values, until etcd cut a second segment) and reports MB/s. Not a timed test: run by hand.
//
//   bash scripts/capture/data-dirs.sh bench /tmp/wal-bench
//   node --import tsx bench/wal-bench.ts [/tmp/wal-bench/0000000000000000-0000000000000000.wal] [--repeat=N]
//
// Each run is the whole read: framing, the CRC-32C chain over every record, raftpb.Entry and the
// InternalRaftRequest of every entry (keys decoded to strings), HardState and snapshot markers.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { readWal } from '../src/sources/wal/index.js';

const args = process.argv.slice(2);
const path = args.find((a) => !a.startsWith('--')) ?? '/tmp/wal-bench/0000000000000000-0000000000000000.wal';
const repeat = Number(args.find((a) => a.startsWith('--repeat='))?.slice(9) ?? '7');
const bytes = readFileSync(path);
const results: number[] = [];
const cpuResults: number[] = [];
let summary = '';
for (let i = 0; i < repeat; i++) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const w = readWal([{ name: '0000000000000000-0000000000000000.wal', bytes }]);
  const c1 = process.cpuUsage(c0);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  results.push(ms);
  cpuResults.push((c1.user + c1.system) / 1000);
  const puts = w.entries.reduce((n, e) => n + e.ops.filter((o) => o.kind === 'put').length, 0);
  summary = `${w.records} records, ${w.entries.length} entries (${puts} puts), valid bytes ${w.segments[0]!.end} of ${bytes.length}, damage ${w.damage ? `${w.damage.offset}: ${w.damage.reason}` : 'none'}`;
}
// On a shared machine the wall time includes waiting for a CPU; the process's CPU time does not (it still
// includes cache and SMT contention): both are printed.
const sorted = [...results].sort((a, b) => a - b);
const cpuSorted = [...cpuResults].sort((a, b) => a - b);
const cpuMedian = cpuSorted[Math.floor(cpuSorted.length / 2)]!;
const median = sorted[Math.floor(sorted.length / 2)]!;
const mb = bytes.length / 1e6;
process.stdout.write(`${path}: ${mb.toFixed(1)} MB; ${summary}\n`);
process.stdout.write(`runs (wall ms): ${results.map((r) => r.toFixed(0)).join(', ')}\n`);
process.stdout.write(`runs (CPU ms, user+system, includes GC threads): ${cpuResults.map((r) => r.toFixed(0)).join(', ')}\n`);
process.stdout.write(`wall: median ${median.toFixed(0)} ms = ${(mb / (median / 1000)).toFixed(0)} MB/s (best ${(mb / (sorted[0]! / 1000)).toFixed(0)} MB/s); ` +
  `CPU: median ${cpuMedian.toFixed(0)} ms = ${(mb / (cpuMedian / 1000)).toFixed(0)} MB/s; ` +
  `node ${process.version}, ${cpus().length}x ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
