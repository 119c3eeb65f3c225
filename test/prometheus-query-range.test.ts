// The query_range scanner (sources/prometheus/query-range.ts) against JSON.parse: on Prometheus' own layout it must
// read exactly what JSON.parse reads, and on anything else it must step aside (or still agree). The layout is the one
// Prometheus 2.42 prints, e.g. (test/fleet-prometheus.test.ts reads it from a real server end to end):
//   {"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"etcd_mvcc_db_total_size_in_bytes",
//    "instance":"127.0.0.1:2379","job":"etcd-a"},"values":[[1764480000,"20480"],[1764480005.5,"2.147483648e+09"]]}]}}
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseGenericMatrix, parseQueryRange, scanPrometheusMatrix, type LabelCache, type RangeParse } from '../src/sources/prometheus/index.js';
import { ReadingPool, eachMemberReadings, readingsOf } from '../src/ingest/prometheus-import.js';

const label = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('c000', '10.0.0.1:2379', 'a"b', 'x\\y', '}{', '\u0000\n', '],"values":['));
const value = fc.oneof(
  fc.double({ noNaN: false }).map((d) => String(d)),
  fc.integer().map(String),
  fc.constantFrom('NaN', '+Inf', '-Inf', '2.147483648e+09', '20480', '-1', '', '0x10', ' 1', '1"', 'a\\u0031'),
);
const time = fc.oneof(fc.integer({ min: 0, max: 2_000_000_000 }), fc.integer({ min: 0, max: 2_000_000_000_000 }).map((n) => n / 1000));
const matrix = fc.array(fc.record({
  metric: fc.dictionary(fc.constantFrom('__name__', 'instance', 'job', 'cluster', 'server_id', 'le'), label),
  values: fc.array(fc.tuple(time, value), { maxLength: 8 }),
}), { maxLength: 5 });
/** Without the series' key: the scanner keys a series by the text Prometheus printed (labels sorted by name), the
 * JSON.parse path by the labels sorted; they agree on Prometheus' layout only, and the key is only counted. */
const unkeyed = (r: RangeParse | null): unknown => (r === null || !r.ok ? r : r.series.map(({ labels, timesMs, values }) => ({ labels, timesMs, values })));
const body = (result: unknown): string => JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } });

test('the scanner reads Prometheus layout exactly as JSON.parse does (labels, times, values, NaN/Inf left out)', () => {
  fc.assert(fc.property(matrix, (m) => {
    const text = body(m);
    const fast = scanPrometheusMatrix(text);
    const ref = parseGenericMatrix(text);
    if (fast !== null) assert.deepEqual(unkeyed(fast), unkeyed(ref));
    // Only a value string JSON escapes (a quote, a backslash, a control character) sends it to JSON.parse.
    const escaped = m.some((r) => r.values.some(([, v]) => /["\\\u0000-\u001f]/.test(v)));
    if (!escaped) assert.notEqual(fast, null, text.slice(0, 200));
    assert.deepEqual(unkeyed(parseQueryRange(text)), unkeyed(ref));
  }), { numRuns: 3000 });
  const sorted = body([{ metric: { __name__: 'etcd_server_id', instance: 'm1:2379', server_id: 'ab' }, values: [[1, '1']] }]);
  const [a, b] = [scanPrometheusMatrix(sorted), parseGenericMatrix(sorted)];
  assert.ok(a?.ok && b.ok);
  assert.equal(a.series[0]!.key, b.series[0]!.key);
});

test('a damaged or re-laid-out answer: parseQueryRange always agrees with JSON.parse', () => {
  const valid = body([{ metric: { __name__: 'etcd_mvcc_db_total_size_in_bytes', instance: '127.0.0.1:2379', job: 'etcd-a' }, values: [[1764480000, '20480'], [1764480005.5, '2.147483648e+09'], [1764480010, 'NaN']] }]);
  fc.assert(fc.property(fc.nat(valid.length), fc.nat(4), fc.string({ maxLength: 4 }), (at, del, ins) => {
    const text = valid.slice(0, at) + ins + valid.slice(at + del);
    const got = parseQueryRange(text);
    const ref = parseGenericMatrix(text);
    if (ref.ok) assert.deepEqual(unkeyed(got), unkeyed(ref));
    else assert.equal(got.ok, false);
  }), { numRuns: 5000 });
  const pretty = JSON.stringify(JSON.parse(valid), null, 1);
  assert.equal(scanPrometheusMatrix(pretty), null);
  assert.deepEqual(parseQueryRange(pretty), parseGenericMatrix(valid), 'sorted labels: the same key either way');
  const parsed = parseQueryRange(valid);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.series[0]!.timesMs, [1764480000000, 1764480005500]);
  assert.deepEqual(parsed.series[0]!.values, [20480, 2147483648]);
});

test('readingsOf: one reading per member and time, members in (cluster, instance) order, each in time order', () => {
  const series = (name: string, instance: string, pts: [number, string][], extra: Record<string, string> = {}): unknown =>
    ({ metric: { __name__: name, cluster: 'b', instance, job: 'etcd', ...extra }, values: pts });
  const text = body([
    series('etcd_mvcc_db_total_size_in_bytes', 'm2:2379', [[100, '10'], [300, '30']]),
    series('etcd_debugging_mvcc_current_revision', 'm2:2379', [[100, '7'], [200, '8'], [300, '9']]),
    series('etcd_debugging_mvcc_compact_revision', 'm1:2379', [[200, '-1']]),
    series('etcd_server_id', 'm1:2379', [[200, '1']], { server_id: '00AB' }),
    series('up', 'm1:2379', [[50, '1']]),
  ]);
  const p = parseQueryRange(text);
  assert.ok(p.ok);
  const rs = readingsOf(p.series);
  assert.deepEqual(rs.map((r) => [r.endpoint, r.tsMs, r.dbSizeBytes, r.revision, r.compactRevision, r.memberId]), [
    ['m1:2379', 200_000, null, null, -1, 'ab'],
    ['m2:2379', 100_000, 10, 7, null, null],
    ['m2:2379', 200_000, null, 8, null, null],
    ['m2:2379', 300_000, 30, 9, null, null],
  ]);
});

test('the import path: a label cache and a reading pool give what readingsOf gives, answer after answer', () => {
  const cache: LabelCache = new Map();
  const pool = new ReadingPool();
  fc.assert(fc.property(fc.array(matrix, { minLength: 1, maxLength: 3 }), (answers) => {
    for (const m of answers) {
      const text = body(m);
      const plain = parseQueryRange(text);
      const cached = parseQueryRange(text, cache);
      assert.deepEqual(cached, plain);
      if (!plain.ok || !cached.ok) continue;
      const pooled: unknown[] = [];
      // A pooled reading is valid until the next member: copied as it is handed on.
      eachMemberReadings(cached.series, (rs) => { for (const r of rs) pooled.push(structuredClone(r)); }, pool);
      assert.deepEqual(pooled, readingsOf(plain.series));
    }
  }), { numRuns: 300 });
});
