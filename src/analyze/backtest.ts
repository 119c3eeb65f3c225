// Earned intervals: the forecast replayed from many earlier origins in the data's own history. Each origin
// sees only the samples and log records up to it; its forecast is compared with what happened:
// - the time the quota was reached, when this history reaches it (the first sample at the quota or with the
//   NOSPACE alarm), for origins before it;
// - else the in-use size (growing forecasts) or physical size (bounded ones) at the last sample.
// Coverage is measured in the slope domain: the truth implies an average slope from the origin; z is how many
// 95% half-intervals of the Theil–Sen slope it lies from the fitted slope. The widening factor k is the
// smallest ≥ 1 under which at least 95% of origins are covered (capped at MAX_K).
import type { BacktestOrigin, BacktestResult } from './types.js';
import type { StatusRow } from './load.js';
import type { Boundary } from './regimes.js';
import { inUseOf } from './regimes.js';

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
const MAX_K = 100;
const PAGE = 4096;

export function widen(slope: number, low: number, high: number, k: number): { low: number; high: number } {
  return { low: slope - k * (slope - low), high: slope + k * (high - slope) };
}

export function runBacktest<F extends ForecastLike>(rows: readonly StatusRow[], boundaries: readonly Boundary[], quota: number,
  forecast: (rows: readonly StatusRow[], boundaries: readonly Boundary[]) => F | null, etaOf: (f: F, slope: number | null) => number | null): BacktestResult | null {
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
  const picked = candidates.length <= MAX_ORIGINS ? candidates
    : [...new Set(Array.from({ length: MAX_ORIGINS }, (_, j) => candidates[Math.round((j * (candidates.length - 1)) / (MAX_ORIGINS - 1))]!))];
  const details: BacktestOrigin[] = [];
  for (const i of picked) {
    const o = rows[i]!;
    const f = forecast(rows.slice(0, i + 1), boundaries.filter((b) => b.ts <= o.ts_ms));
    if (!f || f.verdict === 'reached') continue;
    details.push(nospace ? judgeEta(f, truth.ts_ms, etaOf) : judgeSize(f, truth));
    details[details.length - 1]!.at = new Date(o.ts_ms).toISOString();
  }
  if (details.length === 0) return null;
  const zs = details.map((d) => d.z).filter((z): z is number => z !== null).sort((a, b) => a - b);
  const fixed = details.filter((d) => d.z === null);
  const need = Math.ceil(0.95 * details.length) - fixed.filter((d) => d.covered).length;
  let k = 1;
  if (need > 0 && zs.length) k = Math.min(MAX_K, Math.max(1, zs[Math.min(zs.length, need) - 1]!));
  k = Math.ceil(k * 100) / 100;
  const covered = details.filter((d) => (d.z === null ? d.covered : d.z <= 1)).length;
  const coveredAfter = details.filter((d) => (d.z === null ? d.covered : d.z <= k)).length;
  for (const d of details) if (d.z !== null) d.covered = d.z <= k;
  const errs = details.map((d) => d.error).filter((e): e is number => e !== null).sort((a, b) => a - b);
  const mae = errs.length ? errs[errs.length >> 1]! : null;
  const maeText = mae === null ? 'no origin gave a value' : nospace ? `${(mae / 1000).toFixed(1)} s` : `${Math.round(mae)} B (${((100 * mae) / quota).toFixed(2)}% of the quota)`;
  const summary = `${details.length} origins from ${details[0]!.at} to ${details[details.length - 1]!.at}, forecasting the ` +
    `${nospace ? `time the quota was reached (${new Date(truth.ts_ms).toISOString()})` : `size at the last sample (${new Date(truth.ts_ms).toISOString()})`}: ` +
    `median absolute error ${maeText}; the 95% interval as fitted contained the truth ${covered}/${details.length} times` +
    (k > 1 ? `; interval widened ×${k.toFixed(2)} so that ${coveredAfter}/${details.length} back-tests were covered` : '; not widened');
  return {
    truth: nospace ? 'nospace-time' : 'size-at-end', truthAt: new Date(truth.ts_ms).toISOString(), origins: details.length,
    covered, coveredAfter, k, medianAbsError: mae, summary, details,
  };
}

function zOf(s: number, lo: number, hi: number, implied: number): number {
  if (implied >= s) return hi > s ? (implied - s) / (hi - s) : implied === s ? 0 : Infinity;
  return s > lo ? (s - implied) / (s - lo) : Infinity;
}

function judgeEta<F extends ForecastLike>(f: F, truthMs: number, etaOf: (f: F, slope: number | null) => number | null): BacktestOrigin {
  if (f.verdict !== 'growing' || f.slope === null) {
    return { at: '', verdict: f.verdict, predicted: null, error: null, z: Infinity, covered: false };
  }
  const implied = (f.targetInUse - f.inUse) / Math.max(1, truthMs - f.lastMs);
  const eta = etaOf(f, f.slope);
  return {
    at: '', verdict: f.verdict, predicted: eta === null ? null : new Date(eta).toISOString(), error: eta === null ? null : Math.abs(eta - truthMs),
    z: zOf(f.slope, f.slopeLow!, f.slopeHigh!, implied), covered: false,
  };
}

function judgeSize<F extends ForecastLike>(f: F, truth: StatusRow): BacktestOrigin {
  const h = truth.ts_ms - f.lastMs;
  if (f.verdict === 'bounded') {
    const phys = truth.db_size_bytes!;
    return { at: '', verdict: 'bounded', predicted: f.boundBytes, error: Math.abs(phys - f.boundBytes!), z: null, covered: phys <= f.boundBytes! * 1.1 + 2 * PAGE };
  }
  const actual = inUseOf(truth);
  if (f.verdict !== 'growing' || f.slope === null) {
    return { at: '', verdict: f.verdict, predicted: f.inUse, error: Math.abs(actual - f.inUse), z: null, covered: Math.abs(actual - f.inUse) <= 2 * PAGE };
  }
  const predicted = f.inUse + f.slope * h;
  return {
    at: '', verdict: f.verdict, predicted: Math.round(predicted), error: Math.abs(actual - predicted),
    z: zOf(f.slope, f.slopeLow!, f.slopeHigh!, (actual - f.inUse) / Math.max(1, h)), covered: false,
  };
}
