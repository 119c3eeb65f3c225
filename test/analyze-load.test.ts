// What analyze loads (issue 13): the notable events an analysis reads, not every notable row. load.ts leaves
// UNREAD_KINDS and the raft leader lines nobody reads in the store; these tests check that on real captures
// (samples/patroni-nospace: etcd 3.4.23 and Patroni 3.0.2; test/fixtures/etcd-3.4 and etcd-3.5.16, see their
// READMEs), ingested by the BUILT CLI, nothing left out is something an analysis would have used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FIXTURES, ROOT, runCli, tempDir } from './helpers/cli.js';
import { openStore } from '../src/store/open.js';
import { loadEvidence, NOTABLE_SQL, UNREAD_KINDS } from '../src/analyze/load.js';

const INPUTS = [join(ROOT, 'samples', 'patroni-nospace', 'etcd'), join(ROOT, 'samples', 'patroni-nospace', 'patroni'), join(FIXTURES, 'etcd-3.4', 'etcd-zap.log'), join(FIXTURES, 'etcd-3.4', 'etcd-capnslog.log'),
  join(FIXTURES, 'etcd-3.5.16', 'etcd1.log'), join(FIXTURES, 'etcd-3.5.16', 'etcd2.log')];

test('no analysis that reads Loaded.events names a kind load.ts leaves out', () => {
  const dir = join(ROOT, 'src', 'analyze');
  const readers = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'load.ts')
    .filter((f) => /from '\.\/load\.js'/.test(readFileSync(join(dir, f), 'utf8')));
  assert.ok(readers.includes('timeline.ts') && readers.includes('incident.ts') && readers.includes('runbook.ts'), readers.join(', '));
  for (const f of readers) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const k of UNREAD_KINDS) assert.ok(!text.includes(`'${k}'`), `${f} names '${k}', which load.ts does not load`);
  }
});

test('real captures: the notable rows left out are the unread kinds and leader lines that name no leader', () => {
  const { dir, cleanup } = tempDir('ef-load-');
  try {
    const db = join(dir, 's.db');
    const r = runCli(['ingest', '--keep-raw', '--db', db, ...INPUTS]);
    assert.equal(r.code, 0, r.stderr);
    const raw = new Database(db, { readonly: true });
    let all: { kind: string; message: string; detail: string | null; path: string; line: number }[];
    try {
      all = raw.prepare(`SELECT e.kind, e.message, e.detail, src.path, e.line FROM events e JOIN sources src ON src.id = e.source_id
        WHERE ${NOTABLE_SQL}`).all() as typeof all;
    } finally {
      raw.close();
    }
    const store = openStore(db, { readonly: true });
    let loaded;
    try {
      loaded = loadEvidence(store, null);
    } finally {
      store.close();
    }
    const kept = new Set(loaded.events.map((e) => `${e.path}:${e.line}:${e.kind}`));
    const left = all.filter((e) => !kept.has(`${e.path}:${e.line}:${e.kind}`));
    assert.ok(left.length > 0, 'the captures hold rows no analysis reads (elections, peer changes)');
    assert.ok(loaded.events.length > 0);
    assert.equal(loaded.events.length + left.length, all.length);
    const leaders = left.filter((e) => e.kind === 'etcd.leader.changed');
    assert.ok(leaders.length > 0, 'the captures hold `became follower` lines');
    for (const e of leaders) {
      // What the timeline shows (timeline.ts) and what the runbook reads (runbook.ts: detail.leader).
      assert.doesNotMatch(e.message, /elected leader|became leader|lost leader|changed leader/, `${e.path}:${e.line}`);
      const d = e.detail ? (JSON.parse(e.detail) as Record<string, unknown>) : {};
      assert.notEqual(typeof d.leader, 'string', `${e.path}:${e.line}`);
    }
    for (const e of left) assert.ok(e.kind === 'etcd.leader.changed' || UNREAD_KINDS.includes(e.kind), e.kind);
    // Every leader line the timeline or the runbook would read is loaded.
    assert.ok(loaded.events.some((e) => e.kind === 'etcd.leader.changed' && /elected leader|became leader/.test(e.message)));
  } finally {
    cleanup();
  }
});
