// Issue 12: "The printed runbook, run by bash against a real 3-member etcd in NOSPACE, brings it back:
// alarm list empty, DB sizes down, a put succeeds." For etcd 3.4.23 and 3.5.16.
//
// A real 3-member cluster (test/helpers/etcd-cluster.ts, 16 MiB quota) is filled by a Patroni-shaped
// writer (/service/<scope>/leader once, members/node1..3 with leases and /status rewritten every cycle,
// spread over the three members) until every member refuses writes with NOSPACE. What an operator would
// hold is captured: each member's log, an `endpoint status --cluster -w json` sampled every second while
// it filled, and after it `endpoint status --cluster -w json` / `-w table` and `alarm list`, each file
// after a `date` line. The BUILT CLI ingests them and prints `recommend --json`; the runbook's commands
// (recommendations[id=runbook].commands, the JSON contract) are written to a script and run by
// `bash -euo pipefail` with that version's etcdctl first on PATH. Then, checked by our own etcdctl calls:
// `alarm list` is empty, every member's DB is smaller than before, and a put through every member succeeds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { runCli, tempDir } from './helpers/cli.js';
import { gateway, grantLease } from './helpers/etcd-server.js';
import { ETCD_VERSIONS, clusterEtcdctl, startEtcdCluster, type EtcdCluster, type EtcdVersion } from './helpers/etcd-cluster.js';
import type { AnalysisReport } from '../src/analyze/types.js';

const run = promisify(execFile);
const QUOTA = 16 * 1024 * 1024;
const b64 = (v: string): string => Buffer.from(v).toString('base64');

interface MemberStatus { endpoint: string; memberId: string; dbSize: number; leader: boolean; errors: string[] }

/** `endpoint status --cluster -w json` (3.4 and 3.5: ids are JSON numbers past 2^53, read as text). */
function parseStatus(json: string): MemberStatus[] {
  const rows = JSON.parse(json.replace(/"(member_id|cluster_id|leader)":(\d+)/g, '"$1":"$2"')) as {
    Endpoint: string; Status: { header: { member_id: string }; dbSize: number; leader: string; errors?: string[] };
  }[];
  return rows.map((r) => ({
    endpoint: r.Endpoint, memberId: r.Status.header.member_id, dbSize: r.Status.dbSize,
    leader: r.Status.header.member_id === r.Status.leader, errors: r.Status.errors ?? [],
  }));
}

function status(cluster: EtcdCluster): MemberStatus[] {
  const r = clusterEtcdctl(cluster, 'all', ['endpoint', 'status', '--cluster', '-w', 'json']);
  assert.equal(r.status, 0, r.stderr);
  return parseStatus(r.stdout);
}

/** Patroni-shaped puts spread over every member until each member refuses writes with NOSPACE. */
async function fillUntilNospace(cluster: EtcdCluster, scope: string): Promise<{ puts: number }> {
  const base = `/service/${scope}`;
  const first = cluster.members[0]!;
  const leases = await Promise.all([1, 2, 3].map(() => grantLease(first, 600)));
  await gateway(first, 'kv/put', { key: b64(`${base}/leader`), value: b64('node1'), lease: leases[0] });
  const refused = new Set<string>();
  let puts = 0;
  let lsn = 67108960;
  const deadline = Date.now() + 480_000;
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; refused.size < cluster.members.length; i++) {
      if (Date.now() > deadline) throw new Error(`no NOSPACE after ${puts} puts`);
      const member = cluster.members[(w + i) % cluster.members.length]!;
      const n = (i % 3) + 1;
      lsn += 4096;
      const put = i % 4 === 3
        ? { key: b64(`${base}/status`), value: b64(JSON.stringify({ optime: lsn })) }
        : {
          key: b64(`${base}/members/node${n}`),
          value: b64(JSON.stringify({
            conn_url: `postgres://127.0.0.1:${5432 + n}/postgres`, api_url: `http://127.0.0.1:${8008 + n}/patroni`,
            state: 'running', role: n === 1 ? 'master' : 'replica', version: '3.0.2', xlog_location: lsn, timeline: 1,
          })),
          lease: leases[n - 1],
        };
      try {
        await gateway(member, 'kv/put', put);
        puts++;
      } catch (error) {
        const text = String(error);
        if (text.includes('database space exceeded')) refused.add(member.endpoint);
        // A starved 2-core machine can cost the cluster its leader for a moment; the put is simply not counted.
        else if (/leader changed|no leader|request timed out|too many requests/.test(text)) await new Promise((r) => setTimeout(r, 50));
        else throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
  return { puts };
}

/** Go's time.Duration text as zap writes it: `122.664196ms`, `1.5s`, `850µs`. */
function goDurationMs(text: string): number {
  const m = /^([\d.]+)(ns|µs|us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  const unit = { ns: 1e-6, µs: 1e-3, us: 1e-3, ms: 1, s: 1000, m: 60_000 }[m[2] as 'ns'];
  return Number(m[1]) * unit;
}

/** Read straight from the members' zap logs: 3.4 `defragmented`, 3.5 `finished defragmenting directory`. */
function slowestDefrag(logs: string[]): { bytesPerS: number; lines: number } {
  let slowest = Infinity;
  let lines = 0;
  for (const line of logs.join('\n').split('\n')) {
    if (!line.includes('"msg":"defragmented"') && !line.includes('"msg":"finished defragmenting directory"')) continue;
    const f = JSON.parse(line) as Record<string, unknown>;
    const before = Number(f['current-db-size-bytes']) - Number(f['current-db-size-bytes-diff']);
    slowest = Math.min(slowest, before / (goDurationMs(String(f['took'])) / 1000));
    lines++;
  }
  return { bytesPerS: slowest, lines };
}

/** An operator's loop: a `date` line, then `endpoint status --cluster -w json`, every second. */
function startSampler(cluster: EtcdCluster, file: string): { stop: () => Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = new Date().toISOString();
      const r = await run(cluster.version.etcdctl, [`--endpoints=${cluster.endpoints}`, 'endpoint', 'status', '--cluster', '-w', 'json'],
        { env: { ...process.env, ETCDCTL_API: '3' } }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
      appendFileSync(file, `${at}\n${r.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  return { stop: async () => { stopped = true; await loop; } };
}

/** What an operator pastes: a `date` line, then the command's output. */
function capture(cluster: EtcdCluster, file: string, args: string[]): string {
  const r = clusterEtcdctl(cluster, 'all', args);
  assert.equal(r.status, 0, r.stderr);
  writeFileSync(file, `${new Date().toISOString()}\n${r.stdout}`);
  return r.stdout;
}

async function runbookBringsItBack(version: EtcdVersion, t: { diagnostic: (m: string) => void }): Promise<void> {
  const { dir, cleanup } = tempDir(`ef-runbook-${version.version}-`);
  const cluster = await startEtcdCluster({ version, quotaBytes: QUOTA });
  try {
    const sampler = startSampler(cluster, join(dir, 'status-samples.log'));
    let filled: { puts: number };
    try {
      filled = await fillUntilNospace(cluster, 'pg_runbook');
    } finally {
      await sampler.stop();
    }
    const before = status(cluster);
    assert.equal(before.length, 3);
    for (const m of before) assert.ok(m.errors.some((e) => e.includes('NOSPACE')), `${m.endpoint} holds NOSPACE: ${m.errors.join(' ')}`);
    const put = clusterEtcdctl(cluster, cluster.members[0]!, ['put', '/probe', 'x']);
    assert.notEqual(put.status, 0, 'a put is refused before the runbook');
    assert.match(put.stderr, /database space exceeded/);

    // What the operator holds: the member logs and the outputs, each after a `date` line.
    for (const m of cluster.members) copyFileSync(m.logFile, join(dir, `${m.name}.log`));
    const captured = parseStatus(capture(cluster, join(dir, 'endpoint-status.json.txt'), ['endpoint', 'status', '--cluster', '-w', 'json']));
    capture(cluster, join(dir, 'endpoint-status.table.txt'), ['endpoint', 'status', '--cluster', '-w', 'table']);
    const alarms = capture(cluster, join(dir, 'alarm-list.txt'), ['alarm', 'list']);
    assert.match(alarms, /alarm:NOSPACE/);
    const inputs = readdirSync(dir).filter((f) => f.endsWith('.log') || f.endsWith('.txt')).sort().map((f) => join(dir, f));
    const db = join(dir, 'forensics.db');
    const ing = runCli(['ingest', '--db', db, ...inputs]);
    assert.equal(ing.code, 0, ing.stderr);
    const rec = runCli(['recommend', '--json', '--db', db]);
    assert.equal(rec.code, 0, rec.stderr);
    const report = JSON.parse(rec.stdout) as AnalysisReport;
    const runbook = report.recommendations.find((r) => r.id === 'runbook');
    assert.ok(runbook, 'a runbook recommendation');
    const commands = runbook.commands;
    t.diagnostic(`etcd ${version.version}: ${filled.puts} puts to NOSPACE; runbook:\n${commands.join('\n')}`);

    // The shape an SRE relies on, checked against the real cluster.
    const snapshot = commands.find((c) => / snapshot save /.test(c))!;
    assert.match(snapshot, /--endpoints=http:\/\/127\.0\.0\.1:\d+ snapshot save /, 'snapshot save against ONE endpoint');
    assert.match(commands.find((c) => / compact /.test(c))!, /^etcdctl --endpoints=http:\/\/127\.0\.0\.1:\d+ --command-timeout=\d+s compact --physical "\$REV"/);
    const defrags = commands.filter((c) => / defrag(\s|$)/.test(c));
    assert.equal(defrags.length, 3, 'one defrag per member');
    const defragged = defrags.map((c) => /--endpoints=(\S+)/.exec(c)![1]);
    assert.deepEqual([...defragged].sort(), before.map((m) => m.endpoint).sort(), 'each member by its own endpoint');
    for (const c of defrags) assert.match(c, /--command-timeout=\d+s /, c);
    const leader = captured.find((m) => m.leader)!;
    assert.equal(defragged[2], leader.endpoint, 'the leader (as the captured status JSON names it) last');

    const script = join(dir, 'runbook.sh');
    writeFileSync(script, `${commands.join('\n')}\n`);
    const r = spawnSync('bash', ['-euo', 'pipefail', script], {
      cwd: dir, encoding: 'utf8', timeout: 300_000,
      env: { PATH: `${dirname(version.etcdctl)}:/usr/bin:/bin`, ETCDCTL_API: '3', HOME: dir },
    });
    assert.equal(r.status, 0, `the runbook ran to the end:\n${r.stdout}\n${r.stderr}`);
    const saved = readdirSync(dir).filter((f) => /^backup-before-recovery.*\.db$/.test(f));
    assert.equal(saved.length, 1, `one snapshot file: ${readdirSync(dir).join(' ')}`);
    assert.ok(statSync(join(dir, saved[0]!)).size > 1024 * 1024, 'the snapshot holds the data');

    const scratch = clusterEtcdctl(cluster, cluster.members[0]!, ['get', '--prefix', '/etcd-forensics/']);
    assert.equal(scratch.status, 0, scratch.stderr);
    assert.equal(scratch.stdout, '', 'the write check deleted its scratch key');
    const list = clusterEtcdctl(cluster, 'all', ['alarm', 'list']);
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout.trim(), '', 'alarm list is empty');
    const after = status(cluster);
    for (const m of before) {
      const now = after.find((a) => a.endpoint === m.endpoint)!;
      assert.ok(now.dbSize < m.dbSize, `${m.endpoint}: DB ${now.dbSize} B < ${m.dbSize} B before`);
      assert.deepEqual(now.errors, [], `${m.endpoint}: no errors`);
    }
    for (const m of cluster.members) {
      const ok = clusterEtcdctl(cluster, m, ['put', '/service/pg_runbook/probe', m.name]);
      assert.equal(ok.status, 0, `a put through ${m.name} succeeds: ${ok.stderr}`);
      assert.equal(ok.stdout.trim(), 'OK');
    }
    // The members' logs now hold etcd's own defrag lines with their duration: the next runbook scales each
    // --command-timeout from the slowest of them (size before ÷ took, capped at 100 MiB/s), not from the default.
    const later = join(dir, 'after');
    mkdirSync(later);
    for (const m of cluster.members) copyFileSync(m.logFile, join(later, `${m.name}.log`));
    const rate = slowestDefrag(cluster.members.map((m) => readFileSync(m.logFile, 'utf8')));
    assert.equal(rate.lines, 3, 'etcd logged one finished defrag per member');
    const used = Math.min(rate.bytesPerS, 100 * 1024 * 1024);
    const db2 = join(dir, 'after.db');
    const ing2 = runCli(['ingest', '--db', db2, ...inputs.filter((f) => !f.endsWith('.log')), ...readdirSync(later).map((f) => join(later, f))]);
    assert.equal(ing2.code, 0, ing2.stderr);
    const again = (JSON.parse(runCli(['recommend', '--json', '--db', db2]).stdout) as AnalysisReport).recommendations.find((x) => x.id === 'runbook')!;
    assert.match(again.rationale, /the slowest defrag in etcd's own log \(.*etcd\d\.log:\d+\)/, again.rationale);
    const sizes = before.map((m) => m.dbSize);
    for (const c of again.commands.filter((x) => / defrag(\s|$)/.test(x))) {
      const timeout = Number(/--command-timeout=(\d+)s/.exec(c)![1]);
      // The size behind it is a member's latest status sample before the recovery (the table's "17 MB" or the JSON's bytes).
      assert.ok(timeout >= 30 + Math.floor((2 * Math.min(...sizes)) / used) && timeout <= 30 + Math.ceil((2 * Math.max(17_000_000, ...sizes)) / used), `${c} at ${used} B/s`);
    }
    t.diagnostic(`etcd ${version.version}: slowest defrag ${Math.round(rate.bytesPerS)} B/s over ${rate.lines} lines; next runbook: ` +
      again.commands.filter((x) => / defrag(\s|$)/.test(x)).join(' | '));
    t.diagnostic(`etcd ${version.version}: DB before ${before.map((m) => m.dbSize).join('/')} B, ` +
      `after ${after.map((m) => m.dbSize).join('/')} B`);
  } finally {
    await cluster.stop();
    // RUNBOOK_E2E_KEEP=1 keeps the captured files, the store and the script to inspect them.
    if (process.env['RUNBOOK_E2E_KEEP'] === undefined) cleanup();
    else t.diagnostic(`kept ${dir}`);
  }
}

describe('the printed runbook, run by bash against a real 3-member etcd in NOSPACE, brings it back', () => {
  for (const version of Object.values(ETCD_VERSIONS)) {
    test(`etcd ${version.version}`, { timeout: 10 * 60_000 }, async (t) => {
      await runbookBringsItBack(version, t);
    });
  }
});
