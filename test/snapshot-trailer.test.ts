// A corrupted snapshot is not "exact" (issue 14). Input: the real etcd 3.4.23 snapshot from `etcdctl snapshot
// save` in test/fixtures/etcd-3.4/snapshot-nospace.db (never compacted: every write since revision 1 is in it).
// Six bits are flipped, at places picked by a seeded generator among the bytes `/service/` in the image: each
// turns one revision row's key into `/servicd/…` (0x65 → 0x64), as the bit flips the issue describes did. Then:
// - its sha256 trailer no longer matches: every figure from the file is `unverified` in every output (snapshot
//   table and JSON, analyze JSON, churn, the Markdown and HTML report, sources);
// - the phantom keys (one revision, version in the hundreds) and the keys that lost a row contradict
//   themselves: they are reported as corruption and left out of the keys and churn, also when the trailer was
//   recomputed over the corrupted image (corruption before the save).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FIXTURES, runCli, tempDir } from './helpers/cli.js';

const ORIGINAL = readFileSync(join(FIXTURES, 'etcd-3.4', 'snapshot-nospace.db'));
const SEED = 14;
const FLIPS = 6;

/** mulberry32: a small seeded generator, so the flipped bytes are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The image with FLIPS `/service/` → `/servicd/` bit flips; the trailer left as saved, or recomputed. */
function corrupted(recomputeTrailer: boolean): { bytes: Buffer; offsets: number[] } {
  const image = Buffer.from(ORIGINAL.subarray(0, ORIGINAL.length - 32));
  const at: number[] = [];
  for (let i = image.indexOf('/service/'); i !== -1; i = image.indexOf('/service/', i + 1)) at.push(i);
  assert.ok(at.length > 100, `${at.length} occurrences of /service/`);
  const next = rng(SEED);
  const offsets = new Set<number>();
  while (offsets.size < FLIPS) offsets.add(at[Math.floor(next() * at.length)]! + 7);
  for (const o of offsets) image[o]! ^= 0x01;
  const trailer = recomputeTrailer ? createHash('sha256').update(image).digest() : ORIGINAL.subarray(ORIGINAL.length - 32);
  return { bytes: Buffer.concat([image, trailer]), offsets: [...offsets] };
}

function json(args: string[]): any {
  const r = runCli(args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function storedKeys(db: string): { key: string; revisions: number; version: number }[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare('SELECT key, revisions, version FROM snapshot_keys ORDER BY key').all() as { key: string; revisions: number; version: number }[];
  } finally {
    d.close();
  }
}

test('the unmodified snapshot: trailer ok, figures exact, no key left out', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const f = join(dir, 'snapshot.db');
    writeFileSync(f, ORIGINAL);
    assert.equal(runCli(['ingest', '--db', db, f]).code, 0);
    const s = json(['snapshot', '--db', db, '--json']).snapshots[0];
    assert.equal(s.trailer, 'sha256-ok');
    assert.equal(s.evidence.completeness, 'exact');
    assert.deepEqual(s.corruptKeys, []);
    assert.equal(json(['analyze', '--db', db, '--json']).churn.evidence[0].completeness, 'exact');
  } finally {
    cleanup();
  }
});

test('six seeded bit flips: trailer mismatch → every output says unverified; phantom /servicd/ keys are reported, not ranked', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const f = join(dir, 'snapshot.db');
    writeFileSync(f, corrupted(false).bytes);
    const ing = runCli(['ingest', '--db', db, f]);
    assert.equal(ing.code, 0, ing.stderr);
    assert.match(ing.stdout + ing.stderr, /sha256 trailer mismatch/);
    // The store holds what the file says: the flips really made phantom keys (else this test would prove nothing).
    const phantom = storedKeys(db).filter((k) => k.key.startsWith('/servicd/'));
    assert.ok(phantom.length > 0, 'phantom keys read from the corrupted file');
    assert.ok(phantom.every((k) => k.revisions < k.version), JSON.stringify(phantom));

    const snap = json(['snapshot', '--db', db, '--json']).snapshots[0];
    assert.equal(snap.trailer, 'sha256-mismatch');
    assert.equal(snap.evidence.completeness, 'unverified');
    assert.match(snap.evidence.detail, /sha256 trailer does not match/);
    const corruptNames = snap.corruptKeys.map((k: { key: string }) => k.key);
    for (const p of phantom) assert.ok(corruptNames.includes(p.key), `${p.key} reported as corrupt`);
    assert.ok(!snap.topByRevisions.some((k: { key: string }) => k.key.startsWith('/servicd/')));
    assert.ok(snap.findings.some((x: string) => /^Corruption: \d+ keys? of this never-compacted file contradict/.test(x)));

    const text = runCli(['snapshot', '--db', db]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /evidence: read directly from the file, unverified/);
    assert.match(text.stdout, /UNVERIFIED: its sha256 trailer does not match/);
    assert.match(text.stdout, /key left out \(corrupt: version ≠ puts\)/);

    const analyze = json(['analyze', '--db', db, '--json']);
    assert.deepEqual([...new Set(analyze.churn.evidence.map((e: { completeness: string }) => e.completeness))], ['unverified']);
    assert.ok(analyze.churn.keys.length > 0);
    for (const k of analyze.churn.keys) {
      assert.equal(k.evidence.completeness, 'unverified');
      assert.ok(!k.key.startsWith('/servicd/'), `${k.key} ranked`);
    }
    assert.equal(analyze.snapshotFiles[0].evidence.completeness, 'unverified');
    const churn = json(['churn', '--db', db, '--json']).churn;
    assert.ok(churn.keys.every((k: { evidence: { completeness: string } }) => k.evidence.completeness === 'unverified'));

    const md = runCli(['report', '--db', db, '--format', 'md']);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /\*\*snapshot\*\* \(unverified\): UNVERIFIED: its sha256 trailer does not match/);
    assert.doesNotMatch(md.stdout, /\*\*snapshot\*\* \(exact\)/);
    assert.match(md.stdout, /\| \d+ of \d+ keys \(unverified\) \|/, 'the page-accounting row');
    const html = runCli(['report', '--db', db, '--format', 'html']);
    assert.equal(html.code, 0, html.stderr);
    assert.match(html.stdout, /<b>snapshot<\/b> <span class="tag">unverified<\/span>/);
    assert.doesNotMatch(html.stdout, /<b>snapshot<\/b> <span class="tag">exact</);

    const sources = runCli(['sources', '--db', db]);
    assert.match(sources.stdout, /etcd-snapshot \(unverified\)/);
    const sj = json(['sources', '--db', db, '--json']).sources[0];
    assert.equal(sj.figures, 'unverified');
  } finally {
    cleanup();
  }
});

test('the same flips under a recomputed trailer (corrupted before the save): trailer ok, the contradicting keys still make the file unverified', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 's.db');
    const f = join(dir, 'snapshot.db');
    writeFileSync(f, corrupted(true).bytes);
    assert.equal(runCli(['ingest', '--db', db, f]).code, 0);
    const snap = json(['snapshot', '--db', db, '--json']).snapshots[0];
    assert.equal(snap.trailer, 'sha256-ok');
    assert.equal(snap.evidence.completeness, 'unverified');
    assert.doesNotMatch(snap.evidence.detail, /trailer/);
    assert.match(snap.evidence.detail, /contradict/);
    const analyze = json(['analyze', '--db', db, '--json']);
    assert.ok(analyze.churn.keys.every((k: { key: string; evidence: { completeness: string } }) =>
      !k.key.startsWith('/servicd/') && k.evidence.completeness === 'unverified'));
    // The keys left are consistent: every ranked key's revisions = its version (never compacted, never deleted).
    const stored = new Map(storedKeys(db).map((k) => [k.key, k]));
    for (const k of analyze.churn.keys) assert.equal(stored.get(k.key)!.version, k.revisions, k.key);
  } finally {
    cleanup();
  }
});
