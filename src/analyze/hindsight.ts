// Replays the etcd mixin's alerts over the status samples: when would a standard alert setup first
// have fired, and how much warning would it have given before NOSPACE?
//   etcdDatabaseQuotaLowSpace:   size/quota*100 > 95                      for 10m
//   etcdExcessiveDatabaseGrowth: predict_linear(size[4h], 4*60*60) > quota for 10m
import type { HindsightAlert } from './types.js';
import { leastSquares } from './stats.js';
import { iso, type StatusRow } from './load.js';
import { memberKey } from './growth.js';

const FOR_MS = 10 * 60_000;
const WINDOW_MS = 4 * 3_600_000;

export function replayMixinAlerts(samples: StatusRow[], quotaBytes: number, nospaceMs: number | null): HindsightAlert[] {
  const byMember = new Map<string, StatusRow[]>();
  for (const s of samples) {
    if (s.db_size_bytes === null) continue;
    const l = byMember.get(memberKey(s)) ?? [];
    l.push(s);
    byMember.set(memberKey(s), l);
  }
  const lowSpace = (rows: StatusRow[], i: number): boolean => rows[i]!.db_size_bytes! / quotaBytes > 0.95;
  const growth = growthCondition(quotaBytes);
  const rules = [
    { rule: 'etcdDatabaseQuotaLowSpace', expr: '(etcd_mvcc_db_total_size_in_bytes / etcd_server_quota_backend_bytes)*100 > 95, for: 10m', cond: lowSpace },
    { rule: 'etcdExcessiveDatabaseGrowth', expr: 'predict_linear(etcd_mvcc_db_total_size_in_bytes[4h], 4*60*60) > etcd_server_quota_backend_bytes, for: 10m', cond: growth },
  ];
  return rules.map(({ rule, expr, cond }) => {
    let first: number | null = null;
    for (const rows of byMember.values()) {
      const fired = firstFiring(rows, (i) => cond(rows, i));
      if (fired !== null && (first === null || fired < first)) first = fired;
    }
    const warning = first !== null && nospaceMs !== null ? nospaceMs - first : null;
    return {
      rule, expr, firstFiredAt: iso(first),
      warningBeforeNospace: warning === null ? null : formatDuration(warning),
      note: first === null
        ? `would not have fired on these samples${nospaceMs !== null ? ' before NOSPACE' : ''} (the condition must hold for 10 minutes)`
        : warning === null ? 'would have fired (there was no NOSPACE in the data)'
          : warning <= 0 ? 'would have fired only after NOSPACE' : 'would have fired before NOSPACE',
    };
  });
}

/**
 * predict_linear over the 4 h window ending at each sample, swept once per member: the window's sums are
 * kept as samples enter and leave (x in seconds relative to the current sample, shifted as it moves), so a
 * member's 110 k samples cost O(n), not a filter of every sample per sample (which made analyze run for
 * minutes). A prediction within 1e-6 of the quota is refitted from the window's points as before, so the
 * answer is the same as the direct fit. Rows out of time order fall back to the direct fit.
 */
function growthCondition(quotaBytes: number): (rows: StatusRow[], i: number) => boolean {
  let current: StatusRow[] | null = null;
  let sorted = true;
  let lo = 0, hi = -1, at = 0; // the window is rows[lo..hi]; sums are relative to the time `at` (ms)
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  const direct = (rows: StatusRow[], t: number): boolean => {
    const win = rows.filter((r) => r.ts_ms > t - WINDOW_MS && r.ts_ms <= t).map((r) => ({ x: (r.ts_ms - t) / 1000, y: r.db_size_bytes! }));
    const fit = leastSquares(win);
    return fit !== null && fit.intercept + fit.slope * 4 * 3600 > quotaBytes;
  };
  return (rows, i) => {
    const t = rows[i]!.ts_ms;
    if (rows !== current) {
      current = rows;
      sorted = rows.every((r, k) => k === 0 || r.ts_ms >= rows[k - 1]!.ts_ms);
      lo = 0; hi = -1; at = t; n = 0; sx = 0; sy = 0; sxx = 0; sxy = 0;
    }
    if (!sorted || t < at) return direct(rows, t);
    // Shift the sums to x relative to t: x' = x - d.
    const d = (t - at) / 1000;
    sxx += -2 * d * sx + n * d * d; sxy -= d * sy; sx -= n * d; at = t;
    while (hi + 1 < rows.length && rows[hi + 1]!.ts_ms <= t) {
      const r = rows[++hi]!;
      const x = (r.ts_ms - t) / 1000, y = r.db_size_bytes!;
      n++; sx += x; sy += y; sxx += x * x; sxy += x * y;
    }
    while (lo <= hi && rows[lo]!.ts_ms <= t - WINDOW_MS) {
      const r = rows[lo++]!;
      const x = (r.ts_ms - t) / 1000, y = r.db_size_bytes!;
      n--; sx -= x; sy -= y; sxx -= x * x; sxy -= x * y;
    }
    if (n < 2) return false;
    const den = n * sxx - sx * sx;
    if (!(Math.abs(den) > 1e-9 * n * Math.max(sxx, 1))) return direct(rows, t);
    const slope = (n * sxy - sx * sy) / den;
    const predicted = (sy - slope * sx) / n + slope * 4 * 3600;
    if (Math.abs(predicted - quotaBytes) <= 1e-6 * quotaBytes) return direct(rows, t);
    return predicted > quotaBytes;
  };
}

/** First time the condition has held continuously for 10 minutes (Prometheus `for:`). */
function firstFiring(rows: StatusRow[], cond: (i: number) => boolean): number | null {
  let since: number | null = null;
  for (let i = 0; i < rows.length; i++) {
    if (!cond(i)) {
      since = null;
      continue;
    }
    since ??= rows[i]!.ts_ms;
    if (rows[i]!.ts_ms - since >= FOR_MS) return rows[i]!.ts_ms;
  }
  return null;
}

export function formatDuration(ms: number): string {
  const neg = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', `${s}s`].filter(Boolean);
  return `${neg ? '-' : ''}${parts.join('')}`;
}
