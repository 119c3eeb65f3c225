// Kubernetes CRI container logs (/var/log/pods/…/0.log, /var/log/containers/*.log), as kubelet's CRI
// logger writes them (kubernetes/cri-api, pkg/kubelet/kuberuntime/logs): `<RFC3339Nano> <stream> <tag> <log>`
// with tag `F` (full) or `P` (partial: the runtime split a line longer than 16 KiB; the parts are
// joined up to the next `F`). `2024-05-01T10:00:00.123456789Z stderr F {"level":"warn",…}`
import type { OuterContext, ParseContext } from '../../model.js';
import type { EnvelopeFormat, InnerLine, Unwrapper } from './types.js';
import { parseTimestamp } from '../../units/time.js';

const CRI_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([FP])(?: (.*))?$/s;

export const criFormat: EnvelopeFormat = {
  name: 'cri',
  matches: (line) => CRI_RE.test(line),
  create: (ctx) => createCriUnwrapper(ctx),
};

function createCriUnwrapper(ctx: ParseContext): Unwrapper {
  let partial: { text: string; lineNo: number; outer: OuterContext } | null = null;
  return {
    name: 'cri',
    push(line, lineNo): InnerLine[] {
      const m = CRI_RE.exec(line);
      if (!m) {
        // Not a CRI line (a truncated file's first line, a paste): hand it on as it is.
        const held = flush();
        return [...held, { text: line, lineNo, outer: null }];
      }
      const [, ts, stream, tag, body = ''] = m;
      const outer: OuterContext = { time: parseTimestamp(ts!, ctx), host: null, tag: stream!, pid: null };
      if (partial) partial.text += body;
      else partial = { text: body, lineNo, outer };
      if (tag === 'P') return [];
      return flush();
    },
    end: () => flush(),
  };
  function flush(): InnerLine[] {
    if (!partial) return [];
    const out = [partial];
    partial = null;
    return out;
  }
}
