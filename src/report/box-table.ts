// A terminal table drawn with box characters, the same bytes cli-table3 0.6 draws for a table of
// single-line cells with its default style (a rule between every row, one space of padding), but
// linear in the number of rows: cli-table3 spreads every row into one Array.push.apply call
// (`Maximum call stack size exceeded` at ~131k rows of `query "SELECT * FROM events"`) and its
// layout took minutes for 200k rows. Every cell passes safeText() first: a cell is data. Tables of
// more than RULED_ROWS_MAX rows have a rule under the header only.
import { safeText } from './terminal-safe.js';

export type BoxCell = string | number | null | undefined;

/** Above this many body rows the rule between body rows is left out: it would double a long output. */
export const RULED_ROWS_MAX = 1000;

/** One header row and the body rows as one string (no final newline); null/undefined cells print as `empty`. */
export function renderBoxTable(head: readonly string[], rows: Iterable<readonly BoxCell[]>, empty = ''): string {
  const parts: string[] = [];
  writeBoxTable(head, rows, (chunk) => parts.push(chunk), empty);
  return parts.join('');
}

/**
 * The same table handed to `write` in chunks of about 64 KiB, so a table of any length is never one
 * string (V8 strings stop at 512 MiB: `Invalid string length` on 138k rows of `SELECT * FROM events`).
 */
export function writeBoxTable(head: readonly string[], rows: Iterable<readonly BoxCell[]>, write: (chunk: string) => void, empty = ''): void {
  const text = (c: BoxCell): string => safeText(c === null || c === undefined ? empty : String(c));
  const body: string[][] = [head.map(text)];
  for (const r of rows) body.push(r.map(text));
  const columns = maxLength(body);
  const widths = new Array<number>(columns).fill(0);
  for (const r of body) {
    for (let i = 0; i < columns; i++) widths[i] = Math.max(widths[i]!, displayWidth(r[i] ?? ''));
  }
  const rule = (left: string, mid: string, right: string): string =>
    `${left}${widths.map((w) => '─'.repeat(w + 2)).join(mid)}${right}`;
  const line = (r: string[]): string =>
    `│${widths.map((w, i) => { const c = r[i] ?? ''; return ` ${c}${' '.repeat(w - displayWidth(c))} `; }).join('│')}│`;
  const between = rule('├', '┼', '┤');
  const ruled = body.length - 1 <= RULED_ROWS_MAX;
  let pending = rule('┌', '┬', '┐');
  for (let k = 0; k < body.length; k++) {
    if (k === 1 || (k > 1 && ruled)) pending += `\n${between}`;
    pending += `\n${line(body[k]!)}`;
    body[k] = []; // written: let the row go
    if (pending.length >= 65536) {
      write(pending);
      pending = '';
    }
  }
  write(`${pending}\n${rule('└', '┴', '┘')}`);
}

function maxLength(rows: string[][]): number {
  let n = 0;
  for (const r of rows) if (r.length > n) n = r.length;
  return n;
}

const WIDE_OR_ZERO = /[\u0300-\u036f\u1100-\u115f\u2e80-\u303e\u3041-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|\p{Extended_Pictographic}|[\u{20000}-\u{3fffd}]/u;

/** Columns a terminal gives the text: 2 for East Asian wide/fullwidth and emoji, 0 for combining marks. */
export function displayWidth(s: string): number {
  if (!WIDE_OR_ZERO.test(s)) return s.length - surrogatePairs(s);
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x300 && cp <= 0x36f) continue;
    w += isWide(cp) ? 2 : 1;
  }
  return w;
}

function surrogatePairs(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) { n++; i++; }
    }
  }
  return n;
}

function isWide(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) || (cp >= 0x3041 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd) ||
    /\p{Extended_Pictographic}/u.test(String.fromCodePoint(cp));
}
