// etcdctl `-w simple` (the default) output: one line per row, plus the one-liners of other commands.
import type { AlarmRecord, HealthSample, LogEvent, ParseContext, ParseIssue, RecordTime } from '../../model.js';
import { localTime, parseGoDurationMs, parseOffset, parseTimestamp } from '../../units/time.js';
import { recordFromRow, type RowRecord, type TableKind } from './table.js';
import { clientErrorEvent, clientErrorText } from './client-error.js';
import { isEtcdutlConsoleLine, parseEtcdutlConsoleLine } from './etcdutl.js';
import { countFromText, NumberRangeError, uint64FromText } from '../../units/integers.js';

const SIZE = String.raw`\d+(?:\.\d+)? ?[kKMGTPE]?B`;
const HEX = '[0-9a-f]{1,16}';

// 3.4/3.5: `127.0.0.1:2379, 8e9e05c52164694d, 3.4.15, 33 kB, true, false, 3, 144, 144, ` — the row
// is joined with ", " so an empty ERRORS cell leaves a trailing separator; errors may contain ", ".
const STATUS_34 = new RegExp(
  String.raw`^(\S+), (${HEX}), ([^,\s]+), (${SIZE}), (true|false), (true|false), (\d+), (\d+), (\d+),(?: (.*))?$`,
);
// 3.3 has no IS LEARNER, RAFT APPLIED INDEX or ERRORS: `127.0.0.1:2379, 8e9e05c52164694d, 3.3.10, 25 kB, true, 2, 8`
const STATUS_33 = new RegExp(String.raw`^(\S+), (${HEX}), ([^,\s]+), (${SIZE}), (true|false), (\d+), (\d+)$`);
// 3.6 (printer.go makeEndpointStatusTable, release-3.6) joins 16 cells: endpoint, ID, version, storage
// version, db size, in use, percentage not in use, quota, is leader, is learner, raft term, raft index,
// raft applied index, errors, downgrade target version, downgrade enabled:
// `127.0.0.1:2379, 8e9e05c52164694d, 3.6.4, 3.6.0, 98 kB, 98 kB, 0%, 0 B, true, false, 2, 8, 8, , , false`
const STATUS_36 = new RegExp(
  String.raw`^(\S+), (${HEX}), ([^,\s]*), ([^,\s]*), (${SIZE}), (${SIZE}), (-?\d+%), (${SIZE}), (true|false), (true|false), (\d+), (\d+), (\d+), (.*?), ?([^,\s]*), (true|false)$`,
);
const STATUS_36_COLUMNS = ['ENDPOINT', 'ID', 'VERSION', 'STORAGE VERSION', 'DB SIZE', 'IN USE', 'PERCENTAGE NOT IN USE', 'QUOTA',
  'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS', 'DOWNGRADE TARGET VERSION', 'DOWNGRADE ENABLED'];
const STATUS_34_COLUMNS = ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'];
const STATUS_33_COLUMNS = ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'RAFT TERM', 'RAFT INDEX'];

// `8c150882, 3377, 2116, 7.7 MB` (etcdutl 3.6 appends `, <storage version>`, possibly empty: the line
// then ends in `,` once trimmed).
const SNAPSHOT = new RegExp(String.raw`^([0-9a-f]{1,8}), (\d+), (\d+), (${SIZE})(,(?: (\S*))?)?$`);
const SNAPSHOT_COLUMNS = ['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'];

// `8e9e05c52164694d, started, default, http://localhost:2380, http://localhost:2379, false`; several
// URLs are joined with "," (no space); 3.3 has no IS LEARNER; an unstarted member has an empty name.
const MEMBER = new RegExp(String.raw`^(${HEX}), (started|unstarted), ([^,]*), (\S*), (\S*?)(?:, (true|false))?$`);
const MEMBER_COLUMNS = ['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER'];

const HEALTHY = /^(\S+) is healthy: successfully committed proposal: took = (\S+)$/;
// 3.5: `http://10.1.1.19:2379 is unhealthy: failed to commit proposal: Active Alarm(s): NOSPACE`
const UNHEALTHY = /^(\S+) is unhealthy: failed to commit proposal: (.*)$/;

/** `alarm list`: `memberID:13803658152347727308 alarm:NOSPACE` (proto text, maybe a trailing space). */
export const ALARM_LINE = /^memberID:(-?\d+) alarm:([A-Z_]+)\s*$/;

/** etcdctl lines that are output but carry nothing we record (other commands, stderr notes). */
const KNOWN_NOISE = [
  /^Snapshot saved at \S+$/,
  /^Deprecated: Use `etcdutl snapshot status` instead\.$/,
  /^Error: /,
  /^OK$/, // `put`
  /^Failed to get the status of endpoint /,
];

export type SimpleResult = RowRecord | HealthSample | AlarmRecord | LogEvent | Omit<ParseIssue, 'line' | 'excerpt'>;

// The maintenance commands of the recovery runbook print one line each (etcdctl 3.4/3.5):
//   compacted revision 489
//   Finished defragmenting etcd member[http://127.0.0.1:2379]
//   Failed to defragment etcd member[http://127.0.0.1:2379] (context deadline exceeded)
const COMPACTED = /^compacted revision (-?[\d.eE+]+)$/;
const DEFRAGGED = /^Finished defragmenting etcd member\[(.*)\]$/;
const DEFRAG_FAILED = /^Failed to defragment etcd member\[(.*?)\] ?\((.*)\)$/;
export const MAINTENANCE_LINES = [COMPACTED, DEFRAGGED, DEFRAG_FAILED];

function maintenanceEvent(line: string, lineNo: number): LogEvent | null {
  const ev = (event: LogEvent['event'], level: LogEvent['level'], detail: LogEvent['detail']): LogEvent =>
    ({ kind: 'event', line: lineNo, time: null, member: null, level, event, message: line, raw: line, detail });
  let m = COMPACTED.exec(line);
  if (m) return ev('etcdctl.compact', 'info', { revision: countFromText(m[1]!, 'compacted revision') });
  if ((m = DEFRAGGED.exec(line))) return ev('etcdctl.defrag', 'info', { endpoint: m[1]! });
  if ((m = DEFRAG_FAILED.exec(line))) return ev('etcdctl.defrag.failed', 'error', { endpoint: m[1]!, error: m[2]! });
  return null;
}

/**
 * One simple-format line → its records; [] for known noise; null when the line is not simple output. A
 * number out of range for its field (units/integers.ts) is one issue naming the field.
 */
export function parseSimpleLine(line: string, lineNo: number): SimpleResult[] | null {
  try {
    return readSimpleLine(line, lineNo);
  } catch (e) {
    if (!(e instanceof NumberRangeError)) throw e;
    return [{ kind: 'issue', reason: `number out of range: ${e.message}` }];
  }
}

function readSimpleLine(line: string, lineNo: number): SimpleResult[] | null {
  let m = STATUS_34.exec(line);
  if (m) return [row('status', STATUS_34_COLUMNS, m.slice(1), lineNo)];
  if ((m = STATUS_36.exec(line))) return [row('status', STATUS_36_COLUMNS, m.slice(1), lineNo)];
  if ((m = STATUS_33.exec(line))) return [row('status', STATUS_33_COLUMNS, m.slice(1), lineNo)];
  if ((m = SNAPSHOT.exec(line))) {
    const columns = m[5] === undefined ? SNAPSHOT_COLUMNS : [...SNAPSHOT_COLUMNS, 'VERSION'];
    return [row('snapshot', columns, [m[1], m[2], m[3], m[4], m[6]], lineNo)];
  }
  if ((m = MEMBER.exec(line))) return [row('member', MEMBER_COLUMNS, m.slice(1), lineNo)];
  if ((m = HEALTHY.exec(line))) {
    const tookMs = parseGoDurationMs(m[2]!);
    return [{ kind: 'health', line: lineNo, time: null, format: 'simple', endpoint: m[1]!, healthy: true, tookMs, error: null }];
  }
  if ((m = UNHEALTHY.exec(line))) {
    const error = m[2]!.trim() || null;
    return [{ kind: 'health', line: lineNo, time: null, format: 'simple', endpoint: m[1]!, healthy: false, tookMs: null, error }];
  }
  if ((m = ALARM_LINE.exec(line))) return [{ kind: 'alarm', line: lineNo, time: null, memberId: uint64FromText(m[1]!, 'memberID'), alarm: m[2]! }];
  const maintenance = maintenanceEvent(line, lineNo);
  if (maintenance) return [maintenance];
  const etcdutl = line.includes('\t') ? parseEtcdutlConsoleLine(line, lineNo) : null;
  if (etcdutl) return etcdutl;
  const clientError = clientErrorText(line);
  if (clientError !== null) return [clientErrorEvent(clientError, lineNo, line, null)];
  if (KNOWN_NOISE.some((re) => re.test(line))) return [];
  return null;
}

function row(kind: TableKind, columns: readonly string[], groups: readonly (string | undefined)[], lineNo: number): SimpleResult {
  const cells = new Map(columns.map((c, i) => [c, (groups[i] ?? '').trim()] as const));
  const rec = recordFromRow(kind, cells, lineNo, 'simple');
  return 'problem' in rec ? { kind: 'issue', reason: rec.problem } : rec;
}

export function isSimpleOutput(line: string): boolean {
  return isEtcdutlConsoleLine(line) || [STATUS_34, STATUS_36, STATUS_33, SNAPSHOT, MEMBER, HEALTHY, UNHEALTHY, ALARM_LINE].some((re) => re.test(line));
}

// ---- timestamp markers -------------------------------------------------------------------------
// A sampling loop prints the time before each sample: `date -Is` (2026-11-23T23:15:56+00:00),
// `date -u +%FT%T.%3NZ`, plain `date` (`Mon Nov 23 23:15:56 UTC 2026`, or `Mon 23 Nov 2026 11:15:56 PM UTC`
// with newer glibc locales, or `2023年 09月 26日 星期二 15:42:23 CST` in zh_CN) or `date +%s`.

const MONTHS: Record<string, number> = {
  Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12,
};

// Abbreviations that name one offset only. CST (China/US Central/Cuba), IST (India/Ireland/Israel)
// and the like are ambiguous: their time is taken as local time in --tz instead.
const ZONES: Record<string, number> = {
  UTC: 0, GMT: 0, UCT: 0, Z: 0, WET: 0, WEST: 60, BST: 60, CET: 60, CEST: 120, EET: 120, EEST: 180,
  MSK: 180, JST: 540, KST: 540, HKT: 480, AWST: 480, ACST: 570, ACDT: 630, AEST: 600, AEDT: 660,
  NZST: 720, NZDT: 780, EST: -300, EDT: -240, MST: -420, MDT: -360, PST: -480, PDT: -420,
  AKST: -540, AKDT: -480, HST: -600,
};

const DATE_DEFAULT = new RegExp(
  String.raw`^(?:[A-Z][a-z]{2},? )?(?:([A-Z][a-z]{2}) +(\d{1,2})|(\d{1,2}) ([A-Z][a-z]{2}))(?: (\d{4}))? ` +
  String.raw`(\d{1,2}):(\d\d):(\d\d)(?: ([AP]M))?(?: ([A-Z]{1,5}|[+-]\d\d(?::?\d\d)?))?(?: (\d{4}))?$`,
);
const DATE_ZH = /^(\d{4})年 ?(\d{1,2})月 ?(\d{1,2})日(?: 星期.)? (\d\d):(\d\d):(\d\d)(?: (\S+))?$/;
const EPOCH_MIN_MS = Date.UTC(2000, 0, 1);
const EPOCH_MAX_MS = Date.UTC(2100, 0, 1);

/** A line that is only a timestamp → the time of the samples after it; null otherwise. */
export function parseMarkerLine(line: string, ctx: Pick<ParseContext, 'tz'>): RecordTime | null {
  if (/^\d{4}-\d\d-\d\d[T ]/.test(line)) {
    const t = parseTimestamp(line, ctx);
    return t && t.basis === 'explicit' ? { ...t, basis: 'marker' } : t;
  }
  if (/^\d{10}(?:\.\d{1,9})?$|^\d{13}$/.test(line)) {
    const ms = line.length === 13 ? Number(line) : Math.round(Number(line) * 1000);
    return ms >= EPOCH_MIN_MS && ms < EPOCH_MAX_MS ? { ms, offsetMin: 0, basis: 'marker' } : null;
  }
  let m = DATE_DEFAULT.exec(line);
  if (m) {
    const month = MONTHS[m[1] ?? m[4] ?? ''];
    const year = Number(m[5] ?? m[11]);
    if (!month || !year || (m[5] && m[11])) return null;
    let hour = Number(m[6]);
    if (m[9]) hour = (hour % 12) + (m[9] === 'PM' ? 12 : 0);
    return wallClock(year, month, Number(m[2] ?? m[3]), hour, Number(m[7]), Number(m[8]), m[10] ?? null, ctx);
  }
  if ((m = DATE_ZH.exec(line))) {
    return wallClock(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7] ?? null, ctx);
  }
  return null;
}

function wallClock(
  y: number, mo: number, d: number, h: number, mi: number, s: number, zone: string | null, ctx: Pick<ParseContext, 'tz'>,
): RecordTime | null {
  const offset = zone === null ? null : ZONES[zone] ?? (/^[+-]/.test(zone) ? parseOffset(zone.length === 3 ? `${zone}00` : zone) : null);
  if (offset === null || offset === undefined) return localTime(y, mo, d, h, mi, s, 0, ctx.tz, 'assumed-zone');
  const utc = localTime(y, mo, d, h, mi, s, 0, null, 'marker');
  return utc && { ms: utc.ms - offset * 60_000, offsetMin: offset, basis: 'marker' };
}
