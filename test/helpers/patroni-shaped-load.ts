// A Patroni-shaped write load against a real etcd through the v3 JSON gateway (the API Patroni's
// etcd3 DCS uses): every cycle, members/node1..3 (~190-byte JSON with a growing xlog_location, each
// with its node's lease) and the leader's status key; leader key once, with a lease. And a sampler
// that writes `date`-style marker lines followed by `etcdctl endpoint status -w json`, as an
// operator's loop would.
import { appendFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { ETCDCTL_BIN, gateway, grantLease, type EtcdServer } from './etcd-server.js';

const b64 = (v: string): string => Buffer.from(v).toString('base64');

export interface LoadStats {
  cycles: number;
  puts: number;
  failed: number;
}

export async function runPatroniShapedLoad(etcd: EtcdServer, opts: { scope: string; cycleMs: number; durationMs: number }): Promise<LoadStats> {
  const base = `/service/${opts.scope}`;
  const leases = await Promise.all([1, 2, 3].map(() => grantLease(etcd, 30)));
  await gateway(etcd, 'kv/put', { key: b64(`${base}/leader`), value: b64('node1'), lease: leases[0] });
  const stats: LoadStats = { cycles: 0, puts: 0, failed: 0 };
  const end = Date.now() + opts.durationMs;
  let lsn = 67108960;
  let lastKeepalive = Date.now();
  while (Date.now() < end) {
    const started = Date.now();
    lsn += 4096;
    const puts = [1, 2, 3].map((n) => ({
      key: `${base}/members/node${n}`,
      value: JSON.stringify({
        conn_url: `postgres://127.0.0.1:${5432 + n}/postgres`, api_url: `http://127.0.0.1:${8008 + n}/patroni`,
        state: 'running', role: n === 1 ? 'master' : 'replica', version: '3.0.2', xlog_location: lsn - (n - 1) * 128, timeline: 1,
      }),
      lease: leases[n - 1],
    }));
    puts.push({ key: `${base}/status`, value: JSON.stringify({ optime: lsn }), lease: undefined as unknown as string });
    const results = await Promise.allSettled(puts.map((p) =>
      gateway(etcd, 'kv/put', { key: b64(p.key), value: b64(p.value), ...(p.lease ? { lease: p.lease } : {}) })));
    stats.cycles++;
    for (const r of results) (r.status === 'fulfilled' ? stats.puts++ : stats.failed++);
    if (Date.now() - lastKeepalive > 5000) {
      lastKeepalive = Date.now();
      await Promise.allSettled(leases.map((id) => gateway(etcd, 'lease/keepalive', { ID: id })));
    }
    const wait = opts.cycleMs - (Date.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return stats;
}

/** Appends a marker line and `etcdctl endpoint status -w json` every `everyMs` until stopped. */
export function startStatusSampler(etcd: EtcdServer, file: string, everyMs: number): { stop: () => Promise<void>; maxDbSize: () => number } {
  let stopped = false;
  let maxDb = 0;
  const loop = (async () => {
    while (!stopped) {
      const out = spawnSync(ETCDCTL_BIN, ['--endpoints', etcd.endpoint, 'endpoint', 'status', '-w', 'json'], { encoding: 'utf8' });
      appendFileSync(file, `${new Date().toISOString()}\n${out.stdout}${out.stderr}`);
      const m = /"dbSize":(\d+)/.exec(out.stdout);
      if (m) maxDb = Math.max(maxDb, Number(m[1]));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
    maxDbSize: () => maxDb,
  };
}
