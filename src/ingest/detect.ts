// Which parser a text input belongs to, from its first lines (never from its name).
// A file whose recognised lines are mostly of one kind is that kind; a mix of kinds, or recognised
// lines among prose (a pasted incident write-up such as the seed), is a transcript.
import type { SourceKind } from '../model.js';
import { looksLikeEtcdLogLine } from '../sources/etcd-log/index.js';
import { looksLikePatroniLogLine } from '../sources/patroni-log/index.js';
import { looksLikeEtcdctlOutput, parseCommandLine } from '../sources/etcdctl/index.js';
import { parseSyslogPrefix } from '../units/time.js';
import { InputError } from '../errors.js';

/**
 * An input that holds nothing we read (empty, binary, prose without one recognised line). Named on the
 * command line it is an error; met while walking a directory it is set aside as "not read".
 */
export class NotAnInputError extends InputError {
  constructor(message: string, readonly why: string) {
    super(message);
  }
}

export type TextKind = Exclude<SourceKind, 'etcd-snapshot' | 'patroni-config' | 'prometheus' | 'collect' | 'metrics-page' | 'etcd-wal' | 'raft-snap'>;

export interface Detection {
  kind: TextKind | null;
  /** Why: counts per kind among the sampled non-empty lines. */
  evidence: string;
}

export const DETECT_SAMPLE_LINES = 400;

// A Python traceback pasted on its own (a write-up often keeps only the frames):
//   File "/home/postgres/.local/lib/python3.6/site-packages/patroni/dcs/etcd3.py", line 339, in put
const TRACEBACK_RE = /^\s*(?:Traceback \(most recent call last\):|File "[^"]+", line \d+, in )/;
// Prose that is about an etcd or Patroni incident: read as a transcript (its commands, errors and
// quoted lines), not refused, even when no line has a log or etcdctl shape.
const TOPIC_RE = /etcd|patroni|mvcc|NOSPACE|database space exceeded|alarm disarm|defrag|compact|\bDCS\b|leader lock/i;
// A sentence (three words, not a table row, JSON or a fields line) or a run of CJK text.
const PROSE_RE = /^\s*[^\s|+{}[\]"#]\S*\s+\S+\s+\S+/;
const CJK_RE = /[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]{3}/;
// Markdown code fences and quote markers in pasted posts carry no content.
const FENCE_RE = /^\s*(?:```|~~~)/;

export function detectTextKind(lines: readonly string[]): Detection {
  let nonEmpty = 0;
  let other = 0;
  let onTopic = false;
  const hits = { 'etcd-log': 0, 'patroni-log': 0, etcdctl: 0 };
  // etcdctl/etcdutl command lines: a log file never holds one, a paste does (its output follows: a client's
  // `Error: … database space exceeded`, a table), so a log with one is read as the paste it is.
  let etcdCommands = 0;
  for (const line of lines) {
    if (line.trim() === '' || FENCE_RE.test(line)) continue;
    nonEmpty++;
    if (parseCommandLine(line, { tz: null })?.tool) etcdCommands++;
    if (!onTopic && TOPIC_RE.test(line)) onTopic = true;
    if (looksLikeEtcdLogLine(line)) hits['etcd-log']++;
    else if (looksLikePatroniLogLine(line) || TRACEBACK_RE.test(line) || TRACEBACK_RE.test(parseSyslogPrefix(line)?.rest ?? '')) hits['patroni-log']++;
    else if (looksLikeEtcdctlOutput(line)) hits.etcdctl++;
    else if (PROSE_RE.test(line) || CJK_RE.test(line)) other++;
  }
  const evidence = `${nonEmpty} non-empty lines sampled: ${hits['etcd-log']} etcd log, ${hits['patroni-log']} Patroni log, ${hits.etcdctl} etcdctl`
    + (etcdCommands > 0 ? `, ${etcdCommands} etcdctl/etcdutl command line(s)` : '');
  const ranked = (Object.entries(hits) as [keyof typeof hits, number][]).sort((a, b) => b[1] - a[1]);
  const [top] = ranked;
  if (!top || top[1] === 0) return { kind: onTopic ? 'transcript' : null, evidence };
  // Logs carry continuation lines (tracebacks) and sampled status files carry `date` lines, so a
  // kind needs only a clear majority of the recognised lines and a fair share of all lines.
  const recognised = hits['etcd-log'] + hits['patroni-log'] + hits.etcdctl;
  // etcdctl output has no continuation lines: words around it (a post's prose, a command line) make
  // it a pasted transcript, read tolerantly, rather than output with skipped lines.
  const prose = top[0] === 'etcdctl' && other > 0.1 * nonEmpty;
  const dominant = top[1] >= 0.9 * recognised && top[1] >= 0.3 * nonEmpty && !prose;
  if (dominant && !(etcdCommands > 0 && top[0] !== 'etcdctl')) return { kind: top[0], evidence };
  // Recognised lines of several kinds, or among prose: a pasted transcript.
  return { kind: 'transcript', evidence };
}

/**
 * First bytes of a bbolt file: magic 0xED0CDAED at offset 16 of page 0, either byte order, or of page 1
 * when page 0 is damaged (bbolt keeps two meta pages so that it can open such a file, and etcdutl
 * snapshot status does: found by the fuzz harness, a snapshot with a bad meta 0 was refused as
 * "binary data"). Page 1's offset is the page size, unknown then: every power of two the head holds.
 */
export function looksLikeBolt(head: Buffer): boolean {
  const magicAt = (o: number) => o + 20 <= head.length && (head.readUInt32LE(o + 16) === 0xed0cdaed || head.readUInt32BE(o + 16) === 0xed0cdaed);
  if (magicAt(0)) return true;
  for (let pageSize = 512; pageSize + 20 <= head.length; pageSize *= 2) if (magicAt(pageSize)) return true;
  return false;
}

/** A NUL byte in text is a sign of binary data; report its offset. */
export function firstNulOffset(head: Buffer): number {
  return head.indexOf(0);
}
