// A big REAL compacted-but-not-defragmented snapshot, the seed's situation (2.1 GB, TOTAL KEYS 23): a
// snapshot made by make-big-snapshot.sh is restored into a single etcd 3.4 on 127.0.0.1, compacted to
// its last revision (`etcdctl compact --physical`), and saved again. Compaction deletes the revision
// rows but not the pages: the file keeps its size and its free pages still hold the old revisions,
// which the carver reads (bench/RESULTS-carve.md). The file is NOT committed.
//
//   node --import tsx bench/make-compacted-snapshot.ts <in.db> <out.db>
import { statSync } from 'node:fs';
import { etcdctl, startEtcd } from '../test/helpers/etcd-server.js';

const [input, out] = process.argv.slice(2);
if (input === undefined || out === undefined) {
  process.stderr.write('usage: make-compacted-snapshot.ts <in.db> <out.db>\n');
  process.exit(2);
}
const t0 = Date.now();
const etcd = await startEtcd({ restoreFrom: input, quotaBytes: 8 * 1024 * 1024 * 1024, startTimeoutMs: 600_000 });
try {
  const status = JSON.parse(etcdctl(etcd, ['endpoint', 'status', '-w', 'json'])) as { Status: { header: { revision: number } } }[];
  const rev = status[0]!.Status.header.revision;
  process.stderr.write(`restored in ${((Date.now() - t0) / 1000).toFixed(1)} s, revision ${rev}; compacting\n`);
  process.stdout.write(etcdctl(etcd, ['compact', String(rev), '--physical', '--command-timeout=1800s']));
  process.stderr.write(`compacted at ${((Date.now() - t0) / 1000).toFixed(1)} s; saving\n`);
  process.stdout.write(etcdctl(etcd, ['snapshot', 'save', out, '--command-timeout=1800s']));
  process.stdout.write(etcdctl(etcd, ['snapshot', 'status', '-w', 'table', out]));
  process.stderr.write(`saved ${statSync(out).size} bytes at ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
} finally {
  await etcd.stop();
}
