// The runbook's choices on real captures (issue 12): which endpoints, which leader, which timeout, and
// no commands for data that mixes clusters. The commands themselves are run against a real cluster in
// test/runbook-e2e.test.ts; here the inputs are the real etcd 3.4.23 / 3.5.16 fixtures (test/fixtures/etcd-3.4,
// etcd-3.5.16: printed by real etcd/etcdctl, see their READMEs), ingested by the BUILT CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, runCli, tempDir } from './helpers/cli.js';
import { openStore } from '../src/store/open.js';
import { loadEvidence, type Loaded, type StatusRow } from '../src/analyze/load.js';
import { findIncident } from '../src/analyze/incident.js';
import { compactTimeoutSeconds, defragTimeoutSeconds, isPlausibleEndpoint, runbook } from '../src/analyze/runbook.js';

const F34 = join(FIXTURES, 'etcd-3.4');
const F35 = join(FIXTURES, 'etcd-3.5.16');

function ingest(db: string, at: string, files: string[]): void {
  const r = runCli(['ingest', '--db', db, '--at', at, ...files]);
  assert.equal(r.code, 0, r.stderr);
}

function load(db: string): Loaded {
  const store = openStore(db, { readonly: true });
  try {
    return loadEvidence(store, null);
  } finally {
    store.close();
  }
}

const endpointsOf = (commands: string[]): string[] =>
  [...new Set(commands.flatMap((c) => /--endpoints=(\S+)/.exec(c)?.[1]?.split(',') ?? []))].sort();

test('3.5.16: size samples from etcd\'s own log name a member, not an endpoint, and never reach --endpoints', () => {
  const { dir, cleanup } = tempDir('ef-runbook-');
  try {
    const db = join(dir, 's.db');
    ingest(db, '2026-11-30T09:21:56+08:00', [join(F35, 'etcd1.log'), join(F35, 'etcd2.log'), join(F35, 'endpoint-status.json.txt')]);
    const d = load(db);
    assert.ok(d.status.some((s) => s.format === 'log'), 'the 3.5.16 logs give size samples (finished defragmenting directory / compaction)');
    const r = runbook(d, findIncident(d));
    assert.deepEqual(endpointsOf(r.commands), ['http://127.0.0.1:35727', 'http://127.0.0.1:36621']);
    // The JSON header names be19834c1e36f013 (35727) as the leader: its defrag is the last.
    const defrags = r.commands.filter((c) => / defrag(\s|$)/.test(c));
    assert.equal(defrags.length, 2);
    assert.match(defrags[1]!, /^etcdctl --endpoints=http:\/\/127\.0\.0\.1:35727 --command-timeout=\d+s defrag$/);
    assert.match(r.rationale, /http:\/\/127\.0\.0\.1:35727 \([^)]*, the leader\)/);
    // No trailing `# comment`: a wrapped terminal view would carry its words onto a line bash runs.
    for (const c of r.commands) assert.ok(!/\s#/.test(c), c);
    // 262 kB at the slowest defrag etcd logged in these files.
    assert.match(r.rationale, /the slowest defrag in etcd's own log \(.*etcd[12]\.log:\d+\)/);
  } finally {
    cleanup();
  }
});

test('3.5.16: without is_leader in the status, the leader comes from the newest raft leader line the logs hold', () => {
  const { dir, cleanup } = tempDir('ef-runbook-');
  try {
    const db = join(dir, 's.db');
    ingest(db, '2026-11-30T09:21:56+08:00', [join(F35, 'etcd1.log'), join(F35, 'etcd2.log'), join(F35, 'endpoint-status.json.txt')]);
    const d = load(db);
    // DERIVED: the same real samples with is_leader removed, as an output without the leader column would give.
    const blind: Loaded = { ...d, status: d.status.map((s): StatusRow => ({ ...s, is_leader: null })) };
    const r = runbook(blind, findIncident(blind));
    // etcd1.log / etcd2.log end with `raft.node: … elected leader b696592df6916a0c at term 3` (09:22:15, after a restart):
    // member b696592df6916a0c is http://127.0.0.1:36621 in the status JSON.
    const defrags = r.commands.filter((c) => / defrag(\s|$)/.test(c));
    assert.match(defrags[1]!, /^etcdctl --endpoints=http:\/\/127\.0\.0\.1:36621 --command-timeout=\d+s defrag$/);
    assert.match(r.rationale, /http:\/\/127\.0\.0\.1:36621 \([^)]*, the leader\)/);
    assert.match(r.rationale, /leader from the etcd log \(.*etcd[12]\.log:\d+\)/);
  } finally {
    cleanup();
  }
});

test('two clusters\' status samples given at once: no commands, and the rationale says why', () => {
  const { dir, cleanup } = tempDir('ef-runbook-');
  try {
    const db = join(dir, 's.db');
    ingest(db, '2026-11-24T07:28:58+08:00', [join(F34, 'endpoint-status.json.txt')]);
    ingest(db, '2026-11-30T09:21:56+08:00', [join(F35, 'endpoint-status.json.txt')]);
    const d = load(db);
    // The cluster id each sample's JSON header carries, read from the store (StatusRow may not select it).
    const store = openStore(db, { readonly: true });
    const ids = store.prepare('SELECT endpoint, cluster_id FROM status_samples ORDER BY id').all() as { endpoint: string; cluster_id: string }[];
    store.close();
    const tagged: (StatusRow & { cluster_id: string })[] = d.status.map((s) => ({ ...s, cluster_id: ids.find((x) => x.endpoint === s.endpoint)!.cluster_id }));
    const withIds: Loaded = { ...d, status: tagged };
    const distinct = [...new Set(ids.map((x) => x.cluster_id))].sort();
    assert.equal(distinct.length, 2, `two real clusters: ${distinct.join(' ')}`);

    const mixed = runbook(withIds, findIncident(withIds));
    assert.deepEqual(mixed.commands, []);
    for (const id of distinct) assert.ok(mixed.rationale.includes(id), mixed.rationale);
    // One cluster's samples alone: a runbook over that cluster's endpoints only.
    const one = distinct[0]!;
    const alone: Loaded = { ...withIds, status: tagged.filter((s) => s.cluster_id === one) };
    const r = runbook(alone, findIncident(alone));
    const expected = ids.filter((x) => x.cluster_id === one).map((x) => x.endpoint);
    assert.ok(r.commands.length > 0);
    assert.deepEqual(endpointsOf(r.commands), [...new Set(expected)].sort());
  } finally {
    cleanup();
  }
});

test('timeouts: defrag 30 s plus twice the size at the rate, compact 30 s plus 40 µs a revision; etcdctl\'s 5 s default would not do for 2 GB', () => {
  assert.equal(defragTimeoutSeconds(0, 10 * 1024 * 1024), 30);
  assert.equal(defragTimeoutSeconds(2 * 1024 ** 3, 10 * 1024 * 1024), 30 + 410);
  // Compaction: 1000 revisions per batch and a 10 ms pause between batches; 40 µs a revision.
  assert.equal(compactTimeoutSeconds(63_000), 30 + 3);
  assert.equal(compactTimeoutSeconds(7_000_000), 30 + 280);
  assert.ok(isPlausibleEndpoint('etcd1'), 'a bare member name looks like a host: the log samples must be kept out by format');
});
