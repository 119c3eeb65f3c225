// A pasted transcript: prose mixed with command output and log lines, as in an incident write-up
// (the seed). Each line goes to the parser it looks like; lines that look like nothing are prose
// and are dropped without an issue. Python traceback lines follow the Patroni record before them.
// Shell commands (after a prompt, or bare etcdctl lines) are read by the session around it
// (session.ts): they become operator actions and give the output after them its meaning.
import { parseJsonVisible } from '../../units/json-visible.js';
import type { ParseContext, ParseOutput, StreamParser } from '../../model.js';
import { createEtcdLogParser, looksLikeEtcdLogLine } from '../etcd-log/parser.js';
import { createPatroniLogParser, looksLikePatroniLogLine, parseSystemctlActiveLine } from '../patroni-log/parser.js';
import { createEtcdctlOutputParser } from './parser.js';
import { ShellSession } from './session.js';
import { CLIENT_RETRY_MSG, clientErrorEvent } from './client-error.js';
import { prefixOf } from '../envelope/shipper.js';

const MAX_WRAPPED_LINES = 8;

function parsesAsObject(text: string): boolean {
  try {
    const o: unknown = parseJsonVisible(text);
    return typeof o === 'object' && o !== null;
  } catch {
    return false;
  }
}

const NOSPACE_TEXT_RE = /(?:etcdserver: )?(?:mvcc: )?database space exceeded|etcdserver: no space/;
// A Markdown blockquote (`> 2017-10-02 18:00:19,216 ERROR: …`) or a log line in an inline code span.
const QUOTE_RE = /^\s*>\s?(?=\S)/;
const CODE_SPAN_RE = /`([^`]{20,})`/;

/**
 * The line a post decorated: in a code span, or behind a prefix of its own (a syslog tag kept
 * without its time, a process manager's name column) after which it is an etcd or Patroni line.
 * Null when nothing recognisable is found.
 */
function undecorated(line: string): string | null {
  const c = CODE_SPAN_RE.exec(line);
  if (c && (looksLikeEtcdLogLine(c[1]!) || looksLikePatroniLogLine(c[1]!))) return c[1]!;
  const p = prefixOf(line);
  return p === null ? null : line.slice(p.length);
}

/** From the start of the error (`rpc error:`, else `etcdserver:`) to the end of the line, without closing quotes. */
function errorAround(line: string, at: number): string {
  const rpc = line.lastIndexOf('rpc error:', at);
  const server = line.lastIndexOf('etcdserver:', at);
  const start = rpc !== -1 ? rpc : server !== -1 ? server : at;
  return line.slice(start).replace(/["'\])]+\s*$/, '').trim();
}

// Traceback shapes, also after a write-up collapsed their indentation:
//   Traceback (most recent call last):
//   File "/usr/local/lib/python3.6/site-packages/patroni/dcs/etcd.py", line 566, in wrapper
//   retval = func(self, *args, **kwargs) is not None
//   patroni.dcs.etcd3.Unknown: <Unknown error: 'etcdserver: mvcc: database space exceeded', code: 2>
const TRACEBACK_RE = /^(?:\s|Traceback \(most recent call last\):|File "|[\w.]+(?:Error|Exception|Unknown|Timeout)\b|\^+$)/;
// A Python source line from a frame: ASCII only, no prose.
const PY_SOURCE_RE = /^[\x20-\x7e]+$/;

export function createTranscriptParser(ctx: ParseContext): StreamParser {
  const etcd = createEtcdLogParser(ctx);
  const patroni = createPatroniLogParser(ctx);
  const etcdctl = createEtcdctlOutputParser(ctx, { tolerant: true });
  let inTraceback = false;
  let depth = 0;
  const within = (f: () => ParseOutput[]): ParseOutput[] => {
    depth++;
    try {
      return f();
    } finally {
      depth--;
    }
  };

  // A zap JSON line a terminal wrapped at its width (kURL#3923 pasted `…"caller":"v3@v3.5.6/retry_intercepto`
  // and `r.go:62","msg":…` on the next line): held and joined until it parses, for a few lines at most.
  let wrapped: { text: string; lineNo: number; lines: string[] } | null = null;
  const pushWrapped = (line: string, lineNo: number): ParseOutput[] => {
    if (wrapped) {
      wrapped.text += line;
      wrapped.lines.push(line);
      if (parsesAsObject(wrapped.text)) {
        const w = wrapped;
        wrapped = null;
        return push(w.text, w.lineNo);
      }
      if (wrapped.lines.length < MAX_WRAPPED_LINES) return [];
      // Not a wrapped line after all: read each line as it came.
      const w = wrapped;
      wrapped = null;
      return w.lines.flatMap((l, i) => push(l, w.lineNo + i));
    }
    if (line.startsWith('{"') && !line.trimEnd().endsWith('}') && !parsesAsObject(line)) {
      wrapped = { text: line, lineNo, lines: [line] };
      return [];
    }
    return push(line, lineNo);
  };
  const flushWrapped = (): ParseOutput[] => {
    if (!wrapped) return [];
    const w = wrapped;
    wrapped = null;
    return w.lines.flatMap((l, i) => push(l, w.lineNo + i));
  };

  const push = (line: string, lineNo: number): ParseOutput[] => {
    // A post's quote marker comes off before anything else: the quoted text is read as if bare.
    const q = depth === 0 ? QUOTE_RE.exec(line) : null;
    if (q) return within(() => push(line.slice(q[0].length), lineNo));
    if (looksLikePatroniLogLine(line)) {
      inTraceback = true;
      return patroni.push(line, lineNo);
    }
    if (inTraceback && (TRACEBACK_RE.test(line) || (PY_SOURCE_RE.test(line) && !line.startsWith('+') && !line.startsWith('|')))) {
      return patroni.push(line, lineNo);
    }
    inTraceback = false;
    // etcdctl 3.5's own zap warning on stderr is what the client saw, not a server log line.
    if (line.includes(CLIENT_RETRY_MSG)) return etcdctl.push(line, lineNo);
    if (looksLikeEtcdLogLine(line)) return etcd.push(line, lineNo);
    // A zap JSON line quoted inside prose: `查看 etcd 日志 发现大量 {"level":"warn",…} 错误日志`.
    const open = line.indexOf('{"level":');
    if (open !== -1) {
      const close = line.lastIndexOf('}');
      if (close > open) return etcd.push(line.slice(open, close + 1), lineNo).filter((o) => o.kind !== 'issue');
    }
    const uptime = parseSystemctlActiveLine(line, lineNo, ctx);
    if (uptime) return [uptime];
    const inner = depth === 0 ? undecorated(line) : null;
    if (inner !== null) return within(() => push(inner, lineNo));
    const outs = etcdctl.push(line, lineNo);
    if (outs.length > 0) return outs;
    // The error quoted from another client's log (TiKV PD, kube-apiserver, an application):
    //   [error="rpc error: code = ResourceExhausted desc = etcdserver: mvcc: database space exceeded"]
    //   compact.go:124] etcd: endpoint ([https://…:2379]) compact failed: etcdserver: mvcc: database space exceeded
    const nospace = NOSPACE_TEXT_RE.exec(line);
    return nospace ? [clientErrorEvent(errorAround(line, nospace.index), lineNo, line, null)] : outs;
  };

  // The session reads commands (prompts, bare etcdctl lines) and gives each block's output its meaning.
  return new ShellSession(ctx, {
    push: pushWrapped,
    end: () => [...flushWrapped(), ...patroni.end(), ...etcd.end(), ...etcdctl.end()],
  });
}
