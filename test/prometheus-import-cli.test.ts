// `ingest --prometheus` runs its import on a worker thread (src/cli/import-prometheus-thread.ts): what fails there
// reaches the user as the same one line and exit code as before, with nothing stored. Against Debian's prometheus
// on 127.0.0.1 (an empty TSDB: the failures are Prometheus' own answers) and a port nothing listens on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, tempDir } from './helpers/cli.js';
import { freePort } from './helpers/etcd-server.js';
import { startPrometheus, type PrometheusServer } from './helpers/prometheus-server.js';

const oneLine = (stderr: string): string => {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at |Error:/, 'no stack trace');
  return lines[0]!;
};

test('prometheus import on its thread: a refused connection, a query Prometheus refuses, a bad selector: one line, exit 2, nothing stored', { timeout: 120_000 }, async () => {
  const tmp = tempDir('ef-prom-cli-');
  let prom: PrometheusServer | null = null;
  try {
    const db = join(tmp.dir, 'p.db');
    const range = ['--since', '2026-11-01T00:00:00Z', '--until', '2026-11-01T01:00:00Z', '--step', '60s'];
    const closed = await freePort();
    const refused = runCli(['ingest', '--db', db, '--prometheus', `http://127.0.0.1:${closed}`, ...range]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(oneLine(refused.stderr), new RegExp(`127\\.0\\.0\\.1:${closed}: query_range 2026-11-01T00:00:00\\.000Z\\.\\.\\S+ failed: .*ECONNREFUSED`));

    prom = await startPrometheus();
    // An unbalanced regex: Prometheus answers 400 with {"status":"error","errorType":"bad_data",...}.
    const bad = runCli(['ingest', '--db', db, '--prometheus', prom.url, '--selector', '{job=~"("}', ...range]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(oneLine(bad.stderr), /query_range answered HTTP 400: Prometheus said error: .*parse/);

    const usage = runCli(['ingest', '--db', db, '--prometheus', prom.url, '--selector', 'job="etcd"', ...range]);
    assert.equal(usage.code, 2, usage.stderr);
    assert.match(oneLine(usage.stderr), /--selector job="etcd": expected label matchers in one pair of braces/);

    // An empty Prometheus: the import runs to its end on the thread and says nothing matched.
    const empty = runCli(['ingest', '--db', db, '--prometheus', prom.url, ...range]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /: 0 series in \d+ quer(?:y|ies), 0 readings, 0 new/);
    assert.match(empty.stdout, /no etcd series matched/);

    assert.ok(existsSync(db));
    const d = new Database(db, { readonly: true });
    try {
      assert.equal((d.prepare('SELECT COUNT(*) AS n FROM sources').get() as { n: number }).n, 0);
      assert.equal((d.prepare('SELECT COUNT(*) AS n FROM status_samples').get() as { n: number }).n, 0);
    } finally {
      d.close();
    }
  } finally {
    await prom?.stop();
    tmp.cleanup();
  }
});
