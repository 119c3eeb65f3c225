// etcd server log parser: zap JSON (3.4 --logger=zap, 3.5), capnslog text (3.3/3.4), raft's std-logger
// lines (3.4 capnslog mode), each optionally behind a journald/syslog prefix. One line in, events out:
// every etcd line becomes a LogEvent (uninteresting ones as 'etcd.other'), the requests named by
// `failed to apply request` / `apply request took too long` become EtcdRequest rows, and anything else
// becomes a ParseIssue. Never throws. Hot path: one cheap first-character dispatch, JSON.parse once,
// one header regex per text line, then message classification by Map lookup or startsWith.
import type {
  EtcdRequest, EventKind, Level, LogEvent, ParseContext, ParseIssue, ParseOutput, RecordTime, StreamParser,
} from '../model.js';
import { decodeRequestText, readGoQuoted } from './etcd-request.js';
import {
  localTime, parseGoDurationMs, parseSyslogPrefix, parseTimestamp, syslogTime, type SyslogPrefix,
} from './time.js';

export function createEtcdLogParser(ctx: ParseContext): StreamParser {
  // Without --member (or a journald host), the member's name is learnt from its start-up lines:
  //   zap      {"level":"info",…,"msg":"starting an etcd server",…,"name":"etcd1",…}
  //   capnslog 2026-11-24 07:26:49.569586 I | embed: name = etcd2
  let learnt: string | null = null;
  return {
    push: (line, lineNo) => {
      const out = parseEtcdLogLine(line, lineNo, ctx);
      if (ctx.member !== null) return out;
      if (learnt === null) learnt = memberNameOf(line);
      if (learnt !== null) for (const o of out) if ((o.kind === 'event' || o.kind === 'request') && o.member === null) o.member = learnt;
      return out;
    },
    end: () => [],
  };
}

const NAME_RE = /(?:"name":"([^"]+)"|\| (?:embed|etcdmain): name = (\S+)$)/;

function memberNameOf(line: string): string | null {
  const m = NAME_RE.exec(line);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

// `2023-09-26 15:42:23.663000 W | etcdserver: msg` (capnslog PrettyFormatter: local time, no zone).
const CAPNSLOG_RE = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,9}) ([CEWNIDT]) \| ([^\s:]+): ?(.*)$/s;
// `raft2023/09/26 15:42:23 INFO: 8e9e05c52164694d became leader at term 2` (raft's std `log` logger);
// an issue paste (#17455) shows `raft 2024/02/17 …`, so the space is optional.
const RAFT_RE = /^raft ?(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) (INFO|WARN|ERROR|DEBUG|PANIC|FATAL): ?(.*)$/s;
// Other writers to etcd's stderr. grpc-go's logger: `WARNING: 2026/11/24 07:25:50 [core] grpc: addrConn.createTransport failed …`;
// etcd's flag parser: `[WARNING] Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead`.
const GRPC_RE = /^(INFO|WARNING|ERROR|FATAL): (\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) (.*)$/s;
const BRACKET_RE = /^\[(INFO|WARNING|ERROR)\] (.*)$/s;
// Journald tags that identify an etcd whose capnslog went through the journald formatter (bare message).
const ETCD_TAG_RE = /etcd|k3s|rke2/i;

const CAPNSLOG_LEVELS: Record<string, Level> = {
  C: 'critical', E: 'error', W: 'warn', N: 'notice', I: 'info', D: 'debug', T: 'debug',
};
const RAFT_LEVELS: Record<string, Level> = {
  INFO: 'info', WARN: 'warn', ERROR: 'error', DEBUG: 'debug', PANIC: 'panic', FATAL: 'fatal',
};
const STD_LEVELS: Record<string, Level> = { INFO: 'info', WARNING: 'warn', ERROR: 'error', FATAL: 'fatal' };
const ZAP_LEVELS: Record<string, Level> = {
  debug: 'debug', info: 'info', warn: 'warn', error: 'error', dpanic: 'panic', panic: 'panic', fatal: 'fatal',
};

export function looksLikeEtcdLogLine(line: string): boolean {
  const c = line.charCodeAt(0);
  if (c === 0x7b) return looksLikeZap(line);
  // A digit also starts a Chinese-locale journald prefix (`11月 20 16:17:52 host etcd[1]: …`), so fall through.
  if (c >= 0x30 && c <= 0x39 && CAPNSLOG_RE.test(line)) return true;
  if (c === 0x72 && RAFT_RE.test(line)) return true;
  const p = parseSyslogPrefix(line);
  if (!p) return false;
  const inner = p.rest.charCodeAt(0);
  if (inner === 0x7b) return looksLikeZap(p.rest);
  if (inner >= 0x30 && inner <= 0x39 && CAPNSLOG_RE.test(p.rest)) return true;
  if (inner === 0x72 && RAFT_RE.test(p.rest)) return true;
  return ETCD_TAG_RE.test(p.tag);
}

// zap: `{"level":"warn","ts":"…","caller":"…","msg":"…",…}`; level and msg are required, and ts or
// caller must be there too so that other JSON loggers are not taken for etcd.
function looksLikeZap(s: string): boolean {
  const o = parseJsonObject(s);
  return o !== null && typeof o.level === 'string' && typeof o.msg === 'string'
    && (o.ts !== undefined || typeof o.caller === 'string');
}

interface Envelope {
  time: RecordTime | null;
  member: string | null;
  level: Level | null;
}

export function parseEtcdLogLine(line: string, lineNo: number, ctx: ParseContext): ParseOutput[] {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trim() === '') return [];
  try {
    return parseBody(text, text, lineNo, ctx, null);
  } catch (err) {
    // Defensive: a parser bug must not stop a 1 GB ingest; it shows up as an issue instead.
    return [issue(lineNo, `internal parser error: ${String(err).slice(0, 80)}`, text)];
  }
}

function parseBody(raw: string, body: string, lineNo: number, ctx: ParseContext, sys: SyslogPrefix | null): ParseOutput[] {
  const c = body.charCodeAt(0);
  const member = ctx.member ?? sys?.host ?? null;
  if (c === 0x7b) return parseZapLine(raw, body, lineNo, ctx, sys, member);
  if (c >= 0x30 && c <= 0x39) {
    const m = CAPNSLOG_RE.exec(body);
    if (m) {
      const [, y, mo, d, h, mi, s, frac, lvl, pkg, msg] = m;
      const ms = Math.floor(Number(`0.${frac}`) * 1000 + 1e-6);
      const time = wallTime(+y!, +mo!, +d!, +h!, +mi!, +s!, ms, ctx.tz);
      return emit(raw, lineNo, { time, member, level: CAPNSLOG_LEVELS[lvl!] ?? null }, msg!, classifyText(msg!, pkg!));
    }
  }
  if (c === 0x72) {
    const m = RAFT_RE.exec(body);
    if (m) {
      const [, y, mo, d, h, mi, s, lvl, msg] = m;
      const time = wallTime(+y!, +mo!, +d!, +h!, +mi!, +s!, 0, ctx.tz);
      return emit(raw, lineNo, { time, member, level: RAFT_LEVELS[lvl!] ?? null }, msg!, classifyText(msg!, 'raft'));
    }
  }
  const g = c === 0x49 || c === 0x57 || c === 0x45 || c === 0x46 ? GRPC_RE.exec(body) : null;
  if (g) {
    const [, lvl, y, mo, d, h, mi, s, msg] = g;
    const time = wallTime(+y!, +mo!, +d!, +h!, +mi!, +s!, 0, ctx.tz);
    return emit(raw, lineNo, { time, member, level: STD_LEVELS[lvl!] ?? null }, msg!, ev('etcd.other', { logger: 'grpc' }));
  }
  const b = c === 0x5b ? BRACKET_RE.exec(body) : null;
  if (b) {
    const time = sys ? prefixTime(sys, ctx) : null;
    return emit(raw, lineNo, { time, member, level: STD_LEVELS[b[1]!] ?? null }, b[2]!, ev('etcd.other'));
  }
  if (sys) {
    // capnslog's journald formatter: a bare message; time, level and package are journal fields that
    // `journalctl` short output does not show. `May 26 06:59:12 host etcd[95994]: failed to apply request "…"`
    if (!ETCD_TAG_RE.test(sys.tag)) return [issue(lineNo, `journald line from ${sys.tag.slice(0, 40)}`, raw)];
    return emit(raw, lineNo, { time: prefixTime(sys, ctx), member, level: null }, body, classifyText(body, null));
  }
  const p = parseSyslogPrefix(body);
  if (p) return parseBody(raw, p.rest, lineNo, ctx, p);
  return [issue(lineNo, 'not an etcd log line', raw)];
}

// Zone conversion (TZDate, Intl underneath) costs far more than the rest of a line, and log lines come in
// time order, so the UTC instant of the current local hour is kept and minutes/seconds are added to it.
// Assumes the zone's offset does not change inside an hour (true at every IANA transition on the hour; a
// 30-minute transition such as Australia/Lord_Howe's would be off by 30 minutes for that half hour).
let hourTz: string | null = null;
let hourKey = -1;
let hourMs: number | null = null;

function wallTime(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, tz: string | null): RecordTime | null {
  if (mi > 59 || s > 60) return null;
  const key = ((y * 13 + mo) * 32 + d) * 24 + h;
  if (key !== hourKey || tz !== hourTz) {
    hourTz = tz;
    hourKey = key;
    hourMs = localTime(y, mo, d, h, 0, 0, 0, tz, 'assumed-zone')?.ms ?? null;
  }
  return hourMs === null ? null : { ms: hourMs + mi * 60_000 + s * 1000 + ms, offsetMin: null, basis: 'assumed-zone' };
}

// The same for journald prefixes (no year, no zone): syslogTime once per hour of the prefix.
let prefixCtx: Pick<ParseContext, 'tz' | 'referenceMs'> | null = null;
let prefixKey = -1;
let prefixMs: number | null = null;

function prefixTime(p: SyslogPrefix, ctx: ParseContext): RecordTime | null {
  if (p.minute > 59 || p.second > 60) return null;
  const key = (p.month * 32 + p.day) * 24 + p.hour;
  if (key !== prefixKey || prefixCtx === null || ctx.tz !== prefixCtx.tz || ctx.referenceMs !== prefixCtx.referenceMs) {
    prefixCtx = { tz: ctx.tz, referenceMs: ctx.referenceMs };
    prefixKey = key;
    prefixMs = syslogTime({ ...p, minute: 0, second: 0 }, ctx)?.ms ?? null;
  }
  return prefixMs === null ? null : { ms: prefixMs + p.minute * 60_000 + p.second * 1000, offsetMin: null, basis: 'assumed-zone-year' };
}

function parseZapLine(
  raw: string, body: string, lineNo: number, ctx: ParseContext, sys: SyslogPrefix | null, member: string | null,
): ParseOutput[] {
  const o = parseJsonObject(body);
  if (o === null) return [issue(lineNo, body.trimEnd().endsWith('}') ? 'invalid JSON' : 'truncated JSON', raw)];
  if (typeof o.level !== 'string' || typeof o.msg !== 'string') return [issue(lineNo, 'JSON without level and msg', raw)];
  const time = zapTime(o.ts, ctx) ?? (sys ? prefixTime(sys, ctx) : null);
  const level = ZAP_LEVELS[o.level] ?? null;
  return emit(raw, lineNo, { time, member, level }, o.msg, classifyZap(o, body));
}

function parseJsonObject(s: string): Record<string, unknown> | null {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    return null;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * zap `ts`: ISO text in every release's encoding (`…23.663+0800`, trimmed `…03.21381+0800`, `…123456Z`),
 * or an epoch float (3.5.0–3.5.2 start-up lines, etcdctl 3.4): `"ts":1648749825.1234567`, which is UTC.
 */
function zapTime(ts: unknown, ctx: ParseContext): RecordTime | null {
  if (typeof ts === 'string') return parseTimestamp(ts, ctx);
  if (typeof ts === 'number' && Number.isFinite(ts) && ts > 0 && ts < 1e11) {
    // Round to µs first so that 1648749825.123 (really …122.99999) keeps its millisecond.
    return { ms: Math.floor(Math.round(ts * 1e6) / 1000), offsetMin: 0, basis: 'explicit' };
  }
  return null;
}

function emit(raw: string, lineNo: number, env: Envelope, message: string, c: Classified): ParseOutput[] {
  const ev: LogEvent = {
    kind: 'event', line: lineNo, time: env.time, member: env.member, level: env.level,
    event: c.event, message, raw, detail: c.detail,
  };
  const out: ParseOutput[] = [ev];
  if (c.request) pushRequests(out, lineNo, env, c, c.request);
  return out;
}

function pushRequests(out: ParseOutput[], lineNo: number, env: Envelope, c: Classified, r: NonNullable<Classified['request']>): void {
  const d = decodeRequestText(r.text);
  if (d === null) {
    out.push(request(lineNo, env, r, 'other', null, null, null, null, false));
    return;
  }
  c.detail.op = d.op;
  if (d.revision !== null) c.detail.revision = d.revision;
  if (d.alarm !== null) c.detail.alarm = d.alarm;
  if (d.alarmAction !== null) c.detail.alarmAction = d.alarmAction;
  if (d.op === 'txn' && d.puts.length > 0) {
    for (const p of d.puts) out.push(request(lineNo, env, r, 'put', p.key, null, p.valueSize, p.lease, true));
    return;
  }
  out.push(request(lineNo, env, r, d.op, d.key, d.rangeEnd, d.valueSize, d.lease, false));
}

// One literal shape for every row (no spreads): this runs once per failed request, millions of times.
function request(
  line: number, env: Envelope, r: NonNullable<Classified['request']>, op: EtcdRequest['op'],
  key: string | null, rangeEnd: string | null, valueSize: number | null, lease: string | null, inTxn: boolean,
): EtcdRequest {
  return {
    kind: 'request', line, time: env.time, member: env.member, op, key, rangeEnd, valueSize, lease, inTxn,
    outcome: r.outcome, error: r.error, tookMs: r.tookMs,
  };
}

function issue(line: number, reason: string, raw: string): ParseIssue {
  return { kind: 'issue', line, reason, excerpt: raw.length > 200 ? `${raw.slice(0, 200)}…` : raw };
}

// ---------------------------------------------------------------------------------------------------
// Classification. zap messages are exact `msg` strings (Map lookup); capnslog/journald messages are
// matched by prefix. Only the rule that matched runs a regex.

type Detail = LogEvent['detail'];
type DetailValue = Detail[string];

interface Classified {
  event: EventKind;
  detail: Detail;
  request?: { text: string; outcome: 'failed' | 'slow'; error: string | null; tookMs: number | null };
}

type ZapFields = Record<string, unknown>;
type ZapRule = (f: ZapFields, body: string, msg: string) => Classified;
type TextRule = (msg: string) => Classified;

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function dur(v: unknown): number | null {
  return typeof v === 'string' ? durationMs(v) : null;
}

/** Go duration text → ms, rounded to the nanosecond (`1.602181876s` → 1602.181876, not …75999). */
function durationMs(text: string): number | null {
  const v = parseGoDurationMs(text);
  return v === null ? null : Math.round(v * 1e6) / 1e6;
}

/** A numeric zap field; a uint64 beyond 2^53 is re-read from the raw text as decimal text. */
function num(f: ZapFields, key: string, body: string): DetailValue {
  const v = f[key];
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  if (Number.isSafeInteger(v) || !Number.isInteger(v)) return v;
  const m = new RegExp(`"${key}":(-?\\d+)`).exec(body);
  return m ? m[1]! : String(v);
}

function ev(event: EventKind, detail: Detail = {}): Classified {
  return { event, detail };
}

function zapApplyFailed(f: ZapFields): Classified {
  const error = str(f.error);
  const tookMs = dur(f.took);
  const c = ev('etcd.apply.failed', { error, tookMs, response: str(f.response) });
  if (typeof f.request === 'string') c.request = { text: f.request, outcome: 'failed', error, tookMs };
  return c;
}

function zapApplySlow(f: ZapFields): Classified {
  const error = str(f.error);
  const tookMs = dur(f.took);
  const c = ev('etcd.apply.slow', { error, tookMs, expectedMs: dur(f['expected-duration']), prefix: str(f.prefix) });
  if (typeof f.request === 'string') c.request = { text: f.request, outcome: 'slow', error, tookMs };
  return c;
}

function zapQuotaConfig(f: ZapFields, body: string, msg: string): Classified {
  const setting = msg === 'enabled backend quota with default value' ? 'default'
    : msg === 'quota exceeds the maximum value' ? 'exceeds-maximum'
      : msg === 'disabled backend quota' ? 'disabled' : 'enabled';
  return ev('etcd.quota.config', {
    setting, quotaName: str(f['quota-name']), quotaBytes: num(f, 'quota-size-bytes', body),
    quotaMaximumBytes: num(f, 'quota-maximum-size-bytes', body),
  });
}

function zapAutoCompaction(f: ZapFields, body: string, msg: string): Classified {
  const phase = msg.startsWith('starting') ? 'started' : msg.startsWith('completed') ? 'completed' : 'failed';
  return ev('etcd.compaction.auto', {
    phase, mode: msg.includes('periodic') ? 'periodic' : 'revision', revision: num(f, 'revision', body),
    tookMs: dur(f.took), error: str(f.error),
  });
}

/** Backend sizes as `defragmenting`, `defragmented` / `finished defragmenting directory` and 3.4.31+/3.5.12+ compaction log them. */
function sizes(f: ZapFields, body: string): Detail {
  const d: Detail = {
    dbSizeBytes: num(f, 'current-db-size-bytes', body), dbSizeInUseBytes: num(f, 'current-db-size-in-use-bytes', body),
  };
  if (f['current-db-size-bytes-diff'] !== undefined) d.dbSizeDiffBytes = num(f, 'current-db-size-bytes-diff', body);
  if (f['current-db-size-in-use-bytes-diff'] !== undefined) {
    d.dbSizeInUseDiffBytes = num(f, 'current-db-size-in-use-bytes-diff', body);
  }
  return d;
}

function zapDefragBackend(f: ZapFields, body: string, msg: string): Classified {
  const finished = msg !== 'defragmenting';
  return ev(finished ? 'etcd.defrag.finished' : 'etcd.defrag.started', {
    source: 'backend', path: str(f.path), ...sizes(f, body), ...(finished ? { tookMs: dur(f.took) } : {}),
  });
}

function zapAlarm(f: ZapFields, _b: string, msg: string): Classified {
  return ev(msg === 'alarm raised' ? 'etcd.alarm.raised' : 'etcd.alarm.disarmed', { alarm: str(f.alarm), from: str(f.from) });
}

const ZAP_RULES = new Map<string, ZapRule>([
  ['failed to apply request', zapApplyFailed],
  ['apply request took too long', zapApplySlow],
  ['alarm raised', zapAlarm],
  ['alarm disarmed', zapAlarm],
  ['message exceeded backend quota; raising alarm', (f, b) =>
    ev('etcd.quota.exceeded', { quotaBytes: num(f, 'quota-size-bytes', b), error: str(f.error) })],
  ['enabled backend quota with default value', zapQuotaConfig],
  ['enabled backend quota', zapQuotaConfig],
  ['quota exceeds the maximum value', zapQuotaConfig],
  ['disabled backend quota', zapQuotaConfig],
  ['compact tree index', (f, b) => ev('etcd.compaction.started', { revision: num(f, 'revision', b) })],
  ['resume scheduled compaction', (f, b) =>
    ev('etcd.compaction.started', { revision: num(f, 'scheduled-compact-revision', b), resumed: true })],
  ['finished scheduled compaction', (f, b) => ev('etcd.compaction.finished', {
    revision: num(f, 'compact-revision', b), tookMs: dur(f.took), hash: num(f, 'hash', b), ...sizes(f, b),
  })],
  ['starting auto periodic compaction', zapAutoCompaction],
  ['completed auto periodic compaction', zapAutoCompaction],
  ['failed auto periodic compaction', zapAutoCompaction],
  ['starting auto revision compaction', zapAutoCompaction],
  ['completed auto revision compaction', zapAutoCompaction],
  ['failed auto revision compaction', zapAutoCompaction],
  ['starting defragment', () => ev('etcd.defrag.started', { source: 'rpc' })],
  ['finished defragment', () => ev('etcd.defrag.finished', { source: 'rpc' })],
  ['failed to defragment', (f) => ev('etcd.defrag.failed', { error: str(f.error) })],
  ['defragmenting', zapDefragBackend],
  ['defragmented', zapDefragBackend], //                       3.4
  ['finished defragmenting directory', zapDefragBackend], //   3.5
  ['slow fdatasync', (f) => ev('etcd.fdatasync.slow', { tookMs: dur(f.took), expectedMs: dur(f['expected-duration']) })],
  ['leader failed to send out heartbeat on time; took too long, leader is overloaded likely from slow disk', (f) =>
    ev('etcd.heartbeat.slow', {
      to: str(f.to), heartbeatIntervalMs: dur(f['heartbeat-interval']),
      expectedMs: dur(f['expected-duration']), exceededMs: dur(f['exceeded-duration']),
    })],
  ['sending database snapshot to client', (f, b) =>
    ev('etcd.snapshot.sent', { phase: 'started', totalBytes: num(f, 'total-bytes', b) })],
  ['successfully sent database snapshot to client', (f, b) =>
    ev('etcd.snapshot.sent', { phase: 'finished', totalBytes: num(f, 'total-bytes', b), tookMs: dur(f.took) })],
  ['starting an etcd server', (f) => ev('etcd.start', { version: str(f['etcd-version']) })],
]);

function classifyZap(f: ZapFields, body: string): Classified {
  const msg = f.msg as string;
  const rule = ZAP_RULES.get(msg);
  if (rule) return rule(f, body, msg);
  if (msg.startsWith('serving /health false')) {
    return ev('etcd.health.false', { reason: healthReason(msg.slice(21)), alarm: alarmName(str(f.alarm)) });
  }
  return classifyLeader(msg) ?? ev('etcd.other');
}

function healthReason(rest: string): string | null {
  const r = rest.replace(/^[;:,]?\s*/, '').replace(/^due to\s*/, '');
  return r === '' ? null : r;
}

const ALARM_NAME_RE = /alarm:(\w+)/;

function alarmName(text: string | null): string | null {
  return text === null ? null : (ALARM_NAME_RE.exec(text)?.[1] ?? null);
}

// raft leadership as etcd's raft logs it (`raft/raft.go`, `raft/node.go`), in zap `msg`, capnslog and std-logger:
// `8e9e05c52164694d became leader at term 2`, `raft.node: 8e9e05c52164694d elected leader 8e9e05c52164694d at term 2`.
const LEADER_RE =
  /^(?:raft\.node: )?([0-9a-f]+) (?:elected leader ([0-9a-f]+)|changed leader from ([0-9a-f]+) to ([0-9a-f]+)|lost leader ([0-9a-f]+)|became (leader|follower|candidate|pre-candidate)|is starting a new election) at term (\d+)/;

function classifyLeader(msg: string): Classified | null {
  if (!msg.includes(' at term ')) return null;
  const m = LEADER_RE.exec(msg);
  if (!m) return null;
  const [, node, elected, from, to, lost, became, term] = m;
  const d: Detail = { change: '', term: Number(term), node: node! };
  if (elected) Object.assign(d, { change: 'elected', leader: elected });
  else if (to) Object.assign(d, { change: 'changed', leader: to, previousLeader: from! });
  else if (lost) Object.assign(d, { change: 'lost', previousLeader: lost });
  else if (became) Object.assign(d, { change: `became-${became}`, ...(became === 'leader' ? { leader: node! } : {}) });
  else d.change = 'new-election';
  return ev('etcd.leader.changed', d);
}

// capnslog 3.4.8+: `failed to apply request "…" with response "" took (1.597475ms) to execute, err is etcdserver: no space`
// capnslog 3.3.21+: `failed to apply request,took 1.5ms,request header:<…> put:<…>,resp ,err is etcdserver: no space`
const APPLY_TAIL_RE = /^ with response "((?:[^"\\]|\\.)*)" took \(([^)]*)\) to execute, err is (.*)$/s;

function textApplyFailed(msg: string): Classified {
  let text: string | null = null;
  let error: string | null = null;
  let tookMs: number | null = null;
  if (msg.startsWith('failed to apply request "')) {
    const q = readGoQuoted(msg, 24);
    text = q.value;
    const m = APPLY_TAIL_RE.exec(msg.slice(q.end));
    if (m) { tookMs = durationMs(m[2]!); error = m[3]!; }
  } else if (msg.startsWith('failed to apply request,took ')) {
    const r = msg.indexOf(',request ');
    const e = msg.lastIndexOf(',err is ');
    const p = e > r ? msg.lastIndexOf(',resp ', e) : -1;
    if (r > 0) tookMs = durationMs(msg.slice(29, r));
    if (r > 0 && p > r) { text = msg.slice(r + 9, p); error = msg.slice(e + 8); }
  }
  const c = ev('etcd.apply.failed', { error, tookMs });
  if (text !== null) c.request = { text, outcome: 'failed', error, tookMs };
  return c;
}

// `%srequest %q with result %q took too long (%v) to execute`; the result is `error:<err>` when it failed.
const SLOW_TAIL_RE = /^ with result "((?:[^"\\]|\\.)*)" took too long \(([^)]*)\) to execute/s;

function textApplySlow(msg: string): Classified | null {
  const at = msg.indexOf('request "');
  if (at < 0) return null;
  const q = readGoQuoted(msg, at + 8);
  const m = SLOW_TAIL_RE.exec(msg.slice(q.end));
  if (!m) return null;
  const result = readGoQuoted(`"${m[1]!}"`, 0).value;
  const error = result.startsWith('error:') ? result.slice(6) : null;
  const tookMs = durationMs(m[2]!);
  const c = ev('etcd.apply.slow', { error, tookMs, prefix: msg.slice(0, at) });
  c.request = { text: q.value, outcome: 'slow', error, tookMs };
  return c;
}

function intAfter(msg: string, re: RegExp): number | null {
  const m = re.exec(msg);
  return m ? Number(m[1]) : null;
}

const REV_RE = /(\d+)/;
const ALARM_RAISED_RE = /^alarm (\S+) raised by peer ([0-9a-f]+)/;
const DISARMED_MEMBER_RE = /memberID:(\d+)/;
const QUOTA_MAX_RE = /^backend quota (\d+) exceeds maximum recommended quota (\d+)/;
const FINISHED_COMPACTION_RE = /^finished scheduled compaction at (\d+) \(took ([^)]*)\)/;
const SYNC_RE = /^sync duration of (\S+), expected less than (\S+)/;
// `failed to send out heartbeat on time (exceeded the 100ms timeout for 27.990113ms, to 935e65ab14460fee)`:
// the heartbeat interval first, then by how much it was exceeded (real 3.4.23 line).
const HEARTBEAT_RE = /exceeded the (\S+) timeout for (\S+), to ([0-9a-f]+)\)/;
const SNAPSHOT_BYTES_RE = /\[(\d+) bytes\]/;

function textAlarmRaised(msg: string): Classified | null {
  const m = ALARM_RAISED_RE.exec(msg);
  return m ? ev('etcd.alarm.raised', { alarm: m[1]!, from: m[2]! }) : null;
}

// `alarm disarmed action:DEACTIVATE memberID:10276657743932975437 alarm:NOSPACE ` (%+v of AlarmRequest,
// memberID in decimal); `from` is given in hex as zap's `from` field is.
function textAlarmDisarmed(msg: string): Classified {
  const id = DISARMED_MEMBER_RE.exec(msg)?.[1];
  return ev('etcd.alarm.disarmed', { alarm: alarmName(msg), from: id ? BigInt(id).toString(16) : null });
}

function textAutoCompaction(phase: 'started' | 'completed' | 'failed'): TextRule {
  return (msg) => {
    const d: Detail = { phase, revision: intAfter(msg, REV_RE) };
    if (phase === 'started') d.mode = msg.includes(' revisions)') ? 'revision' : 'periodic';
    if (phase === 'failed') d.error = /\((.*)\)$/.exec(msg)?.[1] ?? null;
    return ev('etcd.compaction.auto', d);
  };
}

const TEXT_RULES: Array<[string, TextRule]> = [
  ['failed to apply request', textApplyFailed],
  ['alarm disarmed', textAlarmDisarmed],
  ['applying raft message exceeded backend quota', () => ev('etcd.quota.exceeded')],
  ['/health error', (m) => ev('etcd.health.false', { reason: healthReason(m.slice(13)), alarm: alarmName(m) })],
  ['store.index: compact ', (m) => ev('etcd.compaction.started', { revision: intAfter(m, REV_RE) })],
  ['resume scheduled compaction at ', (m) => ev('etcd.compaction.started', { revision: intAfter(m, REV_RE), resumed: true })],
  ['finished scheduled compaction at ', (m) => {
    const x = FINISHED_COMPACTION_RE.exec(m);
    return ev('etcd.compaction.finished', { revision: x ? Number(x[1]) : null, tookMs: x ? durationMs(x[2]!) : null });
  }],
  ['Starting auto-compaction at revision ', textAutoCompaction('started')],
  ['Finished auto-compaction at revision ', textAutoCompaction('completed')],
  ['Failed auto-compaction at revision ', textAutoCompaction('failed')],
  ['starting to defragment the storage backend', () => ev('etcd.defrag.started', { source: 'rpc' })],
  ['finished defragmenting the storage backend', () => ev('etcd.defrag.finished', { source: 'rpc' })],
  ['failed to defragment the storage backend', (m) => ev('etcd.defrag.failed', { error: /\((.*)\)$/.exec(m)?.[1] ?? null })],
  ['sync duration of ', (m) => {
    const x = SYNC_RE.exec(m);
    return ev('etcd.fdatasync.slow', { tookMs: x ? durationMs(x[1]!) : null, expectedMs: x ? durationMs(x[2]!) : null });
  }],
  ['failed to send out heartbeat on time', (m) => {
    const x = HEARTBEAT_RE.exec(m);
    return ev('etcd.heartbeat.slow', {
      to: x?.[3] ?? null, heartbeatIntervalMs: x ? durationMs(x[1]!) : null, exceededMs: x ? durationMs(x[2]!) : null,
    });
  }],
  ['sending database snapshot to client', (m) => ev('etcd.snapshot.sent', { phase: 'started', totalBytes: intAfter(m, SNAPSHOT_BYTES_RE) })],
  ['successfully sent database snapshot to client', (m) =>
    ev('etcd.snapshot.sent', { phase: 'finished', totalBytes: intAfter(m, SNAPSHOT_BYTES_RE) })],
  ['etcd Version: ', (m) => ev('etcd.start', { version: m.slice(14).trim() || null })],
];

/** capnslog message (after `pkg: `), a journald-formatter bare message (pkg null), or a raft std-logger message. */
function classifyText(msg: string, pkg: string | null): Classified {
  const c0 = msg.charCodeAt(0);
  if (c0 === 0x61 && msg.startsWith('alarm ') && !msg.startsWith('alarm disarmed')) {
    const r = textAlarmRaised(msg);
    if (r) return withPkg(r, pkg);
  }
  if (c0 === 0x62 && msg.startsWith('backend quota ')) {
    const x = QUOTA_MAX_RE.exec(msg);
    if (x) {
      return withPkg(ev('etcd.quota.config', {
        setting: 'exceeds-maximum', quotaBytes: Number(x[1]), quotaMaximumBytes: Number(x[2]),
      }), pkg);
    }
  }
  for (const [prefix, rule] of TEXT_RULES) if (msg.startsWith(prefix)) return withPkg(rule(msg), pkg);
  if (msg.endsWith(' to execute') && msg.includes(' took too long (')) {
    const s = textApplySlow(msg);
    if (s) return withPkg(s, pkg);
  }
  return withPkg(classifyLeader(msg) ?? ev('etcd.other'), pkg);
}

function withPkg(c: Classified, pkg: string | null): Classified {
  if (pkg !== null) c.detail.pkg = pkg;
  return c;
}
