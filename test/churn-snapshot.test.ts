// Issues 3 and 4: churn from a snapshot ingested as evidence is exact, and matches the truth that
// `etcdctl watch --prefix /service -w json` recorded while the keys were written (real capture).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { runCli, tempDir, FIXTURES } from './helpers/cli.js';
import { watchTruth } from './helpers/watch-truth.js';
import type { AnalysisReport } from '../src/analyze/types.js';

const E34 = join(FIXTURES, 'etcd-3.4');

test('churn from the real snapshot equals the watch truth, key by key, and ranks members/* first', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const ing = runCli(['ingest', '--db', db, '--tz', 'Asia/Shanghai', join(E34, 'snapshot-nospace.db'), join(E34, 'status-samples.log')]);
    assert.equal(ing.code, 0, ing.stderr);
    assert.match(ing.stdout, /snapshot-nospace\.db: etcd-snapshot, \d+ revisions of 7 keys/);
    const r = JSON.parse(runCli(['churn', '--db', db, '--json']).stdout) as Pick<AnalysisReport, 'churn'>;
    const snapRev = JSON.parse(readFileSync(join(E34, 'snapshot-status-nospace.json.txt'), 'utf8')).revision as number;
    const truth = watchTruth(join(E34, 'watch.jsonl'), snapRev);
    assert.equal(r.churn.keys.length, truth.size);
    for (const k of r.churn.keys) assert.equal(k.revisions, truth.get(k.key), k.key);
    assert.equal(r.churn.evidence[0]!.source, 'snapshot');
    assert.equal(r.churn.evidence[0]!.completeness, 'exact');
    assert.equal(r.churn.top, '/service/pg_demo/members/*');
    const members = r.churn.groups.find((g) => g.group === '/service/pg_demo/members/*')!;
    assert.equal(members.keys, 3);
    assert.equal(members.revisions, [...truth].filter(([k]) => k.includes('/members/')).reduce((a, [, n]) => a + n, 0));
    // Revisions map to time through the status samples: the members keys get a rate per hour.
    assert.ok(members.perHour! > 0);
  } finally {
    cleanup();
  }
});

test('our snapshot status figures equal what etcdctl printed for the same file', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    runCli(['ingest', '--db', db, join(E34, 'snapshot-nospace.db'), join(E34, 'snapshot-status-nospace.json.txt'),
      join(E34, 'snapshot-recovered.db'), join(E34, 'snapshot-status-recovered.json.txt')]);
    const rows = JSON.parse(runCli(['query', '--db', db, '--json',
      'SELECT format, hash, revision, total_keys, total_size_bytes FROM snapshot_status ORDER BY revision, format']).stdout) as
      { format: string; hash: string; revision: number; total_keys: number; total_size_bytes: number }[];
    assert.equal(rows.length, 4);
    for (const [ours, etcdctl] of [[rows[0]!, rows[1]!], [rows[2]!, rows[3]!]] as const) {
      assert.equal(ours.format, 'bbolt');
      assert.equal(etcdctl.format, 'json');
      assert.deepEqual({ ...ours, format: '' }, { ...etcdctl, format: '' });
    }
  } finally {
    cleanup();
  }
});
