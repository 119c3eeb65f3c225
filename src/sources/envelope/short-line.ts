// What the syslog-like wrappers (journald json/export, short-iso, short-precise, rsyslog, RFC 5424) hand on:
// the record as `journalctl -o short` prints it, `May 01 10:00:00 etcd1 etcd[25254]: <message>`. The etcd and
// Patroni parsers already read that form: the tag says that a bare message (etcd's capnslog journald
// formatter drops its own time and level) is etcd's, host and pid join a Patroni traceback split into one
// entry per line. The prefix's time is only a placeholder: envelope/apply.ts replaces a year-less time with
// the wrapper's own (to the microsecond, with the year and the zone).
import type { OuterContext, ParseContext } from '../../model.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** The short form of one record; without a time, host or tag the message is handed on bare. */
export function journalShortLine(outer: OuterContext, msg: string): string {
  if (!outer.time || !outer.host || !outer.tag) return msg;
  const d = new Date(outer.time.ms);
  const stamp = `${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const host = outer.host.replace(/\s/g, '_');
  const tag = outer.tag.replace(/[\s[\]:]/g, '_');
  return `${stamp} ${host} ${tag}${outer.pid !== null ? `[${outer.pid}]` : ''}: ${msg}`;
}

/** One inner line per line of a multi-line message (journalctl shows them the same way). */
export function journalShortLines(outer: OuterContext, msg: string): string[] {
  const text = msg.endsWith('\n') ? msg.slice(0, -1) : msg;
  return text.includes('\n') ? text.split('\n').map((l) => journalShortLine(outer, l)) : [journalShortLine(outer, text)];
}

// `{"level":"info","ts":"2026-11-24T07:26:49.735+0800",…`, `2026-11-23 23:52:58,744 INFO: …`,
// `2026-11-24 07:26:49.569586 I | …`, `raft2026/11/24 07:26:49 INFO: …`
const YEAR_RE = /^(?:\{.*?"ts":")?(?:raft ?)?(\d{4})[-/]\d\d[-/]\d\d[ T]/;

/**
 * A wrapper without a year (short-precise) next to inner lines that carry one: the year is theirs, not
 * the file's mtime. Returns a reference time at the end of the first year seen, else ctx.referenceMs.
 */
export function learnReferenceMs(messages: readonly string[], ctx: Pick<ParseContext, 'referenceMs'>): number {
  for (const m of messages) {
    const y = YEAR_RE.exec(m);
    if (y) return Date.UTC(Number(y[1]), 11, 31);
  }
  return ctx.referenceMs;
}
