// A pasted shell session read block by block: a command line (after a prompt, or a bare etcdctl
// line as in the seed) opens a block, and the lines up to the next command are its output, read by
// the parser(s) behind. What the command was changes what its output means:
//   - `alarm disarm` prints the alarms it CLEARED (`memberID:… alarm:NOSPACE`), not active ones;
//   - `alarm list` followed directly by the next prompt printed nothing: no alarm at that time;
//   - the command itself is an operator action (compact, defrag, disarm, snapshot save, checks),
//     timed only by the paste: a time in front of the prompt, a `date` output since the previous
//     command, or etcdctl's own timed warning in its output. Never by --at or mtime, nor by log
//     lines that follow (a write-up quotes logs after a command: their time is not the command's).
import type { LogEvent, OuterContext, ParseContext, ParseOutput, RecordTime, StreamParser } from '../../model.js';
import { continueCommand, parseCommandLine, type ShellCommand } from './command.js';
import { parseMarkerLine } from './simple.js';
import { NumberRangeError } from '../../units/integers.js';

interface Block {
  cmd: ShellCommand;
  line: number;
  raw: string;
  /** Time for the block's untimed output: the prompt's time, or a `date` printed just before. */
  stamp: RecordTime | null;
  /** The action's time: `stamp`, else the time of etcdctl's own retry warning in the output. */
  time: RecordTime | null;
  /** Non-empty, non-comment output lines. */
  outputLines: number;
  confirmed: boolean;
  error: string | null;
}

// Cheap test before the prompt regexes: most lines of a sample file or log are not commands.
// A path to the binary (`/usr/local/etcd/etcdctl …`, `./etcdctl …`) or a variable holding it (`$ETCDCTL defrag`) too.
const MAYBE_COMMAND = /[$#>%] |^\s*(?:[A-Z_]+=|sudo |etcdctl|etcdutl|kubectl |oc |docker |podman |crictl |nerdctl |env |time |watch |\$\{?ETCD|\S*\/etcd(?:ctl|utl)\b)/;
// A comment in a write-up or a script: `# 检查告警`, `// check the alarm` (a `# etcdctl …` is a root prompt).
const COMMENT = /^\s*(?:#(?:\s|$)|\/\/)/;
// Output that confirms the command did its work.
const CONFIRMS = /^(?:compacted revision \d+|Finished defragmenting etcd member\[|Snapshot saved at |OK$)/;
const MARKER_START = /^(?:\d|[A-Z][a-z]{2}[ ,])/;

export class ShellSession implements StreamParser {
  private block: Block | null = null;
  private open: { cmd: ShellCommand; line: number; raw: string } | null = null;
  private markerSinceCommand: RecordTime | null = null;

  private sawCommand = false;

  constructor(private readonly ctx: ParseContext, private readonly inner: StreamParser) {}

  pasted(): boolean {
    return this.sawCommand;
  }

  push(line: string, lineNo: number, outer?: OuterContext | null): ParseOutput[] {
    const out: ParseOutput[] = [];
    try {
      this.feed(line, lineNo, outer ?? null, out);
    } catch (err) {
      // A number out of range for its field (units/integers.ts) is a skipped line naming the field; a bug must not
      // stop an ingest either: both are reported like any unusable line.
      const reason = err instanceof NumberRangeError ? `number out of range: ${err.message}` : `internal parser error: ${String(err).slice(0, 80)}`;
      out.push({ kind: 'issue', line: lineNo, reason, excerpt: line.slice(0, 200) });
    }
    return out;
  }

  private feed(line: string, lineNo: number, outer: OuterContext | null, out: ParseOutput[]): void {
    if (this.open) {
      // `$ etcdctl --endpoints=… \` then `> defrag --cluster`
      const cmd = continueCommand(this.open.cmd, line);
      const raw = `${this.open.raw}\n${line}`;
      if (cmd.continues) this.open = { ...this.open, cmd, raw };
      else {
        const start = this.open.line;
        this.open = null;
        this.startBlock(cmd, start, raw);
      }
      return;
    }
    const cmd = MAYBE_COMMAND.test(line) ? parseCommandLine(line, this.ctx) : null;
    if (cmd) {
      this.sawCommand = true;
      this.closeBlock(lineNo, out, true);
      if (cmd.continues) this.open = { cmd, line: lineNo, raw: line };
      else this.startBlock(cmd, lineNo, line);
      return;
    }
    if (COMMENT.test(line)) return;
    const text = line.trim();
    if (text !== '') {
      if (this.block) this.block.outputLines++;
      const marker = MARKER_START.test(text) ? parseMarkerLine(text, this.ctx) : null;
      if (marker) this.markerSinceCommand = marker;
      if (this.block && CONFIRMS.test(text)) this.block.confirmed = true;
    }
    this.take(this.inner.push(line, lineNo, outer), out);
  }

  end(): ParseOutput[] {
    const out: ParseOutput[] = [];
    try {
      if (this.open) {
        this.startBlock(this.open.cmd, this.open.line, this.open.raw);
        this.open = null;
      }
      this.take(this.inner.end(), out);
      this.closeBlock(0, out, false);
    } catch (err) {
      out.push({ kind: 'issue', line: 0, reason: `internal parser error: ${String(err).slice(0, 80)}`, excerpt: '' });
    }
    return out;
  }

  private startBlock(cmd: ShellCommand, line: number, raw: string): void {
    const stamp = cmd.time ?? this.markerSinceCommand;
    this.markerSinceCommand = null;
    this.block = { cmd, line, raw, stamp, time: stamp, outputLines: 0, confirmed: false, error: null };
  }

  /** The records of the current block's output, read in its light. */
  private take(outs: ParseOutput[], out: ParseOutput[]): void {
    const b = this.block;
    for (let o of outs) {
      if (b && o.kind !== 'issue') {
        if (o.kind === 'alarm' && b.cmd.sub === 'alarm disarm') {
          o = clearedAlarm(o.memberId, o.alarm, o.line, o.time);
          b.confirmed = true;
        }
        if (o.kind === 'event' && o.event === 'etcdctl.client.error') {
          o.detail.command = b.cmd.sub || null;
          b.error ??= o.message;
          // The client's own retry warning carries the time the command ran. Log lines after a command
          // do not: a write-up's prose and quoted logs may follow it (the seed does).
          if (o.time !== null && o.time.basis === 'explicit') b.time ??= o.time;
        }
        // A timed prompt is nearer than a `date` printed before an earlier command (the parser behind
        // stamps with that); a record's own explicit time (a zap warning) is kept.
        if (b.stamp && (o.time === null || (b.cmd.time !== null && o.time.basis === 'marker'))) o.time = b.stamp;
      }
      out.push(o);
    }
  }

  /** Ends the current block: its held-back output, its action, and an empty `alarm list`. */
  private closeBlock(lineNo: number, out: ParseOutput[], nextCommand: boolean): void {
    // An empty line closes whatever the parser behind holds back (a table's last row, a fields block).
    if (nextCommand) this.take(this.inner.push('', lineNo, null), out);
    const b = this.block;
    this.block = null;
    if (!b || b.cmd.tool === null) return;
    const action = b.cmd.action;
    if (action) {
      const detail: LogEvent['detail'] = { ...action.detail, confirmed: b.confirmed, error: b.error };
      out.push({
        kind: 'event', line: b.line, time: b.time, member: null, level: 'notice', event: action.event,
        message: b.cmd.text, raw: b.raw, detail,
      });
    }
    // Only when the next prompt shows the command had finished: a paste may end mid-output.
    // A pipe or redirection (`| grep`, `> out.txt`) leaves stdout empty whatever the alarms were.
    if (b.cmd.sub === 'alarm list' && b.cmd.plain && nextCommand && b.outputLines === 0) {
      out.push({
        kind: 'event', line: b.line, time: b.time, member: null, level: 'info', event: 'etcdctl.alarm.none',
        message: 'alarm list printed no alarm', raw: b.raw, detail: { command: b.cmd.text },
      });
    }
  }
}

function clearedAlarm(memberId: string, alarm: string, line: number, time: RecordTime | null): LogEvent {
  return {
    kind: 'event', line, time, member: null, level: 'notice', event: 'etcdctl.alarm.cleared',
    message: `alarm disarm cleared memberID:${memberId} alarm:${alarm}`, raw: `memberID:${memberId} alarm:${alarm}`,
    detail: { memberId, alarm },
  };
}
