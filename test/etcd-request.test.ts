import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeRequestText, hexToDecimal, readGoQuoted, readProtoString } from '../src/sources/etcd-log/request.js';
import { decodeUtf8Visible } from '../src/units/bytes-text.js';

test('put from the seed incident (etcd 3.5.1)', () => {
  const d = decodeRequestText(
    'header:<ID:2416326952385748711 > put:<key:"/pgcluster/pg_cluster/members/postgres-2" value_size:218 lease:7386330616106706594 >',
  );
  assert.ok(d);
  assert.equal(d.op, 'put');
  assert.equal(d.headerId, '2416326952385748711');
  assert.equal(d.key, '/pgcluster/pg_cluster/members/postgres-2');
  assert.equal(d.valueSize, 218);
  assert.equal(d.lease, '7386330616106706594');
});

test('put with an empty value has no value_size', () => {
  const d = decodeRequestText('header:<ID:1 > put:<key:"/k" >');
  assert.equal(d?.key, '/k');
  assert.equal(d?.valueSize, null);
  assert.equal(d?.lease, null);
});

test('txn with a put in the success branch (k3s-io/k3s#4787 literal)', () => {
  const d = decodeRequestText(
    'header:<ID:16997569631317705995 username:"etcd-client" auth_revision:1 > txn:<compare:<target:MOD key:"/bootstrap/ef5238a9efa0" mod_revision:0 > success:<request_put:<key:"/bootstrap/ef5238a9efa0" value_size:12665 >> failure:<>>',
  );
  assert.ok(d);
  assert.equal(d.op, 'txn');
  assert.deepEqual(d.puts, [{ key: '/bootstrap/ef5238a9efa0', valueSize: 12665, lease: null, branch: 'success' }]);
});

test('txn puts in both branches and in a nested request_txn', () => {
  const d = decodeRequestText(
    'header:<ID:7 > txn:<compare:<key:"/a" value_size:3 > success:<request_put:<key:"/a" value_size:1 lease:5 > request_range:<key:"/b" > ' +
      'request_txn:<compare:<> success:<request_put:<key:"/c" value_size:2 >> failure:<>>> failure:<request_put:<key:"/d" value_size:9 >>>',
  );
  assert.deepEqual(d?.puts.map((p) => [p.key, p.valueSize, p.lease, p.branch]), [
    ['/a', 1, '5', 'success'], ['/c', 2, null, 'success'], ['/d', 9, null, 'failure'],
  ]);
});

test('a txn without puts keeps its first key; a bare read-only txn (3.5 prefix "read-only txn ") is a txn', () => {
  const d = decodeRequestText('header:<ID:3 > txn:<compare:<target:MOD key:"/service/pg/leader" mod_revision:5 > success:<request_delete_range:<key:"/service/pg/leader" >> failure:<>>');
  assert.deepEqual([d?.op, d?.key, d?.puts.length], ['txn', '/service/pg/leader', 0]);
  const bare = decodeRequestText('compare:<> success:<request_range:<key:"/registry/pods" range_end:"/registry/podt" >> failure:<>');
  assert.deepEqual([bare?.op, bare?.key], ['txn', '/registry/pods']);
});

test('lease_grant and lease_revoke: hex id → decimal', () => {
  const g = decodeRequestText('header:<ID:9 > lease_grant:<ttl:15-second id:694d7ff3fe0bce0b>');
  assert.equal(g?.op, 'lease_grant');
  assert.equal(g?.lease, BigInt('0x694d7ff3fe0bce0b').toString());
  assert.equal(g?.lease, '7587861633105120779');
  const r = decodeRequestText('header:<ID:9 > lease_revoke:<id:694d7ff3fe0bce0b>');
  assert.equal(r?.op, 'lease_revoke');
  assert.equal(r?.lease, '7587861633105120779');
  assert.equal(hexToDecimal('ffffffffffffffff'), '18446744073709551615');
  assert.equal(hexToDecimal('xyz'), null);
});

test('compaction, alarm, delete_range and a bare read-only range', () => {
  const c = decodeRequestText('header:<ID:1 > compaction:<revision:6662600 physical:true > ');
  assert.equal(c?.op, 'compaction');
  assert.equal(c?.revision, 6662600);
  const a = decodeRequestText('header:<ID:1 > alarm:<action:ACTIVATE memberID:10276657743932975437 alarm:NOSPACE > ');
  assert.equal(a?.op, 'alarm');
  assert.equal(a?.alarmAction, 'ACTIVATE');
  assert.equal(a?.alarm, 'NOSPACE');
  const del = decodeRequestText('header:<ID:1 > delete_range:<key:"/a" range_end:"/b" > ');
  assert.deepEqual([del?.op, del?.key, del?.rangeEnd], ['delete_range', '/a', '/b']);
  const rr = decodeRequestText('key:"/cs/leader" range_end:"/cs/leades" sort_order:ASCEND sort_target:MOD ');
  assert.deepEqual([rr?.op, rr?.key, rr?.rangeEnd], ['range', '/cs/leader', '/cs/leades']);
});

test('proto string escapes: \\" \\\\ \\n \\t and octal UTF-8 bytes', () => {
  assert.equal(readProtoString(String.raw`"a\"b\\c\nd\te"`, 0).value, 'a"b\\c\nd\te');
  assert.equal(readProtoString(String.raw`"/\303\251t\303\251"`, 0).value, '/été');
  // A byte outside a well-formed UTF-8 sequence is the visible text \xNN, as the bbolt reader shows key
  // bytes (units/bytes-text.ts): 0xff and 0xfe stay apart (they both decoded to U+FFFD before).
  assert.equal(readProtoString(String.raw`"\377x"`, 0).value, '\\xffx');
  assert.equal(readProtoString(String.raw`"\376x"`, 0).value, '\\xfex');
  assert.equal(readProtoString(String.raw`"\303\251\377\303"`, 0).value, 'é\\xff\\xc3');
  assert.equal(readProtoString(String.raw`"\xff\xfe"`, 0).value, '\\xff\\xfe');
  assert.equal(readProtoString(String.raw`"\001"`, 0).value, '\u0001');
  const d = decodeRequestText(String.raw`header:<ID:1 > put:<key:"/svc/\344\270\255" value_size:4 >`);
  assert.equal(d?.key, '/svc/中');
});

test('a key with bytes that are not UTF-8 reads as the snapshot reader reads it (seed put line, key bytes changed)', () => {
  // The seed incident's put (etcd 3.5.1), its key given the bytes 0xff / 0xfe as etcd's proto text prints them.
  const line = (k: string): string => `header:<ID:2416326952385748711 > put:<key:"/pgcluster/${k}" value_size:218 lease:7386330616106706594 >`;
  const ff = decodeRequestText(line(String.raw`\377`))?.key;
  const fe = decodeRequestText(line(String.raw`\376`))?.key;
  assert.notEqual(ff, fe);
  assert.equal(ff, decodeUtf8Visible(Buffer.from([...Buffer.from('/pgcluster/'), 0xff])));
  assert.equal(fe, '/pgcluster/\\xfe');
  assert.ok(!ff?.includes('\ufffd'));
  // capnslog's %q doubles the backslashes; the bytes come out the same.
  const q = readGoQuoted(`"${line(String.raw`\\377`).replaceAll('"', '\\"')}"`, 0).value;
  assert.equal(decodeRequestText(q)?.key, ff);
  // A Go %q of raw bytes prints \xff for a byte that is not UTF-8: kept visible, not read as U+00FF.
  assert.equal(readGoQuoted(String.raw`"a\xff\xfe"`, 0).value, 'a\\xff\\xfe');
});

test('capnslog %q: one Go unquote gives compact text (journald literal, etcd-io/etcd#11947)', () => {
  const line = String.raw`"header:<ID:1 > put:<key:\"test\" value_size:4 >" with response ""`;
  const q = readGoQuoted(line, 0);
  assert.equal(q.value, 'header:<ID:1 > put:<key:"test" value_size:4 >');
  assert.equal(line.slice(q.end), ' with response ""');
  assert.equal(decodeRequestText(q.value)?.key, 'test');
  // Octal inside %q arrives doubly escaped: \\303\\251 → \303\251 → é.
  const oct = readGoQuoted(String.raw`"put:<key:\"/\\303\\251\" >"`, 0).value;
  assert.equal(decodeRequestText(oct)?.key, '/é');
  assert.equal(readGoQuoted(String.raw`"\x41\u00e9\t"`, 0).value, 'Aé\t');
});

test('not compact text, or truncated text', () => {
  assert.equal(decodeRequestText(''), null);
  assert.equal(decodeRequestText('hello world'), null);
  const t = decodeRequestText('header:<ID:1 > put:<key:"/pgcluster/pg_clu');
  assert.equal(t?.op, 'put');
  assert.equal(t?.key, '/pgcluster/pg_clu');
});

test('property: never throws on arbitrary text', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
    decodeRequestText(s);
    readGoQuoted(`"${s}`, 0);
    readProtoString(`"${s}`, 0);
  }), { numRuns: 2000 });
  const piece = fc.constantFrom('header:<', 'put:<', 'key:"', '\\', '\\3', '"', '>', '<', ' ', 'value_size:', '1', 'txn:<', 'success:<', 'request_txn:<', 'request_put:<');
  fc.assert(fc.property(fc.array(piece, { maxLength: 60 }), (parts) => {
    decodeRequestText(parts.join(''));
  }), { numRuns: 3000 });
});
