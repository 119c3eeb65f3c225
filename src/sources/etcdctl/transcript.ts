// A pasted transcript: prose mixed with command output and log lines, as in an incident write-up
// (the seed). Each line goes to the parser it looks like; lines that look like nothing are prose
// and are dropped without an issue. Python traceback lines follow the Patroni record before them.
// Shell commands (after a prompt, or bare etcdctl lines) are read by the session around it
// (session.ts): they become operator actions and give the output after them its meaning.
import type { ParseContext, ParseOutput, StreamParser } from '../../model.js';
import { createEtcdLogParser, looksLikeEtcdLogLine } from '../etcd-log/parser.js';
import { createPatroniLogParser, looksLikePatroniLogLine, parseSystemctlActiveLine } from '../patroni-log/parser.js';
import { createEtcdctlOutputParser } from './parser.js';
import { ShellSession } from './session.js';
import { CLIENT_RETRY_MSG } from './client-error.js';

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

  const push = (line: string, lineNo: number): ParseOutput[] => {
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
    return etcdctl.push(line, lineNo);
  };

  // The session reads commands (prompts, bare etcdctl lines) and gives each block's output its meaning.
  return new ShellSession(ctx, {
    push,
    end: () => [...patroni.end(), ...etcd.end(), ...etcdctl.end()],
  });
}
