// etcdctl output parser, on real captured output only: the etcd 3.5.1 seed transcript and the
// etcd 3.4.23 captures in test/fixtures/etcd-3.4/.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse, stringify } from 'lossless-json';
import { createEtcdctlParser, looksLikeEtcdctlOutput } from '../src/sources/etcdctl/parser.js';
import type {
  AlarmRecord, HealthSample, LogEvent, MemberRecord, ParseOutput, SnapshotStatusRecord, StatusSample,
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

// ---- etcd 3.4.23: the same cluster state printed in every -w format -------------------------------

describe('etcd 3.4.23 captures', () => {
  const parseFile = (name: string) => parseLines(readLines(`etcd-3.4/${name}`));
  const records = <K extends ParseOutput['kind']>(name: string, kind: K) => {
    const out = parseFile(name);
    assert.deepEqual(ofKind(out, 'issue'), [], name);
    return ofKind(out, kind);
  };
  const byEndpoint = <T extends { endpoint: string }>(rows: T[]) =>
    [...rows].sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  const TWO_53 = 2n ** 53n;

  it('endpoint status: table, json, simple and fields agree', () => {
    const [table, json, simple, fields] = (['table', 'json', 'simple', 'fields'] as const)
      .map((f) => byEndpoint(records(`endpoint-status.${f}.txt`, 'status')));
    for (const rows of [table, json, simple, fields]) {
      assert.equal(rows!.length, 2);
      for (const r of rows!) {
        assert.equal(r.version, '3.4.23');
        assert.equal(r.isLearner, false);
        assert.equal(r.raftTerm, 2);
        assert.deepEqual(r.alarms, ['NOSPACE']);
        assert.equal(r.errors.length, 2); // both members raised NOSPACE
        assert.ok(r.errors.every((e) => /^memberID:\d+ alarm:NOSPACE$/.test(e)), r.errors.join(' | '));
      }
    }
    for (const rows of [json, simple, fields]) {
      assert.deepEqual(rows!.map((r) => [r.endpoint, r.memberId, r.isLeader]), table!.map((r) => [r.endpoint, r.memberId, r.isLeader]));
    }
    // The uint64 ids stay exact: JSON/fields decimals converted to hex equal what the table prints,
    // and the alarm errors name the same members in decimal.
    const memberHex = new Set(table!.map((r) => r.memberId));
    for (const r of [...json!, ...fields!]) {
      assert.ok(r.clusterId && /^[0-9a-f]{1,16}$/.test(r.clusterId));
      assert.ok(r.leaderId && memberHex.has(r.leaderId));
      for (const e of r.errors) assert.ok(memberHex.has(BigInt(/memberID:(\d+)/.exec(e)![1]!).toString(16)), e);
    }
    assert.equal(new Set([...json!, ...fields!].map((r) => r.clusterId)).size, 1);
    assert.ok([...memberHex].some((h) => BigInt(`0x${h}`) > TWO_53), 'no member id above 2^53 to test exactness on');
    // Exact sizes from json/fields fall within the humanized table value's precision (±0.05 unit below 10).
    for (const [i, r] of json!.entries()) {
      const t = table![i]!;
      assert.equal(r.dbSizeApprox, false);
      assert.equal(t.dbSizeApprox, true);
      assert.ok(Math.abs(r.dbSizeBytes! - t.dbSizeBytes!) <= 0.05e6, `${r.dbSizeBytes} vs ${t.dbSizeBytes}`);
      assert.equal(fields![i]!.dbSizeBytes, r.dbSizeBytes);
      assert.equal(fields![i]!.revision, r.revision);
      assert.ok(r.dbSizeInUseBytes! > 0 && r.dbSizeInUseBytes! <= r.dbSizeBytes!);
      assert.equal(fields![i]!.dbSizeInUseBytes, null); // 3.4 fields print no DBSizeInUse
      assert.equal(t.revision, null); // tables print no revision
    }
  });

  it('endpoint status after recovery: no errors, sizes agree', () => {
    const table = byEndpoint(records('endpoint-status-recovered.table.txt', 'status'));
    const json = byEndpoint(records('endpoint-status-recovered.json.txt', 'status'));
    assert.equal(table.length, 2);
    for (const [i, r] of json.entries()) {
      assert.deepEqual([r.errors, r.alarms, table[i]!.errors], [[], [], []]);
      assert.equal(r.memberId, table[i]!.memberId);
      // Below 1 MB the table prints whole kB (±0.5 kB); the writer kept running between the two
      // commands, so the backend may have grown by a page or a few.
      assert.ok(Math.abs(r.dbSizeBytes! - table[i]!.dbSizeBytes!) <= 500 + 4 * 4096, `${r.dbSizeBytes} vs ${table[i]!.dbSizeBytes}`);
    }
  });

  it('endpoint health: four formats, same endpoints, all healthy (3.4 does not check alarms)', () => {
    const sets = (['table', 'json', 'simple', 'fields'] as const).map((f) => records(`endpoint-health.${f}.txt`, 'health'));
    for (const rows of sets) {
      assert.equal(rows.length, 2);
      assert.ok(rows.every((r) => r.healthy && r.error === null && r.tookMs !== null && r.tookMs > 0));
      assert.deepEqual(rows.map((r) => r.endpoint).sort(), sets[0]!.map((r) => r.endpoint).sort());
    }
  });

  it('snapshot status: decimal hash in json/fields equals the hex in table/simple', () => {
    const [table, json, simple, fields] = (['table', 'json', 'simple', 'fields'] as const)
      .map((f) => records(`snapshot-status-nospace.${f}.txt`, 'snapshot-status'));
    for (const rows of [json, simple, fields]) {
      assert.equal(rows!.length, 1);
      assert.deepEqual([rows![0]!.hash, rows![0]!.revision, rows![0]!.totalKeys], [table![0]!.hash, table![0]!.revision, table![0]!.totalKeys]);
    }
    assert.equal(json![0]!.totalSizeBytes, fields![0]!.totalSizeBytes);
    assert.ok(Math.abs(json![0]!.totalSizeBytes - table![0]!.totalSizeBytes) <= 0.05e6);
    const recovered = records('snapshot-status-recovered.json.txt', 'snapshot-status')[0]!;
    assert.equal(recovered.hash, records('snapshot-status-recovered.table.txt', 'snapshot-status')[0]!.hash);
    assert.ok(recovered.totalSizeBytes < json![0]!.totalSizeBytes);
  });

  it('alarm list: simple and json agree; fields panics in 3.4 and table is unsupported', () => {
    const simple = records('alarm-list.simple.txt', 'alarm');
    const json = records('alarm-list.json.txt', 'alarm');
    assert.equal(simple.length, 2);
    assert.deepEqual(json.map((a) => [a.memberId, a.alarm]), simple.map((a) => [a.memberId, a.alarm]));
    assert.ok(simple.every((a) => a.alarm === 'NOSPACE'));
    assert.ok(simple.some((a) => BigInt(a.memberId) > TWO_53));
    const members = new Set(records('member-list.table.txt', 'member').map((m) => m.memberId));
    for (const a of json) assert.ok(members.has(BigInt(a.memberId).toString(16)));
    const panic = parseFile('alarm-list.fields.txt');
    assert.deepEqual(panic.map((o) => [o.kind, o.line, o.kind === 'issue' ? o.reason : '']), [['issue', 1, 'etcdctl panicked']]);
    assert.deepEqual(parseFile('alarm-list.table.txt'), []);
    assert.deepEqual(records('recovery-07-alarm-disarm.txt', 'alarm').map((a) => a.memberId), simple.map((a) => a.memberId));
  });

  it('member list: four formats agree', () => {
    const [table, json, simple, fields] = (['table', 'json', 'simple', 'fields'] as const)
      .map((f) => records(`member-list.${f}.txt`, 'member'));
    const view = (rows: MemberRecord[]) => rows.map((m) => [m.memberId, m.status, m.name, m.peerUrls, m.clientUrls, m.isLearner]);
    assert.equal(table!.length, 2);
    for (const rows of [json, simple, fields]) assert.deepEqual(view(rows!), view(table!));
  });

  it('json piped through a pretty-printer (jq .) and several documents on one line give the same records', () => {
    const compact = readLines('etcd-3.4/endpoint-status.json.txt');
    const pretty = stringify(parse(compact[0]!), null, 2)!.split('\n');
    assert.ok(pretty.length > 20);
    const strip = (o: ParseOutput) => ({ ...o, line: 0 });
    assert.deepEqual(parseLines(pretty).map(strip), parseLines(compact).map(strip));
    assert.equal(ofKind(parseLines([compact[0]! + compact[0]!]), 'status').length, 4);
    // A document cut short is one issue, and the lines after it are read afresh.
    const cut = [...pretty.slice(0, 10), ...readLines('etcd-3.4/alarm-list.simple.txt')];
    const out = parseLines(cut);
    assert.deepEqual(ofKind(out, 'issue').map((i) => [i.line, i.reason]), [[1, 'truncated JSON']]);
    assert.equal(ofKind(out, 'alarm').length, 2);
  });

  it('one-liners of other commands are no issues; snapshot save zap lines are skipped', () => {
    for (const f of ['recovery-09-put.txt', 'snapshot-save-nospace.txt']) {
      assert.deepEqual(parseFile(f), [], f);
    }
  });

  it('the runbook one-liners (compact, defrag) become operator events', () => {
    const compact = parseFile('recovery-02-compact.txt');
    const rev = Number(readLines('etcd-3.4/recovery-02-compact.txt')[0]!.match(/\d+/)![0]);
    assert.equal(compact.length, 1);
    assert.equal(compact[0]!.kind, 'event');
    assert.equal((compact[0] as LogEvent).event, 'etcdctl.compact');
    assert.deepEqual((compact[0] as LogEvent).detail, { revision: rev });
    const defrag = parseFile('recovery-04-defrag-etcd1.txt') as LogEvent[];
    assert.equal(defrag.length, 1);
    assert.equal(defrag[0]!.event, 'etcdctl.defrag');
    assert.match(String(defrag[0]!.detail.endpoint), /^(http:\/\/)?127\.0\.0\.1:\d+$/);
  });

  for (const [file, kind, per] of [
    ['status-samples.log', 'status', /^\[\{"Endpoint"/],
    ['status-samples-table.log', 'status', /^\| http/],
    ['health-samples.log', 'health', /^\[\{"endpoint"/],
    ['alarm-samples.log', 'alarm', /^memberID:/],
  ] as const) {
    it(`${file}: every sample takes the time of the date line before it`, () => {
      const lines = readLines(`etcd-3.4/${file}`);
      const out = parseLines(lines);
      assert.deepEqual(ofKind(out, 'issue'), []);
      const recs = out.filter((o) => o.kind === kind) as (StatusSample | HealthSample | AlarmRecord)[];
      const perLine = (l: string) => (l.startsWith('[') ? (l.match(/"(?:Endpoint|endpoint)":/g) ?? []).length : 1);
      assert.equal(recs.length, lines.filter((l) => per.test(l)).reduce((n, l) => n + perLine(l), 0));
      assert.ok(recs.length > 0);
      for (const r of recs) {
        let m = r.line - 1;
        while (!/^\d{4}-\d\d-\d\dT/.test(lines[m - 1]!)) m--;
        assert.deepEqual(r.time, { ms: Date.parse(lines[m - 1]!), offsetMin: 480, basis: 'marker' });
      }
    });
  }

  it('the sampled status shows the alarm coming and going', () => {
    const recs = ofKind(parseLines(readLines('etcd-3.4/status-samples.log')), 'status');
    const alarmed = recs.map((r) => r.alarms.includes('NOSPACE'));
    const first = alarmed.indexOf(true);
    assert.ok(first > 0 && alarmed.lastIndexOf(true) < alarmed.length - 1);
    assert.ok(recs[first]!.dbSizeBytes! >= 1_000_000);
  });

  it('every first line of a capture is recognised by content', () => {
    for (const f of ['endpoint-status', 'endpoint-health', 'member-list'].flatMap((c) => ['table', 'json', 'simple', 'fields'].map((w) => `${c}.${w}.txt`))
      .concat(['alarm-list.simple.txt', 'alarm-list.json.txt', 'snapshot-status-nospace.table.txt', 'snapshot-status-nospace.json.txt', 'snapshot-status-nospace.simple.txt', 'snapshot-status-nospace.fields.txt'])) {
      assert.ok(looksLikeEtcdctlOutput(readLines(`etcd-3.4/${f}`)[0]!), f);
    }
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

