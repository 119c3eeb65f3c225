// k3s / RKE2 server lines (logrus TextFormatter without a TTY), which a k3s journal interleaves with its
// embedded etcd's zap JSON. Real lines (kingsd041.github.io _posts/k3s/2022-04-11-k3s-change-ip.md; rancher/k3k#815):
//   Apr  7 16:25:14 del-1 k3s[884]: time="2022-04-07T16:25:14+08:00" level=info msg="Defragmenting etcd database"
//   time="2026-04-28T03:57:45+08:00" level=info msg="Connected to etcd v3.5.21 - datastore using 2147475456 of 2147483648 bytes"
//   time="2026-04-28T03:57:45+08:00" level=warning msg="Errors present on etcd cluster: memberID:13118187214589646828 alarm:NOSPACE "
// logrus writes time, level, msg first, then the other fields sorted; a value is Go-quoted (%q) when it
// holds anything beyond [A-Za-z0-9-._/@^+], so msg may be bare. k3s's own datastore lines become the
// event kinds etcd's lines have (alarm raised/disarmed, defrag started, a size sample).
import type { Level } from '../../model.js';
import { readGoQuoted } from './request.js';
import { checkedInt, ev, type Classified } from './rules.js';
import { hexFromUint64Text } from '../../units/integers.js';

export const LOGRUS_RE = /^time="([^"]*)" level=([a-z]+) msg=/;

export const LOGRUS_LEVELS: Record<string, Level> = {
  trace: 'debug', debug: 'debug', info: 'info', warning: 'warn', warn: 'warn', error: 'error', fatal: 'fatal', panic: 'panic',
};

export interface LogrusLine {
  time: string;
  level: string;
  msg: string;
}

/** A logrus text line's time, level and msg; null when the line is not one. A cut line keeps what it has. */
export function parseLogrus(body: string): LogrusLine | null {
  const m = LOGRUS_RE.exec(body);
  if (!m) return null;
  const at = m[0].length;
  let msg: string;
  if (body.charCodeAt(at) === 0x22) msg = readGoQuoted(body, at).value;
  else {
    const sp = body.indexOf(' ', at);
    msg = sp < 0 ? body.slice(at) : body.slice(at, sp);
  }
  return { time: m[1]!, level: m[2]!, msg };
}

// k3s pkg/etcd/etcd.go: clearAlarms() `Alarm on etcd member %d: %s`, `Alarms disarmed on etcd server`;
// defragment() `Defragmenting etcd database`. Newer k3s (posted in rancher/k3k#815):
// `Connected to etcd %s - datastore using <in-use> of <size> bytes`, `Errors present on etcd cluster: <status errors>`.
// Numbers are captured as printed (sign, fraction, exponent) so that one out of range is reported, not misread.
const ALARM_ON_MEMBER_RE = /^Alarm on etcd member (-?[\d.eE+]+): (\w+)/;
const STATUS_ALARM_RE = /memberID:(-?[\d.eE+]+) alarm:(\w+)/;
const CONNECTED_RE = /^Connected to etcd (\S+) - datastore using (-?[\d.eE+]+) of (-?[\d.eE+]+) bytes/;

function hexId(decimal: string): string {
  return hexFromUint64Text(decimal, 'member id');
}

// An alarm k3s found already set (read from `alarm list` / the status errors at start-up): the same event
// kind as etcd's `alarm raised`, marked `observed` because the alarm may have been raised long before.
function k3sAlarm(member: string, alarm: string, how: string): Classified {
  return ev('etcd.alarm.raised', { alarm, from: hexId(member), source: 'k3s', observed: how });
}

export function classifyK3s(msg: string): Classified {
  if (msg === 'Defragmenting etcd database') return ev('etcd.defrag.started', { source: 'k3s' });
  // `Starting k3s v1.23.4+k3s-95f66a04 (95f66a04)` (k3s#4787): the server's version, as etcd's start line gives its own.
  if (msg.startsWith('Starting k3s v') || msg.startsWith('Starting rke2 v')) {
    return ev('etcd.start', { source: msg.startsWith('Starting k3s') ? 'k3s' : 'rke2', k3sVersion: msg.split(' ')[2] ?? null });
  }
  if (msg === 'Alarms disarmed on etcd server') return ev('etcd.alarm.disarmed', { alarm: null, from: null, source: 'k3s' });
  const c0 = msg.charCodeAt(0);
  if (c0 === 0x41 && msg.startsWith('Alarm on etcd member ')) {
    const m = ALARM_ON_MEMBER_RE.exec(msg);
    if (m) return k3sAlarm(m[1]!, m[2]!, 'alarm-list');
  }
  if (c0 === 0x45 && msg.startsWith('Errors present on etcd cluster: ')) {
    const m = STATUS_ALARM_RE.exec(msg);
    if (m) return k3sAlarm(m[1]!, m[2]!, 'status-errors');
  }
  if (c0 === 0x43 && msg.startsWith('Connected to etcd ')) {
    const m = CONNECTED_RE.exec(msg);
    if (m) {
      const inUse = checkedInt(m[2]!, 'datastore bytes in use');
      const size = checkedInt(m[3]!, 'datastore bytes');
      const c = ev('etcd.db.size', { source: 'k3s', version: m[1]!, dbSizeBytes: size, dbSizeInUseBytes: inUse });
      c.sample = { dbSizeBytes: size, dbSizeInUseBytes: inUse };
      return c;
    }
  }
  // k3s exits when its datastore refuses writes: `… etcdserver: mvcc: database space exceeded` (k3s#4787).
  if (msg.includes('database space exceeded')) return ev('etcd.quota.exceeded', { source: 'k3s', error: msg });
  return ev('etcd.other', { logger: 'k3s' });
}
