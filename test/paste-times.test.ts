// A pasted shell session's file time says when it was saved, not when its commands ran: nothing read from
// it may take the file's mtime, even when detection calls it etcdctl output rather than a transcript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, runCli, tempDir } from './helpers/cli.js';

test('a real pasted recovery session (partial-recovery-3.5.16) gives no record the file mtime; times are whole ms', () => {
  const t = tempDir();
  try {
    const paste = join(t.dir, 'transcript.txt');
    copyFileSync(join(FIXTURES, 'partial-recovery-3.5.16', 'transcript.txt'), paste);
    // A save time far from the session: a record that took it would stand out.
    utimesSync(paste, new Date('2027-03-01T12:00:00.123Z'), new Date('2027-03-01T12:00:00.456Z'));
    const db = join(t.dir, 's.db');
    const ing = runCli(['ingest', '--db', db, paste]);
    assert.equal(ing.code, 0, ing.stderr);
    const q = (sql: string): Record<string, unknown>[] => {
      const r = runCli(['query', '--db', db, '--json', sql]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as Record<string, unknown>[];
    };
    const mtimed = q(`SELECT 'event' AS t, line, kind FROM events WHERE time_basis = 'mtime'
                      UNION ALL SELECT 'status', line, endpoint FROM status_samples WHERE time_basis = 'mtime'`);
    assert.deepEqual(mtimed, []);
    // The empty `alarm list` after the final disarm is still read, untimed or at its `date` line.
    const none = q(`SELECT line, ts_ms, time_basis FROM events WHERE kind = 'etcdctl.alarm.none'`);
    assert.ok(none.length >= 1, 'the empty alarm list is read');
    for (const n of none) assert.notEqual(n['time_basis'], 'mtime');
    const frac = q(`SELECT COUNT(*) AS n FROM events WHERE ts_ms IS NOT NULL AND ts_ms <> CAST(ts_ms AS INTEGER)`);
    assert.equal(frac[0]?.['n'], 0);
  } finally {
    t.cleanup();
  }
});

test('plain etcdctl output with no prompt still takes the file mtime (a saved cron sample), in whole ms', () => {
  const t = tempDir();
  try {
    const out = join(t.dir, 'status.json');
    copyFileSync(join(FIXTURES, 'etcd-3.5.16', 'endpoint-status.json.txt'), out);
    utimesSync(out, new Date('2027-03-01T12:00:00.123Z'), new Date('2027-03-01T12:00:00.456Z'));
    const db = join(t.dir, 's.db');
    assert.equal(runCli(['ingest', '--db', db, out]).code, 0);
    const r = runCli(['query', '--db', db, '--json', `SELECT DISTINCT ts_ms, time_basis FROM status_samples`]);
    assert.deepEqual(JSON.parse(r.stdout), [{ ts_ms: Date.parse('2027-03-01T12:00:00.456Z'), time_basis: 'mtime' }]);
  } finally {
    t.cleanup();
  }
});
