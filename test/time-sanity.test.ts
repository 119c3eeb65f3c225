// Time sanity on real captures: the etcd 3.4 pair (etcd1's zap log with explicit +08:00 offsets, etcd2's
// capnslog log in local time without a zone, both written under TZ=Asia/Shanghai) and the Patroni incident
// sample (etcd1 zap; pg1's Patroni log in the host's zone, UTC, without a zone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, tempDir, FIXTURES, ROOT } from './helpers/cli.js';
import { openStore } from '../src/store/open.js';
import { checkTimeSanity } from '../src/analyze/time-sanity.js';

const ZAP = join(FIXTURES, 'etcd-3.4', 'etcd-zap.log');
const CAPN = join(FIXTURES, 'etcd-3.4', 'etcd-capnslog.log');
const SAMPLE = join(ROOT, 'samples', 'patroni-nospace');

function findings(db: string): ReturnType<typeof checkTimeSanity> {
  const d = openStore(db, { readonly: true });
  try {
    return checkTimeSanity(d);
  } finally {
    d.close();
  }
}

test('capnslog read without --tz: its alarm line is 8 h after zap\'s, and --tz +08:00 reconciles them', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const r = runCli(['ingest', '--db', db, ZAP, CAPN]);
    assert.equal(r.code, 0, r.stderr);
    const [f, ...rest] = findings(db);
    assert.equal(rest.length, 0);
    // zap line 102 `"ts":"2026-11-24T07:28:37.799+0800","msg":"alarm raised"`; capnslog line 75
    // `2026-11-24 07:28:37.797079 W | etcdserver: alarm NOSPACE raised by peer …` read as UTC.
    assert.equal(f!.suspect.path, CAPN);
    assert.equal(f!.suspect.line, 75);
    assert.equal(f!.suspect.kind, 'etcd.alarm.raised');
    assert.equal(f!.suspect.ms, Date.parse('2026-11-24T07:28:37.797Z'));
    assert.equal(f!.reference.path, ZAP);
    assert.equal(f!.reference.line, 102);
    assert.equal(f!.reference.ms, Date.parse('2026-11-24T07:28:37.799+08:00'));
    assert.equal(f!.offsetMs, 8 * 3_600_000 - 2);
    assert.equal(f!.zoneShiftMin, 480);
    assert.equal(f!.reconcileTz, '+08:00');
    assert.equal(f!.ambiguous, false);
    // The ingest summary says so, with the commands.
    assert.match(r.stdout, /time sanity: .*etcd-capnslog\.log:75 \(etcd2\) alarm raised is 8h00m later than .*etcd-zap\.log:102 \(etcd1\) alarm raised/);
    assert.match(r.stdout, /--tz \+08:00 would reconcile them \(etcd-forensics sources rm 2 && etcd-forensics ingest --tz \+08:00 .*etcd-capnslog\.log\)/);

    // Followed: nothing left to say.
    assert.equal(runCli(['sources', '--db', db, 'rm', '2']).code, 0);
    const fixed = runCli(['ingest', '--db', db, '--tz', '+08:00', CAPN]);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.doesNotMatch(fixed.stdout, /time sanity/);
    assert.deepEqual(findings(db), []);
  } finally {
    cleanup();
  }
});

test('read with a wrong --tz: the zone it was read in counts, the reconciling --tz is still +08:00', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    assert.equal(runCli(['ingest', '--db', db, ZAP]).code, 0);
    const r = runCli(['ingest', '--db', db, '--tz', 'America/New_York', CAPN]);
    assert.equal(r.code, 0, r.stderr);
    const [f] = findings(db);
    assert.equal(f!.suspect.assumedTz, 'America/New_York');
    assert.equal(f!.zoneShiftMin, 13 * 60); // EST is -05:00 in November
    assert.equal(f!.reconcileTz, '+08:00');
    assert.match(r.stdout, /zone-less times were read in America\/New_York; --tz \+08:00 would reconcile them/);
  } finally {
    cleanup();
  }
});

test("Patroni's first NOSPACE error 8 h before etcd's alarm: the Patroni log was read in the wrong zone", () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const etcd1 = join(SAMPLE, 'etcd', 'etcd1.log');
    const pg1 = join(SAMPLE, 'patroni', 'pg1', 'patroni.log');
    assert.equal(runCli(['ingest', '--db', db, etcd1]).code, 0);
    // The host ran in UTC; reading pg1's zone-less lines as Asia/Shanghai puts them 8 h early.
    const r = runCli(['ingest', '--db', db, '--tz', 'Asia/Shanghai', pg1]);
    assert.equal(r.code, 0, r.stderr);
    const [f, ...rest] = findings(db);
    assert.equal(rest.length, 0);
    assert.equal(f!.suspect.path, pg1);
    assert.equal(f!.suspect.kind, 'patroni.nospace');
    assert.equal(f!.reference.path, etcd1);
    assert.equal(f!.reference.kind, 'etcd.alarm.raised');
    assert.equal(f!.zoneShiftMin, -480);
    assert.equal(f!.reconcileTz, '+00:00');
    // Patroni saw the error after the alarm once the zone is right: within its HA loop and retries.
    const lag = f!.offsetMs + 8 * 3_600_000;
    assert.ok(lag >= 0 && lag < 60_000, `lag ${lag} ms`);
    assert.match(r.stdout, /patroni\.log:\d+ \(pg1\) first NOSPACE error is 8h00m earlier than .*etcd1\.log:\d+ \(etcd1\) alarm raised/);
    // Read right (as UTC), Patroni and etcd agree.
    assert.equal(runCli(['sources', '--db', db, 'rm', pg1]).code, 0);
    assert.equal(runCli(['ingest', '--db', db, pg1]).code, 0);
    assert.deepEqual(findings(db), []);
  } finally {
    cleanup();
  }
});
