// The issue-15 rooms on real captures (test/fixtures/live-<version>/, scripts/capture/live-endpoints.sh): etcd
// 3.4.23's and 3.5.16's /metrics page reads to the same size, revision, member id and version as the gateway's
// maintenance/status captured right after it (no write in between); the gateway's NOSPACE alarm and member list;
// the parsers never throw on arbitrary input; a saved page ingests as one reading (twice: nothing added); etcdctl
// JSON piped in without a timestamp line is timed at ingest, stated as such.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { FIXTURES, runCli, tempDir } from './helpers/cli.js';
import { buildImportQuery, looksLikeMetricsPage, parseExposition, parseQueryRange, parseSampleLine, readEtcdMetrics } from '../src/sources/prometheus/index.js';
import { parseGatewayAlarms, parseGatewayMembers, parseGatewayStatus } from '../src/sources/live/index.js';

const VERSIONS = ['3.4.23', '3.5.16'];
const fx = (v: string, f: string): string => readFileSync(join(FIXTURES, `live-${v}`, f), 'utf8');
/** uint64 ids from the JSON text (above 2^53: never through JSON.parse numbers), as hex. */
const hexId = (text: string, field: string): string => BigInt(new RegExp(`"${field}":"(\\d+)"`).exec(text)![1]!).toString(16);

for (const v of VERSIONS) {
  test(`etcd ${v}: /metrics and the gateway's status agree`, () => {
    const page = fx(v, 'metrics.txt');
    assert.ok(looksLikeMetricsPage(page.slice(0, 64 * 1024)));
    const { samples, issues } = parseExposition(page);
    assert.deepEqual(issues, []);
    assert.ok(samples.length > 500);
    const m = readEtcdMetrics(samples);
    const statusText = fx(v, 'status.json');
    const st = parseGatewayStatus(statusText);
    assert.ok(!('error' in st));
    assert.equal(m.figures.dbSize, st.dbSizeBytes);
    assert.equal(m.figures.dbSizeInUse, st.dbSizeInUseBytes);
    assert.equal(m.figures.revision, st.revision);
    assert.equal(m.version, v);
    assert.equal(st.version, v);
    assert.equal(m.serverId, hexId(statusText, 'member_id'));
    assert.equal(st.memberId, hexId(statusText, 'member_id'));
    assert.equal(st.clusterId, hexId(statusText, 'cluster_id'));
    assert.equal(st.isLeader, true);
    assert.equal(m.figures.compactRevision, 15, 'etcdctl compact 15');
    assert.equal(m.figures.quota, 1048576);
    assert.equal(m.figures.puts, 20);
    assert.deepEqual(parseGatewayAlarms(fx(v, 'alarm.json')), { alarms: [] });
    const members = parseGatewayMembers(fx(v, 'member-list.json'));
    assert.ok(!('error' in members));
    assert.equal(members.members.length, 1);
    assert.equal(members.members[0]!.memberId, st.memberId);
  });

  test(`etcd ${v}: the NOSPACE alarm through the gateway`, () => {
    const t = fx(v, 'status-nospace.json');
    const st = parseGatewayStatus(t);
    assert.ok(!('error' in st));
    assert.ok(st.errors.some((e) => /alarm:NOSPACE/.test(e)), JSON.stringify(st.errors));
    const a = parseGatewayAlarms(fx(v, 'alarm-nospace.json'));
    assert.ok(!('error' in a));
    assert.deepEqual(a.alarms, [{ memberId: hexId(t, 'member_id'), alarm: 'NOSPACE' }]);
    assert.ok(st.dbSizeBytes! >= 1048576, 'the file reached the 1 MiB quota');
  });
}

test('parsers never throw on arbitrary input', () => {
  const real = fx('3.5.16', 'metrics.txt').split('\n').slice(0, 200);
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
    parseSampleLine(s, 1);
    parseExposition(s);
    parseQueryRange(s);
    parseGatewayStatus(s);
    parseGatewayAlarms(s);
    parseGatewayMembers(s);
    looksLikeMetricsPage(s);
    buildImportQuery(s);
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.constantFrom(...real), fc.nat(200), fc.string({ maxLength: 5 }), (line, at, ins) => {
    const mutated = line.slice(0, at) + ins + line.slice(at);
    const r = parseSampleLine(mutated, 7);
    assert.ok('reason' in r || Number.isNaN(r.value) || typeof r.value === 'number');
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.jsonValue(), (v) => {
    parseQueryRange(JSON.stringify(v));
    parseGatewayStatus(JSON.stringify(v));
  }), { numRuns: 1000 });
});

test('selector: the user matchers are kept, a name matcher or a second brace pair is refused', () => {
  assert.match(buildImportQuery('{job="etcd"}')!, /^\{__name__=~"[^"]+",job="etcd"\}$/);
  assert.equal(buildImportQuery('{__name__="x"}'), null);
  assert.equal(buildImportQuery('up'), null);
  assert.equal(buildImportQuery('{a="1"} or {b="2"}'), null);
});

test('a saved /metrics page is one reading; again: nothing added; stdin etcdctl JSON is timed at ingest', () => {
  const tmp = tempDir('ef-fleet-src-');
  try {
    const db = join(tmp.dir, 's.db');
    const page = join(FIXTURES, 'live-3.4.23', 'metrics.txt');
    const a = runCli(['ingest', '--db', db, '--at', '2026-11-01T00:00:00Z', page]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /metrics-page, 1 records/);
    const b = runCli(['ingest', '--db', db, page]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /already ingested/);
    const before = Date.now();
    const c = runCli(['ingest', '--db', db, '-'], { input: readFileSync(join(FIXTURES, 'etcd-3.5.16', 'endpoint-status.json.txt')) });
    const after = Date.now();
    assert.equal(c.code, 0, c.stderr);
    const s = new Database(db, { readonly: true });
    try {
      const p = s.prepare(`SELECT format, ts_ms, time_basis, compact_revision, revision, db_size_quota_bytes AS q, k.key AS natural_key
        FROM status_samples JOIN status_series k ON k.id = natural_series WHERE format = 'metrics'`).all() as
        { format: string; ts_ms: number; time_basis: string; compact_revision: number; revision: number; q: number; natural_key: string }[];
      assert.equal(p.length, 1);
      assert.equal(p[0]!.ts_ms, Date.parse('2026-11-01T00:00:00Z'));
      assert.equal(p[0]!.time_basis, 'at');
      assert.equal(p[0]!.compact_revision, 15);
      assert.equal(p[0]!.q, 1048576);
      assert.ok(p[0]!.natural_key.startsWith('metrics-page|'));
      const piped = s.prepare(`SELECT ts_ms, time_basis FROM status_samples WHERE format = 'json'`).all() as { ts_ms: number; time_basis: string }[];
      assert.ok(piped.length >= 2);
      for (const r of piped) {
        assert.equal(r.time_basis, 'ingest');
        assert.ok(r.ts_ms >= before - 1 && r.ts_ms <= after + 1);
      }
    } finally {
      s.close();
    }
    const an = runCli(['analyze', '--db', db, '--section', 'assumptions', '--full']);
    assert.match(an.stdout, /read from stdin without a timestamp line; its time is when it was ingested/);
  } finally {
    tmp.cleanup();
  }
});

test('report --fleet: a hostile cluster name is escaped in HTML, Markdown and JSON', () => {
  const tmp = tempDir('ef-fleet-hostile-');
  try {
    const db = join(tmp.dir, 's.db');
    const name = '<script>alert(1)</script>\u001b[31m|`x`';
    const r = runCli(['ingest', '--db', db, '--cluster', name, '--at', '2026-11-01T00:00:00Z', join(FIXTURES, 'live-3.5.16', 'metrics.txt')]);
    assert.equal(r.code, 0, r.stderr);
    const html = runCli(['report', '--fleet', '--format', 'html', '--db', db]);
    assert.equal(html.code, 0, html.stderr);
    assert.doesNotMatch(html.stdout, /<script|\u001b/);
    assert.match(html.stdout, /&lt;script&gt;alert\(1\)&lt;\/script&gt;\\x1b\[31m/);
    const md = runCli(['report', '--fleet', '--db', db]);
    assert.doesNotMatch(md.stdout, /(?<!\\)<script|\u001b/, 'every < from the data is backslash-escaped');
    assert.match(md.stdout, /\\<script\\>/);
    const json = runCli(['report', '--fleet', '--format', 'json', '--db', db]);
    assert.doesNotMatch(json.stdout, /\u001b/);
    assert.equal((JSON.parse(json.stdout) as { clusters: { name: string }[] }).clusters.length, 1);
  } finally {
    tmp.cleanup();
  }
});
