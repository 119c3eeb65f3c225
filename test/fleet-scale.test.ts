// Issue 15: `report --fleet` reads the status rollup (migration 19), not every reading. A store of many clusters
// built through the real ingest paths from REAL readings: the etcd 3.4.23 / 3.5.16 capacity captures
// (test/fixtures/etcd-*-capacity/*: `etcdctl endpoint status -w json` every second with a date line, and etcd's
// log) ingested by the built CLI, one cluster per run (the file path: the rollup catches up after the ingest);
// then every reading of the 3.4.23 steady and periodic runs written again through FleetSampleWriter (the
// Prometheus/collect path: folded as written) as 24 more clusters, copy k shifted by k hours. Nothing is invented:
// every figure is one a real etcd reported. Checked: the rollup kept at ingest equals the rollup made by SQL
// (migration 19's backfill) from the raw readings, and plain SQL min/max/count per member and hour; `sources rm`
// takes a source's rows with it; the fleet ranking and verdicts from the thinned series equal those from every
// reading, and equal the per-cluster full analysis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, tempDir } from './helpers/cli.js';
import { openStore } from '../src/store/open.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { FleetSampleWriter } from '../src/store/fleet-samples.js';
import { assignClusters, clustersToAnalyze } from '../src/analyze/clusters.js';
import { analyzeFleet } from '../src/analyze/fleet.js';
import { analyzeStore } from '../src/analyze/analyze.js';
import type { FleetSample } from '../src/model.js';

const FX = join(import.meta.dirname, 'fixtures');
const RUNS = [
  ['etcd-3.4-capacity', 'periodic'], ['etcd-3.4-capacity', 'revision'], ['etcd-3.4-capacity', 'steady'], ['etcd-3.4-capacity', 'triple'],
  ['etcd-3.4-capacity', 'long'], ['etcd-3.5.16-capacity', 'periodic'], ['etcd-3.5.16-capacity', 'revision'],
] as const;
const COPIES = 12;

interface Raw { ts_ms: number; endpoint: string; member_id: string | null; cluster_id: string | null; db_size_bytes: number | null; db_size_in_use_bytes: number | null; revision: number | null; alarms: string; errors: string; db_size_quota_bytes: number | null }

function buildStore(db: string): void {
  for (const [dir, run] of RUNS) {
    const r = runCli(['ingest', '--db', db, '--cluster', `${dir.replace('-capacity', '')}-${run}`, join(FX, dir, run, 'status-samples.log'), join(FX, dir, run, 'etcd.log')]);
    assert.equal(r.code, 0, r.stderr);
  }
  // The Prometheus/collect path: the same real readings, written as fleet samples, copy k shifted by k hours.
  const d = openStore(db);
  try {
    for (const run of ['steady', 'periodic']) {
      const rows = d.prepare(`SELECT s.ts_ms, s.endpoint, s.member_id, s.cluster_id, s.db_size_bytes, s.db_size_in_use_bytes, s.revision, s.alarms, s.errors, s.db_size_quota_bytes
        FROM status_samples s JOIN sources src ON src.id = s.source_id JOIN clusters c ON c.id = src.cluster WHERE c.name = ? ORDER BY s.ts_ms, s.id`).all(`etcd-3.4-${run}`) as Raw[];
      assert.ok(rows.length > 150, `${run}: ${rows.length} readings`);
      d.transaction(() => {
        for (let k = 1; k <= COPIES; k++) {
          const name = `copy-${run}-${String(k).padStart(2, '0')}`;
          const w = new FleetSampleWriter(d, () => ({ kind: 'prometheus', path: `prometheus test ${name}`, cluster: name, family: 'prometheus' }));
          for (const r of rows) {
            const s: FleetSample = {
              format: 'prometheus', tsMs: r.ts_ms + k * 3_600_000, basis: 'explicit', cluster: name, endpoint: r.endpoint, memberId: r.member_id, clusterId: r.cluster_id,
              version: '3.4.23', dbSizeBytes: r.db_size_bytes, dbSizeInUseBytes: r.db_size_in_use_bytes, revision: r.revision, isLeader: null,
              errors: JSON.parse(r.errors) as string[], alarms: JSON.parse(r.alarms) as string[], quotaBytes: r.db_size_quota_bytes,
              compactRevision: null, keysTotal: null, putsTotal: null,
            };
            assert.equal(w.write(s), true);
          }
          w.finish();
        }
      })();
    }
    assignClusters(d);
  } finally {
    d.close();
  }
}

/** Rows of the stored rollup that a fresh SQL backfill (migration 19 on a copy without its tables) does not give, both ways. */
function rollupAgainstSql(db: string, scratch: string): { stored: number; onlyStored: number; onlySql: number } {
  copyFileSync(db, scratch);
  const s = new Database(scratch);
  try {
    s.exec('DROP TRIGGER status_rollup_forget; DROP TABLE status_rollup; DROP TABLE status_rollup_state');
    s.exec(MIGRATIONS.find((m) => m.version === 19)!.sql);
    s.exec(`ATTACH '${db.replace(/'/g, "''")}' AS kept`);
    // The cluster column is compared too (the backfill sets it for files that mix clusters only, as the store does).
    const n = (q: string): number => (s.prepare(q).get() as { n: number }).n;
    return {
      stored: n('SELECT COUNT(*) AS n FROM kept.status_rollup'),
      onlyStored: n('SELECT COUNT(*) AS n FROM (SELECT * FROM kept.status_rollup EXCEPT SELECT * FROM main.status_rollup)'),
      onlySql: n('SELECT COUNT(*) AS n FROM (SELECT * FROM main.status_rollup EXCEPT SELECT * FROM kept.status_rollup)'),
    };
  } finally {
    s.close();
  }
}

test('status rollup: kept at ingest (file and fleet-sample paths) equals SQL over the raw readings; sources rm takes its rows; fleet ranking from the thinned series equals the full one', { timeout: 600_000 }, () => {
  const tmp = tempDir('ef-fleet-scale-');
  try {
    const db = join(tmp.dir, 'fleet.db');
    buildStore(db);
    const raw = new Database(db, { readonly: true });
    let readings: number;
    try {
      readings = (raw.prepare('SELECT COUNT(*) AS n FROM status_samples WHERE ts_ms IS NOT NULL').get() as { n: number }).n;
      assert.ok(readings > 5000, `${readings} readings`);
      // Plain SQL per source, member and hour against the stored hourly rows.
      const diff = raw.prepare(`
        WITH q AS (SELECT source_id AS src, endpoint, COALESCE(member_id, '') AS m, ts_ms / 3600000 AS b, COUNT(*) AS n, MIN(ts_ms) AS t0, MAX(ts_ms) AS t1,
            MIN(db_size_bytes) AS p0, MAX(db_size_bytes) AS p1, MIN(COALESCE(db_size_in_use_bytes, db_size_bytes)) AS u0,
            MAX(COALESCE(db_size_in_use_bytes, db_size_bytes)) AS u1, MIN(revision) AS r0, MAX(revision) AS r1, MAX(db_size_quota_bytes) AS q1
          FROM status_samples WHERE ts_ms IS NOT NULL GROUP BY 1, 2, 3, 4),
        r AS (SELECT src, endpoint, member_id AS m, bucket AS b, SUM(n) AS n, MIN(first_ts) AS t0, MAX(last_ts) AS t1, MIN(phys_min) AS p0, MAX(phys_max) AS p1,
            MIN(used_min) AS u0, MAX(used_max) AS u1, MIN(rev_min) AS r0, MAX(rev_max) AS r1, MAX(quota_max) AS q1
          FROM status_rollup WHERE width = 3600000 GROUP BY 1, 2, 3, 4)
        SELECT (SELECT COUNT(*) FROM (SELECT * FROM q EXCEPT SELECT * FROM r)) AS a, (SELECT COUNT(*) FROM (SELECT * FROM r EXCEPT SELECT * FROM q)) AS b,
          (SELECT COUNT(*) FROM q) AS groups, (SELECT SUM(n) FROM status_rollup WHERE width = 86400000) AS daily`).get() as { a: number; b: number; groups: number; daily: number };
      assert.deepEqual({ a: diff.a, b: diff.b }, { a: 0, b: 0 }, 'hourly rollup = SQL min/max/count per source, member and hour');
      assert.equal(diff.daily, readings, 'the daily rows count every reading once');
      assert.ok(diff.groups > 25, `${diff.groups} member-hours`);
    } finally {
      raw.close();
    }
    const cmp = rollupAgainstSql(db, join(tmp.dir, 'scratch.db'));
    assert.ok(cmp.stored > 50, `${cmp.stored} rollup rows`);
    assert.deepEqual({ onlyStored: cmp.onlyStored, onlySql: cmp.onlySql }, { onlyStored: 0, onlySql: 0 }, 'rollup kept at ingest = SQL backfill, every column');

    // `sources rm` of one run: its rollup rows go with it, the rest still equals SQL; ingest it again: back as before.
    const src = (JSON.parse(runCli(['sources', '--db', db, '--json']).stdout) as { sources: { id: number; path: string }[] }).sources;
    const steady = src.find((s) => s.path.endsWith(join('etcd-3.4-capacity', 'steady', 'status-samples.log')))!;
    assert.equal(runCli(['sources', 'rm', '--db', db, String(steady.id)]).code, 0);
    const after = new Database(db, { readonly: true });
    assert.equal((after.prepare('SELECT COUNT(*) AS n FROM status_rollup WHERE src = ?').get(steady.id) as { n: number }).n, 0);
    after.close();
    assert.deepEqual(rollupAgainstSql(db, join(tmp.dir, 'scratch.db')).onlyStored, 0);
    const again = runCli(['ingest', '--db', db, '--cluster', 'etcd-3.4-steady', join(FX, 'etcd-3.4-capacity', 'steady', 'status-samples.log')]);
    assert.equal(again.code, 0, again.stderr);
    const cmp2 = rollupAgainstSql(db, join(tmp.dir, 'scratch.db'));
    assert.deepEqual({ onlyStored: cmp2.onlyStored, onlySql: cmp2.onlySql }, { onlyStored: 0, onlySql: 0 });

    // The fleet page from every reading (these runs are short: up to 400 per member) and thinned to 20 buckets of
    // lowest/highest/last per member: same order, same verdicts, bounded ones bounded, growing ones with an ETA.
    const d = openStore(db, { readonly: true });
    try {
      const full = analyzeFleet(d, { quotaBytes: null, series: { rawLimit: Infinity } });
      const thin = analyzeFleet(d, { quotaBytes: null, series: { buckets: 20, rawLimit: 0 } });
      assert.equal(full.clusters.length, RUNS.length + 2 * COPIES);
      assert.ok(thin.clusters.every((c) => c.evidence[0]!.completeness === 'sampled' && /lowest and highest in-use reading/.test(c.evidence[0]!.detail)), thin.clusters[0]!.evidence[0]!.detail);
      assert.ok(full.clusters.every((c) => c.evidence[0]!.detail.startsWith('forecast series every reading')), full.clusters[0]!.evidence[0]!.detail);
      // Same verdict for every cluster, the same sequence of verdicts down the page, and the same order of the
      // clusters that reach the quota or grow (ETA order). Bounded clusters rank by their bound, fitted on different
      // points: within a factor of two of the full one.
      const byName = (r: typeof full) => Object.fromEntries(r.clusters.map((c) => [c.name, c.verdict]));
      assert.deepEqual(byName(thin), byName(full));
      assert.deepEqual(thin.clusters.map((c) => c.verdict), full.clusters.map((c) => c.verdict));
      const urgent = (r: typeof full) => r.clusters.filter((c) => c.verdict !== 'bounded').map((c) => c.name);
      assert.deepEqual(urgent(thin), urgent(full));
      for (const c of thin.clusters.filter((x) => x.verdict === 'bounded')) {
        const f = full.clusters.find((x) => x.name === c.name)!;
        const ratio = c.physical.boundBytes! / f.physical.boundBytes!;
        console.log(`# ${c.name}: bound thinned ${c.physical.boundBytes} / every reading ${f.physical.boundBytes} = ${ratio.toFixed(3)}`);
        assert.ok(ratio > 0.5 && ratio < 2, `${c.name}: ${ratio}`);
      }
      for (const c of full.clusters.filter((x) => x.name.startsWith('copy-periodic'))) assert.equal(c.verdict, 'bounded', c.name);
      for (const c of thin.clusters.filter((x) => x.verdict === 'growing')) assert.ok(c.physical.etaAt !== null, c.name);
      // Every reading as the per-cluster `report` reads them: the same verdict for each cluster.
      for (const c of clustersToAnalyze(d, null).scopes) {
        const one = analyzeStore(d, { untilMs: null, quotaBytes: null, cluster: c });
        const f = full.clusters.find((x) => x.name === c!.name)!;
        assert.equal(f.verdict, one.projection.verdict ?? (one.projection.reached ? 'reached' : 'unknown'), c!.name);
        assert.equal(f.physical.etaAt, one.projection.etaAt, c!.name);
      }
    } finally {
      d.close();
    }
  } finally {
    tmp.cleanup();
  }
});
