// Issue 16: WAL and raft snapshots of real etcd 3.4.23 and 3.5.16 members (test/fixtures/data-dir-*/, made by
// scripts/capture/data-dirs.sh), checked against the `etcdctl watch --rev=1` recording of the same run.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { openStore, type Db } from '../src/store/open.js';
import { ingestInput, type IngestOptions } from '../src/ingest/ingest-file.js';
import { readWal } from '../src/sources/wal/index.js';
import { replayWal, walMembers } from '../src/analyze/wal-replay.js';
import { analyzeWalWriters } from '../src/analyze/wal-writers.js';
import { growthBetween, listSnapshotPoints } from '../src/analyze/wal-growth.js';
import { groupOfKey } from '../src/analyze/keys.js';
import { grantLease, putViaGateway, startEtcd } from './helpers/etcd-server.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const OPTS: IngestOptions = { kind: null, tz: null, member: null, atMs: null, strict: false };

interface WatchEvent { revision: number; key: string; op: 'put' | 'delete' }

function watchTruth(dir: string): WatchEvent[] {
  const out: WatchEvent[] = [];
  for (const line of gunzipSync(readFileSync(join(dir, 'watch.jsonl.gz'))).toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { Events?: { type?: number; kv: { key: string; mod_revision: number } }[] | null };
    for (const e of r.Events ?? []) {
      out.push({ revision: e.kv.mod_revision, key: Buffer.from(e.kv.key, 'base64').toString('utf8'), op: e.type === 1 ? 'delete' : 'put' });
    }
  }
  return out;
}

/** The fixture's member dir in a temp dir, with member/snap/db gunzipped (the WAL stays as committed: cut or .gz). */
function dataDir(dir: string): string {
  const tmp = mkdtempSync(join(tmpdir(), 'wal-test-'));
  cpSync(join(dir, 'member'), join(tmp, 'member'), { recursive: true });
  writeFileSync(join(tmp, 'member/snap/db'), gunzipSync(readFileSync(join(tmp, 'member/snap/db.gz'))));
  rmSync(join(tmp, 'member/snap/db.gz'));
  return tmp;
}

async function ingestTree(db: Db, root: string): Promise<void> {
  for (const sub of ['member/snap', 'member/wal']) {
    for (const name of readdirSync(join(root, sub)).sort()) {
      const r = await ingestInput(db, join(root, sub, name), OPTS);
      assert.equal(r.status, 'ingested', `${name}: ${r.error ?? r.status}`);
    }
  }
}

function walSegment(dir: string): Buffer {
  const wal = join(dir, 'member/wal');
  const name = readdirSync(wal)[0]!;
  const raw = readFileSync(join(wal, name));
  return name.endsWith('.gz') ? gunzipSync(raw) : raw;
}

for (const version of ['3.4.23', '3.5.16']) {
  const dir = join(FIXTURES, `data-dir-${version}`);
  describe(`etcd ${version} data dir`, () => {
    test('per-key writes in the WAL window equal the watch truth, revision by revision', async () => {
      const root = dataDir(dir);
      const db = openStore(join(root, 'store.db'));
      try {
        await ingestTree(db, root);
        assert.equal((await ingestInput(db, join(dir, 'etcd.log'), OPTS)).status, 'ingested');
        const [member] = walMembers(db);
        assert.ok(member);
        const wal = [...replayWal(db, member)];
        const truth = watchTruth(dir);
        // The same revisions: the watch saw what was applied before the stop (a SIGKILLed member may have
        // logged entries the watch never received), the WAL what was logged.
        const last = Math.min(wal[wal.length - 1]!.revision!, truth[truth.length - 1]!.revision);
        const walSeq = wal.filter((w) => w.revision! <= last).map((w) => [w.revision, w.key, w.op]);
        const truthSeq = truth.filter((t) => t.revision <= last).map((t) => [t.revision, t.key, t.op]);
        assert.ok(truthSeq.length > 2000, `${truthSeq.length} events`);
        assert.deepEqual(walSeq, truthSeq);
        // Per key (the report's figures).
        const report = analyzeWalWriters(db, 1000);
        const perKey = new Map<string, number>();
        for (const t of truth) if (t.revision <= last) perKey.set(t.key, (perKey.get(t.key) ?? 0) + 1);
        for (const k of report.keys) {
          if (k.name.startsWith('/')) assert.ok(k.puts + k.deletes >= (perKey.get(k.name) ?? 0), k.name);
        }
        assert.equal(report.windows[0]!.firstIndex, 1);
        assert.equal(report.windows[0]!.evidence.completeness, 'exact');
        // The backend's leases: the writer's three member leases, each keeping its own member key.
        const leases = report.snapshotLeases!.leases;
        const kept = leases.filter((l) => !l.orphaned).map((l) => l.keys.join(',')).sort();
        assert.deepEqual(kept.filter((k) => k.includes('/members/')), [
          '/service/pg_demo/leader,/service/pg_demo/members/node1', '/service/pg_demo/members/node2', '/service/pg_demo/members/node3',
        ]);
        // Compactions: the manual one (ops.log) and the auto-compactor's (its log lines name their revisions).
        const manual = Number(/etcdctl compact (\d+)/.exec(readFileSync(join(dir, 'ops.log'), 'utf8'))![1]);
        const logLines = readFileSync(join(dir, 'etcd.log'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
        const autoRevs = logLines.filter((l) => l['msg'] === 'starting auto periodic compaction').map((l) => l['revision']);
        assert.deepEqual(report.compactions.map((c) => [c.revision, c.by]).sort(),
          [[manual, 'manual'], ...autoRevs.map((r) => [r, 'auto-compactor'])].sort());
        // The window's times, bounded by the etcd log's snapshot / raft-log compaction lines that name an index.
        const anchors = logLines.filter((l) => l['msg'] === 'saved snapshot' || l['msg'] === 'compacted Raft logs')
          .map((l) => ({ ms: Math.floor(Date.parse(String(l['ts']))), i: Number(l['snapshot-index'] ?? l['compact-index']) }));
        const w0 = report.windows[0]!;
        const firstBy = Math.min(...anchors.filter((a) => a.i >= w0.firstIndex).map((a) => a.ms));
        const lastAfter = Math.max(...anchors.filter((a) => a.i < w0.lastIndex).map((a) => a.ms));
        assert.ok(Math.abs(w0.firstTime.notAfterMs! - firstBy) <= 1, `${w0.firstTime.notAfterMs} vs ${firstBy}`);
        assert.ok(Math.abs(w0.lastTime.notBeforeMs! - lastAfter) <= 1, `${w0.lastTime.notBeforeMs} vs ${lastAfter}`);
      } finally {
        db.close();
        rmSync(root, { recursive: true, force: true });
      }
    });

    test('lease grants in the WAL equal what the writer and the script did', () => {
      const w = readWal([{ name: '0000000000000000-0000000000000000.wal', bytes: walSegment(dir) }]);
      const granted = w.entries.flatMap((e) => e.ops).filter((o) => o.kind === 'lease-grant').map((o) => BigInt(o.lease).toString(16)).sort();
      const writer = [...readFileSync(join(dir, 'writer-summary.log'), 'utf8').matchAll(/lease-grant \S+ -> \S+ ok id=(\d+)/g)].map((m) => BigInt(m[1]!).toString(16));
      const script = [...readFileSync(join(dir, 'ops.log'), 'utf8').matchAll(/lease grant \d+ -> lease ([0-9a-f]+) granted/g)].map((m) => m[1]!);
      assert.equal(writer.length, 3);
      assert.equal(script.length, 11);
      assert.deepEqual(granted, [...writer, ...script].sort());
      const revoked = w.entries.flatMap((e) => e.ops).filter((o) => o.kind === 'lease-revoke').map((o) => BigInt(o.lease).toString(16)).sort();
      const scriptRevoked = [...readFileSync(join(dir, 'ops.log'), 'utf8').matchAll(/lease revoke ([0-9a-f]+) -> lease \1 revoked/g)].map((m) => m[1]!).sort();
      assert.deepEqual(revoked, scriptRevoked);
    });

    test('a torn tail is reported with its byte offset and everything before it is read', () => {
      const full = walSegment(dir);
      const whole = readWal([{ name: 'a.wal', bytes: full }]);
      assert.equal(whole.damage, null);
      const cutEntry = whole.entries[Math.floor(whole.entries.length / 2)]!;
      // Cut 5 bytes into the record (a crash mid-write of a file that was not preallocated).
      const cut = readWal([{ name: 'a.wal', bytes: full.subarray(0, cutEntry.offset + 13) }]);
      assert.equal(cut.damage?.offset, cutEntry.offset);
      assert.match(cut.damage!.reason, /torn record/);
      assert.deepEqual(cut.entries.map((e) => e.index), whole.entries.filter((e) => e.offset < cutEntry.offset).map((e) => e.index));
      // A flipped byte in the data: a CRC mismatch at that record, the ones before it read.
      const flipped = Buffer.from(full);
      flipped[cutEntry.offset + 40] = flipped[cutEntry.offset + 40]! ^ 0x55;
      const bad = readWal([{ name: 'a.wal', bytes: flipped }]);
      assert.equal(bad.damage?.offset, cutEntry.offset);
      assert.equal(bad.entries.length, cut.entries.length);
    });

    test('ingest of a torn segment stores what precedes the damage and names the byte offset', async () => {
      const full = walSegment(dir);
      const whole = readWal([{ name: 'a.wal', bytes: full }]);
      const at = whole.entries[100]!.offset;
      const root = mkdtempSync(join(tmpdir(), 'wal-torn-'));
      const db = openStore(join(root, 'store.db'));
      try {
        const path = join(root, '0000000000000000-0000000000000000.wal');
        writeFileSync(path, full.subarray(0, at + 20));
        // --strict: the damage fails the file and stores nothing.
        const strict = await ingestInput(db, path, { ...OPTS, strict: true });
        assert.equal(strict.status, 'failed');
        assert.match(strict.error!, new RegExp(`byte offset ${at}: torn record.*--strict: nothing stored`));
        assert.equal((db.prepare('SELECT count(*) AS n FROM wal_entries').get() as { n: number }).n, 0);
        const r = await ingestInput(db, path, OPTS);
        assert.equal(r.status, 'ingested');
        assert.match(r.issues[0]!.reason, new RegExp(`byte offset ${at}: torn record`));
        const n = (db.prepare('SELECT count(DISTINCT raft_index) AS n FROM wal_entries').get() as { n: number }).n;
        assert.equal(n, whole.entries.filter((e) => e.offset < at).length);
        // Re-ingest (or the whole segment, whose prefix differs) adds nothing for the same bytes.
        assert.equal((await ingestInput(db, path, OPTS)).status, 'duplicate');
      } finally {
        db.close();
        rmSync(root, { recursive: true, force: true });
      }
    });

    test("two snapshots' growth per key group equals the watch truth for that interval", async () => {
      const root = mkdtempSync(join(tmpdir(), 'wal-growth-'));
      const db = openStore(join(root, 'store.db'));
      try {
        const log = readFileSync(join(dir, 'snapshots.log'), 'utf8');
        for (const name of ['snap-1', 'snap-2']) {
          const path = join(root, `${name}.db`);
          writeFileSync(path, gunzipSync(readFileSync(join(dir, `${name}.db.gz`))));
          const after = new RegExp(`${name} saved between \\S+ and (\\S+)`).exec(log)![1]!;
          const r = await ingestInput(db, path, { ...OPTS, atMs: Date.parse(after) });
          assert.equal(r.status, 'ingested');
        }
        const [a, b] = listSnapshotPoints(db);
        const g = growthBetween(db, a!, b!);
        const truth = new Map<string, number>();
        for (const t of watchTruth(dir)) {
          if (t.revision > a!.revision && t.revision <= b!.revision && t.op === 'put') {
            const k = groupOfKey(t.key).group;
            truth.set(k, (truth.get(k) ?? 0) + 1);
          }
        }
        const got = new Map(g.groups.filter((x) => x.revisions > 0).map((x) => [x.group, x.revisions]));
        assert.deepEqual([...got].sort(), [...truth].sort());
        assert.equal(g.evidence.completeness, 'exact');
        assert.ok(g.groups.every((x) => x.revisionsPerHour !== null && x.revisionsPerHour >= 0));
      } finally {
        db.close();
        rmSync(root, { recursive: true, force: true });
      }
    });
  });
}

describe('wal command (built CLI)', () => {
  const BIN = join(import.meta.dirname, '..', 'bin', 'etcd-forensics.js');
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

  test('ingest of a member dir, then `wal` and `wal --json`', () => {
    const root = dataDir(join(FIXTURES, 'data-dir-3.4.23'));
    const store = join(root, 'store.db');
    try {
      const ing = run(['ingest', '--db', store, join(root, 'member')]);
      assert.equal(ing.status, 0, ing.stderr);
      assert.match(ing.stdout, /0000000000000000-0000000000000000\.wal: etcd-wal, \d+ records/);
      assert.match(ing.stdout, /\.snap: raft-snap, 1 records/);
      const again = run(['ingest', '--db', store, join(root, 'member')]);
      assert.equal(again.status, 0, again.stderr);
      assert.doesNotMatch(again.stdout, /etcd-wal, \d+ records/);
      const text = run(['wal', '--db', store]);
      assert.equal(text.status, 0, text.stderr);
      assert.equal(text.stderr, '');
      assert.match(text.stdout, /raft entries +│ 2250: index 1\.\.2250/);
      assert.match(text.stdout, /\/service\/pg_demo\/members\/\* +│ 1659 +│ 0/);
      // churn takes the WAL window as its evidence: it holds more writes than the compacted backend's rows.
      const churn = JSON.parse(run(['churn', '--db', store, '--json']).stdout) as { churn: { evidence: { source: string; completeness: string }[]; groups: { group: string; revisions: number }[] } };
      assert.deepEqual(churn.churn.evidence.map((e) => [e.source, e.completeness]), [['wal', 'exact']]);
      const truth = watchTruth(join(FIXTURES, 'data-dir-3.4.23')).filter((t) => t.key.startsWith('/service/pg_demo/members/')).length;
      assert.equal(churn.churn.groups.find((g) => g.group === '/service/pg_demo/members/*')?.revisions, truth);
      const json = JSON.parse(run(['wal', '--db', store, '--json']).stdout) as { schemaVersion: number; grants: number; windows: { lastIndex: number }[] };
      assert.equal(json.schemaVersion, 1);
      assert.equal(json.grants, 14);
      assert.equal(json.windows[0]!.lastIndex, 2250);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a segment with no readable record: one line naming the file and byte offset, exit 2', () => {
    const root = mkdtempSync(join(tmpdir(), 'wal-bad-'));
    try {
      const path = join(root, '0000000000000000-0000000000000000.wal');
      writeFileSync(path, Buffer.concat([Buffer.from([0x10, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('\x1b[2Jnot a record at all')]));
      const r = run(['ingest', '--db', join(root, 'store.db'), path]);
      assert.equal(r.status, 2);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /0000000000000000-0000000000000000\.wal: not a readable etcd WAL segment: byte offset 0: /);
      assert.doesNotMatch(r.stderr, /\x1b/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

test('mutated and cut segments never throw, and records before the first changed byte are read as before', () => {
  const full = walSegment(join(FIXTURES, 'data-dir-3.4.23')).subarray(0, 40_000);
  const base = readWal([{ name: 'a.wal', bytes: full }]);
  fc.assert(fc.property(fc.integer({ min: 0, max: full.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.nat({ max: 40_000 }), (at, xor, cut) => {
    const b = Buffer.from(full.subarray(0, Math.max(at + 1, cut)));
    b[at] = b[at]! ^ xor;
    const w = readWal([{ name: 'a.wal', bytes: b }]);
    const before = base.entries.filter((e) => e.offset + 8 <= at && (base.entries[base.entries.indexOf(e) + 1]?.offset ?? full.length) <= at);
    for (const e of before) assert.ok(w.entries.some((x) => x.index === e.index && x.offset === e.offset));
    // A change can make a record that still decodes (a shorter length word, a crc record): the damage may
    // then be found later, never before the record the change is in.
    if (w.damage) assert.ok(w.damage.offset >= Math.max(0, ...before.map((e) => e.offset)), `damage at ${w.damage.offset}`);
  }), { numRuns: 300 });
});

test('a live member with hostile keys: its data dir read at rest, nothing reaches the terminal unescaped', async () => {
  const etcd = await startEtcd({ extraArgs: ['--snapshot-count=50'] });
  const store = join(etcd.dataDir, 'store.db');
  try {
    const lease = await grantLease(etcd, 600);
    const hostile = '/svc/\x1b[2J\x1b]0;pwned\x07/evil\nkey';
    await putViaGateway(etcd, [
      ...Array.from({ length: 60 }, (_, i) => ({ key: `/svc/plain/k${i % 6}`, value: `v${i}` })),
      { key: hostile, value: 'x', lease },
    ], 1);
    await etcd.stopProcess();
    const BIN = join(import.meta.dirname, '..', 'bin', 'etcd-forensics.js');
    const ing = spawnSync(process.execPath, [BIN, 'ingest', '--db', store, join(etcd.dataDir, 'member')], { encoding: 'utf8' });
    assert.equal(ing.status, 0, ing.stderr);
    const db = openStore(store, { readonly: true });
    try {
      // The live segment is preallocated (64 MB of which the records are a small prefix), and nothing is damaged.
      const seg = db.prepare('SELECT file_bytes AS f, read_bytes AS r, damage_offset AS d FROM wal_segments').get() as { f: number; r: number; d: number | null };
      assert.equal(seg.f, 64 * 1000 * 1000);
      assert.ok(seg.r > 0 && seg.r < seg.f);
      assert.equal(seg.d, null);
      const [member] = walMembers(db);
      const writes = [...replayWal(db, member!)];
      assert.equal(writes.filter((w) => w.key.startsWith('/svc/plain/')).length, 60);
      const h = writes.find((w) => w.key === hostile);
      assert.equal(h?.lease, lease);
    } finally {
      db.close();
    }
    const out = spawnSync(process.execPath, [BIN, 'wal', '--db', store], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    assert.doesNotMatch(out.stdout, /\x1b|\x07/);
    assert.match(out.stdout, /\/svc\/plain\/\* +│ 60 /);
    const json = spawnSync(process.execPath, [BIN, 'wal', '--db', store, '--json'], { encoding: 'utf8' });
    assert.doesNotMatch(json.stdout, /\x1b|\x07/);
    assert.ok((JSON.parse(json.stdout) as { keys: { name: string }[] }).keys.some((k) => k.name === hostile));
  } finally {
    await etcd.stop();
  }
});

test('a member whose first segment was purged: the window starts after a snapshot, revisions unknown, writes exact', async () => {
  const dir = join(FIXTURES, 'data-dir-3.4.23-purged');
  const root = mkdtempSync(join(tmpdir(), 'wal-purged-'));
  const db = openStore(join(root, 'store.db'));
  try {
    cpSync(join(dir, 'member'), join(root, 'member'), { recursive: true });
    await ingestTree(db, root);
    const report = analyzeWalWriters(db, 1000);
    const w = report.windows[0]!;
    const [segment] = readdirSync(join(dir, 'member/wal'));
    assert.equal(w.firstIndex, parseInt(segment!.split('-')[1]!.slice(0, 16), 16)); // the segment's name says where it starts
    const snaps = readdirSync(join(dir, 'member/snap')).map((n) => parseInt(n.split('-')[1]!.slice(0, 16), 16));
    assert.equal(w.snapshotBefore?.index, Math.max(...snaps.filter((i) => i <= w.firstIndex)));
    assert.equal(w.snapshotBefore?.from, 'snap-file');
    assert.equal(w.firstRevision, null);
    assert.match(w.evidence.detail, /does not start at index 1/);
    // The /after/ puts, all inside the window: per key as the watch saw them.
    const truth = new Map<string, number>();
    for (const t of watchTruth(dir)) truth.set(t.key, (truth.get(t.key) ?? 0) + 1);
    const walAfter = new Map(report.keys.filter((k) => k.name.startsWith('/after/')).map((k) => [k.name, k.puts]));
    assert.deepEqual([...walAfter].sort(), [...truth].sort());
    const lease = /lease (\d+)/.exec(readFileSync(join(dir, 'after.log'), 'utf8'))![1]!;
    const l = report.leases.find((x) => x.lease === lease)!;
    assert.equal(l.ttl, 600);
    assert.deepEqual(l.keys.sort(), ['/after/k0', '/after/k1']);
    assert.equal(l.puts, 600);
  } finally {
    db.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a renamed segment (plain or gzipped) is known by how it begins; text and snapshots are not taken for one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'wal-renamed-'));
  const db = openStore(join(root, 'store.db'));
  try {
    const plain = join(root, 'backup.bin');
    writeFileSync(plain, walSegment(join(FIXTURES, 'data-dir-3.4.23')));
    const gz = join(root, 'segment.gz');
    cpSync(join(FIXTURES, 'data-dir-3.4.23-purged/member/wal/0000000000000001-0000000000005e5d.wal.gz'), gz);
    for (const p of [plain, gz]) {
      const r = await ingestInput(db, p, { ...OPTS, setAside: true });
      assert.equal(r.kind, 'etcd-wal', `${p}: ${r.status} ${r.error ?? r.why ?? ''}`);
      assert.equal(r.status, 'ingested');
    }
    const segs = db.prepare('SELECT name, seq, first_index AS fi FROM wal_segments ORDER BY source_id').all() as { name: string; seq: number | null; fi: number }[];
    assert.deepEqual(segs.map((s) => [s.seq, s.fi]), [[null, 1], [null, 24157]]);
    for (const p of [join(FIXTURES, 'data-dir-3.4.23/etcd.log'), join(FIXTURES, 'data-dir-3.4.23/snap-1.db.gz')]) {
      assert.notEqual((await ingestInput(db, p, OPTS)).kind, 'etcd-wal');
    }
  } finally {
    db.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a damaged .snap in a member dir: reported as damage of that file (no line number), the others read, exit 0', () => {
  const BIN = join(import.meta.dirname, '..', 'bin', 'etcd-forensics.js');
  const root = dataDir(join(FIXTURES, 'data-dir-3.4.23'));
  try {
    const snap = join(root, 'member/snap');
    const names = readdirSync(snap).filter((n) => n.endsWith('.snap')).sort();
    const victim = join(snap, names[1]!);
    const bytes = readFileSync(victim);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff; // inside the snapshot data: its CRC-32C no longer matches
    writeFileSync(victim, bytes);
    const r = spawnSync(process.execPath, [BIN, 'ingest', '--db', join(root, 'store.db'), join(root, 'member')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${names[1]!}: raft-snap, 1 records.*1 damaged part\\(s\\) reported`));
    assert.match(r.stderr, new RegExp(`${names[1]!}: CRC-32C of the snapshot data does not match the crc field\\n`));
    assert.doesNotMatch(r.stderr, /:0: skipped/);
    for (const n of names) assert.match(r.stdout, new RegExp(`${n}: raft-snap`));
    assert.match(r.stdout, /\.wal: etcd-wal, \d+ records/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
