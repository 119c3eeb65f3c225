// Issue 3 on the real etcd 3.4.23 capture (test/fixtures/etcd-3.4): NOSPACE time, back-tested
// projection, timeline of the recovery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { runCli, tempDir, FIXTURES } from './helpers/cli.js';
import type { AnalysisReport } from '../src/analyze/types.js';

const E34 = join(FIXTURES, 'etcd-3.4');

function withCapture<T>(fn: (db: string) => T): T {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const r = runCli(['ingest', '--db', db, '--tz', 'Asia/Shanghai',
      join(E34, 'etcd-zap.log'), join(E34, 'etcd-capnslog.log'), join(E34, 'status-samples.log')]);
    assert.equal(r.code, 0, r.stderr);
    return fn(db);
  } finally {
    cleanup();
  }
}

const analyze = (db: string, ...args: string[]): AnalysisReport => {
  const r = runCli(['analyze', '--db', db, '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AnalysisReport;
};

/** The zap member's own `alarm raised` line, read straight from the file. */
function alarmLineMs(): number {
  const line = readFileSync(join(E34, 'etcd-zap.log'), 'utf8').split('\n').find((l) => l.includes('"msg":"alarm raised"'))!;
  const ts = (JSON.parse(line) as { ts: string }).ts; // 2026-11-24T07:28:37.799+0800
  return Date.parse(ts.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}

test('capture: the NOSPACE time agrees with the etcd log to the second; quota read from the log', () => {
  withCapture((db) => {
    const r = analyze(db);
    assert.ok(Math.abs(Date.parse(r.incident.nospaceAt!) - alarmLineMs()) < 1000, `${r.incident.nospaceAt}`);
    assert.equal(r.projection.quotaBytes, 1048576);
    assert.equal(r.projection.quotaSource.source, 'etcd-log');
    assert.equal(r.incident.members.length, 2, 'both members logged the alarm');
    assert.ok(r.incident.recoveredAt && Date.parse(r.incident.recoveredAt) > Date.parse(r.incident.nospaceAt!));
  });
});

test('capture: a projection made when the DB reached half the quota lands within 20% of the real time to NOSPACE', () => {
  withCapture((db) => {
    const half = JSON.parse(runCli(['query', '--db', db, '--json',
      'SELECT min(ts_ms) AS t FROM status_samples WHERE db_size_bytes >= 1048576 / 2']).stdout)[0].t as number;
    const until = new Date(half).toISOString();
    const r = analyze(db, '--until', until);
    assert.equal(r.until, until);
    assert.equal(r.incident.nospaceAt, null, 'the alarm is not yet known at --until');
    const eta = Date.parse(r.projection.etaAt!);
    const real = alarmLineMs();
    const err = Math.abs((eta - half) - (real - half)) / (real - half);
    assert.ok(err < 0.2, `predicted ${(eta - half) / 1000}s, real ${(real - half) / 1000}s`);
    assert.ok(Date.parse(r.projection.etaLow!) <= eta && eta <= Date.parse(r.projection.etaHigh!));
  });
});

test('capture: growth from status samples: revisions/s and bytes/revision in the range the writer produced', () => {
  withCapture((db) => {
    const g = analyze(db).growth;
    assert.equal(g.method, 'theil-sen over status samples');
    // The writer put 4 keys every 100 ms (at most 40 rev/s) of ~190-byte values.
    assert.ok(g.revisionsPerSecond! > 25 && g.revisionsPerSecond! <= 40, `${g.revisionsPerSecond}`);
    assert.ok(g.bytesPerRevision! > 200 && g.bytesPerRevision! < 400, `${g.bytesPerRevision}`);
    assert.equal(g.members.length, 2);
  });
});

test('capture: the timeline orders alarm, failed writes, compaction, defrag per member and disarm', () => {
  withCapture((db) => {
    const t = analyze(db).timeline;
    const first = (kind: string) => t.findIndex((e) => e.kind === kind);
    for (const k of ['etcd.alarm.raised', 'etcd.compaction.finished', 'etcd.defrag.finished', 'etcd.alarm.disarmed']) {
      assert.ok(first(k) >= 0, `${k} in the timeline`);
    }
    assert.ok(first('etcd.alarm.raised') < first('etcd.compaction.finished'));
    assert.ok(first('etcd.compaction.finished') < first('etcd.alarm.disarmed'));
    // Failed writes are counted per minute, not listed one by one.
    const failed = t.filter((e) => e.kind === 'etcd.apply.failed');
    assert.ok(failed.length > 0 && failed.length <= 8);
    assert.ok(failed.some((e) => e.count > 1));
    // Timed entries are in time order (operator actions a paste gives no time have at: null).
    const timed = t.filter((e) => e.at !== null);
    const sorted = [...timed].sort((a, b) => a.at!.localeCompare(b.at!));
    assert.deepEqual(timed.map((e) => e.at), sorted.map((e) => e.at));
  });
});
