// The cluster assignment is re-derived by every ingest, collect, import and `sources rm`; on a store of millions
// of readings, rewriting it was the cost of the ingest (deleting each cluster row made SQLite scan status_samples
// for references; every reading of a mixed file was set to NULL and back). It now writes only what changed:
// re-deriving an unchanged assignment touches no reading and no cluster row, and cluster ids stay put.
// Inputs: the real `endpoint status -w json` outputs of two captures (etcd 3.5.16 and 3.4.23, scripts/capture/
// etcd-fixtures.sh) pasted one after the other (a file that mixes clusters), plus the 3.5.16 status samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, runCli, tempDir } from './helpers/cli.js';
import { openStore } from '../src/store/open.js';
import { assignClusters } from '../src/analyze/clusters.js';

test('re-deriving an unchanged assignment writes no reading and no cluster row; a new cluster adds one row and keeps the others', () => {
  const t = tempDir('ef-assign-');
  try {
    const paste = join(t.dir, 'two-clusters.txt');
    writeFileSync(paste, ['$ etcdctl endpoint status --cluster -w json', readFileSync(join(FIXTURES, 'etcd-3.5.16', 'endpoint-status.json.txt'), 'utf8').trim(),
      '$ etcdctl endpoint status --cluster -w json', readFileSync(join(FIXTURES, 'etcd-3.4', 'endpoint-status.json.txt'), 'utf8').trim(), ''].join('\n'));
    const db = join(t.dir, 's.db');
    for (const args of [[paste, '--at', '2026-11-30T00:00:00Z'], [join(FIXTURES, 'etcd-3.5.16', 'status-samples.log')]]) {
      const r = runCli(['ingest', '--db', db, ...args]);
      assert.equal(r.code, 0, r.stderr);
    }
    let original: { id: number; name: string }[] = [];
    const s = openStore(db);
    try {
      const clusters = () => s.prepare('SELECT id, name, cluster_id, scope, named_by FROM clusters ORDER BY id').all();
      const readings = () => s.prepare('SELECT id, cluster FROM status_samples ORDER BY id').all() as { id: number; cluster: number | null }[];
      const before = { clusters: clusters(), readings: readings() };
      assert.equal(before.clusters.length, 2);
      assert.ok(before.readings.filter((r) => r.cluster !== null).length >= 4, 'the mixed file gives its readings their own cluster');
      s.exec(`CREATE TEMP TABLE touched (what TEXT);
        CREATE TEMP TRIGGER t_upd AFTER UPDATE OF cluster ON main.status_samples BEGIN INSERT INTO touched VALUES ('reading'); END;
        CREATE TEMP TRIGGER t_del AFTER DELETE ON main.clusters BEGIN INSERT INTO touched VALUES ('cluster deleted'); END;
        CREATE TEMP TRIGGER t_ins AFTER INSERT ON main.clusters BEGIN INSERT INTO touched VALUES ('cluster inserted'); END;`);
      assignClusters(s);
      assert.deepEqual(s.prepare('SELECT what, count(*) AS n FROM touched GROUP BY what').all(), []);
      assert.deepEqual({ clusters: clusters(), readings: readings() }, before);
      original = (before.clusters as { id: number; name: string }[]).map((c) => ({ id: c.id, name: c.name }));
    } finally {
      s.close();
    }
    // `--cluster third` on the 3.4.23 capture's samples names that cluster id `third` (the user's word wins, for
    // the pasted readings of that id too): its row is replaced; the 3.5.16 cluster keeps its row and id.
    const r = runCli(['ingest', '--db', db, '--cluster', 'third', join(FIXTURES, 'etcd-3.4', 'status-samples.log')]);
    assert.equal(r.code, 0, r.stderr);
    const s2 = openStore(db);
    try {
      const after = s2.prepare('SELECT id, name FROM clusters ORDER BY id').all() as { id: number; name: string }[];
      assert.equal(after.length, 2, JSON.stringify(after));
      const kept = original.filter((c) => after.some((x) => x.id === c.id && x.name === c.name));
      assert.equal(kept.length, 1, `one of ${JSON.stringify(original)} keeps its id: ${JSON.stringify(after)}`);
      const third = after.find((x) => x.name === 'third');
      assert.ok(third);
      // Every reading that was in the renamed cluster is in `third` now; none refers to a deleted row.
      const orphans = s2.prepare('SELECT count(*) AS n FROM status_samples WHERE cluster IS NOT NULL AND cluster NOT IN (SELECT id FROM clusters)').get() as { n: number };
      assert.equal(orphans.n, 0);
      const inThird = s2.prepare('SELECT count(*) AS n FROM status_samples WHERE cluster = ?').get(third.id) as { n: number };
      assert.ok(inThird.n >= 2, `${inThird.n} pasted readings of the renamed cluster`);
    } finally {
      s2.close();
    }
  } finally {
    t.cleanup();
  }
});
