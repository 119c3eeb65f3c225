// A gzipped snapshot is unpacked no further than its bbolt meta page declares (page size × high-water pgid,
// plus the 32-byte sha256 trailer) and only when the temporary directory has room (issue 14: a 3 MB gzip
// became 3 GB on disk before failing). Inputs: the real etcd 3.5.16 snapshot from `etcdctl snapshot save`
// (test/fixtures/etcd-3.5.16/snapshot-nospace.db), gzipped here, with zeros appended or one meta field
// changed as each case says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip, gzipSync } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { unpackSnapshot } from '../src/ingest/ingest-snapshot.js';
import { InputError } from '../src/errors.js';
import { BIN, ROOT, FIXTURES, runCli, tempDir } from './helpers/cli.js';

const SNAP = readFileSync(join(FIXTURES, 'etcd-3.5.16', 'snapshot-nospace.db'));
const IMAGE = SNAP.subarray(0, SNAP.length - 32); // the bbolt image without its sha256 trailer
const MiB = 1024 * 1024;

/** gzip of `head` followed by `zeros` zero bytes, streamed (never held whole). */
async function gzipWithZeros(out: string, head: Buffer, zeros: number): Promise<void> {
  const block = Buffer.alloc(MiB);
  async function* content(): AsyncGenerator<Buffer> {
    yield head;
    for (let left = zeros; left > 0; left -= MiB) yield left >= MiB ? block : block.subarray(0, left);
  }
  await pipeline(Readable.from(content()), createGzip({ level: 1 }), createWriteStream(out));
}

/** FNV-1a 64 over the meta fields, as bbolt checksums a meta page. */
function fnv1a64(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

test('image + 64 MiB of zeros: the unpacked file is the image alone; the real trailer is kept when the content ends with it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const gz = join(dir, 'padded.db.gz');
    await gzipWithZeros(gz, IMAGE, 64 * MiB);
    const declared = await unpackSnapshot(gz, join(dir, 'out.db'));
    assert.equal(declared?.bytes, IMAGE.length, 'declared = page size × high-water pgid = the image');
    assert.equal(statSync(join(dir, 'out.db')).size, IMAGE.length);
    assert.ok(readFileSync(join(dir, 'out.db')).equals(IMAGE));
    writeFileSync(join(dir, 'snap.db.gz'), gzipSync(SNAP));
    await unpackSnapshot(join(dir, 'snap.db.gz'), join(dir, 'out2.db'));
    assert.ok(readFileSync(join(dir, 'out2.db')).equals(SNAP), 'a snapshot with its trailer unpacks byte for byte');
  } finally {
    cleanup();
  }
});

test('more than the allowed bytes past the image: one clear InputError, not unpacked further', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const gz = join(dir, 'padded.db.gz');
    await gzipWithZeros(gz, IMAGE, 8 * MiB);
    await assert.rejects(unpackSnapshot(gz, join(dir, 'out.db'), MiB), (e: Error) =>
      e instanceof InputError && /goes on for more than 1048576 bytes past the 262144 bytes its bbolt meta page declares/.test(e.message));
    assert.ok(statSync(join(dir, 'out.db')).size <= IMAGE.length);
  } finally {
    cleanup();
  }
});

test('ingest under a 16 MiB file-size limit (ulimit -f): image + 64 MiB of zeros is read, the same keys as the plain image', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const gz = join(dir, 'padded.db.gz');
    await gzipWithZeros(gz, IMAGE, 64 * MiB);
    writeFileSync(join(dir, 'image.db'), IMAGE);
    // RLIMIT_FSIZE holds for every file the process writes: the old unpacking wrote 64 MiB more and died (SIGXFSZ).
    const r = spawnSync('bash', ['-c', 'ulimit -f 16384 && exec "$0" "$@"', process.execPath, BIN, 'ingest', '--db', join(dir, 'a.db'), gz], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, TMPDIR: dir },
    });
    assert.equal(r.status, 0, `${r.signal ?? ''} ${r.stderr}`);
    const plain = runCli(['ingest', '--db', join(dir, 'b.db'), join(dir, 'image.db')]);
    assert.equal(plain.code, 0, plain.stderr);
    const keys = (db: string) => {
      const d = new Database(db, { readonly: true });
      try {
        return d.prepare('SELECT key, revisions, version FROM snapshot_keys ORDER BY key').all();
      } finally {
        d.close();
      }
    };
    const a = keys(join(dir, 'a.db'));
    assert.ok(a.length > 0);
    assert.deepEqual(a, keys(join(dir, 'b.db')));
  } finally {
    cleanup();
  }
});

test('a meta page that declares more than the temporary directory holds: one line naming the size and the directory, exit 2', () => {
  const { dir, cleanup } = tempDir();
  try {
    const lying = Buffer.from(SNAP);
    // meta 0: pgid at byte 16+40 (u64 LE), checksum at 16+56 over bytes [16, 72). 2^40 pages of 4096 = 4 PiB.
    lying.writeBigUInt64LE(2n ** 40n, 56);
    lying.writeBigUInt64LE(fnv1a64(lying.subarray(16, 72)), 72);
    const gz = join(dir, 'lying.db.gz');
    writeFileSync(gz, gzipSync(lying));
    const r = runCli(['ingest', '--db', join(dir, 's.db'), gz], { env: { TMPDIR: dir } });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /lying\.db\.gz: unpacking needs 4503599627370528 bytes \(its bbolt meta page declares page size 4096 × high-water pgid 1099511627776, plus a 32-byte trailer\) but .* has \d+ bytes free/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    cleanup();
  }
});

test('a gzipped snapshot under 64 KiB with its gzip trailer damaged: one line saying it cannot be gunzipped and which trailer bytes, exit 2 (was "binary data")', () => {
  // The real 3.4.23 snapshot (test/fixtures/etcd-3.4/snapshot-recovered.db, 143,392 bytes) gzips to ~9.7 KB,
  // so detection reads the whole file and gunzip reaches the trailer: one case flips a CRC-32 byte, one an ISIZE byte.
  const { dir, cleanup } = tempDir();
  try {
    const gz = gzipSync(readFileSync(join(FIXTURES, 'etcd-3.4', 'snapshot-recovered.db')));
    assert.ok(gz.length < 64 * 1024, `${gz.length} bytes`);
    const crc = gz.length - 8;
    for (const [name, at, expected] of [
      ['crc', crc, new RegExp(`crc\\.db\\.gz: cannot gunzip: the gzip trailer's CRC-32 \\(bytes ${crc}\\.\\.${crc + 3}\\) does not match`)],
      ['isize', crc + 5, new RegExp(`isize\\.db\\.gz: cannot gunzip: the gzip trailer's length \\(ISIZE, bytes ${crc + 4}\\.\\.${crc + 7}\\) does not match`)],
    ] as const) {
      const damaged = Buffer.from(gz);
      damaged[at]! ^= 0x10;
      const file = join(dir, `${name}.db.gz`);
      writeFileSync(file, damaged);
      const r = runCli(['ingest', '--db', join(dir, `${name}.db`), file]);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, expected);
      assert.doesNotMatch(r.stderr, /binary data|\n\s+at /);
    }
    // The same file undamaged is read: the detection change only concerns a refused trailer.
    const good = join(dir, 'good.db.gz');
    writeFileSync(good, gz);
    const ok = runCli(['ingest', '--db', join(dir, 'good.db'), good]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout + ok.stderr, /good\.db\.gz: etcd-snapshot, \d+ revisions of \d+ keys/);
  } finally {
    cleanup();
  }
});
