// The registry of text parsers by source kind.
import type { CarriedState, ParseContext, StreamParser } from '../model.js';
import type { TextKind } from './detect.js';
import { createEtcdLogParser, etcdLogSeamMismatch } from '../sources/etcd-log/index.js';
import { createPatroniLogParser } from '../sources/patroni-log/index.js';
import { createEtcdctlParser } from '../sources/etcdctl/index.js';
import { createTranscriptParser } from '../sources/etcdctl/index.js';

/** `seed`: a parser's carried() state to start from (parse-split.ts); only the kinds in SPLITTABLE_KINDS take one. */
export function createParser(kind: TextKind, ctx: ParseContext, seed?: CarriedState): StreamParser {
  switch (kind) {
    case 'etcd-log':
      return createEtcdLogParser(ctx, seed);
    case 'patroni-log':
      return createPatroniLogParser(ctx);
    case 'etcdctl':
      return createEtcdctlParser(ctx);
    case 'transcript':
      return createTranscriptParser(ctx);
  }
}

/**
 * Kinds whose lines are records on their own (no record spans lines), so a file can be parsed in two ranges
 * (parse-split.ts), each with the check that the second range started from the state the first had at the seam.
 */
const SEAM_CHECKS = new Map<TextKind, (seed: CarriedState, aEnd: CarriedState, bEnd: CarriedState) => string | null>([
  ['etcd-log', etcdLogSeamMismatch],
]);
export const SPLITTABLE_KINDS: ReadonlySet<TextKind> = new Set(SEAM_CHECKS.keys());

/** Why a split parse's second range did not start from what the first had at the seam, or null. */
export function seamMismatch(kind: TextKind, seed: CarriedState, aEnd: CarriedState, bEnd: CarriedState): string | null {
  const check = SEAM_CHECKS.get(kind);
  return check ? check(seed, aEnd, bEnd) : 'this kind of input is not split';
}
