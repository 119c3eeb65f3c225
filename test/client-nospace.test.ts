// A client's view of NOSPACE, alone: a post that holds only `etcdctl put`, the client's retry warning and its
// `Error: … database space exceeded` (etcd#11947's shape). The lines are REAL: lines 60–62 of the etcd 3.5.16
// partial-recovery transcript (scripts/capture/partial-recovery.sh), the prompt taken off as posts paste them.
// The quota was refusing writes at the warning's time: the verdict must say NOSPACE then (an upper bound from a
// client, not the alarm itself), and the timeline must show the refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, FIXTURES } from './helpers/cli.js';

test("a client's `database space exceeded` alone: NOSPACE at the warning's time (client evidence, upper bound), shown in the timeline", () => {
  const real = readFileSync(join(FIXTURES, 'partial-recovery-3.5.16', 'transcript.txt'), 'utf8').split('\n').slice(59, 62);
  assert.match(real[1]!, /"ts":"2026-11-30T04:15:22\.681675Z".*retrying of unary invoker failed/);
  const { dir, cleanup } = tempDir('ef-client-nospace-');
  try {
    const post = join(dir, 'post.txt');
    writeFileSync(post, [real[0]!.replace(/^\[root@pg-etcd-1 ~\]# /, ''), real[1]!, real[2]!, ''].join('\n'));
    const db = join(dir, 's.db');
    const ing = runCli(['ingest', '--db', db, post]);
    assert.equal(ing.code, 0, ing.stderr);
    assert.match(ing.stdout, /transcript, 3 records/);
    const json = runCli(['analyze', '--db', db, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const a = JSON.parse(json.stdout) as { incident: { nospaceAt: string | null; recoveredAt: string | null; evidence: { source: string; completeness: string; detail: string }[] }; timeline: { kind: string; count: number; summary: string }[] };
    assert.equal(a.incident.nospaceAt, '2026-11-30T04:15:22.681Z');
    assert.equal(a.incident.recoveredAt, null);
    const ev = a.incident.evidence[0]!;
    assert.equal(ev.source, 'etcdctl-output');
    assert.equal(ev.completeness, 'approximate');
    assert.match(ev.detail, /a client was refused with `database space exceeded` at .*post\.txt:2 \(an upper bound/);
    const refused = a.timeline.filter((t) => t.kind === 'etcdctl.client.error');
    assert.equal(refused.reduce((s, t) => s + t.count, 0), 1, 'the timed warning (the untimed `Error:` line has no time)');
    assert.match(refused[0]!.summary, /requests refused as a client saw them: 1 database space exceeded/);
    const screen = runCli(['analyze', '--db', db]);
    assert.match(screen.stdout.split('\n')[0]!, /^VERDICT\s+NOSPACE 2026-11-30 04:15:22 UTC; not recovered in the data/);
  } finally {
    cleanup();
  }
});

test('NOSPACE shown only by records without a time: the verdict says so and names the record, and invents no time', () => {
  // Line 62 of the same real transcript: etcdctl 3.5.16's `Error: etcdserver: mvcc: database space exceeded`, which
  // carries no time, pasted alone after its command (prompt taken off).
  const real = readFileSync(join(FIXTURES, 'partial-recovery-3.5.16', 'transcript.txt'), 'utf8').split('\n');
  assert.equal(real[61], 'Error: etcdserver: mvcc: database space exceeded');
  const { dir, cleanup } = tempDir('ef-client-untimed-');
  try {
    const post = join(dir, 'untimed.txt');
    writeFileSync(post, [real[59]!.replace(/^\[root@pg-etcd-1 ~\]# /, ''), real[61]!, ''].join('\n'));
    const db = join(dir, 's.db');
    assert.equal(runCli(['ingest', '--db', db, post]).code, 0);
    const a = JSON.parse(runCli(['analyze', '--db', db, '--json']).stdout) as { incident: { nospaceAt: string | null; nospaceUntimedSource: string | null; evidence: { detail: string }[] }; verdict: { status: string; headline: string } };
    assert.equal(a.incident.nospaceAt, null);
    assert.match(a.incident.nospaceUntimedSource!, /untimed\.txt:2$/);
    assert.ok(a.incident.evidence.some((e) => /a record without a time: when it struck is not in the data/.test(e.detail)));
    assert.equal(a.verdict.status, 'nospace');
    assert.equal(a.verdict.headline, 'NOSPACE in the data at no known time (untimed.txt:2); not recovered in the data');
    const md = runCli(['report', '--db', db, '--format', 'md']).stdout;
    assert.match(md, /NOSPACE is in the data \(at .*untimed\.txt:2\) but no record of it has a time/);
  } finally {
    cleanup();
  }
});

test("etcd's own quota line alone (`message exceeded backend quota; raising alarm`, etcd 3.4.23 zap) dates the NOSPACE", () => {
  const line = readFileSync(join(FIXTURES, 'etcd-3.4', 'etcd-zap.log'), 'utf8').split('\n')[94]!;
  assert.match(line, /"ts":"2026-11-24T07:28:37\.791\+0800".*"msg":"message exceeded backend quota; raising alarm"/);
  const { dir, cleanup } = tempDir('ef-quota-line-');
  try {
    const log = join(dir, 'quota.log');
    writeFileSync(log, `${line}\n`);
    const db = join(dir, 's.db');
    assert.equal(runCli(['ingest', '--db', db, log]).code, 0);
    const a = JSON.parse(runCli(['analyze', '--db', db, '--json']).stdout) as { incident: { nospaceAt: string | null; evidence: { source: string; completeness: string; detail: string }[] } };
    assert.equal(a.incident.nospaceAt, '2026-11-23T23:28:37.791Z');
    assert.match(a.incident.evidence[0]!.detail, /message exceeded backend quota; raising alarm at .*quota\.log:1/);
  } finally {
    cleanup();
  }
});

test('a pasted `endpoint status -w table` alone, its ERRORS column listing alarm:NOSPACE (etcd 3.5.16): NOSPACE at no known time, and the size it shows', () => {
  const table = readFileSync(join(FIXTURES, 'etcd-3.5.16', 'endpoint-status.table.txt'), 'utf8');
  assert.match(table, /alarm:NOSPACE/);
  const { dir, cleanup } = tempDir('ef-table-untimed-');
  try {
    const post = join(dir, 'post.txt');
    writeFileSync(post, `$ etcdctl endpoint status --cluster -w table\n${table}`);
    const db = join(dir, 's.db');
    assert.equal(runCli(['ingest', '--db', db, post]).code, 0);
    const a = JSON.parse(runCli(['analyze', '--db', db, '--json']).stdout) as {
      incident: { nospaceAt: string | null; nospaceUntimedSource: string | null };
      projection: { lastSizeBytes: number | null; lastSampleAt: string | null; evidence: { detail: string }[] };
      verdict: { status: string };
    };
    assert.equal(a.incident.nospaceAt, null);
    assert.match(a.incident.nospaceUntimedSource!, /post\.txt:\d+$/);
    assert.equal(a.verdict.status, 'nospace');
    // The largest DB SIZE cell of the table, as etcdctl printed it (humanized: approximate).
    const sizes = [...table.matchAll(/\|\s*([\d.]+ [kMG]B)\s*\|/g)].map((m) => m[1]!);
    assert.deepEqual(sizes, ['262 kB', '258 kB']);
    assert.equal(a.projection.lastSizeBytes, 262_000);
    assert.equal(a.projection.lastSampleAt, null);
    assert.ok(a.projection.evidence.some((e) => /a status call without a time: no time series, no forecast/.test(e.detail)));
  } finally {
    cleanup();
  }
});

test('the seed alone: the verdict says the alarm was disarmed later at a time not in the data (compact, defrag, disarm untimed, in order)', () => {
  const { dir, cleanup } = tempDir('ef-seed-verdict-');
  try {
    const db = join(dir, 's.db');
    assert.equal(runCli(['ingest', '--db', db, join(FIXTURES, 'seed', 'etcd-no-space-incident.txt')]).code, 0);
    const a = JSON.parse(runCli(['analyze', '--db', db, '--json']).stdout) as { incident: { recoveredAt: string | null }; verdict: { headline: string }; timeline: { at: string | null; kind: string }[] };
    assert.equal(a.incident.recoveredAt, null);
    assert.equal(a.verdict.headline, 'NOSPACE 2023-09-23 20:30:23 UTC; alarm disarmed later, at a time not in the data');
    const ops = a.timeline.filter((t) => t.kind.startsWith('operator.') && t.kind !== 'operator.snapshot.save');
    assert.deepEqual(ops.map((t) => [t.kind, t.at]), [['operator.compact', null], ['operator.defrag', null], ['operator.alarm.disarm', null]]);
  } finally {
    cleanup();
  }
});
