// Issue 3: the auto-compaction advice is verified, not only printed. Measure a Patroni-shaped load on
// real etcd with no compaction, take the recommended flags, run real etcd with them under the same
// load for several retention periods, and check the DB stays under the size the tool predicted —
// a size the same load exceeds without compaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startEtcd } from './helpers/etcd-server.js';
import { runPatroniShapedLoad, startStatusSampler } from './helpers/patroni-shaped-load.js';
import { runCli, tempDir } from './helpers/cli.js';
import type { AnalysisReport } from '../src/analyze/types.js';

const QUOTA = 256 * 1024 * 1024;
const CYCLE_MS = 50;

test('recommended auto-compaction keeps the DB under the predicted bound on real etcd', { timeout: 15 * 60_000 }, async (t) => {
  const { dir, cleanup } = tempDir();
  try {
    // 1. Measure: no compaction.
    const samples = join(dir, 'status.log');
    const measured = await startEtcd({ quotaBytes: QUOTA });
    let report: AnalysisReport;
    try {
      const sampler = startStatusSampler(measured, samples, 2000);
      await runPatroniShapedLoad(measured, { scope: 'pg_measure', cycleMs: CYCLE_MS, durationMs: 40_000 });
      await sampler.stop();
    } finally {
      await measured.stop();
    }
    const db = join(dir, 's.db');
    assert.equal(runCli(['ingest', '--db', db, samples]).code, 0);
    const rec = runCli(['recommend', '--db', db, '--json', '--quota', String(QUOTA)]);
    assert.equal(rec.code, 0, rec.stderr);
    report = JSON.parse(rec.stdout) as AnalysisReport;
    const advice = report.recommendations.find((r) => r.id === 'auto-compaction');
    assert.ok(advice?.predictedMaxDbBytes, 'an auto-compaction recommendation with a predicted bound');
    const retention = advice.etcdFlags.find((f) => f.startsWith('--auto-compaction-retention='))!.split('=')[1]!;
    const retentionMs = parseDuration(retention);
    const bound = advice.predictedMaxDbBytes;
    const full = JSON.parse(runCli(['growth', '--db', db, '--json']).stdout) as Pick<AnalysisReport, 'growth'>;
    const bytesPerMs = full.growth.bytesPerHour! / 3_600_000;

    // 2. Verify: the recommended flags, the same load, several retention periods.
    const runMs = Math.max(4 * retentionMs + 60_000, 5 * 60_000);
    // Without compaction the same load would pass the bound: the test can fail.
    assert.ok(bytesPerMs * runMs > bound, `uncompacted growth ${Math.round(bytesPerMs * runMs)} B must exceed the bound ${bound} B`);
    const verified = await startEtcd({ quotaBytes: QUOTA, extraArgs: advice.etcdFlags });
    try {
      const sampler = startStatusSampler(verified, join(dir, 'verify.log'), 2000);
      const stats = await runPatroniShapedLoad(verified, { scope: 'pg_verify', cycleMs: CYCLE_MS, durationMs: runMs });
      await sampler.stop();
      assert.equal(stats.failed, 0);
      const max = sampler.maxDbSize();
      assert.ok(max > 0);
      t.diagnostic(`measured ${full.growth.revisionsPerHour} rev/h, ${full.growth.bytesPerRevision} B/rev; recommended ${advice.etcdFlags.join(' ')}; ` +
        `predicted bound ${bound} B; uncompacted growth over ${runMs / 1000}s would be ${Math.round(bytesPerMs * runMs)} B; max DB size seen ${max} B`);
      assert.ok(max <= bound, `max DB size ${max} B under the predicted ${bound} B (retention ${retention}, ${stats.puts} puts)`);
    } finally {
      await verified.stop();
    }
  } finally {
    cleanup();
  }
});

function parseDuration(s: string): number {
  const m = /^(\d+)(m|h)$/.exec(s);
  assert.ok(m, `retention ${s}`);
  return Number(m[1]) * (m[2] === 'h' ? 3_600_000 : 60_000);
}
