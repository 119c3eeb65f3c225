// Evidence lists repeat when several figures share a source: show each distinct item once, in order.
import type { Evidence } from '../analyze/types.js';

export function uniqueEvidence(list: readonly Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return list.filter((x) => {
    const k = `${x.source}\u0000${x.completeness}\u0000${x.detail}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
