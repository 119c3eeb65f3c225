// Option values that are numbers: each parser accepts plain decimal text within a stated range and
// otherwise throws one UsageError naming the option and the value (`--top abc: expected …`), never NaN,
// Infinity, a rounded float or a value no later step can use (`--quota 99999999999999999999999999` was
// 1e26 bytes, and the projection then failed on an invalid date).
import { UsageError } from '../errors.js';
import { parseHumanSize } from '../units/sizes.js';
import { parseTimestamp } from '../units/time.js';

/** --wait: the README's promise that other commands wait for an ingest. */
export const DEFAULT_WAIT_S = 60;
/** A day: longer than any ingest; SQLite's busy timeout is a 32-bit count of milliseconds. */
export const MAX_WAIT_S = 86_400;

const DECIMAL = /^\d+(?:\.\d+)?$/;
const WHOLE = /^\d+$/;

/** Seconds from 0 to `max` (fractions allowed): --wait, --timeout. */
export function parseSecondsOption(option: string, text: string, max: number): number {
  const t = text.trim();
  const n = DECIMAL.test(t) ? Number(t) : NaN;
  if (!(n >= 0 && n <= max)) throw new UsageError(`${option} ${text}: expected a number of seconds from 0 to ${max}`);
  return n;
}

/** A whole number from `min` to `max`: --top. */
export function parseCountOption(option: string, text: string, min: number, max: number): number {
  const t = text.trim();
  const n = WHOLE.test(t) ? Number(t) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${option} ${text}: expected a whole number from ${min} to ${max}`);
  return n;
}

/** 1 PiB: far above any etcd quota (etcd warns above 8 GiB), far below where byte counts stop being exact. */
export const MAX_SIZE_BYTES = 2 ** 50;

/**
 * A size in bytes from 1 byte to 1 PiB: `2147483648`, `2GiB`, `512 MiB` (binary units) or `2.1GB`, `2.1 GB`
 * (decimal units, as etcdctl prints them).
 */
export function parseSizeOption(option: string, text: string): number {
  const t = text.trim();
  const expected = `${option} ${text}: expected a size from 1 byte to 1 PiB: bytes (2147483648), 2GiB, 8GiB or 2.1GB`;
  let bytes: number | null = null;
  const bin = /^(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB|TiB|PiB)$/i.exec(t);
  if (bin) bytes = Math.round(Number(bin[1]) * 1024 ** (['kib', 'mib', 'gib', 'tib', 'pib'].indexOf(bin[2]!.toLowerCase()) + 1));
  else if (WHOLE.test(t)) bytes = Number(t);
  else bytes = parseHumanSize(t.replace(/^(\d+(?:\.\d+)?)([kMGT]B)$/, '$1 $2'))?.bytes ?? null;
  if (bytes === null || !Number.isSafeInteger(bytes) || bytes < 1 || bytes > MAX_SIZE_BYTES) throw new UsageError(expected);
  return bytes;
}

/**
 * A time (--until, --at): what parseTimestamp reads, with its calendar fields in range. Date.UTC
 * carries an overflow on silently (`2026-13-45T99:99:99Z` was read as 2027-02-18T04:40:39Z).
 */
export function parseTimeOption(option: string, text: string, tz: string | null, example: string): number {
  const t = parseTimestamp(text, { tz });
  const m = /^\s*(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)/.exec(text);
  const inRange = m !== null && +m[2]! >= 1 && +m[2]! <= 12 && +m[3]! >= 1 && +m[3]! <= daysInMonth(+m[1]!, +m[2]!) &&
    +m[4]! <= 23 && +m[5]! <= 59 && +m[6]! <= 59;
  if (t === null || !inRange) throw new UsageError(`${option} ${text}: expected an ISO-8601 time such as ${example}`);
  return t.ms;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
