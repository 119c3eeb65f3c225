// What the wrapper knew, applied to the records parsed from the inner line. The inner line's own
// explicit offset wins; the wrapper supplies the time when the inner line has none, the zone when the
// inner line has a local time without one, and the host as the member when nothing named it.
import type { OuterContext, ParseOutput, RecordTime } from '../../model.js';

const QUARTER_HOUR_MS = 15 * 60_000;
/** Real zones are within UTC-12..UTC+14; a larger gap means the two clocks disagree, not a zone. */
const MAX_ZONE_MS = 14 * 3_600_000;

export function applyOuter(outs: ParseOutput[], outer: OuterContext | null, tzGiven: boolean): ParseOutput[] {
  if (!outer) return outs;
  for (const o of outs) {
    if (o.kind === 'issue') continue;
    if ('member' in o && o.member === null && outer.host) o.member = outer.host;
    if (!outer.time) continue;
    if (o.time === null) o.time = { ...outer.time };
    else if (isYearless(o.time) && (outer.time.basis === 'explicit' || isYearless(outer.time))) o.time = { ...outer.time };
    else if (!tzGiven) o.time = zoneFromOuter(o.time, outer.time);
  }
  return outs;
}

/**
 * A year-less inner time (a journald-short prefix, the form the syslog-like wrappers hand on) is a
 * placeholder: the wrapper's own time has the year, the zone or at least the fraction of a second.
 * Whatever --tz says, both were read the same way.
 */
function isYearless(t: RecordTime): boolean {
  return t.basis === 'assumed-year' || t.basis === 'assumed-zone-year';
}

/**
 * An inner local time read as UTC (no --tz) next to an outer time with an explicit offset: the
 * difference, rounded to a quarter hour, is the inner line's zone. `2024-05-01 12:00:00.5 I | …`
 * inside a CRI line stamped `2024-05-01T10:00:00.51Z` was written in UTC+2.
 */
export function zoneFromOuter(inner: RecordTime, outer: RecordTime): RecordTime {
  if (outer.basis !== 'explicit') return inner;
  if (inner.basis === 'assumed-zone') {
    const off = Math.round((inner.ms - outer.ms) / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    if (Math.abs(off) > MAX_ZONE_MS) return inner;
    return { ms: inner.ms - off, offsetMin: off / 60_000, basis: 'explicit' };
  }
  if (inner.basis === 'assumed-year' || inner.basis === 'assumed-zone-year') return { ...outer };
  return inner;
}
