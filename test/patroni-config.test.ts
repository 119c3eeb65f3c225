// Patroni's YAML configuration: Patroni's example (postgres0.yml, v4.1.4) and the configs our capture wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { looksLikePatroniConfig, parsePatroniConfig, patroniConfigSettings } from '../src/sources/patroni-config/index.js';

const FIX = new URL('./fixtures/', import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, FIX), 'utf8');

test('postgres0.yml (Patroni v4.1.4 example): etcd v2 DCS, one host, default namespace, bootstrap.dcs timings', () => {
  const text = read('patroni-derived/config/postgres0.yml');
  assert.equal(looksLikePatroniConfig(text), true);
  assert.deepEqual(parsePatroniConfig(text), {
    scope: 'batman', namespace: '/service/', name: 'postgresql0', dcs: 'etcd', hosts: ['127.0.0.1:2379'],
    loopWait: 10, ttl: 30, retryTimeout: 10, keyPrefix: '/service/batman/', log: null,
  });
  const rows = patroniConfigSettings(text);
  assert.deepEqual(rows.map((r) => [r.name, r.value, r.line]), [
    ['scope', 'batman', 1],
    ['namespace', '/service/', null], // the default: commented out in the example
    ['name', 'postgresql0', 3],
    ['dcs', 'etcd', 25],
    ['hosts', '127.0.0.1:2379', 27],
    ['loop_wait', '10', 55],
    ['ttl', '30', 54],
    ['retry_timeout', '10', 56],
    ['key_prefix', '/service/batman/', 1],
  ]);
});

test('capture configs (3.0.2): etcd3, three hosts from a comma list, namespace /service, ttl 10 / loop_wait 1 / retry 3, log settings', () => {
  const pg1 = parsePatroniConfig(read('patroni-3.0.2/pg1/patroni.yml'))!;
  assert.deepEqual(pg1, {
    scope: 'pg_demo', namespace: '/service', name: 'pg1', dcs: 'etcd3',
    hosts: ['127.0.0.1:40851', '127.0.0.1:52535', '127.0.0.1:60397'],
    loopWait: 1, ttl: 10, retryTimeout: 3, keyPrefix: '/service/pg_demo/',
    log: { type: null, format: null, dateformat: null, dir: '/tmp/patroni-nospace.hTqVn1/pg1/log', level: 'INFO' },
  });
  const pg2 = parsePatroniConfig(read('patroni-3.0.2/pg2/patroni.yml'))!;
  assert.deepEqual([pg2.name, pg2.log?.dateformat], ['pg2', '%Y-%m-%d %H:%M:%S %z']);
  const rows = patroniConfigSettings(read('patroni-3.0.2/pg2/patroni.yml'));
  assert.deepEqual(rows.find((r) => r.name === 'log.dateformat'), { name: 'log.dateformat', value: '%Y-%m-%d %H:%M:%S %z', line: 12 });
  assert.deepEqual(rows.find((r) => r.name === 'hosts')?.line, 8);
  for (const n of ['pg1', 'pg2', 'pg3']) assert.equal(looksLikePatroniConfig(read(`patroni-3.0.2/${n}/patroni.yml`)), true);
});

test('capture configs (4.0.7): the custom log format and JSON type are read', () => {
  const custom = 'patroni-4.0.7/custom/pg1/patroni.yml';
  const json = 'patroni-4.0.7/json/pg1/patroni.yml';
  assert.equal(parsePatroniConfig(read(custom))?.log?.format, '[%(asctime)s][%(levelname)s] %(message)s');
  assert.equal(parsePatroniConfig(read(json))?.log?.type, 'json');
});

test('hosts forms: YAML list, url, proxy, srv; top-level timings as fallback; numbers as strings', () => {
  const cfg = (s: string) => parsePatroniConfig(s)!;
  assert.deepEqual(cfg('scope: a\netcd3:\n  hosts:\n  - h1:2379\n  - h2:2379\n').hosts, ['h1:2379', 'h2:2379']);
  assert.deepEqual(cfg('scope: a\netcd3:\n  url: https://e1:2379\n').hosts, ['https://e1:2379']);
  assert.deepEqual(cfg('scope: a\netcd:\n  proxy: http://p:2379\n').hosts, ['http://p:2379']);
  assert.deepEqual(cfg('scope: a\netcd:\n  srv: example.org\n').hosts, ['srv:example.org']);
  const top = cfg('scope: a\nnamespace: /x//\nloop_wait: "5"\nttl: 20\nbootstrap:\n  dcs:\n    ttl: 40\n');
  assert.deepEqual([top.loopWait, top.ttl, top.retryTimeout, top.keyPrefix], [5, 40, null, '/x/a/']);
  assert.equal(cfg('scope: a\nconsul:\n  host: c:8500\n').dcs, null);
});

test('not a Patroni config: other YAML, prose, logs, broken YAML → false / null, never a throw', () => {
  for (const s of ['apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n', 'name: x\n', 'hello world', '2026-11-23 23:54:59,071 INFO: x', '- a\n- b\n']) {
    assert.equal(looksLikePatroniConfig(s), false, s);
  }
  assert.equal(parsePatroniConfig('scope: [unclosed\n'), null);
  assert.equal(parsePatroniConfig('- a\n- b\n'), null);
  assert.equal(parsePatroniConfig('kind: Pod\n'), null);
  assert.deepEqual(patroniConfigSettings('kind: Pod\n'), []);
  assert.equal(looksLikePatroniConfig(read('patroni-3.0.2/pg1/patroni.log')), false);
  fc.assert(fc.property(fc.string(), (s) => {
    looksLikePatroniConfig(s);
    parsePatroniConfig(s);
    patroniConfigSettings(s);
  }), { numRuns: 300 });
});
