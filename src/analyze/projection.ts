// When the quota will be reached. etcd checks the PHYSICAL size (bbolt high-water mark, free pages
// included) against the quota; the physical size only rises once free pages are used up, so where
// the in-use size is known the projection follows it, else the physical size.
import type { Evidence, Growth, Projection } from './types.js';
import type { GrowthFits } from './growth.js';
import { iso } from './load.js';
import { humanizeBytes } from '../units/sizes.js';

export function projectQuotaExhaustion(fits: GrowthFits, growth: Growth, quotaBytes: number, quotaSource: Evidence,
  incidentSize: number | null): Projection {
  const evidence: Evidence[] = [];
  const base: Projection = {
    quotaBytes, quotaSource, lastSizeBytes: null, lastSampleAt: null, etaAt: null, etaLow: null, etaHigh: null,
    reached: false, method: null, evidence,
  };
  // The member that will reach the quota first: the earliest central ETA.
  let best: Projection | null = null;
  for (const [member, f] of fits.sizeFits) {
    const useInUse = f.inUse !== null && f.lastInUse !== null && f.inUse.slope > 0;
    const fit = useInUse ? f.inUse! : f.physical;
    const last = useInUse ? f.lastInUse! : f.last;
    const lastValue = useInUse ? last.db_size_in_use_bytes! : last.db_size_bytes!;
    const physical = f.last.db_size_bytes!;
    const p: Projection = { ...base, lastSizeBytes: physical, lastSampleAt: iso(f.last.ts_ms), evidence: [...evidence] };
    if (physical >= quotaBytes) {
      p.reached = true;
      p.etaAt = iso(f.last.ts_ms);
      p.method = 'quota already reached at the last sample';
    } else if (fit && fit.slope > 0) {
      const eta = (s: number): number | null => (s > 0 ? last.ts_ms + (quotaBytes - lastValue) / s : null);
      p.etaAt = iso(eta(fit.slope));
      p.etaLow = iso(eta(fit.slopeHigh));
      p.etaHigh = iso(eta(fit.slopeLow));
      p.method = useInUse
        ? 'theil-sen on in-use size (physical size follows once free pages are used up), 95% interval'
        : 'theil-sen on physical DB size, 95% interval';
    } else {
      p.method = 'no growth measured';
    }
    p.evidence.push({
      source: 'status-samples', completeness: 'exact',
      detail: `member ${member}: last physical size ${humanizeBytes(physical)} (${physical} B) at ${iso(f.last.ts_ms)}; ${fit ? `slope ${(fit.slope * 3_600_000).toFixed(0)} B/h from ${fit.n} samples` : 'no fit'}`,
    });
    if (!best || rank(p) < rank(best)) best = p;
  }
  if (best) return best;
  if (incidentSize !== null && incidentSize >= quotaBytes * 0.97) {
    evidence.push({ source: 'etcdctl-output', completeness: 'approximate', detail: `DB size ${humanizeBytes(incidentSize)} at NOSPACE is at the quota` });
    return { ...base, lastSizeBytes: incidentSize, reached: true, method: 'quota already reached (no time series)' };
  }
  if (growth.bytesPerHour !== null && incidentSize !== null) {
    evidence.push({ source: 'transcript', completeness: 'inferred', detail: 'no time series: growth estimated from a single sample' });
  }
  return base;
}

function rank(p: Projection): number {
  if (p.reached) return -Infinity;
  return p.etaAt ? Date.parse(p.etaAt) : Infinity;
}
