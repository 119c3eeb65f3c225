// Time sanity: sources that disagree by a whole number of hours about one event. One NOSPACE alarm is
// logged by every member within milliseconds (etcd1's zap `"msg":"alarm raised"` and etcd2's capnslog
// `alarm NOSPACE raised by peer …`); when one of them sits N×3600 s ± 2 s from the others, its zone-less
// times were read in the wrong zone (--tz missing or wrong), and the offset says which --tz reconciles
// them. Patroni's first `database space exceeded` follows etcd's alarm by seconds to minutes; N hours
// after it (or before), it is the same mistake.
import type { Db } from '../store/open.js';
import { formatOffset, zoneOffsetMin } from '../units/time.js';

const HOUR = 3_600_000;
const QUARTER = 15 * 60_000;
/** Members log one alarm within this of each other (measured: 2 ms between etcd1 and etcd2 in the 3.4 capture). */
const SAME_EVENT_MS = 2_000;
/** Patroni's first DCS error after the alarm: its next HA loop (loop_wait 10 s by default), retries included. */
const PATRONI_LAG_MS = 5 * 60_000;

/** Events every member logs at one instant. */
const CLUSTER_EVENTS = ['etcd.alarm.raised', 'etcd.alarm.disarmed'] as const;

export interface TimeWitness {
  sourceId: number;
  path: string;
  line: number;
  member: string | null;
  kind: string;
  ms: number;
  /** The event's time basis: explicit, assumed-zone, … */
  basis: string | null;
  /** The --tz its zone-less times were read in (null: UTC). */
  assumedTz: string | null;
  /** Its source's cluster (sources.cluster, issue 12): two clusters' incidents are two events, never compared. */
  cluster?: number | null;
}

const sameCluster = (a: TimeWitness, b: TimeWitness): boolean => a.cluster == null || b.cluster == null || a.cluster === b.cluster;

export interface TimeDisagreement {
  /** `suspect.ms - reference.ms`, in ms. */
  offsetMs: number;
  /** Whole hours (or quarter hours, for +05:30 and the like) the two differ by. */
  zoneShiftMin: number;
  /** The source whose time was assumed (zone-less); the reference has an explicit offset, or is also assumed. */
  suspect: TimeWitness;
  reference: TimeWitness;
  /** The --tz that would put the suspect's times on the reference's, as ±hh:mm. */
  reconcileTz: string;
  /** Both sides were assumed: either could be the wrong one. */
  ambiguous: boolean;
}

interface WitnessRow {
  source_id: number; path: string; line: number; member: string | null; kind: string; ts_ms: number;
  time_basis: string | null; assumed_tz: string | null; cluster: number | null;
}

/** The first event of each kind in each source. */
function firstEvents(db: Db, kinds: readonly string[]): TimeWitness[] {
  const rows = db.prepare(`SELECT source_id, path, line, member, kind, ts_ms, time_basis, assumed_tz, cluster FROM (
      SELECT e.source_id, s.path, e.line, e.member, e.kind, e.ts_ms, e.time_basis, s.assumed_tz, s.cluster,
        row_number() OVER (PARTITION BY e.source_id, e.kind ORDER BY e.ts_ms, e.line) AS rn
      FROM events e JOIN sources s ON s.id = e.source_id
      WHERE e.kind IN (SELECT value FROM json_each(?)) AND e.ts_ms IS NOT NULL)
    WHERE rn = 1 ORDER BY kind, source_id`).all(JSON.stringify(kinds)) as WitnessRow[];
  // In the order the kinds are given (alarm raised first: the line a reader looks for).
  rows.sort((x, y) => kinds.indexOf(x.kind) - kinds.indexOf(y.kind) || x.source_id - y.source_id);
  return rows.map((r) => ({
    sourceId: r.source_id, path: r.path, line: r.line, member: r.member, kind: r.kind, ms: r.ts_ms,
    basis: r.time_basis, assumedTz: r.assumed_tz, cluster: r.cluster,
  }));
}

const isAssumed = (w: TimeWitness): boolean => (w.basis ?? '').startsWith('assumed');

/** A disagreement of `shiftMin` minutes between `a` and `b` (b − a ≈ shift), blamed on the assumed side. */
function disagreement(a: TimeWitness, b: TimeWitness, offsetMs: number, shiftMin: number): TimeDisagreement | null {
  if (!isAssumed(a) && !isAssumed(b)) return null; // both explicit: clocks, not zones
  // Prefer to blame the assumed side; if both were assumed, the later source (either could be wrong).
  const [suspect, reference, sign] = isAssumed(b) ? [b, a, 1] : [a, b, -1];
  const delta = sign * shiftMin;
  const used = zoneOffsetMin(suspect.ms, suspect.assumedTz);
  return {
    offsetMs: sign * offsetMs, zoneShiftMin: delta, suspect, reference,
    reconcileTz: formatOffset(used + delta), ambiguous: isAssumed(a) && isAssumed(b),
  };
}

/** Every pair of sources that disagree by whole hours about one event; at most one finding per pair of sources. */
export function checkTimeSanity(db: Db): TimeDisagreement[] {
  const out: TimeDisagreement[] = [];
  const seen = new Set<string>();
  const add = (d: TimeDisagreement | null): void => {
    if (!d) return;
    const key = [d.suspect.sourceId, d.reference.sourceId].sort((x, y) => x - y).join(':');
    if (seen.has(key)) return;
    seen.add(key);
    out.push(d);
  };
  const cluster = firstEvents(db, CLUSTER_EVENTS);
  for (let i = 0; i < cluster.length; i++) {
    for (let j = i + 1; j < cluster.length; j++) {
      const [a, b] = [cluster[i]!, cluster[j]!];
      if (a.kind !== b.kind || a.sourceId === b.sourceId || !sameCluster(a, b)) continue;
      const d = b.ms - a.ms;
      const q = Math.round(d / QUARTER);
      if (q === 0 || Math.abs(d - q * QUARTER) > SAME_EVENT_MS) continue;
      add(disagreement(a, b, d, q * 15));
    }
  }
  // Patroni's first NOSPACE error against the earliest alarm (an explicit one if any).
  const alarms = cluster.filter((w) => w.kind === 'etcd.alarm.raised').sort((x, y) => Number(isAssumed(x)) - Number(isAssumed(y)) || x.ms - y.ms);
  if (alarms.length > 0) {
    for (const p of firstEvents(db, ['patroni.nospace'])) {
      const alarm = alarms.find((w) => sameCluster(w, p));
      if (!alarm) continue;
      const d = p.ms - alarm.ms;
      const h = Math.round(d / HOUR);
      const lag = d - h * HOUR;
      if (h === 0 || Math.abs(h) > 26 || lag < -SAME_EVENT_MS || lag > PATRONI_LAG_MS) continue;
      add(disagreement(alarm, p, d, h * 60));
    }
  }
  return out;
}
