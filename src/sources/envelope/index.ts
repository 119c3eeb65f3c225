// Which wrapper a text input carries, learnt from its first lines, and the unwrapping stream built
// from it. No wrapper is the common case: the lines go to the parsers as they are.
import type { ParseContext } from '../../model.js';
import type { EnvelopeFormat, InnerLine, Unwrapper } from './types.js';
import { ENVELOPE_FORMATS } from './formats.js';

export type { InnerLine, Unwrapper, EnvelopeFormat } from './types.js';
export { applyOuter } from './apply.js';

/** A wrapper must account for this share of the sampled non-empty lines. */
const MIN_SHARE = 0.6;

export interface EnvelopeDetection {
  format: EnvelopeFormat | null;
  evidence: string;
}

export function detectEnvelope(sample: readonly string[]): EnvelopeDetection {
  const nonEmpty = sample.filter((l) => l.trim() !== '');
  if (nonEmpty.length === 0) return { format: null, evidence: 'no lines' };
  let best: { f: EnvelopeFormat; share: number } | null = null;
  for (const f of ENVELOPE_FORMATS) {
    if (f.lastResort && best) continue;
    const share = f.matchSample ? f.matchSample(sample) : nonEmpty.filter((l) => f.matches(l)).length / nonEmpty.length;
    if (share >= MIN_SHARE && (!best || share > best.share)) best = { f, share };
  }
  return best
    ? { format: best.f, evidence: `${best.f.name} wrapper on ${Math.round(best.share * 100)}% of ${nonEmpty.length} sampled lines` }
    : { format: null, evidence: 'no wrapper' };
}

/** Lines pass through unchanged. */
export function identityUnwrapper(): Unwrapper {
  return {
    name: 'none',
    push: (text, lineNo): InnerLine[] => [{ text, lineNo, outer: null }],
    end: () => [],
  };
}

export function createUnwrapper(format: EnvelopeFormat | null, ctx: ParseContext, sample: readonly string[]): Unwrapper {
  return format ? format.create(ctx, sample) : identityUnwrapper();
}
