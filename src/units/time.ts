// Time helpers shared by the log parsers: explicit-offset timestamps, zone-less local times
// (resolved with --tz, else UTC, and marked assumed), and syslog/journald prefixes without a year.
import { TZDate } from '@date-fns/tz';
import type { ParseContext, RecordTime } from '../model.js';

const ISO_RE =
  /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?\s?(Z|[+-]\d\d:?\d\d)?$/;

/** Parses `2023-09-26T15:42:23.663+0800`, `…03.21381+0800`, `…Z`, `2023-09-24 04:30:23 +0800`, `…+08:00`. */
export function parseTimestamp(text: string, ctx: Pick<ParseContext, 'tz'>): RecordTime | null {
  const fast = parseIsoFast(text);
  if (fast !== undefined) return fast;
  const m = ISO_RE.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000 + 1e-6) : 0;
  if (zone) {
    const offsetMin = parseOffset(zone);
    if (offsetMin === null) return null;
    if (!isCivilTime(+y!, +mo!, +d!, +h!, +mi!, +s!)) return null;
    const utc = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, ms) - offsetMin * 60_000;
    return Number.isFinite(utc) ? { ms: utc, offsetMin, basis: 'explicit' } : null;
  }
  return localTime(+y!, +mo!, +d!, +h!, +mi!, +s!, ms, ctx.tz, 'assumed-zone');
}

const digit = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : -1);
const num2 = (t: string, i: number): number => {
  const a = digit(t.charCodeAt(i));
  const b = digit(t.charCodeAt(i + 1));
  return a < 0 || b < 0 ? -1 : a * 10 + b;
};

/**
 * The common case without a regex (it runs once per log line): `YYYY-MM-DDTHH:MM:SS[.frac][ ]zone`
 * with an explicit zone, as zap and Patroni's %z print it. Anything else returns undefined and takes
 * the general path.
 */
function parseIsoFast(t: string): RecordTime | null | undefined {
  if (t.length < 20 || t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return undefined;
  const sep = t.charCodeAt(10);
  if (sep !== 84 && sep !== 32) return undefined;
  const y = num2(t, 0) * 100 + num2(t, 2);
  const mo = num2(t, 5), d = num2(t, 8), h = num2(t, 11), mi = num2(t, 14), s = num2(t, 17);
  if (y < 0 || mo < 1 || d < 1 || h < 0 || mi < 0 || s < 0 || num2(t, 0) < 0 || num2(t, 2) < 0) return undefined;
  let i = 19;
  let ms = 0;
  const fc = t.charCodeAt(i);
  if (fc === 46 || fc === 44) {
    i++;
    let scale = 100;
    const start = i;
    for (let c = digit(t.charCodeAt(i)); c >= 0; c = digit(t.charCodeAt(++i))) {
      ms += c * scale;
      scale /= 10;
    }
    if (i === start || i - start > 9) return undefined;
    ms = Math.floor(ms + 1e-6);
  }
  if (t.charCodeAt(i) === 32) i++;
  const zone = t.slice(i);
  if (zone === '') return undefined; // zone-less: --tz applies, general path
  const offsetMin = parseOffset(zone);
  if (offsetMin === null) return undefined;
  if (!isCivilTime(y, mo, d, h, mi, s)) return null;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMin * 60_000;
  return Number.isFinite(utc) ? { ms: utc, offsetMin, basis: 'explicit' } : null;
}

/**
 * A calendar time that exists: month 1–12, a day the month has (leap years counted), hour ≤ 23,
 * minute ≤ 59, second ≤ 60 (a leap second). Date.UTC would roll `2024-02-31` into March or hour 25
 * into the next day, and a damaged line would be dated somewhere else without a word.
 */
export function isCivilTime(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (!(mo >= 1 && mo <= 12 && d >= 1 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 60)) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = mo === 2 ? (leap ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
  return d <= days;
}

/** `Z` → 0, `+0800` / `+08:00` → 480; offsets beyond ±14:00 or with minutes ≥ 60 are not offsets. */
export function parseOffset(zone: string): number | null {
  if (zone === 'Z') return 0;
  // A log prints one zone on every line: the last answer is kept (the regex was 4.5 % of ingesting a zap log).
  if (zone === lastZone) return lastOffset;
  const v = offsetOf(zone);
  lastZone = zone;
  lastOffset = v;
  return v;
}

let lastZone = '';
let lastOffset: number | null = null;

function offsetOf(zone: string): number | null {
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(zone);
  if (!m) return null;
  if (Number(m[3]) >= 60 || Number(m[2]) * 60 + Number(m[3]) > 14 * 60) return null;
  const v = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -v : v;
}

/** A wall-clock time in `tz` (IANA name or ±hh:mm; null = UTC) to UTC epoch ms. */
export function localTime(
  y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number,
  tz: string | null, basis: RecordTime['basis'],
): RecordTime | null {
  if (!isCivilTime(y, mo, d, h, mi, s)) return null;
  if (!tz || tz === 'UTC' || tz === 'Z') {
    const v = Date.UTC(y, mo - 1, d, h, mi, s, ms);
    return Number.isFinite(v) ? { ms: v, offsetMin: null, basis } : null;
  }
  const fixed = parseOffset(tz);
  if (fixed !== null) return { ms: Date.UTC(y, mo - 1, d, h, mi, s, ms) - fixed * 60_000, offsetMin: null, basis };
  const v = new TZDate(y, mo - 1, d, h, mi, s, ms, tz).getTime();
  return Number.isFinite(v) ? { ms: v, offsetMin: null, basis } : null;
}

/** True when `tz` is usable by localTime (checked once per run, not per line). */
export function isValidZone(tz: string): boolean {
  if (parseOffset(tz) !== null || tz === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// Month abbreviations as journalctl's short format prints them (strftime %b, so LC_TIME decides),
// keyed lower-case. glibc 2.36 localedata abmon (/usr/share/i18n/locales/*), confirmed by
// `LC_ALL=xx_XX.UTF-8 journalctl -o short` (systemd 252): de_DE `Mär Mai Okt Dez`, fr_FR `janv. févr.
// mars avril mai juin juil. août sept. oct. nov. déc.`, es_ES `ene abr ago dic`, ru_RU `янв … мая … дек`,
// zh_CN `5月` (the digit form, matched by the regex). Older glibc/CLDR forms: fr `avr.`, es `sept`, de `Mrz`.
const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
  'mär': 3, mrz: 3, mai: 5, okt: 10, dez: 12,
  'janv.': 1, 'févr.': 2, mars: 3, avril: 4, 'avr.': 4, juin: 6, 'juil.': 7, 'août': 8, 'sept.': 9,
  'oct.': 10, 'nov.': 11, 'déc.': 12,
  ene: 1, abr: 4, ago: 8, sept: 9, dic: 12,
  'янв': 1, 'фев': 2, 'мар': 3, 'апр': 4, 'мая': 5, 'май': 5, 'июн': 6, 'июл': 7, 'авг': 8, 'сен': 9,
  'окт': 10, 'ноя': 11, 'дек': 12,
};

export interface SyslogPrefix {
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  host: string;
  /** Program tag without pid: `patroni`, `etcd`, `patroni@15-main`, `k3s`. */
  tag: string;
  pid: number | null;
  /** The message after `tag[pid]: `. */
  rest: string;
}

// journalctl's short format: `Nov 20 16:17:53 postgres-3 patroni[11292]: …`; with a Chinese locale
// (the seed) the month is `11月`: `11月 20 16:17:52 postgres-3 patroni[11292]: …`.
const SYSLOG_RE =
  /^(?:(\p{L}{3,5}\.?)|(\d{1,2})月) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d) {1,2}(\S+) ([^\s[:]+)(?:\[(\d+)\])?: ?(.*)$/su;

export function parseSyslogPrefix(line: string): SyslogPrefix | null {
  const m = SYSLOG_RE.exec(line);
  if (!m) return null;
  const month = m[1] ? MONTHS[m[1].toLowerCase()] : Number(m[2]);
  if (!month || month > 12) return null;
  return {
    month, day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]),
    host: m[7]!, tag: m[8]!, pid: m[9] ? Number(m[9]) : null, rest: m[10] ?? '',
  };
}

/**
 * The journald prefix has no year and no zone: take the latest year that does not put the line more
 * than a day after the reference time (the file's mtime, or --at), and apply --tz (else UTC).
 */
export function syslogTime(p: SyslogPrefix, ctx: Pick<ParseContext, 'tz' | 'referenceMs'>): RecordTime | null {
  const refYear = new Date(ctx.referenceMs).getUTCFullYear();
  for (const y of [refYear, refYear - 1]) {
    const t = localTime(y, p.month, p.day, p.hour, p.minute, p.second, 0, ctx.tz, 'assumed-zone-year');
    if (t && t.ms <= ctx.referenceMs + 86_400_000) return t;
  }
  return localTime(refYear - 1, p.month, p.day, p.hour, p.minute, p.second, 0, ctx.tz, 'assumed-zone-year');
}

/** Go durations as etcd prints them: `13.615µs`, `1.597475ms`, `3.000607371s`, `1m2.5s`, `1h0m0s`. */
export function parseGoDurationMs(text: string): number | null {
  const t = text.trim();
  if (t === '0' || t === '0s') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    const v = Number(m[1]);
    const unit = m[2]!;
    total += unit === 'ns' ? v / 1e6 : unit === 'ms' ? v : unit === 's' ? v * 1000
      : unit === 'm' ? v * 60_000 : unit === 'h' ? v * 3_600_000 : v / 1000;
    matched = re.lastIndex;
  }
  return matched === t.length && matched > 0 ? total : null;
}

/** A time for printing: ISO-8601 UTC. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

/** The offset east of UTC, in minutes, of `tz` (IANA name or ±hh:mm; null = UTC) at `ms`. */
export function zoneOffsetMin(ms: number, tz: string | null): number {
  if (!tz || tz === 'UTC' || tz === 'Z') return 0;
  const fixed = parseOffset(tz);
  if (fixed !== null) return fixed;
  return -new TZDate(ms, tz).getTimezoneOffset();
}

/** `+08:00`, `-03:30`, `+00:00`. */
export function formatOffset(min: number): string {
  const a = Math.abs(min);
  return `${min < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/**
 * isoUtc's sibling for a zone: `2026-11-24T07:26:49.735+08:00` (the same instant, the wall clock of
 * `tz`); with no zone (or UTC) exactly isoUtc's `…Z`.
 */
export function isoInZone(ms: number, tz: string | null): string {
  if (!tz || tz === 'UTC' || tz === 'Z') return isoUtc(ms);
  const off = zoneOffsetMin(ms, tz);
  return `${new Date(ms + off * 60_000).toISOString().slice(0, 23)}${formatOffset(off)}`;
}
