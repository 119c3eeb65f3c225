// journalctl's structured outputs (systemd docs/JOURNAL_EXPORT_FORMATS.md, src/shared/logs-show.c):
//   -o json         one object per line: {"__REALTIME_TIMESTAMP":"1714557600123456","_HOSTNAME":"etcd1",
//                   "SYSLOG_IDENTIFIER":"etcd","_PID":"25254","MESSAGE":"…",…}. MESSAGE is an array of byte
//                   values when it is not valid UTF-8 (or holds control characters), null when it is larger
//                   than 4096 bytes and --all was not given, and an array of strings when the field repeats.
//   -o json-pretty  the same objects over many lines, `{`, `\t"MESSAGE" : "…",`, `}`.
//   -o export       KEY=VALUE lines, one blank line after each record. A field whose value is not printable
//                   text (a newline, a control character, not UTF-8) is written as `KEY\n`, a little-endian
//                   uint64 byte count, the bytes, `\n`.
// Every record is handed on in the `journalctl -o short` form the parsers know (short-line.ts), with its
// exact time (__REALTIME_TIMESTAMP, µs since the epoch, UTC), host, tag and pid.
import type { OuterContext } from '../../model.js';
import type { EnvelopeFormat, InnerLine, Unwrapper } from './types.js';
import { journalShortLines } from './short-line.js';
import { parseJsonVisible } from '../../units/json-visible.js';
import { decodeUtf8Visible } from '../../units/bytes-text.js';

type Fields = Record<string, unknown>;

/** A journal record's wrapper facts and message lines; null when it has no message or no time. */
export function journalRecordLines(f: Fields, lineNo: number): InnerLine[] {
  const msg = fieldText(f['MESSAGE']);
  if (msg === null) return [];
  const us = Number(fieldText(f['__REALTIME_TIMESTAMP']));
  const pid = Number(fieldText(f['_PID']) ?? fieldText(f['SYSLOG_PID']));
  const outer: OuterContext = {
    time: Number.isFinite(us) && us > 0 ? { ms: Math.floor(us / 1000), offsetMin: 0, basis: 'explicit' } : null,
    host: fieldText(f['_HOSTNAME']),
    tag: fieldText(f['SYSLOG_IDENTIFIER']) ?? fieldText(f['_COMM']),
    pid: Number.isInteger(pid) && pid > 0 ? pid : null,
  };
  return journalShortLines(outer, msg).map((text) => ({ text, lineNo, outer }));
}

/** A string; an array of byte values (decoded as UTF-8, each invalid byte as the text `\xNN`); the first of repeated values. */
function fieldText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (!Array.isArray(v) || v.length === 0) return null;
  if (v.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b < 256)) {
    return decodeUtf8Visible(Buffer.from(v as number[]));
  }
  return fieldText(v[0]);
}

function parseObject(s: string): Fields | null {
  try {
    const v: unknown = parseJsonVisible(s);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Fields) : null;
  } catch {
    return null;
  }
}

export const journaldJsonFormat: EnvelopeFormat = {
  name: 'journald-json',
  matches: (line) => line.charCodeAt(0) === 0x7b && line.includes('"__REALTIME_TIMESTAMP"') && parseObject(line) !== null,
  create: (): Unwrapper => ({
    name: 'journald-json',
    push(line, lineNo) {
      const f = line.charCodeAt(0) === 0x7b ? parseObject(line) : null;
      return f ? journalRecordLines(f, lineNo) : [{ text: line, lineNo, outer: null }];
    },
    end: () => [],
  }),
};

/**
 * Multi-line journal records are judged over the whole sample: the share of non-empty lines that are
 * record lines, provided at least one line is the record's timestamp field.
 */
function shareOfRecords(sample: readonly string[], isRecordLine: (l: string) => boolean, timeField: string): number {
  let nonEmpty = 0;
  let hits = 0;
  let times = 0;
  for (const l of sample) {
    if (l.trim() === '') continue;
    nonEmpty++;
    if (isRecordLine(l)) hits++;
    if (l.startsWith(timeField)) times++;
  }
  return nonEmpty > 0 && times > 0 ? hits / nonEmpty : 0;
}

// `\t"__REALTIME_TIMESTAMP" : "1714557600123456",`
const PRETTY_FIELD_RE = /^\t"[A-Za-z0-9_]+" : /;

export const journaldJsonPrettyFormat: EnvelopeFormat = {
  name: 'journald-json-pretty',
  matches: () => false,
  matchSample: (sample) => shareOfRecords(sample, (l) => l === '{' || l === '}' || PRETTY_FIELD_RE.test(l), '\t"__REALTIME_TIMESTAMP" : '),
  create: (): Unwrapper => {
    let held: { lines: string[]; lineNo: number } | null = null;
    return {
      name: 'journald-json-pretty',
      push(line, lineNo) {
        if (line === '{') {
          held = { lines: [line], lineNo };
          return [];
        }
        if (!held) return line.trim() === '' ? [] : [{ text: line, lineNo, outer: null }];
        held.lines.push(line);
        if (line !== '}') return [];
        const f = parseObject(held.lines.join('\n'));
        const first = held.lineNo;
        held = null;
        return f ? journalRecordLines(f, first) : [];
      },
      end: () => [],
    };
  },
};

// `MESSAGE=…`, `__REALTIME_TIMESTAMP=1714557600123456`; a binary field's name stands alone on its line.
const EXPORT_FIELD_RE = /^([A-Za-z0-9_]+)=/;
const EXPORT_NAME_RE = /^[A-Z0-9_]+$/;

export const journaldExportFormat: EnvelopeFormat = {
  name: 'journald-export',
  matches: () => false,
  matchSample: (sample) => shareOfRecords(sample, (l) => EXPORT_FIELD_RE.test(l), '__REALTIME_TIMESTAMP='),
  create: () => createExportUnwrapper(),
};

function createExportUnwrapper(): Unwrapper {
  let fields: Fields = {};
  let first = 0;
  let binary: { name: string; buf: string | null } | null = null;
  const flush = (): InnerLine[] => {
    const out = Object.keys(fields).length ? journalRecordLines(fields, first) : [];
    fields = {};
    return out;
  };
  return {
    name: 'journald-export',
    push(line, lineNo) {
      if (binary) {
        // Lines were cut at every `\n`, also inside the length and the data: join them back up.
        binary.buf = binary.buf === null ? line : `${binary.buf}\n${line}`;
        const value = binaryValue(binary.buf);
        if (value === undefined) return [];
        fields[binary.name] ??= value;
        binary = null;
        return [];
      }
      if (line === '') return flush();
      if (Object.keys(fields).length === 0) first = lineNo;
      const m = EXPORT_FIELD_RE.exec(line);
      if (m) {
        fields[m[1]!] ??= line.slice(m[0].length);
        return [];
      }
      if (EXPORT_NAME_RE.test(line)) binary = { name: line, buf: null };
      return [];
    },
    end: () => flush(),
  };
}

/**
 * The value of a binary field once all of it has been read, else undefined. The 8 length bytes arrive as
 * text: below 0x80 each is one character, and a byte the line reader found not UTF-8 is the four characters
 * `\xNN` (ingest/lines.ts); a length byte that joined its neighbour into a UTF-8 character is taken as
 * unknown and the value ends at the end of its first line.
 */
function binaryValue(buf: string): string | undefined {
  let len = 0;
  let p = 0;
  let known = true;
  for (let i = 0, scale = 1; i < 8; i++, scale *= 256) {
    if (p >= buf.length) return undefined;
    const hex = buf.charCodeAt(p) === 0x5c ? /^\\x([0-9a-f]{2})/.exec(buf.slice(p, p + 4)) : null;
    const b = hex ? parseInt(hex[1]!, 16) : buf.charCodeAt(p);
    p += hex ? 4 : 1;
    if (!hex && b >= 0x80) known = false;
    len += b * scale;
  }
  const data = buf.slice(p);
  if (!known) return data;
  return Buffer.byteLength(data) >= len ? data : undefined;
}
