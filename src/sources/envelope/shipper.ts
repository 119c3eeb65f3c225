// A constant prefix a log shipper or a person put before every line: fluentd/fluent-bit tags
// (`[fluentd] `), docker compose (`etcd-1  | `), `kubectl logs --prefix` (`[pod/etcd-0/etcd] `), a grep over
// several files (`kube-system/etcd-master-1: `), `etcd-0 etcd `. It is learnt from the sample, not listed:
// the prefix (ending at a separator) after which the rest of a line is an etcd or Patroni line, found on
// at least 90% of the sampled lines. A plain log never has one: when the lines are already recognised as
// they are (a zap line's `{"level":"` is shared by every line, but it is the inner line's own start), no
// prefix is learnt.
import type { EnvelopeFormat, Unwrapper } from './types.js';
import { looksLikeEtcdLogLine } from '../etcd-log/index.js';
import { looksLikePatroniLogLine } from '../patroni-log/index.js';
import { perLineUnwrapper } from './per-line.js';

/** A prefix must be on this share of the sampled non-empty lines. */
const MIN_PREFIX_SHARE = 0.9;
/** … and the rest must be recognised on this share of the lines that have it (tracebacks are not). */
const MIN_INNER_SHARE = 0.2;
const MAX_PREFIX = 120;
/** The lines a candidate prefix is looked for in. */
const CANDIDATE_LINES = 20;
const SEPARATORS = new Set([' ', '\t', '|', ':', ']', '>', ')', ',', ';']);

const recognised = (s: string): boolean => looksLikeEtcdLogLine(s) || looksLikePatroniLogLine(s);

/** The shortest prefix after which this line is an etcd or Patroni line, or null. */
export function prefixOf(line: string): string | null {
  const end = Math.min(line.length - 1, MAX_PREFIX);
  for (let i = 1; i <= end; i++) {
    if (!SEPARATORS.has(line[i - 1]!)) continue;
    if (recognised(line.slice(i))) return line.slice(0, i);
  }
  return null;
}

/**
 * A prefix of the same SHAPE on every line, where the constant one is not enough: a process manager's
 * time and name (goreman, as etcd's own Procfile runs it: `13:37:49 etcd1 | 2016-03-10 13:37:49.701673 I | …`),
 * s6/svlogd's stamp and service (`2019-09-17 16:24:57.330335749 +0200 CEST [postgresql-1] 2019-09-17 …`), a
 * syslog tag kept without its time (`patroni[6864]: 2017-… ERROR: …`). Words (letters, digits, `.-_/@`)
 * match any word, runs of spaces any run, and every other character itself.
 */
export function shapeOf(prefix: string): RegExp {
  let re = '^';
  for (const m of prefix.matchAll(/(\s+)|([\w.@/-]+)|([^\s\w.@/-])/g)) {
    if (m[1]) re += '\\s+';
    else if (m[2]) re += '[\\w.@/-]+';
    else re += m[3]!.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  }
  return new RegExp(re);
}

export interface LearntPrefix {
  /** Takes the prefix off a line that has it, else null. */
  strip(line: string): string | null;
  share: number;
}

/** The prefix shared by the sample (constant, else of one shape) and the share of lines it accounts for. */
export function learnShipperPrefix(sample: readonly string[]): LearntPrefix | null {
  const lines = sample.filter((l) => l.trim() !== '');
  if (lines.length === 0) return null;
  // Lines recognised as they are (more than a few) mean there is no prefix to take off.
  if (lines.filter(recognised).length > 0.1 * lines.length) return null;
  const candidates: string[] = [];
  for (const line of lines.slice(0, CANDIDATE_LINES)) {
    const p = prefixOf(line);
    if (p !== null && !candidates.includes(p)) candidates.push(p);
  }
  const constant = (p: string) => (l: string): string | null => (l.startsWith(p) ? l.slice(p.length) : null);
  const shaped = (re: RegExp) => (l: string): string | null => {
    const m = re.exec(l);
    return m ? l.slice(m[0].length) : null;
  };
  const tried = new Set<string>();
  const tries = [
    ...candidates.map((p) => ({ key: `=${p}`, strip: constant(p) })),
    ...candidates.map((p) => shapeOf(p)).map((re) => ({ key: `~${re.source}`, strip: shaped(re) })),
  ];
  for (const { key, strip } of tries) {
    if (tried.has(key)) continue;
    tried.add(key);
    const inners = lines.map(strip).filter((x): x is string => x !== null);
    if (inners.length < MIN_PREFIX_SHARE * lines.length) continue;
    if (inners.filter(recognised).length >= MIN_INNER_SHARE * inners.length) return { strip, share: inners.length / lines.length };
  }
  return null;
}

export const shipperPrefixFormat: EnvelopeFormat = {
  name: 'shipper-prefix',
  matches: () => false,
  lastResort: true,
  matchSample: (sample) => learnShipperPrefix(sample)?.share ?? 0,
  create(_ctx, sample): Unwrapper {
    const learnt = learnShipperPrefix(sample);
    return perLineUnwrapper('shipper-prefix', (line) => {
      const text = learnt?.strip(line) ?? null;
      return text === null ? null : { text, outer: null };
    });
  },
};
