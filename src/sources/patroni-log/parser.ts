// Patroni's log, in the forms it is found in: Patroni's own file (`log.dir` → patroni.log) in the
// default or pigsty date format, the same text inside journald, Patroni 3.3+'s JSON, and the
// PostgreSQL stderr lines interleaved in Patroni's output stream. Pure: lines in, records out.
//
//   2026-11-23 23:44:39,112 INFO: no action. I am (pg1), the leader with the lock     default: local time, no zone
//   2023-09-24 04:30:23 +0800 ERROR: <Unknown error: '…', code: 2>                  pigsty dateformat '%Y-%m-%d %H:%M:%S %z'
//   Nov 20 16:17:53 postgres-3 patroni[11292]: 2023-09-24 04:30:23,456 INFO: …       journald; the inner time wins
//   {"message": "", "module": "etcd", "@timestamp": "…", "level": "ERROR", "exc_info": "Traceback …"}   log.type: json
//   2026-11-23 23:42:40.125 UTC [7965] LOG:  database system is ready to accept connections   PostgreSQL stderr
//
// A record is complete only when the next head line arrives: a traceback follows its `ERROR: `
// head line as untimestamped lines, so the parser holds the pending record and joins its raw lines.
import type { Level, LogEvent, ParseContext, ParseOutput, RecordTime, StreamParser } from '../../model.js';
import { classifyPatroniRecord } from './classify.js';
import { parsePythonHead, type PythonHead } from './python-head.js';
import { localTime, parseOffset, parseSyslogPrefix, parseTimestamp, syslogTime, type SyslogPrefix } from '../../units/time.js';
import { integerProblem } from '../../units/integers.js';
import { parseJsonVisible } from '../../units/json-visible.js';

// PostgreSQL's log_line_prefix: the default '%m [%p] ' (`.525` milliseconds, a zone abbreviation, the
// pid), also '%t [%p]' and longer ones ('%m [%p] %q%u@%d ', '%t [%p]: [%l-1] user=%u,db=%d '); then the
// severity and TWO spaces (elog.c: `"%s:  "`), which is what tells `… UTC [123] INFO:  x` (PostgreSQL)
// from a Python format that prints `… UTC [123] INFO: x`.
const PG_RE =
  /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?) ([A-Za-z]{1,6}|[+-]\d\d(?::?\d\d)?) \[(\d+)\](?:-\d+)?:? (?:(.{0,200}?) )??(LOG|ERROR|WARNING|FATAL|PANIC|INFO|NOTICE|DEBUG[1-5]?|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION):( +)(.*)$/s;
const PY_LEVELS = new Set(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']);
const PG_FOLLOW_UP = new Set(['DETAIL', 'HINT', 'CONTEXT', 'STATEMENT', 'QUERY', 'LOCATION']);

const LEVELS: Record<string, Level> = {
  DEBUG: 'debug', INFO: 'info', NOTICE: 'notice', LOG: 'info', WARNING: 'warn', WARN: 'warn', ERROR: 'error',
  CRITICAL: 'critical', FATAL: 'fatal', PANIC: 'panic',
};
const MAX_LINES = 2000; // per record; a runaway "traceback" is cut and reported

interface Pending {
  ev: LogEvent;
  lines: string[];
  /** Text searched by the classifier: the message, continuation lines, a JSON record's exc_info. */
  extra: string[];
  pid: number | null; // PostgreSQL backend pid, for DETAIL/HINT follow-ups
  journal: SyslogPrefix | null;
  traceback: boolean;
  /** The last line was a frame's `File "…", line N, in f`: the next is its source line, whatever it looks like. */
  afterFrame: boolean;
}

export function createPatroniLogParser(ctx: ParseContext): StreamParser {
  let pending: Pending | null = null;
  let selfName: string | null = null; // learned from `I am (x)`; used when nothing better is known

  const flush = (): ParseOutput[] => {
    if (!pending) return [];
    const p = pending;
    pending = null;
    return [finish(p)];
  };
  const finish = (p: Pending): LogEvent => {
    while (p.lines.length > 1 && p.lines[p.lines.length - 1]!.trim() === '') p.lines.pop();
    const ev = p.ev;
    ev.raw = p.lines.join('\n');
    if (ev.event !== 'postgres.log') {
      const c = classifyPatroniRecord(ev.message, p.extra.join('\n'), ev.level);
      ev.event = c.event;
      ev.detail = { ...ev.detail, ...c.detail };
      const me = c.self;
      if (me) selfName = me;
      ev.member ??= me ?? selfName;
      if (ev.detail['key'] === 'members/' && ev.member) ev.detail['key'] = `members/${ev.member}`;
    }
    return ev;
  };

  const push = (input: string, lineNo: number): ParseOutput[] => {
    let line = input.endsWith('\r') ? input.slice(0, -1) : input;
    // A record quoted in a post's prose as inline code: `2018-04-19 14:06:48,189 INFO: PAUSE: demoted self …`
    if (line.includes('`')) {
      const span = CODE_SPAN_RE.exec(line);
      if (span && looksLikePatroniLogLine(span[1]!)) line = span[1]!;
    }
    const tagged = line.charCodeAt(0) === 0x70 ? TAG_ONLY_RE.exec(line) : null;
    if (tagged) {
      // No time in the line: an untimed record of its own (the wrapper's time, if any, is applied later).
      const bad = pidProblem(tagged[2]!, lineNo, line);
      if (bad) return [...flush(), bad];
      const out = flush();
      const ev = makeEvent(lineNo, null, ctx.member, TAG_LEVELS[tagged[3]!] ?? null, tagged[4]!.trim(), line);
      ev.detail = { tag: tagged[1]!, pid: Number(tagged[2]) };
      pending = { ev, lines: [line], extra: [], pid: null, journal: null, traceback: false, afterFrame: false };
      return out;
    }
    const journal = parseSyslogPrefix(line);
    const body = journal ? journal.rest : line;
    const member = (journal?.host ?? ctx.member) || null;
    const head = parseHead(body, lineNo, line, member, ctx);
    if (head?.kind === 'issue') return [...flush(), head];
    if (head) {
      // DETAIL/HINT/CONTEXT lines of the same PostgreSQL backend belong to its message.
      if (head.pg && PG_FOLLOW_UP.has(head.pg.level) && pending?.ev.event === 'postgres.log' && pending.pid === head.pg.pid) {
        pending.lines.push(line);
        return [];
      }
      const out = flush();
      pending = { ev: head.ev, lines: [line], extra: head.extra, pid: head.pg?.pid ?? null, journal, traceback: false, afterFrame: false };
      if (journal) pending.ev.detail['host'] = journal.host;
      return out;
    }
    if (journal && !continuesJournal(pending, journal)) {
      // A journald line of its own: pg_ctl/pg_isready output, systemd's `Started patroni.`.
      const out = flush();
      const ev = makeEvent(lineNo, syslogTime(journal, ctx), member, null, body.trim(), line);
      ev.detail = { host: journal.host, tag: journal.tag };
      pending = { ev, lines: [line], extra: [], pid: null, journal, traceback: false, afterFrame: false };
      return out;
    }
    if (!pending) {
      if (body.trim() === '') return [];
      // A traceback pasted without the record it belongs to (etcd#13716 keeps only the frames): it
      // becomes a record of its own, untimed, so that its frames still name the write that failed.
      if (FRAME_RE.test(body) || /^\s*Traceback \(most recent call last\):/.test(body)) {
        const ev = makeEvent(lineNo, null, member, 'error', body.trim(), line);
        pending = { ev, lines: [line], extra: [], pid: null, journal: null, traceback: true, afterFrame: FRAME_RE.test(body) };
        return [];
      }
      return [{ kind: 'issue', line: lineNo, reason: 'continuation line without a Patroni record before it', excerpt: line.slice(0, 200) }];
    }
    // PostgreSQL continues a message only with indented lines; anything else in its stream is
    // another program's output (initdb, pg_isready: `localhost:56299 - no response`).
    if (pending.ev.event === 'postgres.log' && !journal && !/^\s/.test(body)) {
      if (body.trim() === '') return [];
      return [{ kind: 'issue', line: lineNo, reason: 'line without a timestamp after a PostgreSQL record', excerpt: line.slice(0, 200) }];
    }
    if (pending.lines.length >= MAX_LINES) {
      return [{ kind: 'issue', line: lineNo, reason: `record longer than ${MAX_LINES} lines; line dropped`, excerpt: line.slice(0, 200) }];
    }
    // A write-up or journald may strip the indentation and even the `Traceback` header: a bare
    // `File "…", line N, in f` line starts the traceback as well.
    const frame = FRAME_RE.test(body);
    if (frame || /^\s*Traceback \(most recent call last\):/.test(body)) pending.traceback = true;
    pending.afterFrame = frame;
    pending.lines.push(line);
    pending.extra.push(body);
    return [];
  };

  return { push, end: flush };
}

// Traceback material, as journald splits it into entries of their own (each with the prefix).
const TRACEBACK_LINE_RE =
  /^(?:\s|Traceback \(most recent call last\):|File "|During handling of the above exception|The above exception was the direct cause|[\w.]+(?:Error|Exception|Unknown|Exhausted|Timeout)\b|\^+$)/;

const CODE_SPAN_RE = /`([^`]{20,})`/;
const FRAME_RE = /^\s*File "[^"]*", line \d+, in /;

function continuesJournal(p: Pending | null, j: SyslogPrefix): boolean {
  if (!p || !p.journal || p.journal.host !== j.host || p.journal.pid !== j.pid) return false;
  if (p.afterFrame) return true; // `raise exc`, `return self._handle_server_response(response)` without indentation
  // Blank entries are the empty lines of a multi-line message or of a chained traceback; inside a
  // traceback a bare name is its exception line: `SystemExit`, `patroni.dcs.etcd3.Unknown: <…>`.
  if (j.rest.trim() === '' || TRACEBACK_LINE_RE.test(j.rest)) return true;
  return p.traceback && /^[A-Za-z_][\w.]*(?::|$)/.test(j.rest);
}

interface Head {
  kind: 'head';
  ev: LogEvent;
  extra: string[];
  pg: { pid: number; level: string } | null;
}

function parseHead(body: string, lineNo: number, raw: string, member: string | null, ctx: ParseContext): Head | ParseIssueOut | null {
  const pg = PG_RE.exec(body);
  if (pg && (pg[6]!.length >= 2 || !PY_LEVELS.has(pg[5]!))) {
    const bad = pidProblem(pg[3]!, lineNo, raw);
    if (bad) return bad;
    const level = pg[5]!;
    const ev = makeEvent(lineNo, pgTime(pg[1]!, pg[2]!, ctx), member, LEVELS[level] ?? (level.startsWith('DEBUG') ? 'debug' : 'info'), pg[7]!, raw);
    ev.event = 'postgres.log';
    ev.detail = { pid: Number(pg[3]), pgLevel: level };
    return { kind: 'head', ev, extra: [], pg: { pid: Number(pg[3]), level } };
  }
  const h = parsePythonHead(body);
  if (h) {
    const ev = makeEvent(lineNo, pythonTime(h, ctx), member, LEVELS[h.level] ?? null, h.message, raw);
    for (const f of h.fields) {
      const bad = /^\d+$/.test(f) ? pidProblem(f, lineNo, raw) : null;
      if (bad) return bad;
      if (/^\d+$/.test(f)) ev.detail['pid'] ??= Number(f);
      else ev.detail['logger'] ??= f;
    }
    return { kind: 'head', ev, extra: [h.message], pg: null };
  }
  if (body.startsWith('{')) return parseJsonHead(body, lineNo, raw, member, ctx);
  return null;
}

/** `,123`/`.123`, `T` or ` `, and a zone that is `%z`, `Z`, an abbreviation (UTC, CST) or none. */
function pythonTime(h: PythonHead, ctx: ParseContext): RecordTime | null {
  if (h.time === null) return null;
  const z = h.zone;
  if (z === null) return parseTimestamp(h.time, ctx);
  if (/^[+-]\d\d$/.test(z)) return parseTimestamp(`${h.time} ${z}00`, ctx);
  if (z === 'Z' || z.startsWith('+') || z.startsWith('-')) return parseTimestamp(`${h.time} ${z}`, ctx);
  return zonedTime(h.time, z, ctx);
}

type ParseIssueOut = Extract<ParseOutput, { kind: 'issue' }>;

/** A pid too large to keep exactly (units/integers.ts) is a skipped line naming the field, never a rounded pid. */
function pidProblem(text: string, lineNo: number, raw: string): ParseIssueOut | null {
  const why = integerProblem(text, 'count');
  return why === null ? null : { kind: 'issue', line: lineNo, reason: `number out of range: pid ${text.slice(0, 40)} ${why}`, excerpt: raw.slice(0, 200) };
}

// python-json-logger output (Patroni ≥ 3.3, `log.type: json`). The keys are configurable:
// `format: [message, module, {asctime: '@timestamp'}, {levelname: level}]` gives
// {"message": "…", "module": "ha", "@timestamp": "2026-11-23 23:44:39,112", "level": "INFO"}; a
// traceback arrives as one string in `exc_info` (Patroni's queue handler leaves it in exc_text).
const TIME_KEYS = ['@timestamp', 'asctime', 'timestamp', 'time', 'ts'];
const LEVEL_KEYS = ['levelname', 'level', 'severity', 'log.level'];
const MESSAGE_KEYS = ['message', 'msg'];

function parseJsonHead(body: string, lineNo: number, raw: string, member: string | null, ctx: ParseContext): Head | ParseIssueOut {
  let obj: unknown;
  try {
    obj = parseJsonVisible(body);
  } catch {
    return { kind: 'issue', line: lineNo, reason: 'line starts with { but is not JSON', excerpt: raw.slice(0, 200) };
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return { kind: 'issue', line: lineNo, reason: 'JSON line is not an object', excerpt: raw.slice(0, 200) };
  }
  const rec = obj as Record<string, unknown>;
  const pick = (keys: string[]): string | null => {
    for (const k of keys) if (typeof rec[k] === 'string') return rec[k] as string;
    return null;
  };
  const message = pick(MESSAGE_KEYS);
  if (message === null) return { kind: 'issue', line: lineNo, reason: 'JSON log line without a message field', excerpt: raw.slice(0, 200) };
  const timeText = pick(TIME_KEYS);
  const levelText = pick(LEVEL_KEYS);
  const exc = typeof rec['exc_info'] === 'string' ? rec['exc_info'] : null;
  const ev = makeEvent(lineNo, timeText ? parseTimestamp(timeText, ctx) : null, member,
    levelText ? LEVELS[levelText.toUpperCase()] ?? null : null, message, raw);
  if (typeof rec['module'] === 'string') ev.detail['module'] = rec['module'];
  return { kind: 'head', ev, extra: exc ? [message, ...exc.split('\n')] : [message], pg: null };
}

function makeEvent(line: number, time: RecordTime | null, member: string | null, level: Level | null, message: string, raw: string): LogEvent {
  return { kind: 'event', line, time, member, level, event: 'patroni.other', message, raw, detail: {} };
}

// Zone abbreviations PostgreSQL and systemctl print. Only UTC/GMT are unambiguous; CST is taken as
// China Standard Time (+0800, the seed's zone) and marked assumed; --tz overrides any non-UTC one.
const ZONE_ABBREVIATIONS: Record<string, number> = { UTC: 0, GMT: 0, Z: 0, CST: 480, HKT: 480, SGT: 480, JST: 540, KST: 540 };

function zonedTime(text: string, zone: string, ctx: Pick<ParseContext, 'tz'>): RecordTime | null {
  const m = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?$/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000 + 1e-6) : 0;
  const numeric = /^[+-]\d\d$/.test(zone) ? parseOffset(`${zone}00`) : parseOffset(zone);
  const abbrev = ZONE_ABBREVIATIONS[zone.toUpperCase()];
  const fixed = numeric ?? (abbrev === 0 ? 0 : null);
  if (fixed !== null) {
    const utc = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms) - fixed * 60_000;
    return Number.isFinite(utc) ? { ms: utc, offsetMin: fixed, basis: 'explicit' } : null;
  }
  if (ctx.tz || abbrev === undefined) return localTime(y!, mo!, d!, h!, mi!, s!, ms, ctx.tz, 'assumed-zone');
  const t = localTime(y!, mo!, d!, h!, mi!, s!, ms, `${abbrev < 0 ? '-' : '+'}${pad(Math.abs(abbrev) / 60)}:${pad(Math.abs(abbrev) % 60)}`, 'assumed-zone');
  return t ? { ...t, offsetMin: abbrev } : null;
}
const pad = (n: number): string => String(Math.floor(n)).padStart(2, '0');
const pgTime = zonedTime;

// ---------------------------------------------------------------------------------------------
// `systemctl status patroni`: `Active: active (running) since 日 2022-11-20 16:17:52 CST; 10 months 5 days ago`
// (weekday in the locale's language). CST is read as +0800 (China Standard Time) and marked assumed.
const ACTIVE_RE =
  /^\s*Active: (\S+) \(([^)]*)\) since (?:\S+ )?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ([A-Za-z]{1,6}|[+-]\d\d(?::?\d\d)?)(?:;\s*(.*))?$/;

export function parseSystemctlActiveLine(line: string, ctx: ParseContext): LogEvent | null;
export function parseSystemctlActiveLine(line: string, lineNo: number, ctx: ParseContext): LogEvent | null;
export function parseSystemctlActiveLine(line: string, a: number | ParseContext, b?: ParseContext): LogEvent | null {
  const ctx = typeof a === 'number' ? b : a;
  const lineNo = typeof a === 'number' ? a : 0;
  const m = ACTIVE_RE.exec(line);
  if (!m || !ctx) return null;
  const time = zonedTime(m[3]!, m[4]!, ctx);
  if (!time) return null;
  const ev = makeEvent(lineNo, time, ctx.member, null, line.trim(), line);
  ev.event = 'patroni.uptime';
  ev.detail = {
    state: m[1]!, subState: m[2]!, since: time.ms, zone: m[4]!, zoneAssumed: time.basis !== 'explicit', ago: m[5] ?? null,
  };
  return ev;
}

/** A Python logging head with a time (basicConfig's timeless form only for a `patroni…` logger), not PostgreSQL's. */
function isPatroniHead(line: string): boolean {
  const h = parsePythonHead(line);
  if (!h || (h.time === null && !h.fields.some((f) => f.startsWith('patroni')))) return false;
  const pg = PG_RE.exec(line);
  return !(pg && (pg[6]!.length >= 2 || !PY_LEVELS.has(pg[5]!)));
}

/** A line that only Patroni writes: a head line in either date format, the journald form, or Patroni's JSON. */
// A syslog tag kept without its time, as a post pastes it (patroni#2249):
//   patroni[6864]: ERROR: Failed to get list of machines from localhost:2379/v2: EtcdException('Bad response : 404 page not found\n',)
const TAG_ONLY_RE = /^(patroni[\w@.-]*)\[(\d+)\]: (DEBUG|INFO|WARNING|ERROR|CRITICAL): (.*)$/s;
const TAG_LEVELS: Record<string, Level> = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error', CRITICAL: 'critical' };

export function looksLikePatroniLogLine(line: string): boolean {
  if (isPatroniHead(line)) return true;
  if (line.charCodeAt(0) === 0x70 && TAG_ONLY_RE.test(line)) return true;
  const j = parseSyslogPrefix(line);
  if (j) return /^patroni/.test(j.tag) && (isPatroniHead(j.rest) || j.rest.startsWith('{'));
  if (!line.startsWith('{') || !line.includes('"message"')) return false;
  try {
    const o = parseJsonVisible(line) as Record<string, unknown>;
    return typeof o === 'object' && o !== null && typeof o['message'] === 'string' &&
      (typeof o['levelname'] === 'string' || typeof o['level'] === 'string') &&
      (typeof o['asctime'] === 'string' || typeof o['@timestamp'] === 'string');
  } catch {
    return false;
  }
}
