// --tz on the output commands: the analyses speak UTC (ISO-8601 `…Z` in every field and sentence); with
// --tz, each of those times is shown as the same instant on the zone's wall clock (`…+08:00`) before
// rendering, so tables keep their widths. Without --tz nothing changes (UTC, marked by the `Z`).
import { isoInZone, isValidZone } from '../units/time.js';
import { UsageError } from '../errors.js';

const ISO_UTC = /\b(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?)Z\b/g;

export function checkZone(tz: string | undefined): string | null {
  if (!tz) return null;
  if (!isValidZone(tz)) throw new UsageError(`--tz ${tz}: not a time zone (try Asia/Shanghai or +08:00)`);
  return tz;
}

/** Every ISO UTC time inside a string, shown in `tz`. */
export function rezoneText(text: string, tz: string): string {
  return text.replace(ISO_UTC, (m) => {
    const ms = Date.parse(m);
    if (!Number.isFinite(ms)) return m;
    const s = isoInZone(ms, tz);
    return m.includes('.') ? s : s.replace(/\.\d{3}(?=[+-])/, '');
  });
}

/** A deep copy of a report with every ISO UTC time (in values, not keys) shown in `tz`. */
export function rezoneDeep<T>(value: T, tz: string): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return rezoneText(v, tz);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
