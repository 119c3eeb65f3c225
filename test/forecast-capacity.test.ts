// Issue 12 on REAL captures (scripts/capture/capacity-capture.sh; etcd 3.4.23 and 3.5.16, one member,
// Patroni-shaped writes): settings in force, bounded verdicts under auto-compaction, ETAs at half the quota
// without compaction, and `project --backtest`. No servers here: the committed fixtures are ingested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { runCli, tempDir, FIXTURES } from './helpers/cli.js';
import type { AnalysisReport } from '../src/analyze/types.js';

const E34 = join(FIXTURES, 'etcd-3.4-capacity');
const E35 = join(FIXTURES, 'etcd-3.5.16-capacity');
const DAY = 86_400_000;

function withRun<T>(dir: string, fn: (db: string) => T): T {
  const { dir: tmp, cleanup } = tempDir();
  try {
    const db = join(tmp, 's.db');
    const r = runCli(['ingest', '--db', db, join(dir, 'etcd.log'), join(dir, 'status-samples.log')]);
    // etcd 3.5.16's grpc-gateway prints Go std-logger lines into the same stream
    // (`2026/11/30 09:22:09 ERROR: Failed to decode request: http: invalid Read on closed Body`): read as events.
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /skipped/);
    return fn(db);
  } finally {
    cleanup();
  }
}

const run = (cmd: string, db: string, ...args: string[]): AnalysisReport => {
  const r = runCli([cmd, '--db', db, '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AnalysisReport;
};

/** The first `date` marker whose following status line shows dbSize ≥ half the quota. */
function halfQuotaSample(dir: string, quota: number): string {
  let at = '';
  for (const line of readFileSync(join(dir, 'status-samples.log'), 'utf8').split('\n')) {
    if (/^\d{4}-/.test(line)) at = line.trim();
    const m = /"dbSize":(\d+)/.exec(line);
    if (m && Number(m[1]) >= quota / 2) return at;
  }
  throw new Error('never reached half the quota');
}

/** zap `alarm raised` in the member's log: the real NOSPACE. */
function alarmAt(dir: string): number {
  const line = readFileSync(join(dir, 'etcd.log'), 'utf8').split('\n').find((l) => l.includes('"msg":"alarm raised"'))!;
  return Date.parse(JSON.parse(line).ts.replace(/(\d\d)(\d\d)$/, '$1:$2'));
}

for (const [label, dir] of [['3.4.23 periodic 1m', join(E34, 'periodic')], ['3.5.16 periodic 1m', join(E35, 'periodic')], ['3.4.23 revision 1000', join(E34, 'revision')]] as const) {
  test(`capacity ${label}: settings found with file:line, verdict bounded, no ETA within 30 days, compaction kept`, () => {
    withRun(dir, (db) => {
      const r = run('analyze', db);
      const p = r.projection;
      assert.equal(p.verdict, 'bounded', p.method ?? '');
      assert.equal(p.etaAt, null);
      assert.equal(p.quotaBytes, 8388608);
      assert.match(p.method!, /^bounded at about [\d.]+ [kM]B \(\d+\.\d% of the quota\)/);
      assert.ok(p.boundBytes! > 100_000 && p.boundBytes! < 0.5 * 8388608, `${p.boundBytes}`);
      const lastSample = Date.parse(p.lastSampleAt!);
      assert.ok(p.etaAt === null || Date.parse(p.etaAt) > lastSample + 30 * DAY);
      const settings = r.growth.evidence.map((e) => e.detail).filter((d) => d.startsWith('setting in force: '));
      const mode = label.includes('revision') ? 'revision' : 'periodic';
      assert.ok(settings.some((d) => new RegExp(`auto-compaction-mode ${mode} .*etcd\\.log:\\d+$`).test(d)), settings.join('\n'));
      assert.ok(settings.some((d) => /quota-backend-bytes 8388608 .*etcd\.log:\d+$/.test(d)), settings.join('\n'));
      assert.ok(settings.some((d) => /compaction seen running [2-9] time/.test(d)), settings.join('\n'));
      if (mode === 'revision') assert.ok(settings.some((d) => d.includes('auto-compaction-retention 1000 revisions')), settings.join('\n'));
      // Bytes per revision within regimes: the writer's ~190-byte values, not history over a compaction.
      assert.ok(r.growth.bytesPerRevision! > 200 && r.growth.bytesPerRevision! < 400, `${r.growth.bytesPerRevision}`);
      // No NOSPACE in these runs: hindsight never claims "before NOSPACE".
      for (const h of r.hindsight) assert.ok(!/before NOSPACE/.test(h.note.replace('no NOSPACE', '')), h.note);
      const rec = r.recommendations.find((x) => x.id === 'auto-compaction')!;
      assert.match(rec.title, /^Keep the auto-compaction in force/);
      assert.deepEqual(rec.etcdFlags, []);
    });
  });
}

test('capacity steady (no compaction, constant rate): ETA at half the quota within ±10% of the real NOSPACE, interval contains it', () => {
  const dir = join(E34, 'steady');
  withRun(dir, (db) => {
    const half = halfQuotaSample(dir, 2097152);
    const p = run('project', db, '--until', half).projection;
    const real = alarmAt(dir);
    const from = Date.parse(p.lastSampleAt!);
    assert.equal(p.verdict, 'growing');
    const err = (Date.parse(p.etaAt!) - real) / (real - from);
    assert.ok(Math.abs(err) <= 0.10, `ETA ${p.etaAt} vs NOSPACE ${new Date(real).toISOString()}: ${(100 * err).toFixed(1)}% of the time left`);
    assert.ok(Date.parse(p.etaLow!) <= real && (p.etaHigh === null || Date.parse(p.etaHigh) >= real), `${p.etaLow} … ${p.etaHigh}`);
  });
});

test('capacity triple (rate tripled after 120 s): the rate change is a regime, ETA within ±15%, interval contains it', () => {
  const dir = join(E34, 'triple');
  withRun(dir, (db) => {
    const half = halfQuotaSample(dir, 2097152);
    const p = run('project', db, '--until', half).projection;
    const real = alarmAt(dir);
    const from = Date.parse(p.lastSampleAt!);
    assert.ok(p.evidence.some((e) => /current since rate-change at .*status-samples\.log:\d+/.test(e.detail)), p.evidence.map((e) => e.detail).join('\n'));
    const err = (Date.parse(p.etaAt!) - real) / (real - from);
    assert.ok(Math.abs(err) <= 0.15, `ETA ${p.etaAt} vs NOSPACE ${new Date(real).toISOString()}: ${(100 * err).toFixed(1)}%`);
    assert.ok(Date.parse(p.etaLow!) <= real && (p.etaHigh === null || Date.parse(p.etaHigh) >= real), `${p.etaLow} … ${p.etaHigh}`);
  });
});

test('project --backtest on a NOSPACE run: origins before the alarm, error in seconds, coverage after widening ≥ 95%', () => {
  withRun(join(E34, 'steady'), (db) => {
    const r = runCli(['project', '--db', db, '--backtest']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /BACK-TEST \(truth: the time the quota was reached/);
    const bt = run('project', db, '--backtest').projection.backtest!;
    assert.equal(bt.truth, 'nospace-time');
    assert.ok(bt.origins >= 20, `${bt.origins}`);
    assert.equal(bt.details.length, bt.origins);
    assert.ok(bt.coveredAfter >= Math.ceil(0.95 * bt.origins) || bt.k === 100, bt.summary);
    assert.ok(bt.medianAbsError! < 60_000, bt.summary);
    assert.match(bt.summary, /interval widened ×[\d.]+ so that \d+\/\d+ back-tests were covered|not widened/);
  });
});
