// A member's size series cut into regimes: a forecast drawn from samples taken before a compaction, a
// defragmentation, an alarm, a restart or a change of write rate describes a different process.
//
// Cuts:
// - compaction: the in-use size drops (by more than two 4 KiB pages and 2%), or a compaction line is logged;
// - defrag: the physical size drops, or a defrag line is logged;
// - alarm / restart: `alarm raised`/`alarm disarmed`, `starting an etcd server`;
// - rate change: a mean-shift changepoint in the revision rate (rev/s between consecutive samples) found by
//   binary segmentation with a two-segment Gaussian likelihood ratio, n·ln(SSE₀/SSE₁), accepted above a
//   BIC-style penalty 3·ln n, with at least MIN_SEGMENT samples each side and a change of at least 25% (a
//   writer's rate jitters with fsync latency; a smaller shift is noise for a forecast).
import type { EventRow, StatusRow } from './load.js';
import { theilSen } from './stats.js';

export type RegimeCause = 'start' | 'compaction' | 'defrag' | 'alarm' | 'restart' | 'rate-change';

export interface Regime {
  /** Index of the first and last sample (inclusive) in the member's series. */
  from: number;
  to: number;
  cause: RegimeCause;
  /** What showed the cut: a sample (path:line) or a log record. */
  where: string;
}

export const MIN_SEGMENT = 10;
const PAGE = 4096;

export interface Boundary {
  ts: number;
  cause: RegimeCause;
  where: string;
}

/** Log records that cut every member's series (compaction is replicated; alarms are cluster-wide). */
export function eventBoundaries(events: readonly EventRow[]): Boundary[] {
  const out: Boundary[] = [];
  for (const e of events) {
    if (e.ts_ms === null) continue;
    const cause: RegimeCause | null = e.kind === 'etcd.compaction.finished' ? 'compaction'
      : e.kind === 'etcd.defrag.finished' || e.kind === 'etcdctl.defrag' ? 'defrag'
        : e.kind === 'etcd.alarm.raised' || e.kind === 'etcd.alarm.disarmed' ? 'alarm'
          : e.kind === 'etcd.start' ? 'restart' : null;
    if (cause) out.push({ ts: e.ts_ms, cause, where: `${e.path}:${e.line}` });
  }
  return out;
}

const inUseOf = (r: StatusRow): number => r.db_size_in_use_bytes ?? r.db_size_bytes!;

/** Cut a member's samples (sorted, sizes known) into regimes; the last one is the current regime. */
export function splitRegimes(rows: readonly StatusRow[], boundaries: readonly Boundary[]): Regime[] {
  const cuts = new Map<number, { cause: RegimeCause; where: string }>();
  const mark = (i: number, cause: RegimeCause, where: string): void => {
    if (i > 0 && i < rows.length && !cuts.has(i)) cuts.set(i, { cause, where });
  };
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1]!;
    const b = rows[i]!;
    const where = `${b.path}:${b.line}`;
    // bbolt's in-use size dips by a few pages now and then as pages are rebalanced (real 3.4.23 samples:
    // 266240 → 245760 with no compaction); a compaction removes history: a tenth or more. Logged compactions
    // below cut however small the drop. A compaction deleting in batches drops over two samples: one cut.
    const prev = cuts.get(i - 1);
    if (b.db_size_bytes! < a.db_size_bytes! - 2 * PAGE) mark(i, 'defrag', where);
    else if (inUseOf(b) < inUseOf(a) - Math.max(8 * PAGE, 0.1 * inUseOf(a)) && prev?.cause !== 'compaction') mark(i, 'compaction', where);
  }
  for (const bd of boundaries) {
    const i = rows.findIndex((r) => r.ts_ms >= bd.ts);
    // A logged compaction usually shows as the in-use drop a sample later; keep the size-based cut then.
    if (i > 0 && !cuts.has(i) && !cuts.has(i + 1) && !cuts.has(i - 1)) mark(i, bd.cause, bd.where);
  }
  const starts = [0, ...[...cuts.keys()].sort((a, b) => a - b)];
  const regimes: Regime[] = starts.map((from, k) => ({
    from, to: (starts[k + 1] ?? rows.length) - 1,
    cause: k === 0 ? 'start' : cuts.get(from)!.cause, where: k === 0 ? `${rows[0]!.path}:${rows[0]!.line}` : cuts.get(from)!.where,
  }));
  // Rate changes inside each regime.
  const out: Regime[] = [];
  for (const g of regimes) {
    let cur = g;
    for (const cp of rateChangepoints(rows, g.from, g.to)) {
      out.push({ ...cur, to: cp - 1 });
      cur = { from: cp, to: g.to, cause: 'rate-change', where: `${rows[cp]!.path}:${rows[cp]!.line}` };
    }
    out.push(cur);
  }
  return out;
}

/** Changepoints (sample indexes where a new rate starts) in rows[from..to], left to right, by binary segmentation on the tail. */
export function rateChangepoints(rows: readonly StatusRow[], from: number, to: number): number[] {
  const out: number[] = [];
  let lo = from;
  for (;;) {
    const cp = bestRateSplit(rows, lo, to);
    if (cp === null) return out;
    out.push(cp);
    lo = cp;
  }
}

function bestRateSplit(rows: readonly StatusRow[], from: number, to: number): number | null {
  // rates[j] is the rate between samples from+j and from+j+1.
  const rates: number[] = [];
  for (let i = from + 1; i <= to; i++) {
    const a = rows[i - 1]!;
    const b = rows[i]!;
    if (a.revision === null || b.revision === null || b.ts_ms <= a.ts_ms) return null;
    rates.push(((b.revision - a.revision) * 1000) / (b.ts_ms - a.ts_ms));
  }
  const n = rates.length;
  if (n < 2 * MIN_SEGMENT) return null;
  const pre = [0];
  const pre2 = [0];
  for (const r of rates) {
    pre.push(pre[pre.length - 1]! + r);
    pre2.push(pre2[pre2.length - 1]! + r * r);
  }
  const sse = (a: number, b: number): number => {
    const m = b - a;
    const s = pre[b]! - pre[a]!;
    return pre2[b]! - pre2[a]! - (s * s) / m;
  };
  const sse0 = sse(0, n);
  let best: { k: number; sse: number } | null = null;
  for (let k = MIN_SEGMENT; k <= n - MIN_SEGMENT; k++) {
    const v = sse(0, k) + sse(k, n);
    if (!best || v < best.sse) best = { k, sse: v };
  }
  if (!best || sse0 <= 0) return null;
  const lr = n * Math.log(sse0 / Math.max(best.sse, 1e-9));
  const m1 = (pre[best.k]! - pre[0]!) / best.k;
  const m2 = (pre[n]! - pre[best.k]!) / (n - best.k);
  const shift = Math.abs(m2 - m1) / Math.max(Math.abs(m1), Math.abs(m2), 1e-9);
  if (lr <= 3 * Math.log(n) || shift < 0.25) return null;
  return from + best.k; // the first sample after the change
}

/**
 * Bytes per revision from in-use growth against revision inside regimes (never across a compaction or a
 * defrag): a Theil–Sen slope per regime with enough samples, the sample-weighted median across regimes.
 */
export function bytesPerRevision(rows: readonly StatusRow[], regimes: readonly Regime[]): { value: number; regimes: number; samples: number } | null {
  const fits: { slope: number; n: number }[] = [];
  for (const g of regimes) {
    const pts = rows.slice(g.from, g.to + 1).filter((r) => r.revision !== null).map((r) => ({ x: r.revision!, y: inUseOf(r) }));
    if (pts.length < 5 || pts[pts.length - 1]!.x - pts[0]!.x < 50) continue;
    const f = theilSen(pts);
    if (f && f.slope > 0) fits.push({ slope: f.slope, n: pts.length });
  }
  if (fits.length === 0) return null;
  fits.sort((a, b) => a.slope - b.slope);
  const total = fits.reduce((s, f) => s + f.n, 0);
  let acc = 0;
  for (const f of fits) {
    acc += f.n;
    if (acc * 2 >= total) return { value: f.slope, regimes: fits.length, samples: total };
  }
  return null;
}

export { inUseOf };
