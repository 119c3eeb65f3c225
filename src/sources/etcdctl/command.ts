// Shell command lines in a pasted transcript: the prompt in front of them and the etcdctl/etcdutl
// command they run, as operators paste them into write-ups and tickets:
//   $ ETCDCTL_API=3 etcdctl --endpoints=https://10.0.0.1:2379 defrag --cluster
//   [root@etcd-0 ~]# etcdctl alarm disarm
//   root@etcd-0:/# etcdctl compact 6662600
//   PS C:\> etcdctl.exe endpoint status -w table
//   2026-11-24T07:28:59.445+08:00  $ etcdctl --endpoints=127.0.0.1:40479 compact 3912   (a timed prompt)
//   etcdctl defrag                                                                       (the seed: no prompt)
//   kubectl exec -n kube-system etcd-master -- etcdctl --cacert … endpoint status -w table
import type { EventKind, LogEvent, ParseContext, RecordTime } from '../../model.js';
import { parseTimestamp } from '../../units/time.js';
import { countFromText } from '../../units/integers.js';

export interface ShellCommand {
  /** The command text after the prompt (continuation lines joined). */
  text: string;
  /** A time printed in front of the prompt. */
  time: RecordTime | null;
  /** The etcd tool the command runs, if any. */
  tool: 'etcdctl' | 'etcdutl' | null;
  /** Its subcommand words (`alarm disarm`, `endpoint status`, `compact`), '' when there is none. */
  sub: string;
  /** The operator action it is, for an etcd tool. */
  action: { event: EventKind; detail: LogEvent['detail'] } | null;
  /** The line ends with `\`: the next lines continue it. */
  continues: boolean;
  /** Its output is shown as printed: no pipe, redirection or further command on the line. */
  plain: boolean;
}

// The prompt forms: `$ `, `# `, `> `, `user@host:~$ `, `[root@host dir]# `, `bash-5.1$ `, `/ # `,
// `~ $ `, `PS C:\> `, `(venv) user@host:~$ `. A bare `# `/`> ` is also a comment or a quote: only a
// known command after it makes it a prompt.
const HOST_PROMPT = /^(?:\([\w.-]+\) )?(?:[\w.-]+@[\w.-]+(?::[^\s$#>]*)?|\[[\w.-]+@[\w.-]+(?: [^\]]*)?\]|(?:ba|z)?sh-[\d.]+|PS [^>]*)\s?[$#%>] ?(.*)$/;
const PATH_PROMPT = /^[~/][^\s$#>]* [$#] (.*)$/;
const BARE_PROMPT = /^([$#>%]|\$>) (.*)$/;
// CoreOS/Container Linux's `ip-10-72-4-110 core # …` (host, user, prompt): taken only before an etcd command.
const HOST_USER_PROMPT = /^[\w.-]+ [\w.-]+ [$#] (.*)$/;
// A time in front of the prompt: `2026-11-24T07:28:59.445+08:00  $ …`, `[2024-01-05 10:23:11] $ …`.
const TIMED_PROMPT = /^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)\]?\s+(.*)$/;

const ETCD_TOOLS = new Set(['etcdctl', 'etcdutl', 'etcdctl.exe', 'etcdutl.exe']);
/** Words that start a command after a bare `# ` or on a line without a prompt. */
const KNOWN_COMMANDS = new Set([
  ...ETCD_TOOLS, 'sudo', 'kubectl', 'oc', 'docker', 'podman', 'crictl', 'nerdctl', 'env', 'export', 'date',
  'systemctl', 'journalctl', 'patronictl', 'du', 'df', 'ls', 'cat', 'tail', 'grep', 'watch', 'time',
]);
const ENV_ASSIGNMENT = /^[A-Z_][A-Z0-9_]*=/;
// etcdctl/etcdutl flags that take a value when it is given as the next word (`--endpoints x`).
const VALUE_FLAGS = new Set([
  'endpoints', 'w', 'write-out', 'cacert', 'cert', 'key', 'user', 'password', 'command-timeout', 'dial-timeout',
  'keepalive-time', 'keepalive-timeout', 'discovery-srv', 'discovery-srv-name', 'data-dir', 'wal-dir', 'backup-dir',
  'name', 'initial-cluster', 'initial-cluster-token', 'initial-advertise-peer-urls', 'output', 'o',
]);

/**
 * A line that is a shell command (after a prompt, or an etcd tool's command without one) → the
 * command; null for output, prose and comments.
 */
export function parseCommandLine(line: string, ctx: Pick<ParseContext, 'tz'>): ShellCommand | null {
  let text = line.trim();
  let time: RecordTime | null = null;
  const timed = TIMED_PROMPT.exec(text);
  if (timed) {
    const rest = timed[2]!;
    const cmd = promptCommand(rest) ?? null;
    if (cmd === null) return null;
    time = parseTimestamp(timed[1]!.replace(',', '.'), ctx);
    if (time && time.basis === 'explicit') time = { ...time, basis: 'marker' };
    text = cmd;
  } else {
    const cmd = promptCommand(text);
    if (cmd === null) {
      // No prompt: only an etcd tool's own command line counts (the seed pastes them bare).
      if (!/^[\x20-\x7e]+$/.test(text) || !isEtcdCommandStart(text)) return null;
    } else text = cmd;
  }
  return describeCommand(text, time);
}

/** The command after a prompt; null when the line has no prompt. */
function promptCommand(text: string): string | null {
  let m = HOST_PROMPT.exec(text) ?? PATH_PROMPT.exec(text);
  if (m) return m[1]!.trim();
  m = BARE_PROMPT.exec(text);
  if (!m) {
    const h = HOST_USER_PROMPT.exec(text);
    return h && isEtcdCommandStart(h[1]!.trim()) ? h[1]!.trim() : null;
  }
  const cmd = m[2]!.trim();
  if (m[1] === '$' || m[1] === '%' || m[1] === '$>') return cmd;
  // `# 检查告警` is a comment, `> quoted text` a quote: a known command word decides.
  return KNOWN_COMMANDS.has(firstWord(cmd)) || ENV_ASSIGNMENT.test(cmd) ? cmd : null;
}

function firstWord(text: string): string {
  return basename(/^\S+/.exec(text)?.[0] ?? '');
}

/** `etcdctl defrag`, `ETCDCTL_API=3 etcdctl …`, `sudo -E etcdctl …`, `kubectl exec … -- etcdctl …`. */
function isEtcdCommandStart(text: string): boolean {
  const words = unwrapShellC(tokenize(text));
  const tool = findTool(words);
  if (tool < 0) return false;
  // `etcdctl version: 3.4.23` is output; a command's next word is a subcommand or a flag.
  const next = words[tool + 1];
  // `… -- etcdctl \` continues on the next line (a kubeadm cluster's certificate flags follow).
  return next === undefined || next === '\\' || /^(?:-{1,2}[\w-]+(?:=.*)?|[a-z][a-z-]*)$/.test(next);
}

/** `kubectl exec etcd-0 -- sh -c "etcdctl … defrag"`: the quoted command's words. */
function unwrapShellC(words: string[]): string[] {
  const c = words.findIndex((w, i) => w === '-c' && /(?:^|\/)(?:ba)?sh$/.test(words[i - 1] ?? ''));
  return c > 0 && words[c + 1] !== undefined ? tokenize(words[c + 1]!) : words;
}

function findTool(words: readonly string[]): number {
  let i = 0;
  while (i < words.length && (ENV_ASSIGNMENT.test(words[i]!) || words[i] === 'env' || words[i] === 'time')) i++;
  const first = words[i] === undefined ? '' : basename(words[i]!);
  if (ETCD_TOOLS.has(first)) return i;
  if (first === 'sudo' || ['kubectl', 'oc', 'docker', 'podman', 'crictl', 'nerdctl', 'watch'].includes(first)) {
    // Wrappers: the tool is the first word that names it (`kubectl exec … -- etcdctl`, `sudo -E etcdctl`).
    for (let j = i + 1; j < words.length; j++) if (ETCD_TOOLS.has(basename(words[j]!))) return j;
  }
  return -1;
}

// A variable holding the binary, as scripts and runbooks write it: `$ETCDCTL defrag`, `${ETCDCTL} compact …`.
const TOOL_VARIABLE = /^\$\{?(ETCDCTL|ETCDUTL)\w*\}?$/i;
const basename = (w: string): string => {
  const v = TOOL_VARIABLE.exec(w);
  if (v) return v[1]!.toLowerCase();
  return w.slice(w.lastIndexOf('/') + 1);
};

/** Shell words, quotes removed; stops at a pipe, `;`, `&&`, `||` or a redirection. */
export function tokenize(text: string): string[] {
  return tokenizeUntilOperator(text).words;
}

function tokenizeUntilOperator(text: string): { words: string[]; stopped: boolean } {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      has = true;
    } else if (c === ' ' || c === '\t') {
      if (has) words.push(cur);
      cur = '';
      has = false;
    } else if (c === '|' || c === ';' || c === '&' || c === '>' || c === '<') {
      if (has) words.push(cur);
      return { words, stopped: true };
    } else {
      cur += c;
      has = true;
    }
  }
  if (has && !quote) words.push(cur);
  return { words, stopped: false };
}

function describeCommand(raw: string, time: RecordTime | null): ShellCommand {
  const continues = /\\$/.test(raw);
  const text = raw.replace(/\s*\\$/, '');
  // `sh -c "etcdctl …"` inside `kubectl exec`: the quoted command is one word; read it as words again.
  const { words: all, stopped } = tokenizeUntilOperator(text);
  const words = unwrapShellC(all);
  const plain = !stopped && words === all;
  const at = findTool(words);
  if (at < 0) return { text, time, tool: null, sub: '', action: null, continues, plain };
  const tool = basename(words[at]!).replace(/\.exe$/, '') as 'etcdctl' | 'etcdutl';
  const flags = new Map<string, string | true>();
  const args: string[] = [];
  const rest = words.slice(at + 1);
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    const m = /^-{1,2}([\w-]+)(?:=(.*))?$/.exec(w);
    if (!m) {
      args.push(w);
      continue;
    }
    if (m[2] !== undefined) flags.set(m[1]!, m[2]);
    else if (VALUE_FLAGS.has(m[1]!) && rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('-')) flags.set(m[1]!, rest[++i]!);
    else flags.set(m[1]!, true);
  }
  const sub = subcommandOf(args);
  return { text, time, tool, sub, action: actionOf(tool, sub, args, flags), continues, plain };
}

const TWO_WORD = new Set(['alarm', 'endpoint', 'member', 'snapshot', 'lease', 'user', 'role', 'auth', 'downgrade', 'check', 'move-leader']);

function subcommandOf(args: readonly string[]): string {
  const [a, b] = args;
  if (a === undefined) return '';
  return TWO_WORD.has(a) && b !== undefined && /^[a-z-]+$/.test(b) ? `${a} ${b}` : a;
}

function actionOf(
  tool: 'etcdctl' | 'etcdutl', sub: string, args: readonly string[], flags: ReadonlyMap<string, string | true>,
): ShellCommand['action'] {
  const str = (k: string): string | null => (typeof flags.get(k) === 'string' ? (flags.get(k) as string) : null);
  const endpoints = str('endpoints');
  switch (sub) {
    case 'compact':
    case 'compaction': {
      // A literal revision out of range (2^53+1 would round) throws NumberRangeError: the line is reported.
      const revision = /^-?\d+$/.test(args[1] ?? '') ? countFromText(args[1]!, 'compact revision') : null;
      return { event: 'operator.compact', detail: { tool, revision, physical: flags.has('physical'), endpoints } };
    }
    case 'defrag':
      return {
        event: 'operator.defrag',
        detail: { tool, endpoints, cluster: flags.has('cluster'), dataDir: str('data-dir') },
      };
    case 'alarm disarm':
      return { event: 'operator.alarm.disarm', detail: { tool, endpoints } };
    case 'snapshot save':
      return { event: 'operator.snapshot.save', detail: { tool, endpoints, file: args[2] ?? null } };
    case 'endpoint status':
    case 'endpoint health':
    case 'alarm list':
    case 'member list':
    case 'snapshot status':
      return {
        event: 'operator.check',
        detail: { tool, command: sub, endpoints, cluster: flags.has('cluster'), writeOut: str('write-out') ?? str('w'), file: sub === 'snapshot status' ? args[2] ?? null : null },
      };
    default:
      return { event: 'operator.command', detail: { tool, command: sub === '' ? null : sub, endpoints } };
  }
}

/** A continuation line (`> --cluster \`, or the bare next line) appended to an open command. */
export function continueCommand(cmd: ShellCommand, line: string): ShellCommand {
  const part = line.trim().replace(/^> /, '');
  const joined = describeCommand(`${cmd.text} ${part}`, cmd.time);
  return joined;
}
