// Issue 15, must hold: `collect` against a real 3-member etcd 3.4.23 whose client port requires TLS client
// certificates (CA, server and client certificates made by openssl in the test); one member is stopped (SIGTERM
// to its PID) mid-collection: the other two members' readings continue and the outage is recorded as failed
// readings of that member, listed by the fleet report. Verification stays on: without --cacert every reading
// fails on the unknown CA (recorded, exit 0), and --insecure-skip-tls-verify without a client certificate is
// refused by etcd's --client-cert-auth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startEtcdTlsCluster, type EtcdTlsCluster } from './helpers/etcd-tls-cluster.js';
import { runCli, spawnCli, tempDir } from './helpers/cli.js';
import type { FleetReport } from '../src/analyze/fleet.js';

interface Reading { ts_ms: number; endpoint: string; db_size_bytes: number | null; revision: number | null; errors: string }

test('collect over TLS client certs: a member stopped mid-collection is an outage, the others go on', { timeout: 180_000 }, async () => {
  const tmp = tempDir('ef-collect-tls-');
  let cluster: EtcdTlsCluster | null = null;
  try {
    cluster = await startEtcdTlsCluster();
    const eps = cluster.members.map((m) => m.endpoint).join(',');
    const db = join(tmp.dir, 'collect.db');
    const child = spawnCli(['collect', '--db', db, '--endpoints', eps, '--cacert', cluster.tls.ca, '--cert', cluster.tls.cert, '--key', cluster.tls.key,
      '--interval', '500ms', '--duration', '16s', '--command-timeout', '2s']);
    let out = '';
    let errOut = '';
    child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { errOut += b.toString(); });
    const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await new Promise((r) => setTimeout(r, 6000));
    const victim = cluster.members[2]!;
    const stoppedAt = Date.now();
    await cluster.stopMember(victim);
    assert.equal(await exit, 0, errOut);
    assert.match(out, new RegExp(`${victim.endpoint.replace(/[.:/]/g, '\\$&')}: \\d+ failed readings`));

    const s = new Database(db, { readonly: true });
    let rows: Reading[];
    try {
      rows = s.prepare('SELECT ts_ms, endpoint, db_size_bytes, revision, errors FROM status_samples ORDER BY ts_ms, endpoint').all() as Reading[];
    } finally {
      s.close();
    }
    const after = rows.filter((r) => r.ts_ms > stoppedAt + 1000);
    for (const m of cluster.members.slice(0, 2)) {
      const mine = after.filter((r) => r.endpoint === m.endpoint);
      assert.ok(mine.length >= 10, `${m.name}: ${mine.length} readings after the stop`);
      assert.ok(mine.every((r) => r.db_size_bytes !== null && r.revision !== null && r.errors === '[]'), `${m.name} answered every poll`);
    }
    const down = after.filter((r) => r.endpoint === victim.endpoint);
    assert.ok(down.length >= 10, `${down.length} readings of the stopped member`);
    assert.ok(down.every((r) => r.db_size_bytes === null && /ECONNREFUSED|no answer/.test(r.errors)), down[0]?.errors);
    const before = rows.filter((r) => r.endpoint === victim.endpoint && r.ts_ms < stoppedAt);
    assert.ok(before.length >= 5 && before.every((r) => r.db_size_bytes !== null), 'the member answered over TLS before it was stopped');

    const fleet = JSON.parse(runCli(['report', '--fleet', '--format', 'json', '--db', db]).stdout) as FleetReport;
    assert.equal(fleet.clusters.length, 1);
    const outages = fleet.clusters[0]!.outages;
    assert.deepEqual(outages.map((o) => o.endpoint), [victim.endpoint]);
    assert.ok(Date.parse(outages[0]!.firstAt) >= stoppedAt - 1000 && outages[0]!.readings === down.length + rows.filter((r) => r.endpoint === victim.endpoint && r.db_size_bytes === null && r.ts_ms <= stoppedAt + 1000).length);

    // Verification on: no --cacert, the test CA is unknown. Recorded, not fatal.
    const db2 = join(tmp.dir, 'noca.db');
    const live = cluster.members.slice(0, 2).map((m) => m.endpoint).join(',');
    const noCa = runCli(['collect', '--db', db2, '--endpoints', live, '--cert', cluster.tls.cert, '--key', cluster.tls.key, '--once']);
    assert.equal(noCa.code, 0, noCa.stderr);
    assert.match(noCa.stdout, /2 failed readings|failed reading/);
    assert.match(noCa.stdout, /certificate|self.signed|CERT/i);
    // No client certificate: etcd (--client-cert-auth) refuses the handshake even when we skip verification.
    const noCert = runCli(['collect', '--db', db2, '--endpoints', live, '--insecure-skip-tls-verify', '--once']);
    assert.equal(noCert.code, 0, noCert.stderr);
    assert.match(noCert.stdout, /failed reading/);
    // The environment as etcdctl reads it.
    const env = runCli(['collect', '--db', db2, '--once'], { env: { ETCDCTL_ENDPOINTS: live, ETCDCTL_CACERT: cluster.tls.ca, ETCDCTL_CERT: cluster.tls.cert, ETCDCTL_KEY: cluster.tls.key } });
    assert.equal(env.code, 0, env.stderr);
    assert.match(env.stdout, /collected 1 poll of 2 endpoints: 2 readings\n$/);
    // A password on the command line is refused before anything is polled.
    const pw = runCli(['collect', '--db', db2, '--endpoints', live, '--user', 'root:secret', '--once']);
    assert.equal(pw.code, 2);
    assert.match(pw.stderr, /--user: give the name only/);
  } finally {
    await cluster?.stop();
    tmp.cleanup();
  }
});
