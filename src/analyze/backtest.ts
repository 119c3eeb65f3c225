// Earned intervals: the forecast replayed from many earlier origins in the data's own history. Each origin
// sees only the samples and log records up to it; its forecast is compared with what happened, judged as the
// claim it makes:
// - a growing forecast claims "at this rate while this regime lasts". It is judged within its own regime,
//   cut in hindsight (regimes.ts on the whole history): against the time the quota was reached when that
//   regime runs to NOSPACE, else against the size at the regime's end (a rate change, a compaction, a defrag
//   the origin could not see) or at the last sample. Coverage is measured in the slope domain: the truth implies
//   an average slope from the origin; z is how many 95% half-intervals of the fitted slope it lies from it.
//   The widening factor k is the smallest ≥ 1 under which 95% of these origins are covered (capped at MAX_K,
//   and the cap is reported). An origin whose regime ends fewer than MIN_AHEAD samples after it is not judged
//   (its claim cannot be checked) and is counted as such.
// - a bounded forecast claims "the physical size stays under B": judged on the largest physical size over the
//   rest of the history (NOSPACE reached = the bound failed). ratio = largest / B; the bound is widened by the
//   smallest factor under which 95% of bounded origins held.
import type { BacktestOrigin, BacktestResult } from './types.js';
import type { StatusRow } from './load.js';
import type { Boundary, Regime } from './regimes.js';
import { inUseOf, splitRegimes } from './regimes.js';

/** What backtest needs of a forecast (projection.ts's MemberForecast has these). */
export interface ForecastLike {
  lastMs: number;
  physical: number;
  inUse: number;
  verdict: 'reached' | 'bounded' | 'growing' | 'no-growth';
  slope: number | null;
  slopeLow: number | null;
  slopeHigh: number | null;
  targetInUse: number;
  boundBytes: number | null;
}

const MIN_HISTORY = 10;
const MAX_ORIGINS = 40;
export const MAX_K = 100;
/** Samples an origin's regime must still run after it for its claim to be checked. */
const MIN_AHEAD = 5;
const PAGE = 4096;

export function widen(slope: number, low: number, high: number, k: number): { low: number; high: number } {
  return { low: slope - k * (slope - low), high: slope + k * (high - slope) };
}

interface Judged extends Omit<BacktestOrigin, 'ratio'> {
  /** Bounded origins: largest physical size over the horizon ÷ the claimed bound. */
  ratio: number | null;
}

export function runBacktest<F extends ForecastLike>(rows: readonly StatusRow[], boundaries: readonly Boundary[], quota: number,
  forecast: (rows: readonly StatusRow[], boundaries: readonly Boundary[]) => F | null, etaOf: (f: F, slope: number | null) => number | null,
  maxOrigins = MAX_ORIGINS): BacktestResult | null {
  const reachedIdx = rows.findIndex((r) => r.db_size_bytes! >= quota || r.alarms.includes('NOSPACE'));
  const truthIdx = reachedIdx > 0 ? reachedIdx : rows.length - 1;
  const truth = rows[truthIdx];
  if (!truth) return null;
  const nospace = reachedIdx > 0;
  const start = rows[0]!.ts_ms;
  // Origins: every sample with some history behind it and some future ahead (a tenth of the span at least).
  const minAhead = Math.max(0.1 * (truth.ts_ms - start), 1);
  const candidates: number[] = [];
  for (let i = MIN_HISTORY - 1; i < truthIdx; i++) if (truth.ts_ms - rows[i]!.ts_ms >= minAhead) candidates.push(i);
  if (candidates.length < 3) return null;
  const picked = candidates.length <= maxOrigins ? candidates
    : [...new Set(Array.from({ length: maxOrigins }, (_, j) => candidates[Math.round((j * (candidates.length - 1)) / (maxOrigins - 1))]!))];
  // The regimes as the whole history shows them (an origin could not see the cuts after it).
  const hindsight = splitRegimes(rows.slice(0, truthIdx + 1), boundaries.filter((b) => b.ts <= truth.ts_ms));
  const details: Judged[] = [];
  let unjudged = 0;
  for (const i of picked) {
    const o = rows[i]!;
    const f = forecast(rows.slice(0, i + 1), boundaries.filter((b) => b.ts <= o.ts_ms));
    if (!f || f.verdict === 'reached') continue;
    let d: Judged | null;
    if (f.verdict === 'bounded') d = judgeBound(f, rows, i, truthIdx, nospace, quota);
    else {
      const end = regimeEnd(hindsight, i, truthIdx);
      if (end - i < MIN_AHEAD) {
        unjudged++;
        continue;
      }
      d = end === truthIdx && nospace ? judgeEta(f, truth.ts_ms, etaOf) : judgeSize(f, rows[end]!, nospace, end === truthIdx ? (nospace ? 'nospace' : 'end') : `regime-end:${hindsight.find((g) => g.from === end + 1)?.cause ?? '?'}`);
    }
    d.at = new Date(o.ts_ms).toISOString();
    details.push(d);
  }
  if (details.length === 0) return null;
  const slopeJudged = details.filter((d) => d.verdict !== 'bounded');
  const bounded = details.filter((d) => d.verdict === 'bounded');
  const k = smallestFactor(slopeJudged.map((d) => d.z), slopeJudged.filter((d) => d.z === null && d.covered).length, slopeJudged.length, MAX_K);
  const boundK = smallestFactor(bounded.map((d) => d.ratio), 0, bounded.length, Infinity);
  const covered = slopeJudged.filter((d) => (d.z === null ? d.covered : d.z <= 1)).length;
  const coveredAfter = slopeJudged.filter((d) => (d.z === null ? d.covered : d.z <= k)).length;
  for (const d of slopeJudged) if (d.z !== null) d.covered = d.z <= k;
  const boundHeld = bounded.filter((d) => d.ratio! <= 1).length;
  for (const d of bounded) d.covered = d.ratio! <= boundK;
  const boundHeldAfter = bounded.filter((d) => d.covered).length;
  const errs = details.filter((d) => d.verdict !== 'bounded').map((d) => d.error).filter((e): e is number => e !== null).sort((a, b) => a - b);
  const mae = errs.length ? errs[errs.length >> 1]! : null;
  const bErrs = bounded.map((d) => d.error!).sort((a, b) => a - b);
  const boundMae = bErrs.length ? bErrs[bErrs.length >> 1]! : null;
  const capHit = k >= MAX_K && coveredAfter < Math.ceil(0.95 * slopeJudged.length);
  const against = new Map<string, number>();
  for (const d of slopeJudged) against.set(d.judgedAgainst!, (against.get(d.judgedAgainst!) ?? 0) + 1);
  const slopePart = slopeJudged.length === 0 ? '' :
    `${slopeJudged.length} growing forecast(s), each judged within its own regime (${[...against].map(([w, n]) => `${n} against ${describeAgainst(w, truth.ts_ms)}`).join(', ')}): ` +
    `median absolute error ${mae === null ? 'no origin gave a value' : nospace ? `${(mae / 1000).toFixed(1)} s` : `${Math.round(mae)} B (${((100 * mae) / quota).toFixed(2)}% of the quota)`}; ` +
    `the 95% interval as fitted contained the truth ${covered}/${slopeJudged.length} times` +
    (k > 1 ? `; interval widened ×${k.toFixed(2)} so that ${coveredAfter}/${slopeJudged.length} back-tests were covered` : '; not widened') +
    (capHit ? ` (the ×${MAX_K} cap was reached: the interval is not earned)` : '');
  const boundPart = bounded.length === 0 ? '' :
    `${bounded.length} bounded forecast(s), each judged on the largest physical size over the rest of the history${nospace ? ' (NOSPACE reached: every bound failed)' : ''}: ` +
    `the bound held ${boundHeld}/${bounded.length} times as claimed (median miss ${Math.round(boundMae!)} B)` +
    (boundK > 1 ? `; bound widened ×${boundK.toFixed(2)} so that ${boundHeldAfter}/${bounded.length} held` : '; not widened');
  const summary = `${details.length} origins from ${details[0]!.at} to ${details[details.length - 1]!.at}` +
    (unjudged ? ` (${unjudged} more not judged: their regime ended within ${MIN_AHEAD} samples)` : '') + ': ' +
    [slopePart, boundPart].filter(Boolean).join('; ');
  return {
    truth: nospace ? 'nospace-time' : 'size-at-end', truthAt: new Date(truth.ts_ms).toISOString(), origins: details.length,
    covered: covered + boundHeld, coveredAfter: coveredAfter + boundHeldAfter, k, medianAbsError: mae, summary,
    growingOrigins: slopeJudged.length, growingCovered: covered, growingCoveredAfter: coveredAfter, capHit,
    boundedOrigins: bounded.length, boundHeld, boundHeldAfter, boundK, boundMedianMiss: boundMae, unjudged,
    details: details.map(({ ratio, ...d }) => (ratio === null ? d : { ...d, ratio })),
  };
}

function describeAgainst(w: string, truthMs: number): string {
  if (w === 'nospace') return `the time the quota was reached (${new Date(truthMs).toISOString()})`;
  if (w === 'end') return `the size at the last sample (${new Date(truthMs).toISOString()})`;
  return `the size at the end of their regime (a ${w.slice('regime-end:'.length)} came next)`;
}

/** The smallest factor ≥ 1 (two decimals, rounded up) under which 95% of `n` judgements hold. */
function smallestFactor(values: (number | null)[], alwaysCovered: number, n: number, cap: number): number {
  const vs = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const need = Math.ceil(0.95 * n) - alwaysCovered;
  if (need <= 0 || vs.length === 0) return 1;
  const v = vs[Math.min(vs.length, need) - 1]!;
  return Math.ceil(Math.min(cap, Math.max(1, v)) * 100) / 100;
}

/** Index of the last sample of the hindsight regime holding sample i, or the truth (a NOSPACE alarm's cut is the truth itself). */
function regimeEnd(regimes: readonly Regime[], i: number, truthIdx: number): number {
  const g = regimes.find((r) => r.from <= i && i <= r.to);
  if (!g) return truthIdx;
  const next = regimes.find((r) => r.from === g.to + 1);
  if (!next || next.from >= truthIdx || next.cause === 'alarm') return truthIdx;
  return g.to;
}

function zOf(s: number, lo: number, hi: number, implied: number): number {
  if (implied >= s) return hi > s ? (implied - s) / (hi - s) : implied === s ? 0 : Infinity;
  return s > lo ? (s - implied) / (s - lo) : Infinity;
}

function judgeEta<F extends ForecastLike>(f: F, truthMs: number, etaOf: (f: F, slope: number | null) => number | null): Judged {
  if (f.verdict !== 'growing' || f.slope === null) {
    return { at: '', verdict: f.verdict, predicted: null, error: null, z: Infinity, covered: false, judgedAgainst: 'nospace', ratio: null };
  }
  const implied = (f.targetInUse - f.inUse) / Math.max(1, truthMs - f.lastMs);
  const eta = etaOf(f, f.slope);
  return {
    at: '', verdict: f.verdict, predicted: eta === null ? null : new Date(eta).toISOString(), error: eta === null ? null : Math.abs(eta - truthMs),
    z: zOf(f.slope, f.slopeLow!, f.slopeHigh!, implied), covered: false, judgedAgainst: 'nospace', ratio: null,
  };
}

/**
 * A growing (or flat) forecast against the in-use size at a later sample. In a history that reaches NOSPACE
 * the error is a time (when the forecast says that size is reached, against when it was), so that one median
 * error covers every origin; otherwise it is in bytes.
 */
function judgeSize<F extends ForecastLike>(f: F, at: StatusRow, inTime: boolean, against: string): Judged {
  const h = at.ts_ms - f.lastMs;
  const actual = inUseOf(at);
  if (f.verdict !== 'growing' || f.slope === null) {
    const flat = Math.abs(actual - f.inUse) <= 2 * PAGE;
    return { at: '', verdict: f.verdict, predicted: f.inUse, error: inTime ? null : Math.abs(actual - f.inUse), z: null, covered: flat, judgedAgainst: against, ratio: null };
  }
  const predicted = f.inUse + f.slope * h;
  const reachAt = f.lastMs + (actual - f.inUse) / f.slope;
  return {
    at: '', verdict: f.verdict, predicted: inTime ? new Date(reachAt).toISOString() : Math.round(predicted),
    error: inTime ? Math.abs(reachAt - at.ts_ms) : Math.abs(actual - predicted),
    z: zOf(f.slope, f.slopeLow!, f.slopeHigh!, (actual - f.inUse) / Math.max(1, h)), covered: false, judgedAgainst: against, ratio: null,
  };
}

function judgeBound<F extends ForecastLike>(f: F, rows: readonly StatusRow[], i: number, truthIdx: number, nospace: boolean, quota: number): Judged {
  let largest = 0;
  for (let j = i + 1; j <= truthIdx; j++) largest = Math.max(largest, rows[j]!.db_size_bytes!);
  if (nospace) largest = Math.max(largest, quota);
  const bound = f.boundBytes!;
  return {
    at: '', verdict: 'bounded', predicted: bound, error: Math.max(0, largest - bound), z: null, covered: false,
    judgedAgainst: 'largest-after', ratio: largest <= bound + 2 * PAGE ? Math.min(1, largest / bound) : largest / bound,
  };
}
