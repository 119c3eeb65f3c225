// Syslog-shaped wrappers with a finer time than the classic BSD prefix, all `<time> <host> <tag>[<pid>]: <msg>`:
//   journalctl -o short-precise      `May 01 10:00:00.123456 etcd1 etcd[25254]: …`     (no year, no zone)
//   journalctl -o short-iso          `2024-05-01T10:00:00+0200 etcd1 etcd[25254]: …`
//   journalctl -o short-iso-precise  `2024-05-01T10:00:00.123456+0200 etcd1 etcd[25254]: …`
//   rsyslog RSYSLOG_FileFormat       `2024-05-01T10:00:00.123456+02:00 etcd1 etcd[25254]: …`
// (systemd src/shared/logs-show.c output_short; rsyslog's template
// `%TIMESTAMP:::date-rfc3339% %HOSTNAME% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\n`).
// The classic `short` form (`May 01 10:00:00 host tag[pid]: …`, also rsyslog's traditional format) is not a
// wrapper here: the etcd and Patroni parsers read it inline (units/time.ts parseSyslogPrefix).
import type { OuterContext, ParseContext, RecordTime } from '../../model.js';
import type { EnvelopeFormat, Unwrapper } from './types.js';
import { parseSyslogPrefix, parseTimestamp, syslogTime } from '../../units/time.js';
import { journalShortLine, learnReferenceMs } from './short-line.js';
import { perLineUnwrapper } from './per-line.js';

// Host, `tag[pid]:` and the message, after the time. The tag excludes `[`, `:` and blanks; `: ` (or the
// line's end) must follow it, so `2026-11-30T09:15:16.027+08:00 start endpoints=127.0.0.1:52331 …` is not syslog.
const TAIL = String.raw` ([A-Za-z0-9][\w.-]*) ([^\s[:]+)(?:\[(\d+)\])?:(?: (.*))?$`;
const ISO_RE = new RegExp(String.raw`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(Z|[+-]\d\d:?\d\d))` + TAIL, 's');
const PRECISE_RE = /^(\S{1,8}\s{1,2}\d{1,2} \d\d:\d\d:\d\d)\.(\d{1,9}) (.*)$/s;

interface SyslogHead {
  time: RecordTime | null;
  host: string;
  tag: string;
  pid: number | null;
  msg: string;
}

/** `2024-05-01T10:00:00.123+0200 host tag[pid]: msg` (journald short-iso, rsyslog RFC3339). */
export function parseIsoSyslogHead(line: string, ctx: Pick<ParseContext, 'tz'>): SyslogHead | null {
  const m = ISO_RE.exec(line);
  if (!m) return null;
  const time = parseTimestamp(m[1]!, ctx);
  if (!time || time.basis !== 'explicit') return null;
  return { time, host: m[3]!, tag: m[4]!, pid: m[5] ? Number(m[5]) : null, msg: m[6] ?? '' };
}

/** `May 01 10:00:00.123456 host tag[pid]: msg`: the classic prefix with a fraction of a second. */
export function parsePreciseSyslogHead(line: string, ctx: Pick<ParseContext, 'tz' | 'referenceMs'>): SyslogHead | null {
  const m = PRECISE_RE.exec(line);
  if (!m) return null;
  const p = parseSyslogPrefix(`${m[1]!} ${m[3]!}`);
  if (!p) return null;
  const t = syslogTime(p, ctx);
  const ms = Math.floor(Number(`0.${m[2]!}`) * 1000 + 1e-6);
  return { time: t ? { ...t, ms: t.ms + ms } : null, host: p.host, tag: p.tag, pid: p.pid, msg: p.rest };
}

function syslogFormat(name: string, zone: 'colon' | 'no-colon'): EnvelopeFormat {
  const zoneOk = (line: string): boolean => {
    const sp = line.indexOf(' ');
    const z = line.slice(sp - 6, sp);
    return zone === 'colon' ? z.charCodeAt(3) === 58 || line.charCodeAt(sp - 1) === 90 : /^[+-]?\d\d\d\d$/.test(z.slice(1));
  };
  return {
    name,
    matches: (line) => zoneOk(line) && parseIsoSyslogHead(line, { tz: null }) !== null,
    create: (ctx) => createSyslogUnwrapper(name, (l) => parseIsoSyslogHead(l, ctx)),
  };
}

/** journalctl -o short-iso / short-iso-precise: the zone as strftime %z, `+0200`. */
export const journaldShortIsoFormat = syslogFormat('journald-short-iso', 'no-colon');
/** rsyslog RSYSLOG_FileFormat: RFC 3339 time, `+02:00` or `Z`. */
export const rsyslogRfc3339Format = syslogFormat('rsyslog-rfc3339', 'colon');

export const journaldShortPreciseFormat: EnvelopeFormat = {
  name: 'journald-short-precise',
  matches: (line) => parsePreciseSyslogHead(line, { tz: null, referenceMs: 0 }) !== null,
  create: (ctx, sample) => {
    // No year in the prefix: inner lines that carry one (zap, Patroni) say which, not the file's mtime.
    const yearCtx = { ...ctx, referenceMs: learnReferenceMs(sample.map((l) => parsePreciseSyslogHead(l, ctx)?.msg ?? ''), ctx) };
    return createSyslogUnwrapper('journald-short-precise', (l) => parsePreciseSyslogHead(l, yearCtx));
  },
};

function createSyslogUnwrapper(name: string, parse: (line: string) => SyslogHead | null): Unwrapper {
  // journalctl indents the continuation lines of a multi-line message: those pass as they are.
  return perLineUnwrapper(name, (line) => {
    const h = parse(line);
    if (!h) return null;
    const outer: OuterContext = { time: h.time, host: h.host, tag: h.tag, pid: h.pid };
    return { text: journalShortLine(outer, h.msg), outer };
  });
}
