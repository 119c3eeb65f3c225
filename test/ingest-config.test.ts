// Patroni's YAML configuration through the CLI: read by content (not set aside as "a configuration file"
// in a folder walk), stored as settings rows citing their line, once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FIXTURES, runCli, tempDir } from './helpers/cli.js';

const SAMPLE_CFG = new URL('../samples/patroni-nospace/patroni/pg1/patroni.yml', import.meta.url);

test('a Patroni config in an incident folder is read (loop_wait, ttl, retry_timeout, scope, hosts with their lines); other YAML is set aside', () => {
  const { dir, cleanup } = tempDir();
  try {
    const inc = join(dir, 'incident');
    mkdirSync(inc);
    copyFileSync(SAMPLE_CFG, join(inc, 'patroni.yml'));
    copyFileSync(join(FIXTURES, 'patroni-derived', 'config', 'postgres0.yml'), join(inc, 'postgres0.yaml'));
    writeFileSync(join(inc, 'values.yaml'), 'replicaCount: 3\nimage:\n  tag: v1\n');
    const db = join(dir, 's.db');
    const r = runCli(['ingest', '--db', db, inc]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /patroni\.yml: patroni-config, 11 records/);
    assert.match(r.stdout, /not read: \S*values\.yaml \(a configuration file\)/);
    const d = new Database(db, { readonly: true });
    try {
      const rows = d.prepare(`SELECT s.member, s.scope, s.name, s.value, s.line FROM settings s JOIN sources o ON o.id = s.source_id
        WHERE o.path LIKE '%patroni.yml' AND s.name IN ('loop_wait', 'ttl', 'retry_timeout', 'dcs', 'hosts') ORDER BY s.name`).all();
      assert.deepEqual(rows, [
        { member: 'pg1', scope: 'pg_demo', name: 'dcs', value: 'etcd3', line: 7 },
        { member: 'pg1', scope: 'pg_demo', name: 'hosts', value: '127.0.0.1:40851,127.0.0.1:52535,127.0.0.1:60397', line: 8 },
        { member: 'pg1', scope: 'pg_demo', name: 'loop_wait', value: '1', line: 16 },
        { member: 'pg1', scope: 'pg_demo', name: 'retry_timeout', value: '3', line: 17 },
        { member: 'pg1', scope: 'pg_demo', name: 'ttl', value: '10', line: 15 },
      ]);
      const v2 = d.prepare(`SELECT value FROM settings WHERE scope = 'batman' AND name = 'dcs'`).get() as { value: string };
      assert.equal(v2.value, 'etcd');
    } finally {
      d.close();
    }
    const again = runCli(['ingest', '--db', db, join(inc, 'patroni.yml')]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already ingested/);
    const bad = runCli(['ingest', '--db', db, '--kind', 'patroni-config', join(inc, 'values.yaml')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /values\.yaml: not a Patroni configuration/);
  } finally {
    cleanup();
  }
});
