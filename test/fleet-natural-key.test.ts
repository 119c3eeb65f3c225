// Issue 15: the natural key of live, Prometheus and /metrics-page readings is (time, series id) since migration 20;
// before, a text `family|cluster|endpoint|ms` (migrations 17-19). Real readings (the etcd 3.4.23 capacity capture
// test/fixtures/etcd-3.4-capacity/steady, `etcdctl endpoint status -w json` every second, ingested by the built CLI)
// are written into a store of schema 19 as that schema's writer wrote them (fleet-samples.ts before migration 20:
// the same row with natural_key = `prometheus|<cluster>|<endpoint>|<ms>`); opening it with this version moves
// every one to a series id; writing them again through FleetSampleWriter adds nothing, and what is new is added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FIXTURES, runCli, tempDir } from './helpers/cli.js';
import { openStore } from '../src/store/open.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { FleetSampleWriter, seriesKey } from '../src/store/fleet-samples.js';
import type { FleetSample } from '../src/model.js';

interface Raw { ts_ms: number; endpoint: string; member_id: string | null; cluster_id: string | null; db_size_bytes: number | null; db_size_in_use_bytes: number | null; revision: number | null }

const sample = (r: Raw, cluster: string, shiftMs = 0): FleetSample => ({
  format: 'prometheus', tsMs: r.ts_ms + shiftMs, basis: 'explicit', cluster, endpoint: r.endpoint, memberId: r.member_id, clusterId: r.cluster_id,
  version: '3.4.23', dbSizeBytes: r.db_size_bytes, dbSizeInUseBytes: r.db_size_in_use_bytes, revision: r.revision, isLeader: null, errors: [], alarms: [],
  quotaBytes: null, compactRevision: null, keysTotal: null, putsTotal: null,
});

test('natural key: a schema-19 store keyed by text moves to series ids; writing the same readings again adds nothing', () => {
  const tmp = tempDir('ef-fleet-key-');
  try {
    const real = join(tmp.dir, 'real.db');
    const ing = runCli(['ingest', '--db', real, join(FIXTURES, 'etcd-3.4-capacity', 'steady', 'status-samples.log')]);
    assert.equal(ing.code, 0, ing.stderr);
    const r0 = new Database(real, { readonly: true });
    const rows = r0.prepare(`SELECT ts_ms, endpoint, member_id, cluster_id, db_size_bytes, db_size_in_use_bytes, revision FROM status_samples
      WHERE ts_ms IS NOT NULL ORDER BY ts_ms, id`).all() as Raw[];
    r0.close();
    assert.ok(rows.length > 150, `${rows.length} readings`);

    // Schema 19, rows as its writer stored them (one source, the text key), for two clusters named like labels.
    const old = join(tmp.dir, 'old.db');
    const o = new Database(old);
    for (const m of MIGRATIONS.filter((x) => x.version <= 19)) {
      o.exec(m.sql);
      o.pragma(`user_version = ${m.version}`);
    }
    const src = Number(o.prepare(`INSERT INTO sources (path, sha256, kind, member, size_bytes, ingested_at) VALUES ('prometheus test', ?, 'prometheus', NULL, 0, ?)`)
      .run('0'.repeat(64), new Date().toISOString()).lastInsertRowid);
    const put = o.prepare(`INSERT INTO status_samples (source_id, line, seq, ts_ms, time_basis, format, endpoint, member_id, cluster_id, version, db_size_bytes,
      db_size_approx, db_size_in_use_bytes, revision, errors, alarms, natural_key) VALUES (?, ?, 0, ?, 'explicit', 'prometheus', ?, ?, ?, '3.4.23', ?, 0, ?, ?, '[]', '[]', ?)`);
    let line = 0;
    for (const cluster of ['a|b', 'c']) {
      for (const r of rows) put.run(src, ++line, r.ts_ms, r.endpoint, r.member_id, r.cluster_id, r.db_size_bytes, r.db_size_in_use_bytes, r.revision, `prometheus|${cluster}|${r.endpoint}|${r.ts_ms}`);
    }
    o.close();

    const d = openStore(old);
    try {
      const n = (q: string): number => (d.prepare(q).get() as { n: number }).n;
      assert.equal(d.pragma('user_version', { simple: true }), 20);
      assert.equal(n('SELECT COUNT(*) AS n FROM status_samples'), 2 * rows.length);
      assert.equal(n('SELECT COUNT(*) AS n FROM status_samples WHERE natural_key IS NOT NULL OR natural_series IS NULL'), 0, 'every text key moved');
      const keys = (d.prepare('SELECT key FROM status_series ORDER BY key').all() as { key: string }[]).map((k) => k.key);
      const endpoints = [...new Set(rows.map((r) => r.endpoint))];
      assert.deepEqual(keys, ['a|b', 'c'].flatMap((c) => endpoints.map((e) => seriesKey('prometheus', { cluster: c, endpoint: e }))).sort());
      // A cluster label with the separator in it keeps its own series: the text less its `|<ms>` tail.
      assert.equal(n(`SELECT COUNT(*) AS n FROM status_samples s JOIN status_series k ON k.id = s.natural_series WHERE k.key LIKE 'prometheus|a|b|%'`), rows.length);

      // The same readings through this version's writer: nothing new, no source kept. Shifted by the time between the first
      // reading and the middle one: the overlap adds nothing, the rest is new; another family at the same times is another series.
      const half = rows[Math.floor(rows.length / 2)]!.ts_ms - rows[0]!.ts_ms;
      const results = d.transaction(() => {
        const w = new FleetSampleWriter(d, (c) => ({ kind: 'prometheus', family: 'prometheus', cluster: c, path: `prometheus again ${c}` }));
        const same = rows.filter((r) => w.write(sample(r, 'a|b'))).length + rows.filter((r) => w.write(sample(r, 'c'))).length;
        const shifted = rows.filter((r) => w.write(sample(r, 'c', half))).length;
        const c = new FleetSampleWriter(d, () => ({ kind: 'collect', family: 'collect', cluster: null, path: 'collect test' }));
        const collected = rows.filter((r) => c.write({ ...sample(r, 'c'), format: 'gateway' })).length;
        return { same, shifted, collected, added: w.finish(), addedCollect: c.finish() };
      })();
      assert.equal(results.same, 0, 'the readings stored with the text key are the same readings');
      const newTimes = rows.filter((r) => !rows.some((x) => x.endpoint === r.endpoint && x.ts_ms === r.ts_ms + half)).length;
      assert.equal(results.shifted, newTimes);
      assert.ok(newTimes > 0 && newTimes < rows.length, `${newTimes} of ${rows.length}`);
      assert.equal(results.collected, rows.length);
      assert.deepEqual(results.added.map((a) => [a.cluster, a.added]), [['c', newTimes]], 'the run for a|b added nothing and left no source');
      assert.equal(n(`SELECT COUNT(*) AS n FROM sources WHERE path = 'prometheus again a|b'`), 0);
      assert.equal(n('SELECT COUNT(*) AS n FROM status_samples'), 3 * rows.length + newTimes);
      assert.equal(n('SELECT COUNT(*) AS n FROM (SELECT ts_ms, natural_series FROM status_samples GROUP BY 1, 2 HAVING COUNT(*) > 1)'), 0);
    } finally {
      d.close();
    }
  } finally {
    tmp.cleanup();
  }
});
