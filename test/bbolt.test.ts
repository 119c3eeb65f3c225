// The bbolt reader against REAL etcd 3.4 files: a live etcd on 127.0.0.1 receives a Patroni-shaped
// workload; its snapshots (`etcdctl snapshot save`) and its own member/snap/db are read by us and
// compared with (a) the puts we made and the events `etcdctl watch` saw, (b) `etcdctl snapshot
// status -w json` on the same file, which must agree exactly, before and after compact and defrag.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEtcdBackend, type EtcdBackendSummary, type EtcdRevision } from '../src/sources/bbolt/index.js';
import {
  ETCDCTL_BIN, etcdctl, grantLease, putTxnViaGateway, putViaGateway, startEtcd, type EtcdServer, type GatewayPut,
} from './helpers/etcd-server.js';

const PREFIX = '/service/pg_demo';
const MEMBERS = ['node1', 'node2', 'node3'].map((n) => `${PREFIX}/members/${n}`);
const STATUS = `${PREFIX}/status`;
const LEADER = `${PREFIX}/leader`;
const OPTIME = `${PREFIX}/optime/leader`;

interface SnapshotStatusJson {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

/** Truth kept by the test: acknowledged puts/deletes per key. */
class Truth {
  readonly puts = new Map<string, number>();
  readonly deletes = new Map<string, number>();
  add(key: string, map: Map<string, number> = this.puts): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

/** `etcdctl watch --rev=1 --prefix /service -w json` running beside the workload: every event it saw. */
class WatchRecorder {
  readonly events: { key: string; modRevision: number; delete: boolean }[] = [];
  private buffer = '';
  private readonly child: ChildProcessWithoutNullStreams;
  constructor(server: EtcdServer) {
    // --rev=1 replays history from the first revision: no race with puts made before the watch is up.
    this.child = spawn(ETCDCTL_BIN, ['--endpoints', server.endpoint, 'watch', '--rev=1', '--prefix', '/service', '-w', 'json']);
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => this.onData(chunk));
  }
  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      // {"Header":{…},"Events":[{"type":1,"kv":{"key":"<b64>","mod_revision":3002}}],…}
      const response = JSON.parse(line) as { Events?: { type?: number; kv: { key: string; mod_revision: number } }[] };
      for (const e of response.Events ?? []) {
        this.events.push({ key: Buffer.from(e.kv.key, 'base64').toString('utf8'), modRevision: e.kv.mod_revision, delete: e.type === 1 });
      }
    }
  }
  lastRevision(): number {
    return this.events.reduce((m, e) => Math.max(m, e.modRevision), 0);
  }
  async waitFor(revision: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (this.lastRevision() < revision && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(this.lastRevision() >= revision, `watch saw up to ${this.lastRevision()}, expected ${revision}`);
  }
  stop(): void {
    this.child.kill('SIGTERM');
  }
}

function memberJson(name: string, i: number): string {
  // ~200 bytes, shaped like Patroni's member key.
  return JSON.stringify({
    conn_url: `postgres://10.0.0.${name.slice(-1)}:5432/postgres`,
    api_url: `http://10.0.0.${name.slice(-1)}:8008/patroni`,
    state: 'running', role: name.endsWith('1') ? 'master' : 'replica', version: '3.0.2',
    xlog_location: 50331648 + i * 8192, timeline: 1,
  });
}

/** One Patroni HA-loop-ish round per i: member keys, every 3rd a status, every 10th a leader txn. */
function workload(from: number, to: number, lease: string): { single: GatewayPut[]; txns: GatewayPut[][] } {
  const single: GatewayPut[] = [];
  const txns: GatewayPut[][] = [];
  for (let i = from; i < to; i++) {
    for (const key of MEMBERS) single.push({ key, value: memberJson(key, i) });
    if (i % 3 === 0) single.push({ key: STATUS, value: JSON.stringify({ optime: 50331648 + i * 8192, slots: { node2: i, node3: i } }) });
    if (i % 10 === 0) {
      txns.push([
        { key: LEADER, value: 'node1', lease },
        { key: OPTIME, value: String(50331648 + i * 8192) },
      ]);
    }
  }
  return { single, txns };
}

async function runWorkload(server: EtcdServer, truth: Truth, from: number, to: number, lease: string): Promise<void> {
  const { single, txns } = workload(from, to, lease);
  await putViaGateway(server, single, 16);
  for (const put of single) truth.add(put.key);
  for (const txn of txns) {
    await putTxnViaGateway(server, txn);
    for (const put of txn) truth.add(put.key);
  }
}

function snapshotStatus(path: string): SnapshotStatusJson {
  return JSON.parse(etcdctl({ endpoint: 'http://127.0.0.1:1' }, ['snapshot', 'status', '-w', 'json', path])) as SnapshotStatusJson;
}

interface Read {
  summary: EtcdBackendSummary;
  revisions: EtcdRevision[];
}

function read(path: string): Read {
  const revisions: EtcdRevision[] = [];
  // Copy the fields: rev.value is a view into a page buffer that is only valid during the call.
  const summary = readEtcdBackend(path, { onRevision: (rev) => revisions.push({ ...rev, value: Buffer.from(rev.value) }) });
  return { summary, revisions };
}

/** Our figures must equal what etcdctl computes from the same file, byte for byte. */
function assertMatchesEtcdctl(path: string, summary: EtcdBackendSummary): void {
  const theirs = snapshotStatus(path);
  assert.deepEqual(summary.snapshotStatus, theirs, `snapshot status of ${path}`);
  assert.equal(summary.dbSize, theirs.totalSize);
  assert.equal(summary.dbSizeInUse, summary.dbSize - summary.pages.free * summary.file.pageSize);
  assert.equal(summary.issueCount, 0, JSON.stringify(summary.issues));
  const bucketEntries = summary.buckets.reduce((n, b) => n + b.entries, 0);
  assert.equal(bucketEntries, theirs.totalKey, 'TOTAL KEYS counts every entry of every bucket');
  // Every page in [2, pgid) is either reached from a bucket (or the root tree) or free.
  const { pages } = summary;
  assert.equal(pages.meta + pages.rootTree + pages.bucketPages + pages.freelistPages + pages.free, pages.highWater);
}

/** One line per file for the TAP output: what the file held. */
function figures(name: string, s: EtcdBackendSummary): string {
  const b = (n: string): string => {
    const x = s.buckets.find((bucket) => bucket.name === n);
    return x ? `${n}=${x.entries}${x.inline ? '(inline)' : `(${x.branchPages}b+${x.leafPages}l)`}` : `${n}=absent`;
  };
  return `${name}: status=${JSON.stringify(s.snapshotStatus)} pgid=${s.pages.highWater} free=${s.pages.free} ` +
    `inUse=${s.dbSizeInUse} revisions=${s.keyBucket.revisions} tombstones=${s.keyBucket.tombstones} ` +
    `buckets: ${s.buckets.map((x) => b(x.name)).join(' ')}`;
}

function assertSavedSnapshotTrailer(summary: EtcdBackendSummary): void {
  const trailer = summary.file.trailer;
  assert.equal(trailer.kind, 'sha256');
  assert.ok(trailer.kind === 'sha256' && trailer.verified && trailer.matches, 'sha256 trailer verifies');
  assert.equal(summary.file.fileSize, summary.dbSize + 32);
}

function countsByKey(revisions: readonly EtcdRevision[], tombstone: boolean): Map<string, number> {
  const counts = new Map<string, number>();
  for (const rev of revisions) if (rev.tombstone === tombstone) counts.set(rev.key, (counts.get(rev.key) ?? 0) + 1);
  return counts;
}

describe('bbolt reader on real etcd 3.4 files', { timeout: 180_000 }, () => {
  let etcd: EtcdServer;
  let watch: WatchRecorder;
  let lease: string;
  let dir: string;
  const truth = new Truth();
  const snapshots: Record<string, Read> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bbolt-test-'));
    etcd = await startEtcd({ quotaBytes: 512 * 1024 * 1024 });
    watch = new WatchRecorder(etcd);
    lease = await grantLease(etcd, 600);
  });

  after(async () => {
    watch?.stop();
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function save(name: string): string {
    const path = join(dir, `${name}.db`);
    etcdctl(etcd, ['snapshot', 'save', path]);
    return path;
  }

  test('snapshot after ~1,400 puts: per-key revisions equal our puts and the watch; status equals etcdctl', async (t) => {
    await runWorkload(etcd, truth, 0, 300, lease);
    const path = save('s1');
    const s1 = (snapshots['s1'] = read(path));
    t.diagnostic(figures('s1', s1.summary));
    assertMatchesEtcdctl(path, s1.summary);
    assertSavedSnapshotTrailer(s1.summary);
    await watch.waitFor(s1.summary.snapshotStatus.revision);
    assert.deepEqual(countsByKey(s1.revisions, false), truth.puts);
    const watched = watch.events.filter((e) => e.modRevision <= s1.summary.snapshotStatus.revision);
    assert.deepEqual(
      s1.revisions.map((r) => `${r.key}@${r.main}`).sort(),
      watched.map((e) => `${e.key}@${e.modRevision}`).sort(),
      'the key bucket holds exactly the revisions the watch delivered',
    );
    const aggregates = new Map(s1.summary.keys.map((k) => [k.key, k]));
    for (const [key, n] of truth.puts) {
      const agg = aggregates.get(key);
      assert.ok(agg, key);
      assert.equal(agg.revisions, n, key);
      assert.equal(agg.version, n, `${key}: version counts puts since creation`);
    }
    assert.equal(aggregates.get(LEADER)?.lease, lease, 'leader key carries the lease');
    assert.deepEqual(s1.summary.leases.map((l) => [l.id, l.ttl]), [[lease, 600]]);
    // A txn is one revision with sub-revisions 0 and 1, in request order.
    const leaderRows = s1.revisions.filter((r) => r.key === LEADER);
    for (const row of leaderRows) {
      const optime = s1.revisions.find((r) => r.main === row.main && r.key === OPTIME);
      assert.equal(row.sub, 0);
      assert.equal(optime?.sub, 1);
    }
    assert.equal(s1.summary.file.byteOrder, 'little-endian');
    assert.equal(s1.summary.file.freelistPgid, null, 'etcd on Linux does not persist the freelist');
  });

  test('members, cluster version, meta and inline buckets are read', (t) => {
    const s1 = snapshots['s1'];
    assert.ok(s1);
    // `member list` simple format: 8e9e05c52164694d, started, test, http://…, http://…, false
    const [id, , name, peer, client, learner] = etcdctl(etcd, ['member', 'list']).trim().split(', ');
    assert.deepEqual(
      s1.summary.members.map((m) => [m.id, m.name, m.peerUrls.join(','), m.clientUrls.join(','), String(m.isLearner)]),
      [[id, name, peer, client, learner]],
    );
    assert.equal(s1.summary.clusterVersion, '3.4.0');
    assert.ok(Number(s1.summary.meta.consistentIndex) > 0);
    assert.equal(s1.summary.meta.finishedCompactRev, null, 'no compaction yet');
    const key = s1.summary.buckets.find((b) => b.name === 'key');
    assert.equal(key?.inline, false);
    assert.ok((key?.leafPages ?? 0) > 10);
    for (const name of ['alarm', 'cluster', 'members', 'meta', 'lease']) {
      assert.equal(s1.summary.buckets.find((b) => b.name === name)?.inline, true, `${name} is inline in a small db`);
    }
  });

  test('bigger snapshot with deletes and re-creates: tombstones and versions', async (t) => {
    await runWorkload(etcd, truth, 300, 700, lease);
    etcdctl(etcd, ['del', MEMBERS[2] ?? '']);
    truth.add(MEMBERS[2] ?? '', truth.deletes);
    await putViaGateway(etcd, [{ key: MEMBERS[2] ?? '', value: memberJson('node3', 0) }], 1);
    truth.add(MEMBERS[2] ?? '');
    const path = save('s2');
    const s2 = (snapshots['s2'] = read(path));
    t.diagnostic(figures('s2', s2.summary));
    assertMatchesEtcdctl(path, s2.summary);
    assert.ok(s2.summary.dbSize > (snapshots['s1']?.summary.dbSize ?? 0));
    assert.deepEqual(countsByKey(s2.revisions, false), truth.puts);
    assert.deepEqual(countsByKey(s2.revisions, true), truth.deletes);
    const node3 = s2.summary.keys.find((k) => k.key === MEMBERS[2]);
    assert.equal(node3?.tombstones, 1);
    assert.equal(node3?.version, 1, 're-created key starts again at version 1');
    assert.equal(node3?.deleted, false);
    const tomb = s2.revisions.find((r) => r.tombstone);
    assert.equal(tomb?.version, 0);
    assert.equal(tomb?.valueSize, 0);
    assert.equal(s2.summary.keyBucket.revisions, s2.revisions.length);
  });

  test('after compact: one revision per live key, free pages counted, status still equals etcdctl', (t) => {
    const rev = snapshots['s2']?.summary.snapshotStatus.revision ?? 0;
    etcdctl(etcd, ['compact', '--physical', String(rev)]);
    const path = save('s3');
    const s3 = (snapshots['s3'] = read(path));
    t.diagnostic(figures('s3', s3.summary));
    assertMatchesEtcdctl(path, s3.summary);
    const live = etcdctl(etcd, ['get', '/', '--prefix', '--keys-only']).split('\n').filter((l) => l !== '');
    assert.equal(s3.summary.keyBucket.revisions, live.length);
    assert.equal(s3.summary.keyBucket.tombstones, 0);
    assert.deepEqual(s3.summary.keys.map((k) => k.key), [...live].sort());
    for (const k of s3.summary.keys) assert.equal(k.revisions, 1, k.key);
    assert.equal(s3.summary.keys.find((k) => k.key === MEMBERS[0])?.version, truth.puts.get(MEMBERS[0] ?? ''));
    assert.equal(s3.summary.meta.finishedCompactRev, rev);
    assert.equal(s3.summary.meta.scheduledCompactRev, rev);
    const before = snapshots['s2']?.summary;
    assert.ok(before);
    assert.ok(s3.summary.pages.free > before.pages.free + 10, `free pages ${s3.summary.pages.free} > ${before.pages.free}`);
    assert.ok(s3.summary.dbSizeInUse < s3.summary.dbSize / 2, 'compaction leaves most of the file free');
  });

  test('after defrag: almost no free pages, smaller file, same logical content', (t) => {
    etcdctl(etcd, ['defrag']);
    const path = save('s4');
    const s4 = (snapshots['s4'] = read(path));
    t.diagnostic(figures('s4', s4.summary));
    assertMatchesEtcdctl(path, s4.summary);
    const s3 = snapshots['s3']?.summary;
    assert.ok(s3);
    assert.ok(s4.summary.dbSize < s3.dbSize / 2, `${s4.summary.dbSize} < ${s3.dbSize}/2`);
    assert.ok(s4.summary.pages.free <= 5, `free pages after defrag: ${s4.summary.pages.free}`);
    assert.equal(s4.summary.snapshotStatus.hash, s3.snapshotStatus.hash, 'defrag rewrites pages, not content');
    assert.deepEqual(
      s4.summary.keys.map((k) => [k.key, k.version, k.createRevision]),
      s3.keys.map((k) => [k.key, k.version, k.createRevision]),
    );
  });

  test('the live member/snap/db can be read while etcd runs (read-only, no lock taken)', (t) => {
    const live = read(join(etcd.dataDir, 'member', 'snap', 'db'));
    assert.equal(live.summary.issueCount, 0);
    assert.deepEqual(live.summary.file.trailer, { kind: 'none' });
    assert.equal(live.summary.keyBucket.revisions, snapshots['s4']?.summary.keyBucket.revisions);
  });

  test("the member's own member/snap/db (no trailer), at rest, equals etcdctl snapshot status", async (t) => {
    await runWorkload(etcd, truth, 700, 760, lease);
    await etcd.stopProcess();
    const path = join(etcd.dataDir, 'member', 'snap', 'db');
    const member = read(path);
    t.diagnostic(figures('member db', member.summary));
    assertMatchesEtcdctl(path, member.summary);
    assert.deepEqual(member.summary.file.trailer, { kind: 'none' });
    assert.equal(member.summary.file.fileSize, member.summary.dbSize);
    // The live db keeps pages freed since the defrag (old tree versions) as free pages.
    assert.ok(member.summary.pages.free > 0);
  });
});

// The bench's 200 MB+ snapshot is checked against etcdctl by bench/bbolt-read.ts (bench/RESULTS-bbolt.md),
// not here: tests never skip, and CI has no big snapshot.
