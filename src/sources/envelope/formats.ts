// Every wrapper we know, in the order detection prefers them when two match equally.
import type { EnvelopeFormat } from './types.js';
import { criFormat } from './cri.js';

export const ENVELOPE_FORMATS: readonly EnvelopeFormat[] = [criFormat];
