// etcd server log parser: zap JSON (3.4 --logger=zap, 3.5, 3.6), capnslog text (3.0–3.4), raft's std-logger
// lines (3.4 capnslog mode), k3s/RKE2 logrus lines around their embedded etcd's zap, each optionally behind a
// journald/syslog prefix. One line in, events out:
// every etcd line becomes a LogEvent (uninteresting ones as 'etcd.other'), the requests named by
// `failed to apply request` / `apply request took too long` become EtcdRequest rows, and anything else
// becomes a ParseIssue. Never throws. Hot path: one cheap first-character dispatch, JSON.parse once,
// one header regex per text line, then message classification by Map lookup (etcd-log-zap.ts) or
// startsWith (etcd-log-text.ts).
import type {
  CarriedState, EtcdRequest, Level, LogEvent, ParseContext, ParseIssue, ParseOutput, RecordTime, StatusSample, StreamParser,
} from '../../model.js';
import { decodeRequestText, type DecodedRequest } from './request.js';
import { NumberRangeError } from '../../units/integers.js';
import { ev, type Classified } from './rules.js';
import { classifyZap } from './zap.js';
import { classifyText } from './text.js';
import { classifyK3s, LOGRUS_LEVELS, LOGRUS_RE, parseLogrus } from './logrus.js';
import {
  localTime, parseSyslogPrefix, parseTimestamp, syslogTime, type SyslogPrefix,
} from '../../units/time.js';
import { parseJsonVisible } from '../../units/json-visible.js';

export function createEtcdLogParser(ctx: ParseContext, seed?: CarriedState): StreamParser {
  // Without --member (or a journald host), the member's name is learnt from its start-up lines:
  //   zap      {"level":"info",…,"msg":"starting an etcd server",…,"name":"etcd1",…}
  //   capnslog 2026-11-24 07:26:49.569586 I | embed: name = etcd2
  let learnt: string | null = typeof seed?.learnt === 'string' ? seed.learnt : null;
  // 3.6 no longer logs `alarm raised` (release-3.6 server/etcdserver/apply/apply.go:215-242 logs nothing);
  // its `message exceeded backend quota; raising alarm` (server.go:2024) is the raising. 3.4/3.5 print both,
  // so the line stands for the alarm only once the stream is known to be 3.6+: from the start-up line's
  // etcd-version, or from a 3.6-only message (`saved snapshot to disk`).
  let is36: boolean | null = typeof seed?.is36 === 'boolean' ? seed.is36 : null;
  // Requests applied before the alarm itself is applied each log the line (4 within 8 ms in our capture):
  // one alarm per burst, a burst being lines less than ALARM_BURST_MS apart.
  let lastQuotaMs: number | null = typeof seed?.lastQuotaMs === 'number' ? seed.lastQuotaMs : null;
  // The time of the first such line this parser judged (parse-split.ts: a burst across the seam).
  let firstQuotaMs: number | null = null;
  return {
    carried: () => ({ learnt, is36, lastQuotaMs, firstQuotaMs }),
    push: (line, lineNo, outer) => {
      const out = parseEtcdLogLine(line, lineNo, ctx);
      if (ctx.member === null) {
        if (learnt === null) learnt = memberNameOf(line);
        const name = learnt ?? outer?.host ?? null;
        if (name !== null) {
          for (const o of out) {
            if ((o.kind === 'event' || o.kind === 'request') && o.member === null && learnt !== null) o.member = learnt;
            else if (o.kind === 'status' && o.endpoint === '') o.endpoint = name;
          }
        }
      }
      const first = out[0];
      if (first !== undefined && first.kind === 'event') {
        const k = first.event;
        if (k === 'etcd.start') is36 = isVersion36(first.detail.version);
        else if (k === 'etcd.snapshot.saved' && first.detail.toDisk === true) is36 = true;
        else if (k === 'etcd.quota.exceeded' && is36 === true && first.detail.source === undefined) {
          const ms = first.time?.ms ?? null;
          if (firstQuotaMs === null) firstQuotaMs = ms;
          if (lastQuotaMs === null || ms === null || ms - lastQuotaMs >= ALARM_BURST_MS || ms < lastQuotaMs) out.push(impliedAlarm(first));
          if (ms !== null) lastQuotaMs = ms;
        }
      }
      return out;
    },
    end: () => [],
  };
}

const ALARM_BURST_MS = 10_000;

/**
 * Why the second range of a split parse (ingest/parse-split.ts) did not see what the whole file's parser
 * would have, or null when it did. `seed` is the state the second range started from (the first range's after
 * the detection sample), `aEnd` the first range's at the seam, `bEnd` the second range's at its end.
 */
export function etcdLogSeamMismatch(seed: CarriedState, aEnd: CarriedState, bEnd: CarriedState): string | null {
  if (aEnd.learnt !== seed.learnt) return 'the member name was learnt after the first lines';
  // null and false act alike (only a known 3.6 reads the quota line as the alarm).
  if ((aEnd.is36 === true) !== (seed.is36 === true)) return 'the etcd version changed after the first lines';
  const a = aEnd.lastQuotaMs;
  const b = bEnd.firstQuotaMs;
  if (aEnd.is36 === true && typeof a === 'number' && typeof b === 'number' && b >= a && b - a < ALARM_BURST_MS) {
    return 'a burst of quota lines spans the seam';
  }
  return null;
}
const VERSION_RE = /^v?(\d+)\.(\d+)/;

function isVersion36(v: unknown): boolean | null {
  const m = typeof v === 'string' ? VERSION_RE.exec(v) : null;
  if (!m) return null;
  const major = Number(m[1]);
  return major > 3 || (major === 3 && Number(m[2]) >= 6);
}

function impliedAlarm(quota: LogEvent): LogEvent {
  return {
    ...quota, event: 'etcd.alarm.raised',
    detail: { alarm: 'NOSPACE', from: null, impliedBy: 'message exceeded backend quota; raising alarm' },
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
// logrus's TextFormatter on a TTY (k3s run by hand, posted in k3s#4787): `WARN[0052] Alarm on etcd member 9639983885888023861: NOSPACE `
const LOGRUS_TTY_RE = /^(INFO|WARN|ERRO|FATA|DEBU|TRAC|PANI)\[(\d{4,})\] (.*)$/s;
const LOGRUS_TTY_LEVELS: Record<string, Level> = {
  INFO: 'info', WARN: 'warn', ERRO: 'error', FATA: 'fatal', DEBU: 'debug', TRAC: 'debug', PANI: 'panic',
};
const GO_STD_RE = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? (?:(INFO|WARNING|ERROR|FATAL): )?(.*)$/s;
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
  if (c >= 0x30 && c <= 0x39 && (CAPNSLOG_RE.test(line) || GO_STD_RE.test(line))) return true;
  if (c === 0x72 && RAFT_RE.test(line)) return true;
  if (c === 0x74 && LOGRUS_RE.test(line)) return true;
  if (c >= 0x41 && c <= 0x57 && LOGRUS_TTY_RE.test(line)) return true;
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
    // A number out of range for its field (units/integers.ts): the line is skipped, naming the field.
    if (err instanceof NumberRangeError) return [issue(lineNo, `number out of range: ${err.message}`, text)];
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
    const g = GO_STD_RE.exec(body);
    if (g) {
      // Go's standard logger (grpc-gateway inside etcd 3.5, real in our 3.5.16 capture):
      // `2026/11/30 01:35:23 ERROR: Failed to decode request: http: invalid Read on closed Body` (local time).
      const [, y, mo, d, h, mi, s, frac, lvl, msg] = g;
      const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000 + 1e-6) : 0;
      const time = wallTime(+y!, +mo!, +d!, +h!, +mi!, +s!, ms, ctx.tz);
      return emit(raw, lineNo, { time, member, level: lvl ? STD_LEVELS[lvl] ?? null : null }, msg!, ev('etcd.other', { logger: 'go' }));
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
  if (c === 0x74) {
    const l = parseLogrus(body);
    if (l) {
      const time = parseTimestamp(l.time, ctx) ?? (sys ? prefixTime(sys, ctx) : null);
      return emit(raw, lineNo, { time, member, level: LOGRUS_LEVELS[l.level] ?? null }, l.msg, classifyK3s(l.msg));
    }
  }
  const t = c >= 0x41 && c <= 0x57 ? LOGRUS_TTY_RE.exec(body) : null;
  if (t) {
    // logrus on a terminal prints seconds since start, not a time: the wrapper's time or none.
    const msg = t[3]!.trimEnd();
    const time = sys ? prefixTime(sys, ctx) : null;
    return emit(raw, lineNo, { time, member, level: LOGRUS_TTY_LEVELS[t[1]!] ?? null }, msg, classifyK3s(msg));
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

const ISO_SHAPE = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d/;

function parseZapLine(
  raw: string, body: string, lineNo: number, ctx: ParseContext, sys: SyslogPrefix | null, member: string | null,
): ParseOutput[] {
  const o = parseJsonObject(body);
  if (o === null) return [issue(lineNo, body.trimEnd().endsWith('}') ? 'invalid JSON' : 'truncated JSON', raw)];
  if (typeof o.level !== 'string' || typeof o.msg !== 'string') return [issue(lineNo, 'JSON without level and msg', raw)];
  const own = zapTime(o.ts, ctx);
  if (own === null && typeof o.ts === 'string' && ISO_SHAPE.test(o.ts)) {
    // A date that does not exist (month 13, 31 February, hour 25): skipped and said, never dated elsewhere.
    return [issue(lineNo, `field ts: ${o.ts.slice(0, 40)} is not a calendar time`, raw)];
  }
  const time = own ?? (sys ? prefixTime(sys, ctx) : null);
  const level = ZAP_LEVELS[o.level] ?? null;
  return emit(raw, lineNo, { time, member, level }, o.msg, classifyZap(o, body));
}

function parseJsonObject(s: string): Record<string, unknown> | null {
  let v: unknown;
  try {
    v = parseJsonVisible(s);
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
  const d = c.request ? decodeRequestText(c.request.text) : null;
  if (d?.problem) return [issue(lineNo, `number out of range: ${d.problem}`, raw)];
  const out: ParseOutput[] = [ev];
  if (c.request) pushRequests(out, lineNo, env, c, c.request, d);
  if (c.sample) out.push(sizeSample(lineNo, env, c.sample));
  return out;
}

/** A size the member logged about its own backend, stored next to `endpoint status` samples (format 'log'). */
function sizeSample(line: number, env: Envelope, s: NonNullable<Classified['sample']>): StatusSample {
  return {
    kind: 'status', line, time: env.time, format: 'log', endpoint: env.member ?? '', memberId: null, clusterId: null,
    version: null, dbSizeBytes: s.dbSizeBytes, dbSizeApprox: false, dbSizeInUseBytes: s.dbSizeInUseBytes, revision: null,
    raftTerm: null, raftIndex: null, raftAppliedIndex: null, isLeader: null, leaderId: null, isLearner: null,
    errors: [], alarms: [],
  };
}

function pushRequests(
  out: ParseOutput[], lineNo: number, env: Envelope, c: Classified, r: NonNullable<Classified['request']>, d: DecodedRequest | null,
): void {
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
