// Golden-file tests for the table and JSON output of every analysis command, on the seed transcript
// and on the real etcd 3.4 capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, tempDir, FIXTURES } from './helpers/cli.js';
import { assertGolden } from './helpers/golden.js';
import { ANALYSIS_SCHEMA_VERSION } from '../src/analyze/types.js';

const COMMANDS = ['analyze', 'churn', 'growth', 'project', 'timeline', 'recommend', 'snapshot'];
const DATASETS: Record<string, string[]> = {
  // The transcript's etcdctl output has no timestamp line: pin it (its mtime differs between clones).
  seed: ['--at', '2023-09-26T16:00:00+08:00', 'test/fixtures/seed/etcd-no-space-incident.txt'],
  capture34: ['--tz', 'Asia/Shanghai', 'test/fixtures/etcd-3.4/etcd-zap.log', 'test/fixtures/etcd-3.4/etcd-capnslog.log',
    'test/fixtures/etcd-3.4/status-samples.log'],
  // A snapshot's time is --at (its mtime would differ between clones).
  snapshot34: ['--tz', 'Asia/Shanghai', '--at', '2026-11-24T07:28:58+08:00', 'test/fixtures/etcd-3.4/snapshot-nospace.db',
    'test/fixtures/etcd-3.4/status-samples.log', 'test/fixtures/etcd-3.4/etcd-zap.log'],
};

for (const [name, args] of Object.entries(DATASETS)) {
  test(`golden: every analysis command on ${name}, table and JSON`, () => {
    const { dir, cleanup } = tempDir();
    try {
      const db = join(dir, 's.db');
      const ing = runCli(['ingest', '--db', db, ...args]);
      assert.equal(ing.code, 0, ing.stderr);
      for (const cmd of COMMANDS) {
        const table = runCli([cmd, '--db', db]);
        assert.equal(table.code, 0, table.stderr);
        assertGolden(`${name}/${cmd}.txt`, table.stdout);
        const json = runCli([cmd, '--db', db, '--json']);
        assert.equal(json.code, 0, json.stderr);
        assert.equal(JSON.parse(json.stdout).schemaVersion, cmd === 'snapshot' ? 1 : ANALYSIS_SCHEMA_VERSION);
        assertGolden(`${name}/${cmd}.json`, json.stdout);
      }
      const sources = runCli(['sources', '--db', db, '--json']);
      const parsed = JSON.parse(sources.stdout) as { sources: { ingestedAt: string; path: string }[] };
      assert.equal(parsed.sources.length, args.filter((a) => a.startsWith('test/')).length);
    } finally {
      cleanup();
    }
  });
}
