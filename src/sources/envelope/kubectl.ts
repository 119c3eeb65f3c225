// `kubectl logs --timestamps` (and `docker logs --timestamps`): each line behind the time kubelet/the
// runtime recorded for it, RFC3339Nano and one space: `2024-05-01T10:00:00.123456789Z {"level":"warn",…}`
// (kubernetes pkg/kubelet/kuberuntime/logs/logs.go writes `timestamp.Format(timeFormatOut) + " "`).
// Only a `T`, a zone and a non-empty rest are claimed, so a Patroni (`2024-05-01 10:00:00,123 INFO: …`) or
// capnslog (`2024-05-01 10:00:00.123456 I | …`) line, which have a space after the date, is never taken.
import type { ParseContext } from '../../model.js';
import type { EnvelopeFormat, Unwrapper } from './types.js';
import { parseTimestamp } from '../../units/time.js';
import { perLineUnwrapper } from './per-line.js';

const TS = String.raw`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d))`;
// Detection counts lines whose text starts right after the one space; once claimed, an indented
// line (a traceback frame) or an empty one is unwrapped too. Two spaces after the time is not this
// format (`2026-11-24T07:28:56.086+08:00  $ etcdctl …`, a capture script's command log).
const DETECT_RE = new RegExp(`${TS} (?=\\S)`);
const TS_RE = new RegExp(`${TS}(?: |$)`);

export const kubectlTimestampsFormat: EnvelopeFormat = {
  name: 'kubectl-timestamps',
  matches: (line) => DETECT_RE.test(line),
  // Traceback frames and blank lines keep their place behind the time (`<time>   File "…"`, `<time> `): they
  // count once a fair share (a fifth: Patroni tracebacks are long) start right after the one space.
  matchSample(sample) {
    let nonEmpty = 0;
    let stamped = 0;
    let direct = 0;
    for (const l of sample) {
      if (l.trim() === '') continue;
      nonEmpty++;
      if (TS_RE.test(l)) stamped++;
      if (DETECT_RE.test(l)) direct++;
    }
    return nonEmpty > 0 && direct > 0 && direct >= 0.2 * stamped ? stamped / nonEmpty : 0;
  },
  create: (ctx) => createTimestampsUnwrapper(ctx),
};

function createTimestampsUnwrapper(ctx: ParseContext): Unwrapper {
  return perLineUnwrapper('kubectl-timestamps', (line) => {
    const m = TS_RE.exec(line);
    return m ? { text: line.slice(m[0].length), outer: { time: parseTimestamp(m[1]!, ctx), host: null, tag: null, pid: null } } : null;
  });
}
