// When the quota will be reached, or that it will not. etcd checks the PHYSICAL size (bbolt's high-water
// mark, free pages included) against the quota; the physical file only grows once free pages run out, so
// in-use and physical sizes are modelled apart: the file reaches the quota when the in-use size reaches the
// quota less the slack bbolt keeps while it grows (the gap between the two sizes measured whenever the file
// grew). The forecast is drawn from the member's CURRENT regime (regimes.ts). When compaction runs (configured,
// or seen) and the in-use size rises and falls in a band, the answer is "bounded at about X", not an ETA.
// The printed ETA interval is the Theil–Sen 95% interval of the in-use slope, widened by the factor the
// back-test (backtest.ts) needed for 95% of its origins to be covered on this history.
import type { BacktestResult, Evidence, Growth, Projection } from './types.js';
import type { GrowthFits } from './growth.js';
import { iso, type StatusRow } from './load.js';
import { humanizeBytes } from '../units/sizes.js';
import { blockSlopeInterval, theilSen, median } from './stats.js';
import { bytesPerRevision, inUseOf, splitRegimes, type Boundary, type Regime } from './regimes.js';
import { compactionState, describeRetention, describeSettings, type SettingsInForce } from './settings.js';
import { runBacktest, widen, type ForecastLike } from './backtest.js';
import { formatDuration } from './hindsight.js';

/** In-use growth (slope, bytes per ms, with its 95% interval) is that of the current regime. */
export interface MemberForecast extends ForecastLike {
  member: string;
  n: number;
  band: [number, number] | null;
  why: string;
  regime: Regime;
  regimes: number;
  /** When the current regime is too short to fit: the earlier regime whose rate is assumed to continue. */
  borrowedFrom: Regime | null;
}

export interface ForecastContext {
  quota: number;
  settings: SettingsInForce;
}

const MIN_FIT = 5;
const REVISION_COMPACTOR_MS = 5 * 60_000; // etcd's revision compactor checks every 5 minutes (3.4, 3.5)

/** The forecast a person would have made from these samples (sorted, sizes known) and the log records up to the last one. */
export function forecastMember(member: string, rows: readonly StatusRow[], boundaries: readonly Boundary[], ctx: ForecastContext): MemberForecast | null {
  const last = rows[rows.length - 1];
  if (!last) return null;
  const regimes = splitRegimes(rows, boundaries.filter((b) => b.ts <= last.ts_ms));
  const cur = regimes[regimes.length - 1]!;
  const seg = rows.slice(cur.from, cur.to + 1);
  const physical = last.db_size_bytes!;
  const inUse = inUseOf(last);
  const gap = growthSlack(rows);
  const pts = seg.map((r) => ({ x: r.ts_ms, y: inUseOf(r) }));
  const ts = seg.length >= MIN_FIT ? theilSen(pts) : null;
  // The interval: Sen's, or wider where the block slopes show the rate drifting over the horizon to the quota.
  let fit = ts;
  if (ts && ts.slope > 0) {
    const horizon = Math.max(0, ctx.quota - gap - inUseOf(last)) / ts.slope;
    const b = blockSlopeInterval(pts, ts.slope, horizon);
    if (b) fit = { ...ts, slopeLow: Math.min(ts.slopeLow, b.low), slopeHigh: Math.max(ts.slopeHigh, b.high) };
  }
  const base: MemberForecast = {
    member, lastMs: last.ts_ms, physical, inUse, verdict: 'no-growth', slope: fit?.slope ?? null, slopeLow: fit?.slopeLow ?? null,
    slopeHigh: fit?.slopeHigh ?? null, n: fit?.n ?? seg.length, targetInUse: ctx.quota - gap, boundBytes: null, band: null,
    why: '', regime: cur, regimes: regimes.length, borrowedFrom: null,
  };
  if (physical >= ctx.quota || last.alarms.includes('NOSPACE')) return { ...base, verdict: 'reached', why: 'quota reached (physical size at the quota or NOSPACE alarm set)' };
  const bounded = boundedVerdict(rows, regimes, gap, ctx);
  if (bounded) return { ...base, ...bounded, verdict: 'bounded' };
  if (fit && fit.slope > 0) return { ...base, verdict: 'growing', why: `in-use size growing in the current regime (${cur.cause})` };
  // Just after a recovery (compaction, defrag, disarm) the current regime is too short to fit; with no
  // compaction in force the same write load fills the file again at the rate measured before: the latest
  // earlier regime that grew, stated as the assumption it is.
  if (seg.length < MIN_FIT) {
    const earlier = latestGrowingRegime(rows, regimes.slice(0, -1));
    if (earlier) {
      return {
        ...base, verdict: 'growing', slope: earlier.fit.slope, slopeLow: earlier.fit.slopeLow, slopeHigh: earlier.fit.slopeHigh,
        n: earlier.fit.n, borrowedFrom: earlier.regime,
        why: `the current regime (since ${cur.cause}) has ${seg.length} sample(s); the in-use growth of the regime since ${earlier.regime.cause} (${earlier.fit.n} samples) is assumed to continue`,
      };
    }
  }
  return { ...base, why: seg.length < MIN_FIT ? `too few samples in the current regime (${seg.length} since ${cur.cause}; ${MIN_FIT} needed)` : 'no growth in the current regime' };
}

/** Bytes bbolt keeps free while the file grows: the median physical − in-use gap at samples where the file grew. */
function growthSlack(rows: readonly StatusRow[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]!.db_size_bytes! > rows[i - 1]!.db_size_bytes!) gaps.push(rows[i]!.db_size_bytes! - inUseOf(rows[i]!));
  }
  return gaps.length ? median(gaps) : 0;
}

function boundedVerdict(rows: readonly StatusRow[], regimes: readonly Regime[], gap: number, ctx: ForecastContext): Pick<MemberForecast, 'boundBytes' | 'band' | 'why'> | null {
  const state = compactionState(ctx.settings);
  const cuts = regimes.filter((g) => g.cause === 'compaction');
  const drops = cuts.filter((g) => g.from > 0 && inUseOf(rows[g.from]!) < inUseOf(rows[g.from - 1]!));
  if (state.on !== true && drops.length === 0) return null;
  const last = rows[rows.length - 1]!;
  const cur = regimes[regimes.length - 1]!;
  const revFit = theilSen(rows.slice(Math.max(0, rows.length - 60)).filter((r) => r.revision !== null).map((r) => ({ x: r.ts_ms, y: r.revision! })));
  const bprFit = bytesPerRevision(rows, regimes);
  const bpr = bprFit?.value ?? null;
  const retention = ctx.settings.retention.find((r) => r.value.amount > 0)?.value ?? null;
  // How long between compactions: as seen, else as configured.
  const cutTimes = cuts.map((g) => rows[g.from]!.ts_ms);
  const seenEvery = cutTimes.length >= 2 ? median(cutTimes.slice(1).map((t, i) => t - cutTimes[i]!)) : null;
  const configuredEvery = retention === null ? null : retention.mode === 'periodic' ? Math.min(retention.amount, 3_600_000) : REVISION_COMPACTOR_MS;
  const every = seenEvery ?? configuredEvery;
  const lastCut = [...cuts].reverse()[0];
  const trough = lastCut ? inUseOf(rows[lastCut.from]!) : inUseOf(rows[0]!);
  const sinceCut = rows.slice(lastCut?.from ?? 0);
  const observedPeak = Math.max(...rows.slice(cuts[0]?.from ?? 0).map(inUseOf), ...drops.map((g) => inUseOf(rows[g.from - 1]!)));
  const rate = revFit && revFit.slope > 0 ? revFit.slope : null;
  // One full cycle of writes on top of the last trough; before the first compaction (configured, not yet
  // due), retention plus one cycle on top of the first sample.
  let predictedPeak: number | null = null;
  if (rate !== null && bpr !== null && every !== null) {
    if (lastCut) predictedPeak = trough + rate * every * bpr;
    else if (retention) {
      const held = retention.mode === 'periodic' ? rate * (retention.amount + every) : retention.amount + rate * every;
      predictedPeak = inUseOf(rows[0]!) + held * bpr;
    }
  }
  const elapsed = last.ts_ms - rows[0]!.ts_ms;
  if (!lastCut && (every === null || elapsed > 2 * every + 60_000)) return null; // configured but not seen running when it was due
  const peak = Math.max(observedPeak, predictedPeak ?? 0, Math.max(...sinceCut.map(inUseOf)));
  if (peak + gap >= ctx.quota) return null; // one cycle of writes would not fit: a forecast, not a bound
  // Live data rising under the compaction (troughs climbing) is growth too.
  const troughs = drops.map((g) => ({ x: rows[g.from]!.ts_ms, y: inUseOf(rows[g.from]!) }));
  // (Sen's interval needs five or more troughs to exclude anything: with three, any rise would count.)
  const tf = troughs.length >= 5 ? theilSen(troughs) : null;
  if (tf && tf.slopeLow > 0) return null;
  const bound = Math.max(last.db_size_bytes!, Math.max(...rows.map((r) => r.db_size_bytes!)), peak + gap);
  const band: [number, number] = [Math.min(trough, ...troughs.map((t) => t.y)), peak];
  const why = `${state.evidence}; ${drops.length} in-use drop(s) at compaction` +
    (every !== null ? `, cycle about ${formatDuration(every)} (${seenEvery !== null ? 'seen' : 'configured'})` : '') +
    (retention ? `, retention ${describeRetention(retention)}` : '') +
    `; in-use between ${humanizeBytes(band[0])} and ${humanizeBytes(band[1])}` +
    (predictedPeak !== null ? ` (one cycle of writes: ${rate !== null ? `${(rate * 1000).toFixed(1)} rev/s` : '?'} × ${bpr?.toFixed(0)} B/rev)` : '') +
    (cur.cause !== 'compaction' && cur.cause !== 'start' ? `; current regime since ${cur.cause}` : '');
  return { boundBytes: bound, band, why };
}

export function etaOf(f: MemberForecast, slope: number | null): number | null {
  if (slope === null || slope <= 0) return null;
  return f.lastMs + Math.max(0, f.targetInUse - f.inUse) / slope;
}

/** `maxOrigins`: the back-test replays from at most this many origins (the fleet page bounds it on its thinned series). */
export function projectQuotaExhaustion(fits: GrowthFits, growth: Growth, quotaBytes: number, quotaSource: Evidence,
  incidentSize: number | null, opts: { maxOrigins?: number } = {}): Projection {
  const evidence: Evidence[] = [];
  // A quota printed at start-up beats etcd's default.
  let quota = quotaBytes;
  let qSource = quotaSource;
  const started = fits.settings.quotaBytes[fits.settings.quotaBytes.length - 1];
  if (quotaSource.source === 'default' && started) {
    quota = started.value;
    qSource = { source: 'etcd-log', completeness: 'exact', detail: `quota-backend-bytes ${started.value} from ${started.where}` };
  }
  const base: Projection = {
    quotaBytes: quota, quotaSource: qSource, lastSizeBytes: null, lastSampleAt: null, etaAt: null, etaLow: null, etaHigh: null,
    reached: false, method: null, evidence,
  };
  const ctx: ForecastContext = { quota, settings: fits.settings };
  let most: { m: GrowthFits['members'][number]; f: MemberForecast; rank: number } | null = null;
  // Sizes logged by etcd itself (3.5 compaction/defrag lines) make a sparse series of their own: forecast
  // from it only when no member has a real sampling series.
  const rich = fits.members.some((m) => m.rows.length >= 10);
  for (const m of fits.members) {
    if (rich && m.rows.length < 10) continue;
    const f = forecastMember(m.member, m.rows, fits.boundaries, ctx);
    if (!f) continue;
    // The most urgent member; its rank does not depend on the back-test (which only widens intervals and bounds),
    // so only that member's forecast is replayed.
    const eta = f.verdict === 'growing' ? etaOf(f, f.slope) : null;
    const r = f.verdict === 'reached' ? -Infinity : eta !== null ? Date.parse(iso(eta)!) : f.verdict === 'bounded' ? Number.MAX_SAFE_INTEGER - f.physical : Infinity;
    if (!most || r < most.rank) most = { m, f, rank: r };
  }
  let best: { p: Projection } | null = null;
  if (most) {
    const { m, f } = most;
    const p: Projection = { ...base, lastSizeBytes: f.physical, lastSampleAt: iso(f.lastMs), evidence: [] };
    const bt = runBacktest(m.rows, fits.boundaries, quota, (rows, bds) => forecastMember(m.member, rows, bds, ctx), etaOf, opts.maxOrigins);
    describe(p, f, bt, quota);
    best = { p };
  }
  // The settings the forecast rests on (quota, compaction mode and retention, Patroni's loop), with where they were read.
  const settingsEvidence: Evidence[] = describeSettings(fits.settings).map((detail) => ({ source: 'etcd-log', completeness: 'exact', detail: `setting in force: ${detail}` }));
  if (best) return { ...best.p, evidence: [...settingsEvidence, ...best.p.evidence] };
  evidence.push(...settingsEvidence);
  if (incidentSize !== null && incidentSize >= quota * 0.97) {
    evidence.push({ source: 'etcdctl-output', completeness: 'approximate', detail: `DB size ${humanizeBytes(incidentSize)} at NOSPACE is at the quota` });
    return { ...base, lastSizeBytes: incidentSize, reached: true, method: 'quota already reached (no time series)' };
  }
  if (growth.bytesPerHour !== null && incidentSize !== null) {
    evidence.push({ source: 'transcript', completeness: 'inferred', detail: 'no time series: growth estimated from a single sample' });
  }
  return base;
}

function describe(p: Projection, f: MemberForecast, bt: BacktestResult | null, quota: number): void {
  const ev = (detail: string): void => { p.evidence.push({ source: 'status-samples', completeness: 'exact', detail }); };
  p.verdict = f.verdict;
  ev(`member ${f.member}: last physical size ${humanizeBytes(f.physical)} (${f.physical} B), in use ${humanizeBytes(f.inUse)} at ${iso(f.lastMs)}; ` +
    `${f.regimes} regime(s), current since ${f.regime.cause}${f.regime.cause === 'start' ? '' : ` at ${f.regime.where}`}` +
    (f.slope !== null ? `; in-use slope ${(f.slope * 3_600_000).toFixed(0)} B/h from ${f.n} samples` : ''));
  if (f.verdict === 'reached') {
    p.reached = true;
    p.etaAt = iso(f.lastMs);
    p.method = 'quota already reached at the last sample';
  } else if (f.verdict === 'bounded') {
    // The claim is "stays under the bound": widened by the factor its back-test needed for 95% of the
    // earlier bounded claims to hold on this history.
    const kb = bt?.boundK ?? 1;
    const bound = Math.round(f.boundBytes! * kb);
    p.boundBytes = bound;
    p.method = `bounded at about ${humanizeBytes(bound)} (${((100 * bound) / quota).toFixed(1)}% of the quota): compaction keeps the in-use size in a band and the file at its high-water mark; no ETA; ` +
      (!bt || !bt.boundedOrigins ? 'the bound is not back-tested (too few earlier origins)'
        : kb > 1 ? `the bound as fitted (${humanizeBytes(f.boundBytes!)}) widened ×${kb.toFixed(2)} so that ${bt.boundHeldAfter}/${bt.boundedOrigins} earlier bounded claims held (${bt.boundHeld} held as made)`
          : `not widened: ${bt.boundHeld}/${bt.boundedOrigins} earlier bounded claims held`);
    ev(`bounded: ${f.why}`);
  } else if (f.verdict === 'growing') {
    const k = bt?.k ?? 1;
    const w = widen(f.slope!, f.slopeLow!, f.slopeHigh!, k);
    p.etaAt = iso(etaOf(f, f.slope));
    p.etaLow = iso(etaOf(f, w.high));
    p.etaHigh = iso(etaOf(f, w.low));
    p.method = `theil-sen on in-use size ${f.borrowedFrom ? `in the regime since ${f.borrowedFrom.cause} (the current one, since ${f.regime.cause}, is too short: the same write rate is assumed)` : `in the current regime (since ${f.regime.cause})`}; the file reaches the quota when in-use reaches ` +
      `${humanizeBytes(f.targetInUse)} (quota less the free-page slack seen while it grew); 95% interval` +
      (bt && bt.growingOrigins ? (bt.k > 1 ? ` widened ×${bt.k.toFixed(2)} so that ${bt.growingCoveredAfter}/${bt.growingOrigins} back-tests were covered` : `, not widened: ${bt.growingCoveredAfter}/${bt.growingOrigins} back-tests covered`) +
        (bt.capHit ? ` (×${bt.k.toFixed(0)} is the cap: the interval is not earned)` : '') : ' (no back-test of a growing forecast possible: too few samples)') +
      (p.etaHigh === null ? '; no upper end (the widened slope interval reaches zero)' : '');
  } else {
    p.method = f.why.startsWith('too few') ? `no forecast: ${f.why}` : 'no growth measured in the current regime';
  }
  if (bt) {
    p.backtest = bt;
    ev(`back-test: ${bt.summary}`);
  }
}

function latestGrowingRegime(rows: readonly StatusRow[], regimes: readonly Regime[]): { regime: Regime; fit: NonNullable<ReturnType<typeof theilSen>> } | null {
  for (let i = regimes.length - 1; i >= 0; i--) {
    const r = regimes[i]!;
    if (r.to - r.from + 1 < MIN_FIT) continue;
    const fit = theilSen(rows.slice(r.from, r.to + 1).map((x) => ({ x: x.ts_ms, y: inUseOf(x) })));
    if (fit && fit.slope > 0) return { regime: r, fit };
  }
  return null;
}
