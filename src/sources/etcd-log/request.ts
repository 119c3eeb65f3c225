// Decoder of the `request` field etcd logs with `failed to apply request` / `apply request took too long`:
// the protobuf compact text of InternalRaftRequest as written by raft_internal_stringer.go, e.g.
//   header:<ID:2416326952385748711 > put:<key:"/pgcluster/pg_cluster/members/postgres-2" value_size:218 lease:7386330616106706594 >
//   header:<ID:… > txn:<compare:<target:MOD key:"/a" mod_revision:0 > success:<request_put:<key:"/a" value_size:12 >> failure:<>>
//   header:<ID:… > lease_grant:<ttl:15-second id:694d7ff3fe0bce0b>      (hex id, no space before `>`)
//   key:"/cs/leader" range_end:"/cs/leades" sort_order:ASCEND             (read-only range: bare RangeRequest)
// The text given here must already be unquoted once when it came from a capnslog `%q` (see unquoteGo).
import type { RequestOp } from '../../model.js';
import { decodeUtf8Visible } from '../../units/bytes-text.js';
import { countFromText, NumberRangeError, uint64FromText } from '../../units/integers.js';

export interface DecodedPut {
  key: string;
  valueSize: number | null;
  /** int64 as decimal text. */
  lease: string | null;
  branch: 'success' | 'failure';
}

export interface DecodedRequest {
  op: RequestOp;
  key: string | null;
  rangeEnd: string | null;
  valueSize: number | null;
  /** Decimal text; lease_grant / lease_revoke print the id in hex, converted here. */
  lease: string | null;
  /** Every put inside a txn (success and failure branches, nested request_txn included). */
  puts: DecodedPut[];
  /** compaction:<revision:N >. */
  revision: number | null;
  /** alarm:<action:ACTIVATE memberID:… alarm:NOSPACE >. */
  alarmAction: string | null;
  alarm: string | null;
  /** header ID (uint64, decimal text). */
  headerId: string | null;
  /**
   * A number out of range for its field (`value_size:99999999999999999999`, `lease:-1`): the request is
   * not read and the caller reports the line as skipped, naming the field (units/integers.ts).
   */
  problem: string | null;
}

/** A parsed compact-text message: fields in order; a value is bare text, quoted bytes, or a nested message. */
type Field = { name: string; value: string | Message };
type Message = Field[];

const OPS: Record<string, RequestOp> = {
  put: 'put', txn: 'txn', range: 'range', delete_range: 'delete_range', compaction: 'compaction',
  lease_grant: 'lease_grant', lease_revoke: 'lease_revoke', alarm: 'alarm',
};

/** Returns null when the text is not compact text at all (no `name:` field could be read). Never throws. */
export function decodeRequestText(text: string): DecodedRequest | null {
  return decodePutFast(text) ?? decodeRequestTextGeneric(text);
}

// The request of nearly every line of a NOSPACE log is one plain put (Patroni's member key, a lease's key):
//   header:<ID:8754331417662001107 > put:<key:"/service/pg_demo0/members/node3" value_size:182 lease:1148033122010294000 >
// Read by one regex instead of the field tree (readFields was 6.5% of such an ingest's CPU, and its garbage
// part of GC's 9%). Only this exact shape: the key without escapes or non-ASCII (what readProtoString
// returns unchanged), digits only, no other field; anything else takes decodeRequestTextGeneric, and
// test/zap-fast-path.test.ts checks both give the same on every request of the real captures.
const PLAIN_PUT_RE = /^header:<ID:(\d+) > put:<key:"([^"\\\u0080-\uffff]*)" value_size:(\d+) (?:lease:(\d+) )?>$/;

/** The plain put above, or null (the caller then decodes the text in full). */
export function decodePutFast(text: string): DecodedRequest | null {
  const m = PLAIN_PUT_RE.exec(text);
  if (m === null) return null;
  try {
    return {
      op: 'put', key: m[2]!, rangeEnd: null, valueSize: num(m[3]!, 'value_size'), lease: leaseId(m[4] ?? null), puts: [],
      revision: null, alarmAction: null, alarm: null, headerId: m[1]!, problem: null,
    };
  } catch (e) {
    if (!(e instanceof NumberRangeError)) throw e;
    return null;
  }
}

/** The full decoder: any compact text, by its field tree. */
export function decodeRequestTextGeneric(text: string): DecodedRequest | null {
  const msg = parseMessage(text);
  if (!msg || msg.length === 0) return null;
  try {
    return decodeMessage(msg);
  } catch (e) {
    if (!(e instanceof NumberRangeError)) throw e;
    return { ...emptyRequest(), problem: e.message };
  }
}

function emptyRequest(): DecodedRequest {
  return {
    op: 'other', key: null, rangeEnd: null, valueSize: null, lease: null, puts: [],
    revision: null, alarmAction: null, alarm: null, headerId: null, problem: null,
  };
}

function decodeMessage(msg: Message): DecodedRequest | null {
  const out = emptyRequest();
  const header = sub(msg, 'header');
  if (header) out.headerId = str(header, 'ID');
  let body: Field | undefined;
  for (const f of msg) if (f.name !== 'header' && typeof f.value !== 'string') { body = f; break; }
  if (!body) {
    // Read-only range / read-only txn requests are logged bare (no header, no `range:<`).
    if (str(msg, 'key') !== null) return fillKeyed(out, 'range', msg);
    return header ? out : null;
  }
  // 3.5 logs slow read-only txns bare (`prefix":"read-only txn "`): `compare:<…> success:<request_range:<…>> failure:<>`.
  const bareTxn = !header && (body.name === 'compare' || body.name === 'success' || body.name === 'failure');
  const m = bareTxn ? msg : (body.value as Message);
  const op = OPS[body.name] ?? 'other';
  if (body.name === 'txn' || bareTxn) {
    out.op = 'txn';
    collectTxn(m, out.puts);
    out.key = firstKey(m);
  } else if (op === 'put' || op === 'range' || op === 'delete_range') {
    fillKeyed(out, op, m);
  } else if (op === 'compaction') {
    out.op = op;
    out.revision = num(str(m, 'revision'), 'revision');
  } else if (op === 'lease_grant' || op === 'lease_revoke') {
    out.op = op;
    out.lease = hexToDecimal(str(m, 'id'));
  } else if (op === 'alarm') {
    out.op = op;
    out.alarmAction = str(m, 'action');
    out.alarm = str(m, 'alarm');
  }
  return out;
}

function fillKeyed(out: DecodedRequest, op: RequestOp, m: Message): DecodedRequest {
  out.op = op;
  out.key = str(m, 'key');
  out.rangeEnd = str(m, 'range_end');
  out.valueSize = num(str(m, 'value_size'), 'value_size');
  out.lease = leaseId(str(m, 'lease'));
  return out;
}

// A txn list is `success:<request_put:<…> request_txn:<…>>`; request_txn recurses into the same shape.
function collectTxn(txn: Message, puts: DecodedPut[]): void {
  for (const f of txn) {
    if (typeof f.value === 'string' || (f.name !== 'success' && f.name !== 'failure')) continue;
    for (const op of f.value) {
      if (typeof op.value === 'string') continue;
      if (op.name === 'request_put') {
        const key = str(op.value, 'key');
        if (key === null) continue;
        puts.push({ key, valueSize: num(str(op.value, 'value_size'), 'value_size'), lease: leaseId(str(op.value, 'lease')), branch: f.name });
      } else if (op.name === 'request_txn') {
        collectTxn(op.value, puts);
      }
    }
  }
}

function firstKey(m: Message): string | null {
  for (const f of m) {
    if (f.name === 'key' && typeof f.value === 'string') return f.value;
    if (typeof f.value !== 'string') {
      const k = firstKey(f.value);
      if (k !== null) return k;
    }
  }
  return null;
}

function field(m: Message, name: string): Field | undefined {
  for (let i = 0; i < m.length; i++) if (m[i]!.name === name) return m[i];
  return undefined;
}

function sub(m: Message, name: string): Message | null {
  const f = field(m, name);
  return f && typeof f.value !== 'string' ? f.value : null;
}

function str(m: Message, name: string): string | null {
  const f = field(m, name);
  return f && typeof f.value === 'string' ? f.value : null;
}

/** A revision or size; one out of range throws NumberRangeError naming the field (the line is skipped). */
function num(s: string | null, field: string): number | null {
  if (s === null || s === '') return null;
  // Up to 15 digits is below 2^53 whatever they are: the same number countFromText returns, without its
  // BigInt check (3% of a NOSPACE log's ingest CPU went there: a value_size on every failed put).
  return s.length <= 15 && allDigits(s) ? Number(s) : countFromText(s, field);
}

/** A lease id (uint64 in decimal); out of range throws NumberRangeError. */
function leaseId(s: string | null): string | null {
  if (s === null || s === '') return null;
  // Up to 19 digits is below 2^64 (9999999999999999999 < 18446744073709551615): uint64FromText would
  // return the text itself when it has no leading zero.
  return s.length <= 19 && s.charCodeAt(0) !== 0x30 && allDigits(s) ? s : uint64FromText(s, 'lease');
}

function allDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** `694d7ff3fe0bce0b` → `7587862713869372939`; not hex → null; more than 64 bits throws NumberRangeError. */
export function hexToDecimal(hex: string | null): string | null {
  if (hex === null || !/^[0-9a-fA-F]+$/.test(hex)) return null;
  return uint64FromText(BigInt(`0x${hex}`).toString(), 'lease id');
}

/**
 * Parses compact text into fields. Tolerant: an unterminated message or string ends at end of text
 * (lines get truncated), so a prefix still yields what it holds. Returns null if no field was read.
 */
function parseMessage(text: string): Message | null {
  const state = { s: text, i: 0 };
  const msg = readFields(state, 0);
  return msg.length > 0 ? msg : null;
}

const MAX_DEPTH = 64;

function readFields(st: { s: string; i: number }, depth: number): Message {
  const out: Message = [];
  const s = st.s;
  while (st.i < s.length) {
    const c = s.charCodeAt(st.i);
    if (c === 0x20) { st.i++; continue; } // ' '
    if (c === 0x3e) { st.i++; return out; } // '>' closes this message
    const colon = s.indexOf(':', st.i);
    if (colon < 0) { st.i = s.length; break; }
    const name = s.slice(st.i, colon);
    if (!isFieldName(name)) { st.i = s.length; break; }
    st.i = colon + 1;
    const v = s.charCodeAt(st.i);
    if (v === 0x3c) { // '<'
      st.i++;
      out.push({ name, value: depth < MAX_DEPTH ? readFields(st, depth + 1) : [] });
    } else if (v === 0x22) { // '"'
      const q = readProtoString(s, st.i);
      st.i = q.end;
      out.push({ name, value: q.value });
    } else {
      let j = st.i;
      while (j < s.length && s.charCodeAt(j) !== 0x20 && s.charCodeAt(j) !== 0x3e) j++;
      out.push({ name, value: s.slice(st.i, j) });
      st.i = j;
    }
  }
  return out;
}

function isFieldName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alpha = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
    if (!alpha && !(i > 0 && c >= 0x30 && c <= 0x39)) return false;
  }
  return true;
}

const utf8Encoder = new TextEncoder();

/**
 * Reads a proto text string starting at the opening quote. Escapes: \" \\ \n \r \t \' \a \b \f \v,
 * octal \ooo and \xHH give raw bytes; the bytes are decoded as UTF-8 as the bbolt reader decodes keys
 * (units/bytes-text.ts): each byte outside a well-formed sequence becomes the visible text `\xNN`, so the
 * keys 0xff and 0xfe stay two keys and match the same keys read from a snapshot.
 * An unterminated string ends at the end of the text.
 */
export function readProtoString(s: string, start: number): { value: string; end: number } {
  // Fast path: most keys have no escapes and are ASCII.
  const close = s.indexOf('"', start + 1);
  if (close > 0) {
    let plain = true;
    for (let k = start + 1; k < close && plain; k++) {
      const c = s.charCodeAt(k);
      plain = c !== 0x5c && c < 0x80;
    }
    if (plain) return { value: s.slice(start + 1, close), end: close + 1 };
  }
  const bytes: number[] = [];
  let i = start + 1;
  let ascii = true;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return { value: decodeBytes(bytes, ascii), end: i + 1 };
    if (c !== 0x5c) {
      if (c < 0x80) bytes.push(c);
      else { ascii = false; pushUtf8(bytes, s, i); if (c >= 0xd800 && c < 0xdc00) i++; }
      i++;
      continue;
    }
    const e = s.charCodeAt(i + 1);
    i += 2;
    if (Number.isNaN(e)) break;
    if (e >= 0x30 && e <= 0x37) { // octal \ooo
      let n = e - 48;
      for (let k = 0; k < 2 && isOctal(s.charCodeAt(i)); k++, i++) n = n * 8 + s.charCodeAt(i) - 48;
      bytes.push(n & 0xff);
      if ((n & 0xff) > 0x7f) ascii = false;
    } else if (e === 0x78 && isHex(s.charCodeAt(i)) && isHex(s.charCodeAt(i + 1))) { // \xHH
      const n = parseInt(s.slice(i, i + 2), 16);
      bytes.push(n);
      if (n > 0x7f) ascii = false;
      i += 2;
    } else {
      const simple = SIMPLE_ESCAPES[String.fromCharCode(e)];
      if (simple !== undefined) bytes.push(simple);
      else if (e < 0x80) bytes.push(e);
      else { ascii = false; pushUtf8(bytes, s, i - 1); }
    }
  }
  return { value: decodeBytes(bytes, ascii), end: s.length };
}

/**
 * Reads a Go strconv.Quote (`%q`) string starting at the opening quote, as capnslog writes the request:
 * `"header:<ID:1 > put:<key:\"/k\" value_size:4 >"` → `header:<ID:1 > put:<key:"/k" value_size:4 >`.
 * \xHH below 0x80 is that character; from 0x80 it is a byte that was not UTF-8 (Go prints valid runes as
 * themselves or \u) and stays the visible text `\xHH`, as units/bytes-text.ts shows such bytes (were it
 * U+00HH, 0xff would read as `ÿ`). \uHHHH and \UHHHHHHHH become that code point.
 */
export function readGoQuoted(s: string, start: number): { value: string; end: number } {
  let out = '';
  let i = start + 1;
  let run = i;
  let q = -2; // next quote at or after i (-1: none); both searches are kept monotonic, so a line is scanned once
  let b = -2;
  while (i < s.length) {
    if (q !== -1 && q < i) q = s.indexOf('"', i);
    if (b !== -1 && b < i) b = s.indexOf('\\', i);
    if (q < 0 && b < 0) { i = s.length; break; }
    if (b < 0 || (q >= 0 && q < b)) return { value: out + s.slice(run, q), end: q + 1 };
    i = b;
    out += s.slice(run, i);
    const e = s[i + 1];
    i += 2;
    if (e === undefined) { run = i; break; }
    const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    const hex = width > 0 ? s.slice(i, i + width) : '';
    if (width > 0 && hex.length === width && /^[0-9a-fA-F]+$/.test(hex)) {
      const cp = parseInt(hex, 16);
      out += e === 'x' && cp >= 0x80 ? `\\x${hex.toLowerCase()}` : cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      i += width;
    } else if (e >= '0' && e <= '7' && /^[0-7]{3}$/.test(s.slice(i - 1, i + 2))) {
      out += String.fromCharCode(parseInt(s.slice(i - 1, i + 2), 8) & 0xff);
      i += 2;
    } else {
      const simple = SIMPLE_ESCAPES[e];
      out += simple !== undefined ? String.fromCharCode(simple) : e;
    }
    run = i;
  }
  return { value: out + s.slice(run, Math.min(i, s.length)), end: s.length };
}

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 10, r: 13, t: 9, a: 7, b: 8, f: 12, v: 11, '"': 34, "'": 39, '\\': 92,
};

function isOctal(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function pushUtf8(bytes: number[], s: string, i: number): void {
  const cp = s.codePointAt(i) ?? 0xfffd;
  for (const b of utf8Encoder.encode(String.fromCodePoint(cp))) bytes.push(b);
}

function decodeBytes(bytes: number[], ascii: boolean): string {
  if (!ascii) return decodeUtf8Visible(Buffer.from(bytes));
  let out = '';
  for (let k = 0; k < bytes.length; k += 4096) out += String.fromCharCode(...bytes.slice(k, k + 4096));
  return out;
}
