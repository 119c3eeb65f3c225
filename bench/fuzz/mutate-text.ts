// Mutations of line-oriented inputs (logs, etcdctl output, transcripts, envelopes, YAML). Each takes
// the bytes and returns new bytes plus a short name for the failure report. They are byte-level on
// purpose: a real file can hold anything, including invalid UTF-8 and NUL.
import type { Rng } from './rng.js';

export interface Mutated {
  data: Buffer;
  ops: string[];
}

/** Byte strings a hostile key or a damaged file puts on a line. */
const HOSTILE = [
  '\x1b]52;c;ZWNobyBwd25lZA==\x07', // OSC 52: write the clipboard
  '\x1b[2J', '\x1b[31m', '\r', '\x00', '\x07', '\x08', '\x7f', '\t', '\v', '\f',
  '\u009b31m', // C1 CSI as a character
  '\u202e', '\u2028', '\u2066',
].map((s) => Buffer.from(s, 'utf8'))
  .concat([
    Buffer.from([0xff]), Buffer.from([0xfe, 0xff]), Buffer.from([0xc3]), // invalid / truncated UTF-8
    Buffer.from([0xed, 0xa0, 0x80]), // an encoded lone surrogate
    Buffer.from([0xc0, 0xaf]), // overlong '/'
    Buffer.from([0x9b]), // a raw C1 byte
    Buffer.from([0xef, 0xbb, 0xbf]), // a BOM mid-file
  ]);

/** Numbers out of range for the fields they replace. */
export const EDGE_NUMBERS = [
  '0', '-1', '-0', '1e22', '1.8e22', '9007199254740993', '9007199254740992', '18446744073709551615',
  '18446744073709551616', '-9223372036854775809', '99999999999999999999999999', '4294967296', '2147483648',
  '1e-400', '1e400', 'NaN', 'Infinity', '0x1f', '1_000', '00000000000000000001', '3.', '.5', '1e', '',
];

const EDGE_TIMES = [
  '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z', '2026-02-30T25:61:61Z', '2026-11-24T23:59:60Z',
  '1970-01-01T00:00:00Z', '2026-11-24T07:28:56.086+99:99', '2026-11-24T07:28:56', '+275760-09-13T00:00:00Z',
  '2026-11-24 07:28:56.086123456789', 'Nov 31 24:00:00',
];

function insertAt(data: Buffer, at: number, what: Buffer): Buffer {
  return Buffer.concat([data.subarray(0, at), what, data.subarray(at)]);
}

function lineBounds(data: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a) { out.push([start, i + 1]); start = i + 1; }
  }
  if (start < data.length) out.push([start, data.length]);
  return out;
}

function bitFlips(d: Buffer, r: Rng): Buffer {
  const out = Buffer.from(d);
  const n = r.range(1, 16);
  for (let i = 0; i < n && out.length > 0; i++) out[r.int(out.length)]! ^= 1 << r.int(8);
  return out;
}

function byteInsert(d: Buffer, r: Rng): Buffer {
  const bytes = Buffer.alloc(r.range(1, 64));
  for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256);
  return insertAt(d, r.int(d.length + 1), bytes);
}

function byteDelete(d: Buffer, r: Rng): Buffer {
  const at = r.int(d.length);
  const len = r.chance(0.7) ? r.range(1, 16) : r.range(1, 4096);
  return Buffer.concat([d.subarray(0, at), d.subarray(Math.min(d.length, at + len))]);
}

function truncate(d: Buffer, r: Rng): Buffer {
  return d.subarray(0, r.int(d.length));
}

function lineDuplicate(d: Buffer, r: Rng): Buffer {
  const lines = lineBounds(d);
  if (lines.length === 0) return d;
  const [s, e] = r.pick(lines);
  const line = d.subarray(s, e);
  const body = line[line.length - 1] === 0x0a ? line : Buffer.concat([line, Buffer.from('\n')]);
  // At most 32 MiB of copies: a 3 MiB huge line repeated 17,000 times asked Buffer.concat for 17.6 GB and
  // killed the harness itself (seed 16, case 100, the long run of 2026-11-30).
  const times = Math.max(1, Math.min(r.chance(0.8) ? r.range(2, 20) : r.range(1000, 20000), Math.floor((32 << 20) / body.length)));
  return Buffer.concat([d.subarray(0, e), Buffer.concat(Array(times).fill(body)), d.subarray(e)]);
}

function lineShuffle(d: Buffer, r: Rng): Buffer {
  const lines = lineBounds(d).map(([s, e]) => d.subarray(s, e));
  for (let k = r.range(1, 8); k > 0 && lines.length > 1; k--) {
    const i = r.int(lines.length); const j = r.int(lines.length);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return Buffer.concat(lines);
}

function hugeLine(d: Buffer, r: Rng): Buffer {
  // Over the line reader's 1 MiB cap, sometimes far over; a real line repeated, or one byte repeated.
  const size = r.chance(0.8) ? r.range(1024 * 1024 + 1, 3 * 1024 * 1024) : r.range(900 * 1024, 1024 * 1024 + 16);
  const lines = lineBounds(d);
  const [s, e] = lines.length > 0 ? r.pick(lines) : [0, 0];
  const unit = e > s + 1 ? d.subarray(s, e - 1) : Buffer.from('x');
  const big = Buffer.alloc(size);
  for (let o = 0; o < size; o += unit.length) unit.copy(big, o, 0, Math.min(unit.length, size - o));
  for (let i = 0; i < big.length; i++) if (big[i] === 0x0a) big[i] = 0x20;
  const at = lines.length > 0 ? r.pick(lines)[0] : 0;
  return insertAt(d, at, Buffer.concat([big, Buffer.from(r.chance(0.9) ? '\n' : '')]));
}

function controlBytes(d: Buffer, r: Rng): Buffer {
  let out = d;
  for (let k = r.range(1, 6); k > 0; k--) {
    // Often right after a '/' or a quote, where keys and names start, so the bytes reach a key or value.
    let at = r.int(out.length + 1);
    if (r.chance(0.6)) {
      const probe = r.int(out.length);
      const slash = out.indexOf(r.chance(0.5) ? 0x2f : 0x22, probe);
      if (slash >= 0) at = slash + 1;
    }
    out = insertAt(out, at, r.pick(HOSTILE));
  }
  return out;
}

function numberEdit(d: Buffer, r: Rng): Buffer {
  const text = d.toString('latin1'); // latin1 keeps byte offsets = string offsets
  const runs = [...text.matchAll(/-?\d+(\.\d+)?(e[+-]?\d+)?/g)];
  if (runs.length === 0) return d;
  let out = text;
  const n = Math.min(runs.length, r.range(1, 6));
  const chosen = Array.from({ length: n }, () => r.pick(runs)).sort((a, b) => b.index! - a.index!);
  let last = Infinity;
  for (const m of chosen) {
    if (m.index! + m[0].length > last) continue;
    out = out.slice(0, m.index!) + r.pick(EDGE_NUMBERS) + out.slice(m.index! + m[0].length);
    last = m.index!;
  }
  return Buffer.from(out, 'latin1');
}

function timeEdit(d: Buffer, r: Rng): Buffer {
  const text = d.toString('latin1');
  const runs = [...text.matchAll(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?/g)];
  if (runs.length === 0) return numberEdit(d, r);
  const m = r.pick(runs);
  return Buffer.from(text.slice(0, m.index!) + r.pick(EDGE_TIMES) + text.slice(m.index! + m[0].length), 'latin1');
}

function splice(d: Buffer, r: Rng, other: Buffer): Buffer {
  return Buffer.concat([d.subarray(0, r.int(d.length + 1)), other.subarray(r.int(other.length + 1))]);
}

function jsonValueEdit(v: unknown, r: Rng, depth: number): unknown {
  if (v !== null && typeof v === 'object' && depth < 6 && r.chance(0.6)) {
    if (Array.isArray(v)) {
      if (v.length === 0) return [r.pick(EDGE_NUMBERS)];
      const i = r.int(v.length);
      const copy = v.slice();
      if (r.chance(0.2)) copy.splice(i, 1); else copy[i] = jsonValueEdit(copy[i], r, depth + 1);
      return copy;
    }
    const obj = { ...(v as Record<string, unknown>) };
    const keys = Object.keys(obj);
    if (keys.length === 0) return obj;
    const k = r.pick(keys);
    if (r.chance(0.2)) delete obj[k];
    else obj[k] = jsonValueEdit(obj[k], r, depth + 1);
    return obj;
  }
  const replacements: unknown[] = [
    null, true, [], {}, '', -1, 0, 1e308, -1e308, 'not-a-number', '\x1b[2J\r\u202e', [v, v], { v },
    Number.MAX_SAFE_INTEGER + 2, 'x'.repeat(r.range(1, 70000)),
  ];
  return r.pick(replacements);
}

/** Replaces a JSON line (or the whole text when it is one JSON document) with a structurally edited one. */
function jsonEdit(d: Buffer, r: Rng): Buffer {
  const lines = lineBounds(d);
  const jsonLines = lines.filter(([s, e]) => { const c = d.subarray(s, e).toString('utf8').trimStart()[0]; return c === '{' || c === '['; });
  const whole = (() => { try { return JSON.parse(d.toString('utf8')) as unknown; } catch { return undefined; } })();
  if (whole !== undefined && (jsonLines.length === 0 || r.chance(0.3))) {
    return Buffer.from(rawEdit(JSON.stringify(jsonValueEdit(whole, r, 0)) ?? 'null', r));
  }
  if (jsonLines.length === 0) return controlBytes(d, r);
  const [s, e] = r.pick(jsonLines);
  const raw = d.subarray(s, e).toString('utf8');
  let replaced: string;
  try {
    replaced = JSON.stringify(jsonValueEdit(JSON.parse(raw), r, 0)) ?? 'null';
  } catch {
    replaced = raw.trimEnd();
  }
  replaced = rawEdit(replaced, r);
  return Buffer.concat([d.subarray(0, s), Buffer.from(replaced + '\n'), d.subarray(e)]);
}

/** Edits JSON.stringify cannot make: deep nesting, duplicate keys, unclosed strings, raw big numbers. */
function rawEdit(json: string, r: Rng): string {
  switch (r.int(6)) {
    case 0: { const depth = r.range(100, 20000); return '['.repeat(depth) + json + ']'.repeat(r.chance(0.5) ? depth : 0); }
    case 1: return json.startsWith('{') ? `{"ts":"x","ts":${r.pick(EDGE_NUMBERS) || '0'},${json.slice(1)}` : json;
    case 2: return json.slice(0, r.int(json.length));
    case 3: return json.replace(/"(\w+)":(\d+)/, (_m, k: string) => `"${k}":${r.pick(['18446744073709551616', '-1', '9007199254740993', '1e22', '1.8e22'])}`);
    default: return json;
  }
}

export type TextMutation = (d: Buffer, r: Rng, other: Buffer) => Buffer;

export const TEXT_MUTATIONS: Record<string, TextMutation> = {
  'bit-flips': bitFlips,
  'byte-insert': byteInsert,
  'byte-delete': byteDelete,
  truncate,
  splice,
  'line-duplicate': lineDuplicate,
  'line-shuffle': lineShuffle,
  'huge-line': hugeLine,
  'control-bytes': controlBytes,
  'number-edit': numberEdit,
  'time-edit': timeEdit,
  'json-edit': jsonEdit,
};

/** One to four stacked mutations; a huge line at most once (each one is 1-3 MiB). */
export function mutateText(seed: Buffer, r: Rng, other: Buffer): Mutated {
  const names = Object.keys(TEXT_MUTATIONS);
  let data = seed;
  const ops: string[] = [];
  for (let k = r.range(1, 4); k > 0; k--) {
    let name = r.pick(names);
    if (name === 'huge-line' && (ops.includes('huge-line') || !r.chance(0.4))) name = 'control-bytes';
    data = TEXT_MUTATIONS[name]!(data, r, other);
    ops.push(name);
  }
  return { data, ops };
}

/** A window of whole lines of a large capture, so one case stays a few seconds. */
export function cropText(seed: Buffer, r: Rng, maxBytes: number): Buffer {
  if (seed.length <= maxBytes) return seed;
  let start = r.int(seed.length - maxBytes);
  if (r.chance(0.3)) start = 0; // keep the head: etcdctl tables and transcripts start with a header
  const nl = start === 0 ? -1 : seed.indexOf(0x0a, start);
  const from = nl < 0 ? 0 : nl + 1;
  const end = seed.lastIndexOf(0x0a, from + maxBytes);
  return seed.subarray(from, end > from ? end + 1 : from + maxBytes);
}
