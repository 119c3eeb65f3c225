// The incident's revision and size at NOSPACE taken from a snapshot file (no status sample to read them from)
// are as trustworthy as the file: the real etcd 3.4.23 snapshot (test/fixtures/etcd-3.4/snapshot-nospace.db,
// `etcdctl snapshot save`) gives 'exact' figures; the same file with one bit flipped in a `/service/` key
// (0x65 → 0x64, its sha256 trailer left as saved) gives 'unverified' ones that say why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, runCli, tempDir } from './helpers/cli.js';

interface Ev { source: string; completeness: string; detail: string }

function incidentSnapshotEvidence(dir: string, name: string, bytes: Buffer): Ev[] {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  const db = join(dir, `${name}.sqlite`);
  const ing = runCli(['ingest', '--db', db, file]);
  assert.ok(ing.code === 0 || ing.code === 2, ing.stderr);
  const r = runCli(['analyze', '--json', '--db', db]);
  assert.equal(r.code, 0, r.stderr);
  const ev = (JSON.parse(r.stdout) as { incident: { evidence: Ev[] } }).incident.evidence.filter((e) => e.source === 'snapshot-status');
  assert.equal(ev.length, 2, JSON.stringify(ev)); // the revision and the size
  return ev;
}

test('incident figures from a snapshot with a sha256 trailer mismatch are unverified; from the intact file exact', () => {
  const { dir, cleanup } = tempDir();
  try {
    const original = readFileSync(join(FIXTURES, 'etcd-3.4', 'snapshot-nospace.db'));
    for (const e of incidentSnapshotEvidence(dir, 'intact.db', original)) {
      assert.equal(e.completeness, 'exact', e.detail);
      assert.doesNotMatch(e.detail, /UNVERIFIED/);
    }
    const flipped = Buffer.from(original);
    const at = flipped.indexOf('/service/', flipped.length >> 1);
    assert.ok(at > 0 && at < flipped.length - 32);
    flipped[at + 7]! ^= 0x01;
    for (const e of incidentSnapshotEvidence(dir, 'flipped.db', flipped)) {
      assert.equal(e.completeness, 'unverified', e.detail);
      assert.match(e.detail, /^UNVERIFIED: its sha256 trailer does not match/);
      assert.match(e.detail, /from snapshot status at .*flipped\.db/);
    }
  } finally {
    cleanup();
  }
});
