// Fills a real etcd (started with the test helper on 127.0.0.1, data dir on tmpfs) with a
// Patroni-shaped history until its backend reaches a target size, then saves a snapshot with
// `etcdctl snapshot save`. Used by bench/make-big-snapshot.sh; the snapshot is not committed.
//
//   node --import tsx bench/bbolt-fill.ts <out.db> [targetMB=220] [maxSeconds=600]
//
// Writes go through the v3 JSON gateway as txns of 128 puts of distinct keys (one revision, sub
// revisions 0..127): 3,000 clusters × 3 members + status, values 180–420 bytes of member JSON.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { etcdctl, gateway, startEtcd } from '../test/helpers/etcd-server.js';

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: bbolt-fill.ts <out.db> [targetMB] [maxSeconds]\n');
  process.exit(2);
}
const targetBytes = Number(process.argv[3] ?? '220') * 1e6;
const maxMs = Number(process.argv[4] ?? '600') * 1000;
const OPS_PER_TXN = 128;
const CONCURRENCY = 8;
const CLUSTERS = 3000;

const etcd = await startEtcd({ quotaBytes: 8 * 1024 * 1024 * 1024, extraArgs: ['--max-txn-ops', String(OPS_PER_TXN)] });
const dbPath = join(etcd.dataDir, 'member', 'snap', 'db');
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function keyAt(n: number): string {
  const cluster = Math.floor(n / 4) % CLUSTERS;
  const slot = n % 4;
  return slot === 3 ? `/service/pg_${cluster}/status` : `/service/pg_${cluster}/members/node${slot + 1}`;
}

function valueFor(key: string, n: number): string {
  const pad = 'x'.repeat((n * 7919) % 240); // 180–420 bytes in all
  return JSON.stringify({ conn_url: 'postgres://10.0.0.1:5432/postgres', api_url: 'http://10.0.0.1:8008/patroni',
    state: 'running', role: key.endsWith('node1') ? 'master' : 'replica', xlog_location: 50331648 + n * 8192, timeline: 1, pad });
}

let next = 0;
let rows = 0;
let size = statSync(dbPath).size;
const started = Date.now();
async function worker(): Promise<void> {
  while (size < targetBytes && Date.now() - started < maxMs) {
    const first = next;
    next += OPS_PER_TXN;
    const success = Array.from({ length: OPS_PER_TXN }, (_, i) => {
      const key = keyAt(first + i);
      return { request_put: { key: b64(key), value: b64(valueFor(key, first + i)) } };
    });
    await gateway(etcd, 'kv/txn', { success });
    rows += OPS_PER_TXN;
  }
}
const progress = setInterval(() => {
  size = statSync(dbPath).size;
  process.stderr.write(`\r${(size / 1e6).toFixed(0)} MB, ${rows} rows, ${((Date.now() - started) / 1000).toFixed(0)} s   `);
}, 1000);
try {
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  clearInterval(progress);
  process.stderr.write(`\nfilled: ${rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s; saving snapshot\n`);
  process.stdout.write(etcdctl(etcd, ['snapshot', 'save', out]));
  process.stdout.write(etcdctl(etcd, ['snapshot', 'status', '-w', 'table', out]));
} finally {
  clearInterval(progress);
  await etcd.stop();
}
