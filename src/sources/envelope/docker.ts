// Docker's json-file log driver (moby daemon/logger/jsonfilelog, jsonlog.JSONLogs): one object per line,
// `{"log":"…\n","stream":"stderr","time":"2024-05-01T10:00:00.123456789Z"}` (attrs between stream and time
// when --log-opt labels/env are set). `log` keeps the program's newline; a line longer than 16 KiB
// (daemon/logger/copier.go, defaultBufSize) is written as several entries, all but the last without the
// trailing newline, joined here up to the one that has it.
import type { OuterContext, ParseContext } from '../../model.js';
import type { EnvelopeFormat, InnerLine, Unwrapper } from './types.js';
import { parseTimestamp } from '../../units/time.js';
import { parseJsonVisible } from '../../units/json-visible.js';

interface DockerEntry {
  log: string;
  stream: string | null;
  time: string;
}

function parseDockerEntry(line: string): DockerEntry | null {
  if (!line.startsWith('{"log":')) return null;
  try {
    const o = parseJsonVisible(line) as Record<string, unknown>;
    if (typeof o['log'] !== 'string' || typeof o['time'] !== 'string') return null;
    return { log: o['log'], stream: typeof o['stream'] === 'string' ? o['stream'] : null, time: o['time'] };
  } catch {
    return null;
  }
}

export const dockerJsonFormat: EnvelopeFormat = {
  name: 'docker-json',
  matches: (line) => parseDockerEntry(line) !== null,
  create: (ctx) => createDockerUnwrapper(ctx),
};

function createDockerUnwrapper(ctx: ParseContext): Unwrapper {
  let partial: InnerLine | null = null;
  const flush = (): InnerLine[] => {
    if (!partial) return [];
    const out = [partial];
    partial = null;
    return out;
  };
  return {
    name: 'docker-json',
    push(line, lineNo) {
      const e = parseDockerEntry(line);
      if (!e) return [...flush(), { text: line, lineNo, outer: null }];
      const whole = e.log.endsWith('\n');
      const body = whole ? e.log.slice(0, e.log.endsWith('\r\n') ? -2 : -1) : e.log;
      if (partial) partial.text += body;
      else {
        const outer: OuterContext = { time: parseTimestamp(e.time, ctx), host: null, tag: e.stream, pid: null };
        partial = { text: body, lineNo, outer };
      }
      return whole ? flush() : [];
    },
    end: () => flush(),
  };
}
