// The head line of a Python `logging` record in any plain format (Patroni's `log.format` takes any
// Python format string): prefix pieces in some order, then the message. Rather than one regex per
// format, one left-to-right pass reads the prefix as tokens until it meets the level name:
//
//   2024-05-01 10:00:00,123 INFO: no action. …                   Patroni's default '%(asctime)s %(levelname)s: %(message)s'
//   2023-09-24 04:30:23 +0800 ERROR: <Unknown error: …>            pigsty's dateformat '%Y-%m-%d %H:%M:%S %z'
//   [2025-07-22 05:25:34,596][ERROR] get_cluster                   '[%(asctime)s][%(levelname)s] %(message)s' (patroni/patroni#3420)
//   2024-05-01 10:00:00,123 - patroni.ha - INFO - …               '%(asctime)s - %(name)s - %(levelname)s - %(message)s'
//   INFO:patroni.ha:…                                              logging.basicConfig's '%(levelname)s:%(name)s:%(message)s'
//   2024-05-01 10:00:00.123 UTC [123] INFO: …                      a PostgreSQL-like prefix around Python's fields
//
// Tokens: a timestamp (ISO date, ` ` or `T`, `,`/`.` fraction, optional `%z`/`Z`/zone abbreviation),
// a level name (Python prints DEBUG, INFO, WARNING, ERROR, CRITICAL: never WARN/FATAL, which is what
// keeps zap's and capnslog's lines out), and up to three other fields (logger name, thread, pid),
// bare or in brackets, separated by spaces, dashes, pipes or colons. No tabs: zap's console format
// (`…Z\tWARN\t…`) uses them, Python formats do not.

export interface PythonHead {
  /** The timestamp as printed, without its zone: `2024-05-01 10:00:00,123`; null for basicConfig's form. */
  time: string | null;
  /** `+0800`, `+08:00`, `Z`, or an abbreviation such as `UTC`/`CST`; null when none is printed. */
  zone: string | null;
  level: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
  /** Other prefix fields in order (logger name, thread, pid), brackets removed. */
  fields: string[];
  message: string;
  /** The prefix's shape, e.g. `[T][L] `, `T - F - L - `, `L:F:`: which tokens, which separators. */
  layout: string;
}

const LEVELS = new Set(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']);
const TS_RE = /(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?)(?:( ?(?:Z|[+-]\d\d(?::?\d\d)?))| ([A-Z]{2,5})(?=[\s\]),|-]|$))?/y;
const WORD_RE = /[\w.@/]+/y;
const MAX_FIELDS = 3;

/** Reads a head line; null when the line is not one (a continuation line, prose, another program). */
export function parsePythonHead(line: string): PythonHead | null {
  const c0 = line.charCodeAt(0);
  // A head starts with a digit (the date), `[`/`(` or an upper-case level: everything else is quick to refuse.
  if (!((c0 >= 48 && c0 <= 57) || c0 === 91 || c0 === 40 || (c0 >= 65 && c0 <= 90))) return null;
  let i = 0;
  let time: string | null = null;
  let zone: string | null = null;
  let level: PythonHead['level'] | null = null;
  let bracketed = false;
  const fields: string[] = [];
  let layout = '';
  while (level === null) {
    const s = i;
    while (i < line.length && isSep(line.charCodeAt(i))) i++;
    if (i >= line.length || i - s > 3) return null;
    layout += line.slice(s, i);
    const open = line[i];
    if (open === '[' || open === '(') {
      const close = line.indexOf(open === '[' ? ']' : ')', i + 1);
      if (close < 0 || close - i > 80) return null;
      const inner = line.slice(i + 1, close);
      const t = readTime(inner, 0);
      if (t && t.end === inner.length && time === null) {
        time = t.time;
        zone = t.zone;
        layout += '[T]';
      } else if (LEVELS.has(inner)) {
        level = inner as PythonHead['level'];
        bracketed = true;
        layout += '[L]';
      } else if (fields.length < MAX_FIELDS && inner !== '' && !inner.includes('  ')) {
        fields.push(inner);
        layout += '[F]';
      } else return null;
      i = close + 1;
      continue;
    }
    const t = time === null ? readTime(line, i) : null;
    if (t) {
      time = t.time;
      zone = t.zone;
      i = t.end;
      layout += 'T';
      continue;
    }
    WORD_RE.lastIndex = i;
    const w = WORD_RE.exec(line);
    if (!w) return null;
    i += w[0].length;
    if (LEVELS.has(w[0]) && (i === line.length || isEnd(line.charCodeAt(i)))) {
      level = w[0] as PythonHead['level'];
      layout += 'L';
    } else if (fields.length < MAX_FIELDS) {
      fields.push(w[0]);
      layout += 'F';
    } else return null;
  }
  // Where the message starts: `INFO: msg` (one space; `ERROR: ` has an empty message), `[INFO] msg`,
  // `INFO - msg`, `INFO | msg`, padded `INFO     msg`, basicConfig's `INFO:name:msg`.
  let m = i;
  if (line[m] === ':' && line[m + 1] === ' ') m += 2;
  else if (line[m] === ':' && time === null) {
    WORD_RE.lastIndex = m + 1;
    const name = WORD_RE.exec(line);
    if (!name || line[m + 1 + name[0].length] !== ':') return null;
    fields.push(name[0]);
    m += name[0].length + 2;
    layout += ':F:';
    i = m;
  } else if (line[m] === ':') m += 1;
  else if (line.startsWith(' - ', m) || line.startsWith(' | ', m)) m += 3;
  else if (bracketed && line[m] === ' ') m += 1;
  else while (line[m] === ' ') m++;
  layout += line.slice(i, m);
  // Without a timestamp only basicConfig's exact shape is a head: `ERROR: x` alone could be anything.
  if (time === null && !/^L:F:$/.test(layout)) return null;
  return { time, zone, level: level!, fields, message: line.slice(m), layout };
}

function readTime(text: string, at: number): { time: string; zone: string | null; end: number } | null {
  TS_RE.lastIndex = at;
  const t = TS_RE.exec(text);
  if (!t) return null;
  // ` INFO` after the time is the level, not a zone abbreviation.
  if (t[3] !== undefined && LEVELS.has(t[3])) return { time: t[1]!, zone: null, end: at + t[1]!.length };
  const zone = t[2] !== undefined ? t[2].trim() : (t[3] ?? null);
  return { time: t[1]!, zone, end: at + t[0].length };
}

// space, `-`, `|`, `:`, `,`
const isSep = (c: number): boolean => c === 32 || c === 45 || c === 124 || c === 58 || c === 44;
// What may follow a level name: end of prefix punctuation or a space.
const isEnd = (c: number): boolean => c === 32 || c === 58 || c === 93 || c === 41 || c === 124 || c === 45;
