// etcdctl output parser, on real captured output only: the etcd 3.5.1 seed transcript and the
// etcd 3.4.23 captures in test/fixtures/etcd-3.4/.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { createEtcdctlParser, looksLikeEtcdctlOutput } from '../src/ingest/etcdctl.js';
import type {
  AlarmRecord, HealthSample, MemberRecord, ParseIssue, ParseOutput, SnapshotStatusRecord, StatusSample,
} from '../src/model.js';

const CTX = { tz: null, member: null, referenceMs: Date.UTC(2026, 0, 1) };
const fixture = (rel: string) => fileURLToPath(new URL(`fixtures/${rel}`, import.meta.url));

function parseLines(lines: readonly string[], tolerant = false, firstLine = 1): ParseOutput[] {
  const p = createEtcdctlParser(CTX, { tolerant });
  return [...lines.flatMap((l, i) => p.push(l, firstLine + i)), ...p.end()];
}

function readLines(rel: string): string[] {
  const text = readFileSync(fixture(rel), 'utf8');
  return text.replace(/\n$/, '').split('\n');
}

const ofKind = <K extends ParseOutput['kind']>(out: ParseOutput[], kind: K) =>
  out.filter((o): o is Extract<ParseOutput, { kind: K }> => o.kind === kind);

// ---- seed: etcd 3.5.1, tables with padding collapsed to single spaces ------------------------------

describe('seed transcript (etcd 3.5.1)', () => {
  const lines = readLines('seed/etcd-no-space-incident.txt');
  // Lines from..to (1-based, inclusive), parsed in normal mode with their line numbers.
  const block = (from: number, to: number) => parseLines(lines.slice(from - 1, to), false, from);
  const whole = parseLines(lines, true);

  it('finds every etcdctl output in the whole transcript, tolerant of the prose', () => {
    assert.equal(ofKind(whole, 'issue').length, 0);
    assert.equal(ofKind(whole, 'status').length, 9);
    assert.equal(ofKind(whole, 'health').length, 3);
    assert.equal(ofKind(whole, 'snapshot-status').length, 1);
    assert.equal(ofKind(whole, 'alarm').length, 1);
  });

  it('reports the prose as issues in normal mode, and still finds the outputs', () => {
    const strict = parseLines(lines, false);
    const reasons = new Set(ofKind(strict, 'issue').map((i) => i.reason));
    assert.deepEqual([...reasons].sort(), ['not etcdctl output', 'table with no etcdctl header']);
    // patronictl's table: one issue for its header, none for its rows
    assert.deepEqual(ofKind(strict, 'issue').filter((i) => i.line >= 28 && i.line <= 34).map((i) => i.line), [29]);
    assert.equal(ofKind(strict, 'status').length, 9);
  });

  it('parses the status table with ERRORS cells wrapped onto continuation rows', () => {
    const out = block(69, 78);
    assert.deepEqual(ofKind(out, 'issue'), []);
    const rows = ofKind(out, 'status');
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => [r.endpoint, r.memberId, r.isLeader]), [
      ['http://10.1.1.18:2379', '194439f4d645e54f', false],
      ['http://10.1.1.19:2379', '6d4e068b57712188', true],
      ['http://10.1.1.17:2379', 'a9efa80d3e8e6681', false],
    ]);
    for (const r of rows) {
      assert.equal(r.format, 'table');
      assert.equal(r.version, '3.5.1');
      assert.equal(r.dbSizeBytes, 2_100_000_000);
      assert.equal(r.dbSizeApprox, true);
      assert.equal(r.raftTerm, 80);
      assert.equal(r.raftIndex, 11549461);
      assert.equal(r.raftAppliedIndex, 11549461);
      assert.equal(r.isLearner, false);
      assert.deepEqual(r.errors, ['memberID:1820643873094231375 alarm:NOSPACE']);
      assert.deepEqual(r.alarms, ['NOSPACE']);
      assert.equal(r.time, null);
    }
    assert.deepEqual(rows.map((r) => r.line), [72, 74, 76]);
  });

  it('parses the post-defrag table (33 kB on the defragmented leader)', () => {
    const rows = ofKind(block(108, 117), 'status');
    assert.deepEqual(rows.map((r) => r.dbSizeBytes), [2_100_000_000, 33_000, 2_100_000_000]);
    assert.ok(rows.every((r) => r.raftIndex === 11549268 && r.alarms[0] === 'NOSPACE'));
  });

  it('parses the final table, cut before its bottom border, with empty ERRORS', () => {
    const out = block(123, lines.length);
    const rows = ofKind(out, 'status');
    assert.equal(rows.length, 3);
    assert.ok(rows.every((r) => r.dbSizeBytes === 41_000 && r.errors.length === 0 && r.alarms.length === 0));
  });

  it('parses the health table', () => {
    const out = block(61, 67);
    assert.deepEqual(ofKind(out, 'issue'), []);
    const rows = ofKind(out, 'health');
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[0], {
      kind: 'health', line: 64, time: null, format: 'table', endpoint: 'http://10.1.1.19:2379',
      healthy: false, tookMs: 1.185127, error: 'Active Alarm(s): NOSPACE',
    } satisfies HealthSample);
    assert.equal(rows[2]!.tookMs, 0.894418); // `894.418µs`
  });

  it('parses the snapshot status table and the alarm list line', () => {
    const snap = ofKind(block(88, 92), 'snapshot-status');
    assert.deepEqual(snap, [{
      kind: 'snapshot-status', line: 91, time: null, format: 'table', hash: 'da76f994', revision: 6662600,
      totalKeys: 23, totalSizeBytes: 2_100_000_000, totalSizeApprox: true,
    } satisfies SnapshotStatusRecord]);
    const alarms = block(97, 97);
    assert.deepEqual(alarms, [{ kind: 'alarm', line: 97, time: null, memberId: '1820643873094231375', alarm: 'NOSPACE' } satisfies AlarmRecord]);
  });

  it('recognises etcdctl lines by content', () => {
    for (const n of [61, 62, 64, 69, 70, 72, 88, 91, 97]) assert.ok(looksLikeEtcdctlOutput(lines[n - 1]!), `line ${n}`);
    for (const n of [1, 21, 30, 58, 79]) assert.ok(!looksLikeEtcdctlOutput(lines[n - 1]!), `line ${n}`);
  });
});

// ---- timestamp markers ---------------------------------------------------------------------------

describe('timestamp marker lines', () => {
  const row = '| http://10.1.1.18:2379 | 194439f4d645e54f | 3.5.1 | 2.1 GB | false | false | 80 | 11549461 | 11549461 | |';
  const header = '| ENDPOINT | ID | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX | ERRORS |';
  const timeAfter = (marker: string, tz: string | null = null) => {
    const p = createEtcdctlParser({ ...CTX, tz });
    const out = [marker, header, row].flatMap((l, i) => p.push(l, i + 1)).concat(p.end());
    return ofKind(out, 'status')[0]?.time;
  };
  const at = Date.UTC(2026, 10, 23, 23, 15, 56);

  it('reads date -Is, ISO with fraction, date -u +%FT%T.%3NZ and epoch lines as explicit markers', () => {
    assert.deepEqual(timeAfter('2026-11-23T23:15:56+00:00'), { ms: at, offsetMin: 0, basis: 'marker' });
    assert.deepEqual(timeAfter('2026-11-24T07:15:56.250+08:00'), { ms: at + 250, offsetMin: 480, basis: 'marker' });
    assert.deepEqual(timeAfter('2026-11-23T23:15:56.250Z'), { ms: at + 250, offsetMin: 0, basis: 'marker' });
    assert.deepEqual(timeAfter(String(at / 1000)), { ms: at, offsetMin: 0, basis: 'marker' });
    assert.deepEqual(timeAfter(String(at + 123)), { ms: at + 123, offsetMin: 0, basis: 'marker' });
  });

  it('reads default `date` output; an ambiguous zone abbreviation falls back to --tz', () => {
    assert.deepEqual(timeAfter('Mon Nov 23 23:15:56 UTC 2026'), { ms: at, offsetMin: 0, basis: 'marker' });
    assert.deepEqual(timeAfter('Mon 23 Nov 2026 11:15:56 PM UTC'), { ms: at, offsetMin: 0, basis: 'marker' });
    assert.deepEqual(timeAfter('Tue Nov 24 00:15:56 CET 2026'), { ms: at, offsetMin: 60, basis: 'marker' });
    assert.deepEqual(timeAfter('Tue Nov 24 07:15:56 CST 2026', 'Asia/Shanghai'), { ms: at, offsetMin: null, basis: 'assumed-zone' });
    assert.deepEqual(timeAfter('2026年 11月 24日 星期二 07:15:56 CST', 'Asia/Shanghai'), { ms: at, offsetMin: null, basis: 'assumed-zone' });
  });

  it('ignores numbers outside 2000–2100 (the seed prints a bare revision, 6662600)', () => {
    assert.equal(timeAfter('6662600'), null);
    assert.equal(timeAfter('9999999999'), null);
  });
});

// ---- property tests ------------------------------------------------------------------------------

describe('never throws', () => {
  const etcdctlish = fc.oneof(
    fc.string(),
    fc.json(),
    fc.constantFrom('+---+---+', '| ENDPOINT | HEALTH | TOOK | ERROR |', '| HASH | REVISION | TOTAL KEYS | TOTAL SIZE |',
      '| | | alarm:NOSPACE |', '[', '{', '"ClusterID" : 1', '"Hash" : 1', '"Keys" : 2', '"Size" : 3', '', '}', ']',
      'memberID:1 alarm:NOSPACE', '[{"Endpoint":"x","Status":{"header":{"member_id":1e400}}}]'),
  );

  for (const tolerant of [false, true]) {
    it(`on arbitrary lines (tolerant: ${tolerant})`, () => {
      fc.assert(fc.property(fc.array(etcdctlish, { maxLength: 30 }), (lines) => {
        const out = parseLines(lines.flatMap((l) => l.split('\n')), tolerant);
        for (const o of out) assert.ok(o.kind !== 'issue' || !o.reason.startsWith('internal'), o.kind === 'issue' ? o.reason : '');
      }), { numRuns: 500 });
    });

    it(`on arbitrary JSON documents (tolerant: ${tolerant})`, () => {
      fc.assert(fc.property(fc.jsonValue(), fc.boolean(), (v, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined) ?? 'null';
        const out = parseLines(text.split('\n'), tolerant);
        for (const o of out) assert.ok(o.kind !== 'issue' || !o.reason.startsWith('internal'));
      }), { numRuns: 500 });
    });
  }

  it('looksLikeEtcdctlOutput on arbitrary text', () => {
    fc.assert(fc.property(fc.string(), (s) => typeof looksLikeEtcdctlOutput(s) === 'boolean'));
  });
});

export type { MemberRecord, ParseIssue, StatusSample };
