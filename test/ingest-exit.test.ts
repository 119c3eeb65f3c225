// Exit codes of `ingest` on a pasted log: a file that was read exits 0 even when some of its lines
// (a post's prose, a Markdown fence) were skipped and reported; --strict turns those into failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers/cli.js';

const E34 = new URL('./fixtures/etcd-3.4/', import.meta.url);

test('a real zap log pasted between a sentence and a fence: read, skipped lines reported, exit 0; --strict exits 2', () => {
  const { dir, cleanup } = tempDir();
  try {
    const zap = readFileSync(new URL('etcd-zap.log', E34), 'utf8').split('\n').filter(Boolean).slice(0, 40);
    const paste = join(dir, 'post.txt');
    writeFileSync(paste, ['Seeing this in the etcd log after the upgrade:', '```', ...zap, '```', ''].join('\n'));
    const r = runCli(['ingest', '--db', join(dir, 's.db'), paste]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /post\.txt: etcd-log, 40 records/);
    assert.match(r.stdout + r.stderr, /post\.txt:1: skipped/);
    const strict = runCli(['ingest', '--db', join(dir, 's2.db'), '--strict', paste]);
    assert.equal(strict.code, 2);
  } finally {
    cleanup();
  }
});
