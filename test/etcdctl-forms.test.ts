// etcdctl/etcdutl output forms across versions: the real etcd 3.5.16 (Debian, ASCII tables) and 3.5.30
// (Debian sid, box-drawn tables) captures, and the 3.6 forms derived from 3.5.16 by
// scripts/capture/derive-etcdctl36.mjs (test/fixtures/etcdctl-derived/README.md).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEtcdctlParser, looksLikeEtcdctlOutput } from '../src/sources/etcdctl/parser.js';
import type { LogEvent, ParseOutput } from '../src/model.js';

const CTX = { tz: null, member: null, referenceMs: Date.UTC(2026, 0, 1) };
const fixture = (rel: string) => fileURLToPath(new URL(`fixtures/${rel}`, import.meta.url));

function parse(rel: string): ParseOutput[] {
  const lines = readFileSync(fixture(rel), 'utf8').replace(/\n$/, '').split('\n');
  const p = createEtcdctlParser(CTX);
  return [...lines.flatMap((l, i) => p.push(l, i + 1)), ...p.end()];
}
const ofKind = <K extends ParseOutput['kind']>(out: ParseOutput[], kind: K) =>
  out.filter((o): o is Extract<ParseOutput, { kind: K }> => o.kind === kind);
const clean = (rel: string) => {
  const out = parse(rel);
  assert.deepEqual(ofKind(out, 'issue'), [], rel);
  return out;
};

// Exact figures from each capture's endpoint-status.json.txt (table/simple/fields were taken moments apart).
const CAPTURES = {
  '3.5.16': {
    endpoints: ['http://127.0.0.1:36621', 'http://127.0.0.1:35727'], members: ['b696592df6916a0c', 'be19834c1e36f013'],
    leader: 'be19834c1e36f013', cluster: '4cdaeeef86796c29', db: [262144, 258048], inUse: [253952, 249856], revision: 900,
    raftIndexJson: 1431, alarmMembers: ['13156801415354608140'], snapshot: { hash: 'e2aad9e5', revision: 900, keys: 910, size: 262144 },
  },
  '3.5.30': {
    endpoints: ['http://127.0.0.1:38011', 'http://127.0.0.1:59137'], members: ['443b51c97f59233', 'f82d170f0ac75195'],
    leader: 'f82d170f0ac75195', cluster: '4a2f8afc97b491d0', db: [262144, 262144], inUse: [253952, 253952], revision: 904,
    raftIndexJson: 1376, alarmMembers: ['17882975048730890645', '307288334004490803'], snapshot: { hash: '1ad5527c', revision: 904, keys: 915, size: 262144 },
  },
} as const;

for (const [version, c] of Object.entries(CAPTURES)) {
  describe(`real etcd ${version} capture`, () => {
    const dir = `etcd-${version}`;

    it('endpoint status in all four forms: same members, leader, version, sizes, alarms', () => {
      const json = ofKind(clean(`${dir}/endpoint-status.json.txt`), 'status');
      assert.deepEqual(json.map((s) => [s.endpoint, s.memberId, s.isLeader]), c.endpoints.map((e, i) => [e, c.members[i], c.members[i] === c.leader]));
      assert.deepEqual(json.map((s) => [s.dbSizeBytes, s.dbSizeInUseBytes, s.revision, s.raftTerm, s.raftIndex, s.version, s.clusterId]),
        c.endpoints.map((_, i) => [c.db[i], c.inUse[i], c.revision, 2, c.raftIndexJson, version, c.cluster]));
      for (const s of json) assert.deepEqual(s.alarms, ['NOSPACE']);
      assert.deepEqual(json[0]!.errors, c.alarmMembers.map((m) => `memberID:${m} alarm:NOSPACE`));
      for (const form of ['table', 'simple', 'fields'] as const) {
        const rows = ofKind(clean(`${dir}/endpoint-status.${form}.txt`), 'status');
        assert.deepEqual(rows.map((s) => [s.endpoint, s.memberId, s.isLeader, s.version, s.raftTerm, s.isLearner]),
          json.map((s) => [s.endpoint, s.memberId, s.isLeader, version, 2, false]), form);
        assert.deepEqual(rows.map((s) => s.errors), json.map((s) => s.errors), form);
        assert.ok(rows.every((s) => s.raftIndex! >= c.raftIndexJson - 30 && s.raftIndex! <= c.raftIndexJson + 30), form);
      }
      // 3.5's fields printer has no DBSizeInUse; its DBSize is exact, the table's is humanized.
      const fields = ofKind(clean(`${dir}/endpoint-status.fields.txt`), 'status');
      assert.deepEqual(fields.map((s) => [s.dbSizeBytes, s.dbSizeInUseBytes, s.revision, s.leaderId]), c.endpoints.map((_, i) => [c.db[i], null, c.revision, c.leader]));
      const table = ofKind(clean(`${dir}/endpoint-status.table.txt`), 'status');
      assert.deepEqual(table.map((s) => [s.dbSizeBytes, s.dbSizeApprox]), c.db.map((b) => [Math.round(b / 1000) * 1000, true]));
    });

    it('endpoint health (ENDPOINT HEALTH TOOK ERROR) table, json, simple, fields', () => {
      for (const form of ['table', 'json', 'simple', 'fields']) {
        const h = ofKind(clean(`${dir}/endpoint-health.${form}.txt`), 'health');
        assert.equal(h.length, 2, form);
        assert.deepEqual(h.map((x) => x.endpoint).sort(), [...c.endpoints].sort(), form);
        for (const x of h) {
          assert.equal(x.healthy, false, form);
          assert.match(x.error ?? '', /^(?:Active Alarm\(s\): NOSPACE|.*NOSPACE)/, form);
          // `… is unhealthy: failed to commit proposal: …` (simple) prints no duration.
          if (form === 'simple') assert.equal(x.tookMs, null);
          else assert.ok(x.tookMs! > 0 && x.tookMs! < 1000, `${form} took ${x.tookMs}`);
        }
      }
    });

    it('member list with IS LEARNER in all four forms', () => {
      for (const form of ['table', 'json', 'simple', 'fields']) {
        const m = ofKind(clean(`${dir}/member-list.${form}.txt`), 'member');
        assert.deepEqual(m.map((x) => [x.memberId, x.name, x.isLearner, x.clientUrls]),
          c.members.map((id, i) => [id, `etcd${i + 1}`, false, [c.endpoints[i]]]), form);
      }
    });

    it('alarm list in simple, json and fields names the members that raised NOSPACE (decimal ids)', () => {
      for (const form of ['simple', 'json', 'fields']) {
        const a = ofKind(clean(`${dir}/alarm-list.${form}.txt`), 'alarm');
        assert.deepEqual(a.map((x) => [x.memberId, x.alarm]), c.alarmMembers.map((m) => [m, 'NOSPACE']), form);
      }
      assert.deepEqual(clean(`${dir}/alarm-list.table.txt`), []); // `Error: table not supported as output format`
    });

    it('etcdutl 3.5 snapshot status has no VERSION column: TOTAL KEYS keeps the bucket-entry meaning', () => {
      for (const form of ['table', 'json', 'simple', 'fields']) {
        const [s, ...rest] = ofKind(clean(`${dir}/etcdutl-snapshot-status-nospace.${form}.txt`), 'snapshot-status');
        assert.equal(rest.length, 0);
        assert.deepEqual([s!.hash, s!.revision, s!.totalKeys], [c.snapshot.hash, c.snapshot.revision, c.snapshot.keys], form);
        assert.equal(s!.totalSizeBytes, form === 'table' || form === 'simple' ? 262_000 : c.snapshot.size, form);
        assert.equal(s!.version, undefined, form);
        assert.equal(s!.totalKeysMeaning, undefined, form);
      }
    });

    it('etcdutl defrag --data-dir: its zap console line becomes a timed defrag event with the sizes', () => {
      const [ev, ...rest] = ofKind(clean(`${dir}/etcdutl-defrag-etcd2.txt`), 'event');
      assert.equal(rest.length, 0);
      assert.equal(ev!.event, 'etcdctl.defrag');
      assert.equal(ev!.detail.tool, 'etcdutl');
      assert.match(String(ev!.detail.path), /\/etcd2\/member\/snap\/db$/);
      assert.equal(typeof ev!.detail.dbSizeBytes, 'number');
      assert.ok((ev!.detail.dbSizeDiffBytes as number) <= 0);
      assert.equal(ev!.time!.basis, 'explicit');
      assert.equal(ev!.time!.offsetMin, 480);
      assert.equal(new Date(ev!.time!.ms).toISOString().slice(0, 17), version === '3.5.16' ? '2026-11-30T01:22:' : '2026-11-30T01:22:');
    });

    it('the sampled status/health files parse whole, each sample timed by its date line', () => {
      const status = ofKind(clean(`${dir}/status-samples.log`), 'status');
      const table = ofKind(clean(`${dir}/status-samples-table.log`), 'status');
      assert.ok(status.length >= 40 && table.length >= 40);
      assert.ok(status.every((s) => s.time?.basis === 'marker' && s.time.offsetMin === 480));
    });
  });
}

describe('box-drawn tables (Debian etcd-client 3.5.30)', () => {
  it('are detected as etcdctl output and read like ASCII tables, ERRORS unwrapped on one row', () => {
    const lines = readFileSync(fixture('etcd-3.5.30/endpoint-status.table.txt'), 'utf8').split('\n');
    assert.ok(looksLikeEtcdctlOutput(lines[0]!) && looksLikeEtcdctlOutput(lines[1]!));
    const rows = ofKind(clean('etcd-3.5.30/endpoint-status.table.txt'), 'status');
    assert.deepEqual(rows.map((r) => r.line), [4, 5]);
    assert.deepEqual(rows[1]!.errors, ['memberID:17882975048730890645 alarm:NOSPACE', 'memberID:307288334004490803 alarm:NOSPACE']);
  });
});

// ---- 3.6 forms, derived ------------------------------------------------------------------------------

describe('etcdctl 3.6 endpoint status (derived from 3.5.16)', () => {
  it('16-column table and simple: IN USE, QUOTA, STORAGE VERSION read by column name', () => {
    for (const form of ['table', 'simple']) {
      const client = ofKind(clean(`etcdctl-derived/endpoint-status.36-client-35-server.${form}.txt`), 'status');
      assert.deepEqual(client.map((s) => [s.endpoint, s.memberId, s.isLeader, s.raftIndex, s.raftAppliedIndex, s.raftTerm]), [
        ['http://127.0.0.1:36621', 'b696592df6916a0c', false, 1431, 1431, 2],
        ['http://127.0.0.1:35727', 'be19834c1e36f013', true, 1431, 1431, 2],
      ], form);
      assert.deepEqual(client.map((s) => [s.dbSizeBytes, s.dbSizeInUseBytes, s.dbSizeQuotaBytes, s.storageVersion]),
        [[262_000, 254_000, 0, ''], [258_000, 250_000, 0, '']], form);
      assert.deepEqual(client[0]!.errors, ['memberID:13156801415354608140 alarm:NOSPACE'], form);
      assert.deepEqual(client[0]!.alarms, ['NOSPACE'], form);
      const quota = ofKind(clean(`etcdctl-derived/endpoint-status.36-quota.${form}.txt`), 'status');
      assert.deepEqual(quota.map((s) => s.dbSizeQuotaBytes), [262_000, 262_000], form);
    }
  });

  it('fields: DBSizeInUse, DBSizeQuota and StorageVersion exact', () => {
    const f = ofKind(clean('etcdctl-derived/endpoint-status.36-quota.fields.txt'), 'status');
    assert.deepEqual(f.map((s) => [s.memberId, s.clusterId, s.dbSizeBytes, s.dbSizeInUseBytes, s.dbSizeQuotaBytes, s.storageVersion, s.revision, s.isLeader]), [
      ['b696592df6916a0c', '4cdaeeef86796c29', 262144, 253952, 262144, '', 900, false],
      ['be19834c1e36f013', '4cdaeeef86796c29', 258048, 249856, 262144, '', 900, true],
    ]);
    const zero = ofKind(clean('etcdctl-derived/endpoint-status.36-client-35-server.fields.txt'), 'status');
    assert.deepEqual(zero.map((s) => s.dbSizeQuotaBytes), [0, 0]);
  });

  it('json: "dbSizeQuota" read when present; absent from a 3.5 server it stays unknown', () => {
    const q = ofKind(clean('etcdctl-derived/endpoint-status.36-quota.json.txt'), 'status');
    assert.deepEqual(q.map((s) => [s.dbSizeQuotaBytes, s.dbSizeInUseBytes]), [[262144, 253952], [262144, 249856]]);
    const old = ofKind(clean('etcdctl-derived/endpoint-status.36-client-35-server.json.txt'), 'status');
    assert.deepEqual(old.map((s) => s.dbSizeQuotaBytes), [undefined, undefined]);
  });
});

describe('etcdutl 3.6 snapshot status (derived: VERSION column, TOTAL KEYS = live user keys)', () => {
  it('every form carries the version and marks TOTAL KEYS as live keys (7, where 3.5 printed 910)', () => {
    for (const form of ['table', 'json', 'simple', 'fields']) {
      const [s, ...rest] = ofKind(clean(`etcdctl-derived/snapshot-status-nospace.36.${form}.txt`), 'snapshot-status');
      assert.equal(rest.length, 0, form);
      assert.deepEqual([s!.hash, s!.revision, s!.totalKeys, s!.version, s!.totalKeysMeaning], ['e2aad9e5', 900, 7, '', 'live-keys'], form);
    }
  });

  it('a 3.5 fields block followed by another block is closed without waiting for "Version"', () => {
    const p = createEtcdctlParser(CTX);
    const lines = [...readFileSync(fixture('etcd-3.5.16/etcdutl-snapshot-status-nospace.fields.txt'), 'utf8').trim().split('\n'),
      ...readFileSync(fixture('etcd-3.5.16/alarm-list.fields.txt'), 'utf8').trim().split('\n')];
    const out = [...lines.flatMap((l, i) => p.push(l, i + 1)), ...p.end()];
    assert.deepEqual(ofKind(out, 'issue'), []);
    assert.equal(ofKind(out, 'snapshot-status')[0]!.totalKeys, 910);
    assert.deepEqual(ofKind(out, 'alarm').map((a) => [a.line, a.memberId]), [[10, '13156801415354608140']]);
  });
});

describe('client-side errors etcdctl prints', () => {
  it('Error: lines about the server become etcdctl.client.error; usage errors stay quiet', () => {
    const p = createEtcdctlParser(CTX);
    const out = [
      ...p.push('Error: etcdserver: mvcc: database space exceeded', 1),
      ...p.push('Error:  context deadline exceeded', 2),
      ...p.push('Error: table not supported as output format', 3),
      ...p.push('Error: unhealthy cluster', 4),
      ...p.end(),
    ];
    const ev = ofKind(out, 'event') as LogEvent[];
    assert.deepEqual(ev.map((e) => [e.line, e.event, e.detail.alarm, e.detail.error]), [
      [1, 'etcdctl.client.error', 'NOSPACE', 'etcdserver: mvcc: database space exceeded'],
      [2, 'etcdctl.client.error', null, 'context deadline exceeded'],
    ]);
    assert.deepEqual(ofKind(out, 'issue'), []);
  });
});

describe('stored (migration 8)', () => {
  it('quota, storage version, snapshot version and the TOTAL KEYS meaning reach the store', async () => {
    const { runCli, tempDir } = await import('./helpers/cli.js');
    const { dir, cleanup } = tempDir();
    try {
      const db = `${dir}/s.db`;
      const ing = runCli(['ingest', '--db', db, '--at', '2026-11-30T09:22:00+08:00', fixture('etcdctl-derived/endpoint-status.36-quota.fields.txt'),
        fixture('etcdctl-derived/snapshot-status-nospace.36.json.txt'), fixture('etcd-3.5.16/etcdutl-snapshot-status-nospace.json.txt')]);
      assert.equal(ing.code, 0, ing.stderr);
      const q = (sql: string) => JSON.parse(runCli(['query', '--db', db, '--json', sql]).stdout) as Record<string, unknown>[];
      assert.deepEqual(q('SELECT member_id, db_size_quota_bytes, storage_version FROM status_samples ORDER BY line'), [
        { member_id: 'b696592df6916a0c', db_size_quota_bytes: 262144, storage_version: '' },
        { member_id: 'be19834c1e36f013', db_size_quota_bytes: 262144, storage_version: '' },
      ]);
      assert.deepEqual(q('SELECT total_keys, version, total_keys_meaning FROM snapshot_status ORDER BY total_keys'), [
        { total_keys: 7, version: '', total_keys_meaning: 'live-keys' },
        { total_keys: 910, version: null, total_keys_meaning: null },
      ]);
    } finally {
      cleanup();
    }
  });
});

describe('etcd 3.1 `-w fields` with its stray quote (etcd#7117)', () => {
  it('reads `"DBSize" :" 114688` as the value 114688', () => {
    const lines = [
      '"ClusterID" : 17237436991929493444', '"MemberID" : 9372538179322589801', '"Revision" : 601', '"RaftTerm" : 17',
      '"Version" : "3.1.0-rc.1+git"', '"DBSize" :" 114688', '"Leader" :" 9372538179322589801', '"RaftIndex" :" 620',
      '"RaftTerm" :" 17', '"Endpoint" : "127.0.0.1:2379"', '',
    ];
    const p = createEtcdctlParser({ tz: null, member: null, referenceMs: 0 });
    const out: ParseOutput[] = [];
    lines.forEach((l, i) => out.push(...p.push(l, i + 1)));
    out.push(...p.end());
    const s = out.find((o) => o.kind === 'status');
    assert.ok(s && s.kind === 'status');
    assert.deepEqual([s.endpoint, s.dbSizeBytes, s.revision, s.version, s.memberId], ['127.0.0.1:2379', 114688, 601, '3.1.0-rc.1+git', '8211f1d0f64f3269']);
  });
});
