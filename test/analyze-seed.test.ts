// Issue 3 on the seed transcript alone (etcd 3.5.1, Patroni, ten months without compaction).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, tempDir, FIXTURES } from './helpers/cli.js';
import { ANALYSIS_SCHEMA_VERSION, type AnalysisReport } from '../src/analyze/types.js';

const SEED = join(FIXTURES, 'seed', 'etcd-no-space-incident.txt');

function analyzeSeed(): AnalysisReport {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const ing = runCli(['ingest', '--db', db, SEED]);
    assert.match(ing.stdout, /transcript, \d+ records/);
    const r = runCli(['analyze', '--db', db, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as AnalysisReport;
  } finally {
    cleanup();
  }
}

test('seed: about 0.25 revisions/s and about 315 bytes per revision over about ten months', () => {
  const r = analyzeSeed();
  assert.equal(r.schemaVersion, ANALYSIS_SCHEMA_VERSION);
  // 6,662,600 revisions between Patroni's start (2022-11-20 16:17:52 CST) and the first NOSPACE error.
  assert.equal(r.incident.revisionAtNospace, 6662600);
  assert.ok(r.growth.revisionsPerSecond! > 0.24 && r.growth.revisionsPerSecond! < 0.26, `rev/s ${r.growth.revisionsPerSecond}`);
  assert.ok(r.growth.bytesPerRevision! > 305 && r.growth.bytesPerRevision! < 325, `B/rev ${r.growth.bytesPerRevision}`);
  assert.match(r.growth.method!, /single sample/);
  assert.ok(r.growth.evidence.some((e) => e.completeness === 'inferred' && /2022-11-20T08:17:52/.test(e.detail)));
  assert.ok(r.assumptions.some((a) => /single-point estimate/.test(a)));
  assert.ok(r.assumptions.some((a) => /default 2 GiB/.test(a)), 'the quota is stated as assumed');
});

test('seed: the first Patroni DCS error and the NOSPACE time come from the +0800 log lines', () => {
  const r = analyzeSeed();
  assert.equal(r.incident.firstDcsErrorAt, '2023-09-23T20:30:23.000Z');
  assert.equal(r.incident.nospaceAt, '2023-09-23T20:30:23.000Z');
  assert.equal(r.incident.dbSizeAtNospace, 2_100_000_000);
  assert.equal(r.incident.dbSizeAtNospaceApprox, true);
});

test('seed: members/* is the churning group, named by the etcd log request line', () => {
  const r = analyzeSeed();
  assert.equal(r.churn.top, '/pgcluster/pg_cluster/members/*');
  assert.equal(r.churn.keys[0]!.key, '/pgcluster/pg_cluster/members/postgres-2');
  assert.equal(r.churn.evidence[0]!.source, 'etcd-log');
  assert.equal(r.churn.evidence[0]!.completeness, 'sampled');
});

test('seed: 2.1 GB with TOTAL KEYS 23 is read as compacted history held in free pages', () => {
  const r = analyzeSeed();
  assert.equal(r.snapshots.length, 1);
  const s = r.snapshots[0]!;
  assert.equal(s.hash, 'da76f994');
  assert.equal(s.revision, 6662600);
  assert.equal(s.totalKeys, 23);
  assert.equal(s.totalSizeApprox, true);
  assert.equal(s.historyCompacted, true);
  assert.match(s.interpretation, /free pages/);
  assert.match(s.interpretation, /Defragmentation, not compaction/);
});

test('seed: the recommendation keeps retained history a small stated fraction of the quota', () => {
  const r = analyzeSeed();
  const ac = r.recommendations.find((x) => x.id === 'auto-compaction');
  assert.ok(ac, 'auto-compaction recommended');
  assert.ok(ac.etcdFlags.includes('--auto-compaction-mode=periodic'));
  // ~900 rev/h × 315 B: 24 h of history is ~7 MB, under 1% of 2 GiB.
  assert.ok(ac.etcdFlags.includes('--auto-compaction-retention=24h'), ac.etcdFlags.join(' '));
  assert.match(ac.configYaml!, /auto-compaction-retention: "24h"/);
  const runbook = r.recommendations.find((x) => x.id === 'runbook')!;
  assert.ok(runbook.commands.some((c) => /compact/.test(c)));
  assert.ok(runbook.commands.some((c) => /alarm disarm/.test(c)));
  assert.equal(runbook.commands.filter((c) => / defrag( |$)/.test(c)).length, 3, 'one defrag per member (by member id)');
  // The leader (6d4e068b57712188, IS LEADER true at line 127) last; the commands carry no comments, the rationale names it.
  assert.match(runbook.commands.filter((c) => / defrag( |$)/.test(c))[2]!, /--endpoints=http:\/\/10\.8\.0\.19:2379 /);
  assert.match(runbook.rationale, /http:\/\/10\.8\.0\.19:2379 \([^)]*, the leader\)/);
});

test('seed ingested alone (no --at): the timeline tells snapshot, compact, defrag, disarm in that order, and invents no time', () => {
  const r = analyzeSeed();
  const ops = r.timeline.filter((e) => e.kind.startsWith('operator.') || e.kind.startsWith('etcdctl.'));
  assert.deepEqual(ops.map((e) => [e.kind, e.at]), [
    ['operator.snapshot.save', null], ['operator.compact', null], ['operator.defrag', null], ['operator.alarm.disarm', null],
  ]);
  // Every time in the timeline comes from the write-up's own lines (2022–2023), none from the file's mtime.
  for (const e of r.timeline) if (e.at !== null) assert.ok(e.at < '2024', `${e.kind} at ${e.at}`);
});
