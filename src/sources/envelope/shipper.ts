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
function prefixOf(line: string): string | null {
  const end = Math.min(line.length - 1, MAX_PREFIX);
  for (let i = 1; i <= end; i++) {
    if (!SEPARATORS.has(line[i - 1]!)) continue;
    if (recognised(line.slice(i))) return line.slice(0, i);
  }
  return null;
}

/** The prefix shared by the sample and the share of lines it accounts for. */
export function learnShipperPrefix(sample: readonly string[]): { prefix: string; share: number } | null {
  const lines = sample.filter((l) => l.trim() !== '');
  if (lines.length === 0) return null;
  // Lines recognised as they are (more than a few) mean there is no prefix to take off.
  if (lines.filter(recognised).length > 0.1 * lines.length) return null;
  const tried = new Set<string>();
  for (const line of lines.slice(0, CANDIDATE_LINES)) {
    const p = prefixOf(line);
    if (p === null || tried.has(p)) continue;
    tried.add(p);
    const withPrefix = lines.filter((l) => l.startsWith(p));
    if (withPrefix.length < MIN_PREFIX_SHARE * lines.length) continue;
    const inner = withPrefix.filter((l) => recognised(l.slice(p.length))).length;
    if (inner >= MIN_INNER_SHARE * withPrefix.length) return { prefix: p, share: withPrefix.length / lines.length };
  }
  return null;
}

export const shipperPrefixFormat: EnvelopeFormat = {
  name: 'shipper-prefix',
  matches: () => false,
  lastResort: true,
  matchSample: (sample) => learnShipperPrefix(sample)?.share ?? 0,
  create(_ctx, sample): Unwrapper {
    const prefix = learnShipperPrefix(sample)?.prefix ?? '';
    return {
      name: `shipper-prefix`,
      push: (line, lineNo) => [{ text: line.startsWith(prefix) ? line.slice(prefix.length) : line, lineNo, outer: null }],
      end: () => [],
    };
  },
};
