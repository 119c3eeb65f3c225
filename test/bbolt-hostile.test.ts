// Hostile input: a REAL etcd 3.4 snapshot, damaged on purpose. Each damage either leaves a file we
// can still read or ends in a BoltFormatError naming the page and its byte offset — never another
// exception type, never a hang. First hand-made damage at known structures, then fast-check.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { BoltFormatError, readEtcdBackend, type EtcdBackendSummary } from '../src/sources/bbolt/index.js';
import { fnv1a64 } from '../src/sources/bbolt/meta.js';
import { sha256OfRange, startSha256 } from '../src/sources/bbolt/trailer.js';
import { etcdctl, grantLease, putTxnViaGateway, putViaGateway, startEtcd } from './helpers/etcd-server.js';

let dir: string;
let original: Buffer;
let baseline: EtcdBackendSummary;
let fileNo = 0;

/** Layout facts of the real snapshot (little-endian, amd64), found by walking it by hand. */
interface Layout {
  pageSize: number;
  pgid: number;
  rootPgid: number;
  /** Root page of the `key` bucket: a branch page. */
  keyRoot: number;
  /** Children of keyRoot (leaf pages). */
  keyLeaves: number[];
}
let layout: Layout;

function writeVariant(bytes: Buffer): string {
  const path = join(dir, `variant-${fileNo++}.db`);
  writeFileSync(path, bytes);
  return path;
}

function readVariant(bytes: Buffer): EtcdBackendSummary {
  return readEtcdBackend(writeVariant(bytes));
}

/** Expect a BoltFormatError whose message matches; returns it. */
function expectFormatError(bytes: Buffer, pattern: RegExp): BoltFormatError {
  try {
    readVariant(bytes);
  } catch (error) {
    assert.ok(error instanceof BoltFormatError, `expected BoltFormatError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return error;
  }
  assert.fail(`expected a BoltFormatError matching ${pattern}`);
}

const u64 = (b: Buffer, off: number): number => Number(b.readBigUInt64LE(off));

function findLayout(bytes: Buffer): Layout {
  const pageSize = bytes.readUInt32LE(24);
  const rootPgid = u64(bytes, 32);
  const pgid = u64(bytes, 56);
  const root = rootPgid * pageSize;
  const count = bytes.readUInt16LE(root + 10);
  let keyRoot = 0;
  for (let i = 0; i < count; i++) {
    const elem = root + 16 + 16 * i;
    const keyStart = elem + bytes.readUInt32LE(elem + 4);
    const ksize = bytes.readUInt32LE(elem + 8);
    if (bytes.toString('utf8', keyStart, keyStart + ksize) === 'key') keyRoot = u64(bytes, keyStart + ksize);
  }
  assert.ok(keyRoot > 0, 'the key bucket has its own root page');
  const at = keyRoot * pageSize;
  assert.equal(bytes.readUInt16LE(at + 8), 0x01, 'key bucket root is a branch page');
  const keyLeaves = Array.from({ length: bytes.readUInt16LE(at + 10) }, (_, i) => u64(bytes, at + 16 + 16 * i + 8));
  return { pageSize, pgid, rootPgid, keyRoot, keyLeaves };
}

/** Rewrites a meta page's checksum after editing it, so only the intended damage remains. */
function resealMeta(bytes: Buffer, page: 0 | 1): void {
  const at = page * layout.pageSize + 16;
  bytes.writeBigUInt64LE(fnv1a64(bytes.subarray(at, at + 56)), at + 56);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bbolt-hostile-'));
  const etcd = await startEtcd();
  try {
    const lease = await grantLease(etcd, 300);
    const puts = Array.from({ length: 600 }, (_, i) => ({ key: `/service/pg_demo/members/node${(i % 3) + 1}`, value: `{"xlog_location":${i}}`.padEnd(200, ' ') }));
    await putViaGateway(etcd, puts, 8);
    await putTxnViaGateway(etcd, [{ key: '/service/pg_demo/leader', value: 'node1', lease }, { key: '/service/pg_demo/status', value: '{}' }]);
    etcdctl(etcd, ['del', '/service/pg_demo/members/node3']);
    const path = join(dir, 'original.db');
    etcdctl(etcd, ['snapshot', 'save', path]);
    original = readFileSync(path);
    baseline = readEtcdBackend(path);
  } finally {
    await etcd.stop();
  }
  layout = findLayout(original);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hand-made damage to a real snapshot', () => {
  test('the undamaged copy reads cleanly', () => {
    assert.equal(baseline.issueCount, 0);
    assert.ok(layout.keyLeaves.length >= 4);
  });

  test('truncated file', () => {
    const err = expectFormatError(original.subarray(0, Math.floor(original.length / 2)), /holds only \d+ \(truncated\?\)/);
    assert.equal(err.pageId, 0);
    expectFormatError(original.subarray(0, 50), /too short for a bbolt meta page/);
    expectFormatError(Buffer.alloc(0), /too short/);
  });

  test('wrong magic in both meta pages', () => {
    const bytes = Buffer.from(original);
    bytes.writeUInt32LE(0xdeadbeef, 16);
    bytes.writeUInt32LE(0xdeadbeef, layout.pageSize + 16);
    expectFormatError(bytes, /no valid meta page \(no bbolt magic 0xED0CDAED at byte 16 in either byte order\)/);
  });

  test('bad checksum in meta 0 falls back to meta 1; in both is an error', () => {
    const bytes = Buffer.from(original);
    bytes[16 + 48] = (bytes[16 + 48] ?? 0) ^ 0xff; // txid byte of meta 0, checksum not updated
    const summary = readVariant(bytes);
    assert.equal(summary.file.metaPage, 1);
    assert.equal(summary.file.otherMeta.valid, false);
    assert.match(summary.file.otherMeta.valid ? '' : summary.file.otherMeta.reason, /^checksum /);
    assert.deepEqual({ ...summary.snapshotStatus, hash: 0 }, { ...baseline.snapshotStatus, hash: 0 });
    bytes[layout.pageSize + 16 + 48] = (bytes[layout.pageSize + 16 + 48] ?? 0) ^ 0xff;
    expectFormatError(bytes, /no valid meta page: meta 0: checksum .*; meta 1: checksum /);
  });

  test('page id not matching its position', () => {
    const bytes = Buffer.from(original);
    bytes.writeBigUInt64LE(12345n, layout.keyRoot * layout.pageSize);
    const err = expectFormatError(bytes, /header says page 12345, expected/);
    assert.equal(err.message, `page ${layout.keyRoot} at byte ${layout.keyRoot * layout.pageSize}: header says page 12345, expected ${layout.keyRoot}`);
    assert.equal(err.pageId, layout.keyRoot);
    assert.equal(err.byteOffset, layout.keyRoot * layout.pageSize);
  });

  const setChild = (index: number, pgid: number): Buffer => {
    const bytes = Buffer.from(original);
    bytes.writeBigUInt64LE(BigInt(pgid), layout.keyRoot * layout.pageSize + 16 + 16 * index + 8);
    return bytes;
  };

  test('a branch element pointing at its own page', () => {
    expectFormatError(setChild(1, layout.keyRoot), new RegExp(`^page ${layout.keyRoot} at byte \\d+: branch element 1 points to its own page`));
  });

  test('a branch element pointing out of range (past pgid, at a meta page, past 2^53)', () => {
    expectFormatError(setChild(0, layout.pgid + 5), /branch element 0 points to page \d+, outside \[2, \d+\)/);
    expectFormatError(setChild(0, 1), /branch element 0 points to page 1, outside/);
    const bytes = Buffer.from(original);
    bytes.writeBigUInt64LE(0xffffffffffffff00n, layout.keyRoot * layout.pageSize + 16 + 8);
    expectFormatError(bytes, /branch element 0 points to page \d+, outside/);
  });

  test('a cycle: a branch element pointing back at an ancestor, or two parents for one page', () => {
    expectFormatError(setChild(2, layout.rootPgid), /branch element 2 points to page \d+, which is already reached \(cycle or shared page\)/);
    expectFormatError(setChild(2, layout.keyLeaves[0] ?? 0), /already reached/);
  });

  test('a huge element count', () => {
    const bytes = Buffer.from(original);
    bytes.writeUInt16LE(0xffff, layout.rootPgid * layout.pageSize + 10);
    expectFormatError(bytes, /65535 elements need 1048576 bytes but the page has 4096/);
  });

  test('leaf element key and value bounds', () => {
    const leaf = layout.keyLeaves[1] ?? 0;
    const at = leaf * layout.pageSize;
    const bytes = Buffer.from(original);
    bytes.writeUInt32LE(0x7fffffff, at + 16 + 16 * 3 + 8); // element 3 ksize
    const err = expectFormatError(bytes, /leaf element 3 key extends past page end/);
    assert.equal(err.message, `page ${leaf} at byte ${at}: leaf element 3 key extends past page end`);
    const bytes2 = Buffer.from(original);
    bytes2.writeUInt32LE(0xffffffff, at + 16 + 16 * 2 + 4); // element 2 pos
    expectFormatError(bytes2, /leaf element 2 key extends past page end/);
    const bytes3 = Buffer.from(original);
    bytes3.writeUInt32LE(layout.pageSize, at + 16 + 16 * 0 + 12); // element 0 vsize
    expectFormatError(bytes3, /leaf element 0 value extends past page end/);
  });

  test('overflow past the high-water mark and unknown page types', () => {
    const bytes = Buffer.from(original);
    bytes.writeUInt32LE(layout.pgid, layout.keyRoot * layout.pageSize + 12);
    expectFormatError(bytes, /overflow \d+ runs past the high-water mark/);
    const bytes2 = Buffer.from(original);
    bytes2.writeUInt16LE(0x10, (layout.keyLeaves[0] ?? 0) * layout.pageSize + 8);
    expectFormatError(bytes2, /freelist page where a branch or leaf page belongs/);
  });

  test('a high-water mark or root past the file end, even with a valid checksum', () => {
    const bytes = Buffer.from(original);
    for (const page of [0, 1] as const) {
      bytes.writeBigUInt64LE(BigInt(layout.pgid * 1000), page * layout.pageSize + 16 + 40);
      resealMeta(bytes, page);
    }
    expectFormatError(bytes, /high-water pgid \d+ × page size 4096 = \d+ bytes, but the file holds only/);
    const bytes2 = Buffer.from(original);
    for (const page of [0, 1] as const) {
      bytes2.writeBigUInt64LE(BigInt(layout.pgid + 3), page * layout.pageSize + 16 + 16);
      resealMeta(bytes2, page);
    }
    expectFormatError(bytes2, /root bucket page \d+ is outside/);
  });

  test('a damaged trailer is reported, not thrown; a damaged protobuf value becomes an issue', () => {
    const bytes = Buffer.from(original);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    const summary = readVariant(bytes);
    assert.ok(summary.file.trailer.kind === 'sha256' && summary.file.trailer.verified && !summary.file.trailer.matches);
    assert.deepEqual(summary.snapshotStatus, baseline.snapshotStatus);

    const leaf = layout.keyLeaves[0] ?? 0;
    const at = leaf * layout.pageSize;
    const elem = at + 16;
    const valueStart = elem + bytes.readUInt32LE(elem + 4) + bytes.readUInt32LE(elem + 8);
    const damaged = Buffer.from(original);
    damaged[valueStart] = 0x07; // field 0, wire type 7
    const read = readVariant(damaged);
    assert.equal(read.issueCount, 1);
    assert.match(read.issues[0]?.reason ?? '', /key bucket row 0 \(rev \d+\): field number 0/);
    assert.equal(read.keyBucket.revisions, baseline.keyBucket.revisions - 1);
    assert.equal(read.snapshotStatus.totalKey, baseline.snapshotStatus.totalKey, 'TOTAL KEYS still counts the row');
  });

  test('the background (worker thread) sha256 equals the trailer', () => {
    const path = writeVariant(Buffer.from(original));
    const fd = openSync(path, 'r');
    try {
      const pending = startSha256(path, fd, original.length - 32, 0);
      assert.equal(pending.join(), original.subarray(original.length - 32).toString('hex'));
      assert.equal(pending.join(), sha256OfRange(fd, original.length - 32), 'join() is idempotent and agrees');
    } finally {
      closeSync(fd);
    }
  });

  test('a big-endian (s390x) copy of the same file reads the same', () => {
    const swapped = toBigEndian(original.subarray(0, baseline.dbSize));
    const summary = readVariant(swapped);
    assert.equal(summary.file.byteOrder, 'big-endian');
    assert.deepEqual(summary.snapshotStatus, baseline.snapshotStatus);
    assert.deepEqual(summary.keys, baseline.keys);
    assert.equal(summary.pages.free, baseline.pages.free);
  });
});

// BBOLT_FC_SCALE=10 multiplies the runs for a longer soak.
const SCALE = Number(process.env['BBOLT_FC_SCALE'] ?? '1');

describe('random damage (fast-check)', { timeout: 300_000 * SCALE }, () => {
  /** Reads a damaged copy: a clean result or a BoltFormatError, within the time guard. */
  function readsCleanlyOrFailsTyped(bytes: Buffer): void {
    const started = performance.now();
    try {
      readVariant(bytes);
    } catch (error) {
      if (!(error instanceof BoltFormatError)) throw error;
      assert.match(error.message, /\S/);
    }
    const took = performance.now() - started;
    assert.ok(took < 2000, `read took ${took.toFixed(0)} ms`);
  }

  const damage = fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 });

  test('random bytes anywhere', () => {
    fc.assert(
      fc.property(damage, (edits) => {
        const bytes = Buffer.from(original);
        for (const e of edits) bytes[e.at % bytes.length] = e.byte;
        readsCleanlyOrFailsTyped(bytes);
      }),
      { numRuns: 300 * SCALE },
    );
  });

  test('random bytes in page headers and element arrays of reachable structure', () => {
    // Bias towards the first 160 bytes of pages: header + the first 9 elements.
    const structural = fc.array(
      fc.record({ page: fc.nat({ max: layout.pgid - 1 }), offset: fc.nat({ max: 159 }), byte: fc.integer({ min: 0, max: 255 }) }),
      { minLength: 1, maxLength: 4 },
    );
    fc.assert(
      fc.property(structural, fc.boolean(), (edits, reseal) => {
        const bytes = Buffer.from(original);
        for (const e of edits) bytes[e.page * layout.pageSize + e.offset] = e.byte;
        if (reseal) {
          resealMeta(bytes, 0); // a damaged meta that still checksums: pgid, root, page size lie
          resealMeta(bytes, 1);
        }
        readsCleanlyOrFailsTyped(bytes);
      }),
      { numRuns: 500 * SCALE },
    );
  });

  test('truncation at any length', () => {
    fc.assert(
      fc.property(fc.nat({ max: original.length }), (length) => readsCleanlyOrFailsTyped(original.subarray(0, length))),
      { numRuns: 200 * SCALE },
    );
  });

  test('u32/u64 fields set to extreme values', () => {
    const extremes = fc.constantFrom(0, 1, 0xffff, 0x7fffffff, 0xffffffff, layout.pgid - 1, layout.pgid, layout.rootPgid);
    fc.assert(
      fc.property(fc.nat({ max: layout.pgid - 1 }), fc.nat({ max: 39 }), extremes, (page, slot, value) => {
        const bytes = Buffer.from(original);
        bytes.writeUInt32LE(value >>> 0, page * layout.pageSize + slot * 4);
        readsCleanlyOrFailsTyped(bytes);
      }),
      { numRuns: 500 * SCALE },
    );
  });
});

/**
 * Byte-swaps every structural integer of a little-endian bbolt image reachable from its meta:
 * metas (checksum recomputed), page headers, branch/leaf elements, bucket headers, inline pages.
 * Keys and values (etcd's own big-endian revisions, protobuf) are left alone, as on s390x.
 */
function toBigEndian(le: Buffer): Buffer {
  const be = Buffer.from(le);
  const ps = le.readUInt32LE(24);
  const swap32 = (off: number): void => void be.writeUInt32BE(le.readUInt32LE(off), off);
  const swap16 = (off: number): void => void be.writeUInt16BE(le.readUInt16LE(off), off);
  const swap64 = (off: number): void => void be.writeBigUInt64BE(le.readBigUInt64LE(off), off);
  const swapPage = (at: number, isInline: boolean): void => {
    const flags = le.readUInt16LE(at + 8);
    const count = le.readUInt16LE(at + 10);
    swap64(at); swap16(at + 8); swap16(at + 10); swap32(at + 12);
    for (let i = 0; i < count; i++) {
      const elem = at + 16 + 16 * i;
      if (flags === 0x01) {
        swap32(elem); swap32(elem + 4); swap64(elem + 8);
        swapPage(u64(le, elem + 8) * ps, false);
        continue;
      }
      const [eflags, pos, ksize] = [le.readUInt32LE(elem), le.readUInt32LE(elem + 4), le.readUInt32LE(elem + 8)];
      swap32(elem); swap32(elem + 4); swap32(elem + 8); swap32(elem + 12);
      if ((eflags & 1) === 0) continue;
      const value = elem + pos + ksize;
      const root = u64(le, value);
      swap64(value); swap64(value + 8);
      swapPage(root === 0 ? value + 16 : root * ps, root === 0);
    }
    void isInline;
  };
  for (const page of [0, 1]) {
    const m = page * ps + 16;
    for (const off of [0, 4, 8, 12]) swap32(m + off);
    for (const off of [16, 24, 32, 40, 48]) swap64(m + off);
    swap64(page * ps); swap16(page * ps + 8);
    be.writeBigUInt64BE(fnv1a64(be.subarray(m, m + 56)), m + 56);
  }
  swapPage(u64(le, 32) * ps, false);
  return be;
}
