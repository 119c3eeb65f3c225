// A terminal table drawn with box characters, the same bytes cli-table3 0.6 draws for a table of
// single-line cells with its default style (a rule between every row, one space of padding), but
// linear in the number of rows: cli-table3 spreads every row into one Array.push.apply call
// (`Maximum call stack size exceeded` at ~131k rows of `query "SELECT * FROM events"`) and its
// layout took minutes for 200k rows. Every cell passes safeText() first: a cell is data. Tables of
// more than RULED_ROWS_MAX rows have a rule under the header only. Given a width, the table fits it:
// wide columns are narrowed and their cells wrap at word boundaries (never a border moved by a cell).
import { safeText } from './terminal-safe.js';

export type BoxCell = string | number | null | undefined;

/** Above this many body rows the rule between body rows is left out: it would double a long output. */
export const RULED_ROWS_MAX = 1000;

/** One header row and the body rows as one string (no final newline); null/undefined cells print as `empty`. */
export function renderBoxTable(head: readonly string[], rows: Iterable<readonly BoxCell[]>, empty = '', width?: number): string {
  const parts: string[] = [];
  writeBoxTable(head, rows, (chunk) => parts.push(chunk), empty, width);
  return parts.join('');
}

/**
 * The same table handed to `write` in chunks of about 64 KiB, so a table of any length is never one
 * string (V8 strings stop at 512 MiB: `Invalid string length` on 138k rows of `SELECT * FROM events`).
 */
export function writeBoxTable(head: readonly string[], rows: Iterable<readonly BoxCell[]>, write: (chunk: string) => void, empty = '', width?: number): void {
  const text = (c: BoxCell): string => safeText(c === null || c === undefined ? empty : String(c));
  const body: string[][] = [head.map(text)];
  for (const r of rows) body.push(r.map(text));
  const columns = maxLength(body);
  const natural = new Array<number>(columns).fill(0);
  for (const r of body) {
    for (let i = 0; i < columns; i++) natural[i] = Math.max(natural[i]!, displayWidth(r[i] ?? ''));
  }
  const limited = width !== undefined && Number.isFinite(width) && natural.reduce((s, w) => s + w, 0) + frame(columns) > width;
  const widths = limited ? fitColumns(natural, width, longestWords(body, columns)) : natural;
  const fits = widths.every((w, i) => w >= natural[i]!);
  const rule = (left: string, mid: string, right: string): string =>
    `${left}${widths.map((w) => '─'.repeat(w + 2)).join(mid)}${right}`;
  const pad = (c: string, w: number): string => ` ${c}${' '.repeat(Math.max(0, w - displayWidth(c)))} `;
  const line = (r: string[]): string => {
    if (fits) return `│${widths.map((w, i) => pad(r[i] ?? '', w)).join('│')}│`;
    // Cells wider than their column wrap at word boundaries; the row is as tall as its tallest cell.
    const cells = widths.map((w, i) => wrapText(r[i] ?? '', w));
    const height = cells.reduce((h, c) => Math.max(h, c.length), 1);
    const lines: string[] = [];
    for (let k = 0; k < height; k++) lines.push(`│${widths.map((w, i) => pad(cells[i]![k] ?? '', w)).join('│')}│`);
    return lines.join('\n');
  };
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

/** Borders and padding a table of n columns adds to its cells: `│ a │ b │` is 3n + 1. */
const frame = (n: number): number => 3 * n + 1;
/** Narrowest a squeezed column gets: below this a wrapped cell is unreadable. */
const MIN_COLUMN = 6;

/** Longest word a squeezed column still keeps whole (a timestamp, an event kind, a short key). */
const WHOLE_WORD_MAX = 20;

/**
 * Column widths for a table that must fit `total` columns. First each column gets room for its longest
 * word (up to WHOLE_WORD_MAX; at least MIN_COLUMN), so timestamps and names are not cut; the rest of
 * the room goes to the columns that still want more, in proportion to what they want (a long summary
 * gets the most). When even the words do not fit, the widest columns are narrowed to a common cap.
 * A table of too many columns for the width is still drawn, wider than asked.
 */
export function fitColumns(natural: readonly number[], total: number, longestWord: readonly number[] = natural): number[] {
  const room = total - frame(natural.length);
  if (natural.reduce((s, w) => s + w, 0) <= room) return [...natural];
  const base = natural.map((w, i) => Math.min(w, Math.max(MIN_COLUMN, Math.min(longestWord[i] ?? w, WHOLE_WORD_MAX))));
  const baseSum = base.reduce((s, w) => s + w, 0);
  if (baseSum > room) return capColumns(base, room);
  const want = natural.map((w, i) => w - base[i]!);
  const wantSum = want.reduce((s, w) => s + w, 0);
  const widths = base.map((b, i) => b + Math.floor(((room - baseSum) * want[i]!) / wantSum));
  let left = room - widths.reduce((s, w) => s + w, 0);
  for (let i = 0; left > 0 && i < widths.length; i++) {
    if (widths[i]! < natural[i]!) { widths[i]!++; left--; }
  }
  return widths;
}

/** Columns wider than a common cap narrowed to it, the cap as high as the room allows (water-filling). */
function capColumns(widths: readonly number[], room: number): number[] {
  const sum = (cap: number): number => widths.reduce((s, w) => s + Math.min(w, Math.max(cap, Math.min(w, MIN_COLUMN))), 0);
  let lo = 0;
  let hi = Math.max(0, ...widths);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sum(mid) <= room) lo = mid;
    else hi = mid - 1;
  }
  const out = widths.map((w) => Math.min(w, Math.max(lo, Math.min(w, MIN_COLUMN))));
  let left = room - out.reduce((s, w) => s + w, 0);
  for (let i = 0; left > 0 && i < out.length; i++) {
    if (out[i]! < widths[i]!) { out[i]!++; left--; }
  }
  return out;
}

/** Characters after which a long word may break: path and key separators, punctuation. */
const BREAK_AFTER = new Set(['/', '-', '.', ',', ':', ';', '=', '_', '|', '&', '?', ')']);

/**
 * The text in lines of at most `width` display columns, broken at spaces; a word longer than the line
 * breaks after a separator (`/`, `-`, `.`, `:`, …) where one falls in the line, else at the width.
 */
export function wrapText(text: string, width: number, firstWidth: number = width): string[] {
  if (width < 1 || displayWidth(text) <= firstWidth) return [text];
  const lines: string[] = [];
  const room = (): number => (lines.length === 0 ? firstWidth : width);
  let cur = '';
  let curW = 0;
  for (const word of text.split(' ')) {
    const w = displayWidth(word);
    if (curW > 0 && curW + 1 + w <= room()) { cur += ` ${word}`; curW += 1 + w; continue; }
    if (curW > 0 || (cur === '' && lines.length === 0 && w > room() && room() < width && w <= width)) { lines.push(cur); cur = ''; curW = 0; }
    if (w <= room()) { cur = word; curW = w; continue; }
    const pieces = breakWord(word, width, room());
    lines.push(...pieces.slice(0, -1));
    cur = pieces[pieces.length - 1]!;
    curW = displayWidth(cur);
  }
  lines.push(cur);
  return lines;
}

function breakWord(word: string, width: number, firstWidth: number = width): string[] {
  const out: string[] = [];
  let chars = Array.from(word);
  while (chars.length > 0) {
    const room = out.length === 0 ? Math.max(1, firstWidth) : width;
    let w = 0;
    let fit = 0;
    let lastBreak = 0;
    for (; fit < chars.length; fit++) {
      const cw = displayWidth(chars[fit]!);
      if (w + cw > room) break;
      w += cw;
      if (BREAK_AFTER.has(chars[fit]!)) lastBreak = fit + 1;
    }
    if (fit >= chars.length) { out.push(chars.join('')); break; }
    const cut = lastBreak > room / 3 ? lastBreak : Math.max(1, fit);
    out.push(chars.slice(0, cut).join(''));
    chars = chars.slice(cut);
  }
  return out;
}

function longestWords(rows: string[][], columns: number): number[] {
  const out = new Array<number>(columns).fill(0);
  for (const r of rows) {
    for (let i = 0; i < columns; i++) {
      const c = r[i] ?? '';
      if (displayWidth(c) <= out[i]!) continue;
      for (const w of c.split(' ')) out[i] = Math.max(out[i]!, displayWidth(w));
    }
  }
  return out;
}

function maxLength(rows: string[][]): number {
  let n = 0;
  for (const r of rows) if (r.length > n) n = r.length;
  return n;
}

const WIDE_OR_ZERO = /[\u0300-\u036f\u1100-\u115f\u2e80-\u303e\u3041-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|\p{Extended_Pictographic}|[\u{20000}-\u{3fffd}]/u;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Columns a terminal gives the text: 2 for East Asian wide/fullwidth and emoji, 0 for combining marks. */
export function displayWidth(s: string): number {
  if (PRINTABLE_ASCII.test(s)) return s.length;
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
