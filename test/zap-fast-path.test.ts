// The plain-put fast path of the request decoder (src/sources/etcd-log/request.ts, decodePutFast) against
// the full decoder, on every request text of every zap line in the repo's real captures (test/fixtures/,
// samples/; plain and .gz files): both must give the same DecodedRequest, and the fast path must take a real
// share of them (else the test would compare nothing). Requests mutated from real ones (escapes, non-ASCII,
// leading zeros, out-of-range numbers, an extra field) check that anything off the exact shape falls back.
//
// A parse-free path for whole zap lines (extracting level/ts/msg/took/request/response/error by position)
// was measured too and dropped: on 200 k lines of the bench log it was slower than V8's JSON.parse (the
// request field always holds `\"`, so every value needs unescaping), bench/RESULTS-ingest.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodePutFast, decodeRequestText, decodeRequestTextGeneric } from '../src/sources/etcd-log/request.js';

const ROOT = join(import.meta.dirname, '..');
const DIRS = ['test/fixtures', 'samples'];
const MAX_FILE = 64 << 20;

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile() && statSync(p).size <= MAX_FILE) yield p;
  }
}

function textOf(path: string): string | null {
  let b = readFileSync(path);
  if (path.endsWith('.gz')) {
    try { b = gunzipSync(b); } catch { return null; }
  }
  return b.includes(0) ? null : b.toString('utf8');
}

/** Every `request` string of a zap JSON object found in a line (bare, or behind a journald/CRI/syslog prefix). */
function requestTexts(): { texts: string[]; files: number } {
  const texts: string[] = [];
  let withRequests = 0;
  for (const d of DIRS) {
    for (const f of files(join(ROOT, d))) {
      const text = textOf(f);
      if (text === null || !text.includes('"request":"')) continue;
      const before = texts.length;
      for (const line of text.split('\n')) {
        const at = line.indexOf('{"level":');
        if (at === -1) continue;
        let o: unknown;
        try { o = JSON.parse(line.slice(at).trimEnd()); } catch { continue; }
        const r = (o as Record<string, unknown>).request;
        if (typeof r === 'string') texts.push(r);
      }
      if (texts.length > before) withRequests++;
    }
  }
  return { texts, files: withRequests };
}

const { texts, files: captureFiles } = requestTexts();

test('fast path and full decoder agree on every request of the real captures', () => {
  assert.ok(captureFiles >= 10, `request texts found in only ${captureFiles} files`);
  assert.ok(texts.length >= 5_000, `only ${texts.length} request texts found`);
  let fast = 0;
  for (const t of texts) {
    const full = decodeRequestTextGeneric(t);
    const f = decodePutFast(t);
    if (f !== null) {
      fast++;
      assert.deepEqual(f, full, t);
    }
    assert.deepEqual(decodeRequestText(t), full, t);
  }
  // NOSPACE captures are mostly plain puts: the fast path must carry most of them.
  assert.ok(fast >= texts.length / 4, `fast path took ${fast} of ${texts.length}`);
  assert.ok(fast < texts.length, 'every request was a plain put: the fallback was never exercised');
});

test('requests off the exact shape fall back and still agree', () => {
  const put = texts.find((t) => decodePutFast(t) !== null && t.includes(' lease:'));
  assert.ok(put, 'no plain put with a lease among the captures');
  const variants = [
    put.replace('key:"', 'key:"a\\"b'), //                     an escaped quote in the key
    put.replace('key:"', 'key:"\\377'), //                     an octal byte
    put.replace('key:"', 'key:"ключ/'), //                     non-ASCII
    put.replace(/value_size:\d+/, 'value_size:0007'), //       leading zeros (fast, Number gives 7)
    put.replace(/lease:\d+/, 'lease:0042'), //                  leading zeros in a lease id
    put.replace(/value_size:\d+/, 'value_size:99999999999999999999'), // beyond 2^53: a problem, not a number
    put.replace(/lease:\d+/, 'lease:18446744073709551616'), //  beyond 2^64
    put.replace(/lease:\d+/, 'lease:-1'),
    put.replace(' >', ' ignore_lease:true >'), //               another field (after the header's ` >`)
    put.replace(/ >$/, ' prev_kv:true >'),
    put.slice(0, -2), //                                         truncated
  ];
  let fellBack = 0;
  for (const v of variants) {
    if (decodePutFast(v) === null) fellBack++;
    assert.deepEqual(decodeRequestText(v), decodeRequestTextGeneric(v), v);
  }
  assert.ok(fellBack >= 8, `only ${fellBack} of ${variants.length} variants fell back`);
  const big = decodeRequestText(put.replace(/value_size:\d+/, 'value_size:99999999999999999999'));
  assert.match(big?.problem ?? '', /value_size/);
});
