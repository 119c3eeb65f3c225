// RFC 5424 syslog, as rsyslog writes it with RSYSLOG_SyslogProtocol23Format or forwards it:
// `<134>1 2024-05-01T10:00:00.123456+02:00 etcd1 etcd 25254 - - {"level":"warn",…}`; some files keep no
// `<PRI>`. Fields: VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG] (RFC 5424 §6),
// `-` for a missing one; STRUCTURED-DATA is `-` or `[id k="v" …]…` with `\]`, `\"` and `\\` escaped; MSG
// may begin with a UTF-8 BOM.
import type { OuterContext, ParseContext } from '../../model.js';
import type { EnvelopeFormat, Unwrapper } from './types.js';
import { parseTimestamp } from '../../units/time.js';
import { journalShortLine } from './short-line.js';
import { perLineUnwrapper } from './per-line.js';

const RFC5424_RE =
  /^(?:<\d{1,3}>)?1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)|-) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32}) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?:\uFEFF)?(.*))?$/s;

const nil = (s: string): string | null => (s === '-' ? null : s);

export const syslogRfc5424Format: EnvelopeFormat = {
  name: 'syslog-rfc5424',
  matches: (line) => RFC5424_RE.test(line),
  create: (ctx) => createRfc5424Unwrapper(ctx),
};

function createRfc5424Unwrapper(ctx: ParseContext): Unwrapper {
  return perLineUnwrapper('syslog-rfc5424', (line) => {
    const m = RFC5424_RE.exec(line);
    if (!m) return null;
    const ts = nil(m[1]!);
    const pid = Number(nil(m[4]!));
    const outer: OuterContext = {
      time: ts ? parseTimestamp(ts, ctx) : null, host: nil(m[2]!), tag: nil(m[3]!),
      pid: Number.isInteger(pid) && pid > 0 ? pid : null,
    };
    return { text: journalShortLine(outer, m[7] ?? ''), outer };
  });
}
