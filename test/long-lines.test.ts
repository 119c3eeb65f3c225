// Lines longer than MAX_LINE_BYTES (1 MiB): each is one skipped line with its true number and length, no
// byte is read twice, the lines after it keep their numbers, and the reader never holds the long line.
// Before: a 3 MiB line became 4 pieces (one chunk repeated after each cut) and every later line number
// shifted; a 200 MB line counted as 201 skipped lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { LineSplitter, MAX_LINE_BYTES, openLineSource, type LineBatch } from '../src/ingest/lines.js';
import { runCli, tempDir, FIXTURES } from './helpers/cli.js';

const ZAP = join(FIXTURES, 'etcd-3.4', 'etcd-zap.log');

async function collect(src: AsyncGenerator<LineBatch>): Promise<{ lines: Map<number, string>; overlong: Map<number, number> }> {
  const lines = new Map<number, string>();
  const overlong = new Map<number, number>();
  for await (const b of src) {
    b.lines.forEach((t, i) => lines.set(b.firstLineNo + i, t));
    for (const o of b.overlong ?? []) overlong.set(b.firstLineNo + o.index, o.bytes);
  }
  return { lines, overlong };
}

/** Feeds `data` to the splitter in chunks of `size` bytes. */
async function* chunked(data: Buffer, size: number): AsyncGenerator<LineBatch> {
  const s = new LineSplitter();
  for (let i = 0; i < data.length; i += size) {
    const b = s.push(data.subarray(i, i + size));
    if (b) yield b;
  }
  const last = s.end();
  if (last) yield last;
}

test('a 3 MiB line between real zap lines: one overlong line with its length, every other line exact, at every chunk size', async () => {
  const real = readFileSync(ZAP, 'utf8').split('\n').filter(Boolean).slice(0, 30);
  // A line made of a counter, so a repeated stretch could not pass for the original.
  const long = Array.from({ length: 400_000 }, (_, i) => String(i).padStart(8, '0')).join('');
  assert.ok(Buffer.byteLength(long) > 3 * MAX_LINE_BYTES);
  const all = [...real.slice(0, 10), long, ...real.slice(10), `${long}\r`, 'last line without newline'];
  const data = Buffer.from(all.join('\n'));
  for (const size of [997, 4096, 128 * 1024, MAX_LINE_BYTES + 3, data.length]) {
    const { lines, overlong } = await collect(chunked(data, size));
    assert.equal(lines.size, all.length, `chunk ${size}: line count`);
    assert.deepEqual([...overlong], [[11, long.length], [32, long.length]], `chunk ${size}: overlong lines, the '\\r' not counted`);
    all.forEach((t, i) => {
      if (i === 10 || i === 31) assert.equal(lines.get(i + 1), '');
      else assert.equal(lines.get(i + 1), t, `chunk ${size}: line ${i + 1}`);
    });
  }
});

test('a line of exactly MAX_LINE_BYTES is read; one byte more is overlong', async () => {
  const exact = 'a'.repeat(MAX_LINE_BYTES);
  const r1 = await collect(chunked(Buffer.from(`${exact}\nx\n`), 100_000));
  assert.equal(r1.lines.get(1), exact);
  assert.equal(r1.overlong.size, 0);
  const r2 = await collect(chunked(Buffer.from(`${exact}b\nx\n`), 100_000));
  assert.deepEqual([...r2.overlong], [[1, MAX_LINE_BYTES + 1]]);
  assert.equal(r2.lines.get(2), 'x');
});

test('a 200 MB line streamed is one overlong line of 200000000 bytes; the reader does not hold it', async () => {
  const total = 200_000_000;
  const piece = Buffer.alloc(1_000_000, 0x41);
  let peak = 0;
  const gen = async function* (): AsyncGenerator<Buffer> {
    yield Buffer.from('first\n');
    for (let sent = 0; sent < total; sent += piece.length) {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      yield piece;
    }
    yield Buffer.from('\nsecond\nthird\n');
  };
  const before = process.memoryUsage().arrayBuffers;
  const src = openLineSource(Readable.from(gen()), { hash: true });
  const { lines, overlong } = await collect(src.batches());
  assert.deepEqual([...overlong], [[2, total]]);
  assert.deepEqual([lines.get(1), lines.get(3), lines.get(4), lines.size], ['first', 'second', 'third', 4]);
  assert.equal(src.contentBytes(), total + 20);
  // Bounded: what the reader holds stays far below the line (the limit, a chunk, the test's own piece).
  assert.ok(peak - before < 32 * 1024 * 1024, `array buffers grew by ${peak - before} bytes`);
});

test('ingest: a 3 MiB line inserted into a real zap log (plain and gzipped) is one skipped line with its number; the rows after it keep their numbers', () => {
  const { dir, cleanup } = tempDir();
  try {
    const real = readFileSync(ZAP, 'utf8').split('\n');
    const at = 100; // the inserted line's number
    const long = `{"level":"warn","msg":"${'x'.repeat(3 * MAX_LINE_BYTES)}"}`;
    const modified = [...real.slice(0, at - 1), long, ...real.slice(at - 1)].join('\n');
    const orig = join(dir, 'orig.log');
    const plain = join(dir, 'long.log');
    const gz = join(dir, 'long.log.gz');
    writeFileSync(orig, real.join('\n'));
    writeFileSync(plain, modified);
    writeFileSync(gz, gzipSync(modified));
    // --keep-raw: a row per line (what repeats is otherwise folded per minute), so every line number can be compared.
    const a = runCli(['ingest', '--keep-raw', '--db', join(dir, 'a.db'), orig]);
    assert.equal(a.code, 0, a.stderr);
    const want = rowLines(join(dir, 'a.db')).map(([t, l]) => `${t}:${l >= at ? l + 1 : l}`);
    for (const [file, db] of [[plain, 'b.db'], [gz, 'c.db']] as const) {
      const r = runCli(['ingest', '--keep-raw', '--db', join(dir, db), file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout + r.stderr, new RegExp(`long\\.log(\\.gz)?:${at}: skipped`));
      const d = new Database(join(dir, db), { readonly: true });
      const issues = d.prepare('SELECT line, reason FROM issues ORDER BY line').all() as { line: number; reason: string }[];
      d.close();
      const mine = issues.filter((i) => i.line === at);
      assert.equal(mine.length, 1, JSON.stringify(issues.slice(0, 5)));
      assert.match(mine[0]!.reason, new RegExp(`line of ${Buffer.byteLength(long)} bytes`));
      const got = rowLines(join(dir, db)).filter(([t, l]) => !(t === 'issues' && l === at)).map(([t, l]) => `${t}:${l}`);
      assert.deepEqual(got, want);
    }
  } finally {
    cleanup();
  }
});

/** Every stored row's (table, line), sorted: records and skipped lines. */
function rowLines(db: string): [string, number][] {
  const d = new Database(db, { readonly: true });
  try {
    const out: [string, number][] = [];
    for (const t of ['events', 'etcd_requests', 'status_samples', 'alarms', 'members', 'issues']) {
      for (const r of d.prepare(`SELECT line FROM ${t} ORDER BY line`).all() as { line: number }[]) out.push([t, r.line]);
    }
    return out;
  } finally {
    d.close();
  }
}
